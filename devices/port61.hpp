// System control port B (port 0x61) of a PC/AT, as in the Intel 82371 PIIX "NMI Status and
// Control Register".
//
//   bit 0  R/W  timer 2 GATE (drives PIT channel 2's GATE input)
//   bit 1  R/W  speaker data enable (ANDed with OUT2 to drive the speaker)
//   bit 2  R/W  PCI SERR# NMI disable (stored only)
//   bit 3  R/W  IOCHK# NMI disable (stored only)
//   bit 4  RO   refresh cycle toggle: flips every 15.085 us of Clock time (BIOS delay loops
//               count its edges)
//   bit 5  RO   timer 2 OUT (PIT channel 2's output)
//   bits 6/7 RO IOCHK# / SERR# NMI source status: always 0 (no parity or channel-check errors)
//
// Simplifications: no sound; speakerOn() tells a frontend whether the speaker would be driven.
//   io.attach(0x61, 1, &port61);
#pragma once

#include <cstdint>
#include <string>

#include "devices/bus.hpp"
#include "devices/clock.hpp"
#include "devices/pit8254.hpp"

namespace hvlab::devices {

namespace port61 {
inline constexpr uint16_t kPort = 0x61;
inline constexpr uint8_t kTimer2Gate = 0x01;
inline constexpr uint8_t kSpeakerData = 0x02;
inline constexpr uint8_t kWritable = 0x0F;
inline constexpr uint8_t kRefreshToggle = 0x10;
inline constexpr uint8_t kTimer2Out = 0x20;
inline constexpr uint64_t kRefreshPeriodNs = 15'085;  // one refresh request every 15.085 us
}  // namespace port61

class Port61 final : public PortDevice {
public:
    // Drives `pit`'s channel 2 GATE (low at reset, like the register).
    Port61(const Clock& clock, Pit8254& pit);

    // Byte register; a wider read returns it in the low byte with the upper lanes all-ones,
    // a wider write uses the low byte.
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "port61"; }

    uint8_t control() const { return control_; }  // bits 0-3 as written
    bool speakerOn();                             // speaker enable AND OUT2

private:
    const Clock& clock_;
    Pit8254& pit_;
    uint8_t control_ = 0;
};

}  // namespace hvlab::devices
