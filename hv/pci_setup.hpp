// PCI set up without firmware (boot P): what the hvlab BIOS's pci_init does at POST
// (firmware/bios/pci.asm), done by the VMM through configuration mechanism #1 before the kernel
// starts, so a kernel entered directly finds bus 0 as after the BIOS: BARs assigned (I/O from
// 0xC000, memory from 0xE0000000, natural alignment), I/O, memory and bus mastering enabled,
// PIIX3 PIRQA-D routed to IRQ 10, 10, 11, 11, every function's interrupt-line register written
// (INTx of device d on PIRQ (pin - 1 + d - 1) mod 4, QEMU's swizzle), the PIIX4 PM block at
// I/O 0x600 with its SCI on IRQ 9.
#pragma once

#include "devices/bus.hpp"

namespace hvlab::hv {

struct PciSetupResult {
    unsigned functions = 0;  // functions found on bus 0
    bool powerManagement = false;  // the PIIX4 PM function was there (SCI on IRQ 9)
};

// Configures bus 0 through the ports 0xCF8/0xCFC on `io`.
PciSetupResult configurePciLikeFirmware(devices::IoBus& io);

// The ISA IRQs PCI interrupts use after configurePciLikeFirmware (level-triggered in the ELCR).
constexpr unsigned kPciIrqA = 10, kPciIrqB = 11, kPmSciIrq = 9;

}  // namespace hvlab::hv
