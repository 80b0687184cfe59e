// Test helper for the direct-boot loaders: guest RAM laid out as the Vm lays it out
// (conventional memory, a hole for VGA and ROM, RAM from 1 MiB), with little-endian readers.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hv/boot/e820.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::test {

struct BootTestMemory {
    // The first `fillBytes` bytes are set to 0xCC so untouched (or zeroed) bytes are told apart.
    BootTestMemory(uint64_t bytes, uint64_t fillBytes) : ramBytes(bytes), host(bytes) {
        constexpr uint64_t kMiB = 1ull << 20;
        map.addRam(0, 0xa0000, host.data(), "ram (conventional)");
        map.addRam(kMiB, bytes - kMiB, host.data() + kMiB, "ram");
        std::memset(host.data(), 0xcc, fillBytes < bytes ? fillBytes : bytes);
    }
    uint8_t u8(uint64_t gpa) const { return host.data()[gpa]; }
    uint16_t u16(uint64_t gpa) const { return static_cast<uint16_t>(u8(gpa) | u8(gpa + 1) << 8); }
    uint32_t u32(uint64_t gpa) const { return u16(gpa) | uint32_t{u16(gpa + 2)} << 16; }
    uint64_t u64(uint64_t gpa) const { return u32(gpa) | uint64_t{u32(gpa + 4)} << 32; }
    std::string cstring(uint64_t gpa) const { return reinterpret_cast<const char*>(host.data() + gpa); }
    std::vector<hv::boot::E820Entry> e820() const { return hv::boot::pcMemoryMap(ramBytes); }

    uint64_t ramBytes;
    mmu::HostMemory host;
    mmu::PhysicalMap map;
};

}  // namespace hvlab::test
