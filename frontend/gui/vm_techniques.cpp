#include "frontend/gui/vm_techniques.hpp"

namespace hvlab::frontend::gui {

std::array<Technique, kSpectrumConcerns> techniquesOf(const VmModeFacts& facts) {
    std::array<Technique, kSpectrumConcerns> t{};
    t[static_cast<size_t>(Concern::Privileged)] = facts.engine == hv::EngineKind::Kvm ? Technique::VH : Technique::VS;
    t[static_cast<size_t>(Concern::Boot)] = facts.directBoot ? Technique::P : Technique::VS;
    t[static_cast<size_t>(Concern::Interrupts)] = facts.kernelIrqchip ? Technique::VH : Technique::VS;
    t[static_cast<size_t>(Concern::DiskNet)] = Technique::VS;  // IDE and e1000 (no virtio yet)
    return t;
}

}  // namespace hvlab::frontend::gui
