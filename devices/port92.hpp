// System Control Port A at 0x92 (PS/2 "fast A20 and reset" port, as the PIIX and every later
// chipset has it).
//
// Modelled: bit 1 is the A20 gate (onA20 on every change; the board ORs it with the keyboard
// controller's A20 output), bit 0 is the fast reset: a 0 -> 1 write transition calls onReset.
// Reads return the stored bits. Bits 2-7 (security lock, HDD activity LEDs) are stored with no
// effect.
//
// Simplified: the reset bit clears itself once the reset has been requested (the system reset
// would clear it), so a guest can reset the machine again the same way without first writing 0.
// Powers on with A20 off (bit 1 = 0), as the register's reset value.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "devices/bus.hpp"

namespace hvlab::devices {

namespace port92 {
inline constexpr uint16_t kPort = 0x92;
inline constexpr uint8_t kFastReset = 0x01;
inline constexpr uint8_t kA20 = 0x02;
}  // namespace port92

class Port92 final : public PortDevice {
public:
    Port92() = default;

    void attachTo(IoBus& io) { io.attach(port92::kPort, 1, this); }

    // Byte register; wider reads return it in the low byte with the upper lanes all-ones, wider
    // writes use the low byte.
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "port92"; }

    void onReset(std::function<void()> callback) { reset_ = std::move(callback); }
    void onA20(std::function<void(bool enabled)> callback) { a20Changed_ = std::move(callback); }
    bool a20() const { return value_ & port92::kA20; }
    uint8_t value() const { return value_; }

private:
    uint8_t value_ = 0;
    std::function<void()> reset_;
    std::function<void(bool)> a20Changed_;
};

}  // namespace hvlab::devices
