// Guest RAM for device tests: a byte vector behind the GuestMemory interface. An access that
// does not fit fails whole (as PhysicalMapMemory does), so DMA outside RAM can be tested.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "devices/guest_memory.hpp"

namespace hvlab::test {

class VectorMemory final : public devices::GuestMemory {
public:
    explicit VectorMemory(size_t size) : bytes(size) {}
    bool read(uint64_t gpa, void* out, uint64_t len) override {
        if (gpa > bytes.size() || len > bytes.size() - gpa) return false;
        std::memcpy(out, bytes.data() + gpa, len);
        return true;
    }
    bool write(uint64_t gpa, const void* in, uint64_t len) override {
        if (gpa > bytes.size() || len > bytes.size() - gpa) return false;
        std::memcpy(bytes.data() + gpa, in, len);
        return true;
    }
    // Little-endian values of `width` bytes, as the guest's driver would store them.
    void put(uint64_t gpa, uint64_t value, unsigned width) {
        for (unsigned i = 0; i < width; ++i) bytes[gpa + i] = static_cast<uint8_t>(value >> (8 * i));
    }
    uint64_t get(uint64_t gpa, unsigned width) const {
        uint64_t v = 0;
        for (unsigned i = width; i-- > 0;) v = v << 8 | bytes[gpa + i];
        return v;
    }
    std::vector<uint8_t> bytes;
};

}  // namespace hvlab::test
