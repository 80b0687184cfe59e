#include "devices/debug_exit.hpp"

#include <fmt/format.h>

namespace hvlab::devices {

namespace {
uint32_t widthMask(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1; }
}  // namespace

DebugExit::DebugExit(uint16_t port, StopRequest onStop) : port_(port), onStop_(std::move(onStop)) {}

uint32_t DebugExit::ioRead(uint16_t /*port*/, unsigned size) { return widthMask(size == 0 ? 1 : size); }

void DebugExit::ioWrite(uint16_t /*port*/, unsigned size, uint32_t value) {
    const uint32_t guestValue = value & widthMask(size == 0 ? 1 : size);
    stopValue_ = guestValue;
    if (onStop_) onStop_(guestValue);
}

std::string DebugExit::name() const { return fmt::format("isa-debug-exit@{:#x}", port_); }

int DebugExit::exitStatusFor(uint32_t value) { return static_cast<int>(((value << 1) | 1u) & 0xFFu); }

}  // namespace hvlab::devices
