// The PCI functions of the chipset QEMU's "pc" machine has: the Intel 440FX host bridge
// (82441FX PMC) and the PIIX3 PCI-to-ISA bridge (82371SB function 0), plus the PIRQ router
// that connects PCI INTA#-INTD# to ISA IRQ lines.
//
// I440fxHostBridge (bus 0, device 0, function 0): 8086:1237 rev 2, class 06 00 00.
//  - PAM0-PAM6 (0x59-0x5F) and SMRAM (0x72) are stored and read back with their writable bits
//    (82441FX datasheet 3.2.18/3.2.24); shadow RAM and SMRAM are not acted on: the board may
//    watch them through onPamChanged. D_LCK locks D_OPEN/D_LCK/G_SMRAME until reset.
//  - Every other register beyond the header reads 0 and ignores writes (DRAM controller,
//    error reporting: nothing to configure on a virtual board).
//
// Piix3IsaBridge (bus 0, device 1, function 0): 8086:7000, class 06 01 00, header type 0x80
// (multi-function: IDE and USB may sit at functions 1 and 2).
//  - PIRQRC[A:D] (0x60-0x63, reset 0x80 = routing disabled): bit 7 disables the route, bits 3:0
//    select the ISA IRQ. IRQ 0-2, 8 and 13 are reserved (82371SB datasheet 2.2.12): routing to them
//    counts as disabled.
//  - The other registers of function 0 (0x40-0xFF) are plain storage with the datasheet's
//    reset values; they have no effect (no ISA bus timing, no SMI, no DMA configuration).
//
// PciIrqRouter: the wiring from PCI interrupt pins to the PIIX3 PIRQ inputs and on to the ISA
// IRQ lines. Device d's pin p reaches PIRQ (d + p - 2) mod 4 with p = 1 for INTA# (QEMU's
// i440fx swizzle, the brief's "(d + p - 1) mod 4" with a zero-based pin). PCI interrupts are
// level-triggered and shareable: an ISA line is asserted while any source routed to it asserts.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "devices/bus.hpp"
#include "devices/pci_function.hpp"

namespace hvlab::devices {

namespace i440fx {
inline constexpr uint16_t kVendorIntel = 0x8086;
inline constexpr uint16_t kHostBridgeId = 0x1237;
inline constexpr uint16_t kPiix3IsaId = 0x7000;

inline constexpr uint8_t kPam0 = 0x59;  // PAM0..PAM6 at 0x59..0x5F
inline constexpr int kPamCount = 7;
inline constexpr uint8_t kSmram = 0x72;
inline constexpr uint8_t kSmramDOpen = 0x40;
inline constexpr uint8_t kSmramDCls = 0x20;
inline constexpr uint8_t kSmramDLck = 0x10;
inline constexpr uint8_t kSmramGSmramE = 0x08;
inline constexpr uint8_t kSmramBaseSeg = 0x02;  // C_BASE_SEG: hardwired to 010 (A0000h)

inline constexpr uint8_t kPirqRouteA = 0x60;  // PIRQRC[A:D] at 0x60..0x63
inline constexpr uint8_t kPirqDisable = 0x80;
inline constexpr uint8_t kPirqIrqMask = 0x0F;
inline constexpr int kPirqCount = 4;

// The PIRQ (0 = PIRQA .. 3 = PIRQD) that slot `device`'s interrupt pin `pin` (1 = INTA# .. 4 =
// INTD#, as in config register 0x3D) is wired to on this board.
constexpr int pirqFor(int device, int pin) { return (((device + pin - 2) % 4) + 4) % 4; }
}  // namespace i440fx

class I440fxHostBridge final : public PciFunction {
public:
    I440fxHostBridge();
    std::string name() const override { return "i440fx"; }

    uint8_t pam(int index) const;  // PAM0..PAM6
    uint8_t smram() const { return config_[i440fx::kSmram]; }
    // Called with the register offset when the guest changes a PAM register or SMRAM.
    void onPamChanged(std::function<void(uint8_t reg, uint8_t value)> callback) { pamChanged_ = std::move(callback); }

protected:
    uint32_t extendedConfigRead(uint8_t offset, unsigned size) const override;
    void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) override;

private:
    void writeRegister(uint8_t offset, uint8_t value);
    std::function<void(uint8_t, uint8_t)> pamChanged_;
};

class Piix3IsaBridge final : public PciFunction {
public:
    Piix3IsaBridge();
    std::string name() const override { return "piix3-isa"; }

    // The ISA IRQ PIRQ `pirq` (0-3) is routed to, or -1 if routing is disabled / reserved.
    int pirqToIsaIrq(int pirq) const;
    // Called after the guest changes any PIRQ route register (the PciIrqRouter subscribes).
    void onPirqRoutingChanged(std::function<void()> callback) { routingChanged_ = std::move(callback); }

protected:
    uint32_t extendedConfigRead(uint8_t offset, unsigned size) const override;
    void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) override;

private:
    std::function<void()> routingChanged_;
};

// Routes PCI INTx levels to ISA IRQ lines through the PIIX3's PIRQ registers. The board creates
// one source line per PCI function (connect() does it from the function's interrupt pin) and
// gives the ISA lines (IRQ 0-15; null entries are unwired). It subscribes to the bridge's routing
// changes: the bridge and the ISA lines must outlive the router, and the router must outlive the
// functions connected to it (they hold its source lines).
class PciIrqRouter {
public:
    PciIrqRouter(Piix3IsaBridge& bridge, std::array<IrqLine*, 16> isaIrqs);
    ~PciIrqRouter();
    PciIrqRouter(const PciIrqRouter&) = delete;
    PciIrqRouter& operator=(const PciIrqRouter&) = delete;

    // A new interrupt source for slot `device`, pin `pin` (1 = INTA# .. 4 = INTD#). Each caller
    // gets its own line, so functions sharing a pin OR their levels.
    IrqLine& addSource(int device, int pin);
    // Reads `fn`'s interrupt pin register and connects it (no-op for pin 0 = no interrupt).
    void connect(PciFunction& fn, int device);

    // Whether any source wired to PIRQ `pirq` asserts it.
    bool pirqLevel(int pirq) const;
    // The level the router drives on ISA IRQ `irq`.
    bool isaLevel(int irq) const { return irq >= 0 && irq < 16 && driven_[static_cast<size_t>(irq)]; }
    // Recomputes every ISA line (after a PIRQ register write; called through the bridge hook).
    void update();

private:
    class Source;
    Piix3IsaBridge& bridge_;
    std::array<IrqLine*, 16> isa_;
    std::array<bool, 16> driven_{};
    std::vector<std::unique_ptr<Source>> sources_;
};

}  // namespace hvlab::devices
