#include "frontend/gui/exit_attribution.hpp"

#include "cpu/hypercall_abi.hpp"

#include <array>

namespace hvlab::frontend::gui {

namespace {

template <typename Address>
struct Range {
    Address first, last;
    Concern concern;
    bool contains(Address a) const { return a >= first && a <= last; }
};

// Fixed ISA ports of the PC, by the concern their device serves.
constexpr std::array<Range<uint16_t>, 16> kPorts = {{
    {0x020, 0x021, Concern::Interrupts},  // master 8259
    {0x0a0, 0x0a1, Concern::Interrupts},  // slave 8259
    {0x4d0, 0x4d1, Concern::Interrupts},  // ELCR
    {0x040, 0x043, Concern::Interrupts},  // 8254 PIT
    {0x061, 0x061, Concern::Interrupts},  // PIT channel 2 gate and output (port 61h)
    {0x070, 0x071, Concern::Interrupts},  // RTC/CMOS
    {0x1f0, 0x1f7, Concern::DiskNet},     // primary ATA channel
    {0x3f6, 0x3f7, Concern::DiskNet},     // its control block
    {0x170, 0x177, Concern::DiskNet},     // secondary ATA channel
    {0x376, 0x377, Concern::DiskNet},
    {0x060, 0x060, Concern::Boot},        // i8042 data
    {0x064, 0x064, Concern::Boot},        // i8042 command/status
    {0x080, 0x080, Concern::Boot},        // POST codes
    {0x092, 0x092, Concern::Boot},        // fast A20 / reset
    {0x510, 0x511, Concern::Boot},        // fw_cfg
    {0xcf8, 0xcff, Concern::Boot},        // PCI configuration mechanism 1 (and 0xCF9 reset)
}};
constexpr Range<uint16_t> kVgaPorts{0x3b0, 0x3df, Concern::Boot};
constexpr Range<uint16_t> kPciIoWindow{0xc000, 0xffff, Concern::DiskNet};

constexpr std::array<Range<uint64_t>, 2> kMmio = {{
    {0xfee00000, 0xfee00fff, Concern::Interrupts},  // local APIC
    {0xfec00000, 0xfec00fff, Concern::Interrupts},  // IOAPIC
}};
constexpr Range<uint64_t> kPciMemoryWindow{0xe0000000, 0xfebfffff, Concern::DiskNet};

Concern attributePort(uint16_t port, const PciPlacement& pci) {
    for (const auto& r : kPorts)
        if (r.contains(port)) return r.concern;
    if (kVgaPorts.contains(port)) return Concern::Boot;
    if (pci.ideBusMasterPorts && port >= *pci.ideBusMasterPorts && port < *pci.ideBusMasterPorts + 16u)
        return Concern::DiskNet;
    if (pci.e1000Ports && port >= *pci.e1000Ports && port < *pci.e1000Ports + 64u) return Concern::DiskNet;
    if (!pci.ideBusMasterPorts && !pci.e1000Ports && kPciIoWindow.contains(port)) return Concern::DiskNet;
    return Concern::Other;  // COM1, isa-debug-exit, ...
}

Concern attributeMmio(uint64_t gpa, const PciPlacement& pci) {
    for (const auto& r : kMmio)
        if (r.contains(gpa)) return r.concern;
    if (pci.e1000Mmio) return gpa >= *pci.e1000Mmio && gpa < *pci.e1000Mmio + 0x20000 ? Concern::DiskNet : Concern::Other;
    return kPciMemoryWindow.contains(gpa) ? Concern::DiskNet : Concern::Other;
}

}  // namespace

Concern attributeExit(const cpu::VmExit& exit, const PciPlacement& pci) {
    using cpu::ExitReason;
    switch (exit.reason) {
        case ExitReason::PortIo: return attributePort(exit.io.port, pci);
        case ExitReason::Mmio: return attributeMmio(exit.mmio.gpa, pci);
        case ExitReason::Hlt:
        case ExitReason::InterruptWindow: return Concern::Interrupts;
        case ExitReason::Cpuid:
        case ExitReason::MsrRead:
        case ExitReason::MsrWrite:
        case ExitReason::CrAccess:
        case ExitReason::Invlpg: return Concern::Privileged;
        case ExitReason::Hypercall:
            // The clock, timer and event calls replace the PIT and PIC (and BLOCK the idle HLT);
            // the PV MMU's calls and the SYSCALL bounce replace privileged instructions and page
            // table writes; the console is "other" like COM1.
            switch (exit.hypercall.number) {
                case cpu::hypercall::kTimeNow:
                case cpu::hypercall::kTimerSet:
                case cpu::hypercall::kEventInit:
                case cpu::hypercall::kEventRaise:
                case cpu::hypercall::kEventBindIrq:
                case cpu::hypercall::kBlock: return Concern::Interrupts;
                case cpu::hypercall::kMmuUpdate:
                case cpu::hypercall::kMmuPin:
                case cpu::hypercall::kMmuUnpin:
                case cpu::hypercall::kMmuSetCr3:
                case cpu::hypercall::kMmuInvlpg:
                case cpu::hypercall::kSetTrapTable:
                case cpu::hypercall::kStackSwitch:
                case cpu::hypercall::kSetSyscallEntry:
                case cpu::hypercall::kReadCr2:
                case cpu::hypercall::kSyscallBounce: return Concern::Privileged;
                default: return Concern::Other;
            }
        default: return Concern::Other;
    }
}

}  // namespace hvlab::frontend::gui
