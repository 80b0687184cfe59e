// The 82540EM's integrated copper PHY (register-compatible with the Marvell 88E1011), reached
// through MDIC at PHY address 1. Registers follow IEEE 802.3 clause 22 plus the Marvell-specific
// ones Linux's e1000 driver touches (8254x SDM section 13.5, "PHY Registers").
//
// Modelled: control (reset and restart-autonegotiation self-clear, power down), status with link
// and autonegotiation-complete tracking the cable, the PHY identifier, advertisement and link
// partner ability, 1000BASE-T control/status, the Marvell specific control/status registers.
// Autonegotiation completes instantly at 1000 Mb/s full duplex whenever the cable is connected.
//
// Simplified: the link status bit is not latched-low (it reads the current state), the PHY
// interrupt registers read 0, loopback and isolate are stored but have no effect, and registers
// without a model keep what software writes (reads of never-written ones return 0).
#pragma once

#include <array>
#include <cstdint>

namespace hvlab::devices {

class E1000Phy {
public:
    static constexpr unsigned kRegisters = 32;

    E1000Phy() { reset(); }

    // Hardware reset (CTRL.PHY_RST, CTRL.RST, or the control register's reset bit).
    void reset();
    uint16_t read(uint8_t reg) const;
    void write(uint8_t reg, uint16_t value);

    // The cable: whether a link partner (a switch port) is there.
    void setCable(bool connected) { cable_ = connected; }
    // Whether the PHY reports link: cable present and not powered down.
    bool linkUp() const;

private:
    std::array<uint16_t, kRegisters> regs_{};
    bool cable_ = false;
};

}  // namespace hvlab::devices
