#include "devices/post_port.hpp"

namespace hvlab::devices {

uint32_t PostPort::ioRead(uint16_t /*port*/, unsigned size) {
    const uint8_t last = lastCode();
    if (size <= 1) return last;
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return (lanes & ~0xFFu) | last;
}

void PostPort::ioWrite(uint16_t /*port*/, unsigned /*size*/, uint32_t value) {
    {
        std::lock_guard lock(mutex_);
        last_ = static_cast<uint8_t>(value);
        ring_[writes_ % kHistorySize] = last_;
        ++writes_;
    }
    if (listener_) listener_(static_cast<uint8_t>(value));
}

uint64_t PostPort::writeCount() const {
    std::lock_guard lock(mutex_);
    return writes_;
}

uint8_t PostPort::lastCode() const {
    std::lock_guard lock(mutex_);
    return last_;
}

std::vector<uint8_t> PostPort::history() const {
    std::lock_guard lock(mutex_);
    const uint64_t count = writes_ < kHistorySize ? writes_ : kHistorySize;
    std::vector<uint8_t> out;
    out.reserve(count);
    for (uint64_t i = writes_ - count; i < writes_; ++i) out.push_back(ring_[i % kHistorySize]);
    return out;
}

}  // namespace hvlab::devices
