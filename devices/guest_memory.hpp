// Guest-physical memory as a DMA-capable device sees it. Every access is bounds-checked:
// DMA outside RAM fails (returns false, copies nothing) and the device reports an error to
// the guest; it never touches host memory beyond the guest's RAM.
#pragma once

#include <cstdint>

#include "mmu/physical_map.hpp"

namespace hvlab::devices {

class GuestMemory {
public:
    virtual ~GuestMemory() = default;
    virtual bool read(uint64_t gpa, void* out, uint64_t len) = 0;
    virtual bool write(uint64_t gpa, const void* in, uint64_t len) = 0;
};

// DMA into a VM's physical map: RAM only (ROM reads are allowed, writes to ROM or MMIO fail).
class PhysicalMapMemory final : public GuestMemory {
public:
    explicit PhysicalMapMemory(mmu::PhysicalMap& map) : map_(map) {}
    bool read(uint64_t gpa, void* out, uint64_t len) override { return map_.read(gpa, out, len); }
    bool write(uint64_t gpa, const void* in, uint64_t len) override { return map_.write(gpa, in, len); }

private:
    mmu::PhysicalMap& map_;
};

}  // namespace hvlab::devices
