#include "devices/port61.hpp"

namespace hvlab::devices {

using namespace port61;

Port61::Port61(const Clock& clock, Pit8254& pit) : clock_(clock), pit_(pit) {
    pit_.setGate(2, false);
}

uint32_t Port61::ioRead(uint16_t /*port*/, unsigned size) {
    uint8_t value = control_;
    if ((clock_.nowNs() / kRefreshPeriodNs) & 1) value |= kRefreshToggle;
    if (pit_.output(2)) value |= kTimer2Out;
    if (size <= 1) return value;
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return (lanes & ~0xFFu) | value;
}

void Port61::ioWrite(uint16_t /*port*/, unsigned /*size*/, uint32_t value) {
    control_ = static_cast<uint8_t>(value) & kWritable;
    pit_.setGate(2, control_ & kTimer2Gate);
}

bool Port61::speakerOn() { return (control_ & kSpeakerData) && pit_.output(2); }

}  // namespace hvlab::devices
