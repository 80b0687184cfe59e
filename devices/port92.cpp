#include "devices/port92.hpp"

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace port92;

uint32_t Port92::ioRead(uint16_t /*port*/, unsigned size) {
    if (size <= 1) return value_;
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return (lanes & ~0xFFu) | value_;
}

void Port92::ioWrite(uint16_t /*port*/, unsigned /*size*/, uint32_t value) {
    const uint8_t old = value_;
    value_ = static_cast<uint8_t>(value);
    if ((old ^ value_) & kA20) {
        spdlog::debug("port92: A20 {}", a20() ? "on" : "off");
        if (a20Changed_) a20Changed_(a20());
    }
    if ((value_ & kFastReset) && !(old & kFastReset)) {
        spdlog::debug("port92: fast reset");
        value_ &= static_cast<uint8_t>(~kFastReset);  // the reset it asks for clears it
        if (reset_) reset_();
    }
}

}  // namespace hvlab::devices
