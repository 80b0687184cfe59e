#include "frontend/gui/concern.hpp"

namespace hvlab::frontend::gui {

const char* concernName(Concern concern) {
    switch (concern) {
        case Concern::Privileged: return "privileged instructions, page tables";
        case Concern::Boot: return "motherboard, legacy boot";
        case Concern::Interrupts: return "interrupts, timers";
        case Concern::DiskNet: return "disk, network";
        case Concern::Other: return "other";
    }
    return "?";
}

const char* techniqueName(Technique technique) {
    switch (technique) {
        case Technique::VS: return "VS";
        case Technique::P: return "P";
        case Technique::VH: return "VH";
    }
    return "?";
}

const char* spectrumCell(Concern concern, Technique technique) {
    // Rows follow Concern, columns Technique (the brief's table).
    static constexpr std::array<std::array<const char*, kTechniqueCount>, kSpectrumConcerns> kTable = {{
        {"interpreter, trap-and-emulate, shadow page tables",
         "guest kernel calls hypercalls (set CR3, batched PTE updates, virtual IF)", "KVM, nested paging (EPT/NPT)"},
        {"firmware BIOS in real mode, emulated chipset", "direct boot into the kernel with a boot-info struct, no BIOS",
         "n/a"},
        {"emulated 8259 PIC, 8254 PIT, RTC, LAPIC in hvlab", "PV timer and event channel via shared page + hypercall",
         "KVM in-kernel irqchip and PIT"},
        {"emulated IDE (ATA) and e1000 NIC", "virtio-blk, virtio-net", "n/a"},
    }};
    const auto row = static_cast<size_t>(concern);
    if (row >= kSpectrumConcerns) return "";
    return kTable[row][static_cast<size_t>(technique)];
}

}  // namespace hvlab::frontend::gui
