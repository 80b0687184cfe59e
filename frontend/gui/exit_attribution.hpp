// Which concern of the spectrum an exit belongs to: by reason, and for port I/O and MMIO by the
// device at the address. The taxonomy panel sums exits and handler time per concern with it.
#pragma once

#include <cstdint>
#include <optional>

#include "cpu/vm_exit.hpp"
#include "frontend/gui/concern.hpp"

namespace hvlab::frontend::gui {

// Where the PCI devices were placed by the guest's firmware. Unknown BARs fall back to the
// windows the hvlab BIOS assigns from (I/O 0xC000-0xFFFF, memory 0xE0000000-0xFEBFFFFF), where
// only the IDE bus master and the e1000 live.
struct PciPlacement {
    std::optional<uint16_t> ideBusMasterPorts;  // BAR4 of the PIIX3 IDE function: 16 ports
    std::optional<uint64_t> e1000Mmio;          // BAR0 of the e1000: 128 KiB
    std::optional<uint16_t> e1000Ports;         // its I/O BAR: 64 ports
};

Concern attributeExit(const cpu::VmExit& exit, const PciPlacement& pci = {});

}  // namespace hvlab::frontend::gui
