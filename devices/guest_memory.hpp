// Guest-physical memory as a DMA-capable device sees it. Every access is bounds-checked:
// DMA outside RAM fails (returns false, copies nothing) and the device reports an error to
// the guest; it never touches host memory beyond the guest's RAM.
#pragma once

#include <cstdint>
#include <functional>

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
    // Which writes a device may make besides (nullptr: every write to RAM). With a deprivileged
    // PV kernel, hvlab's own pages and the guest's page tables are off limits to DMA, or a disk
    // read could rewrite a validated page table (privileged P, hv/paravirt/pv_mmu.hpp).
    using WriteGuard = std::function<bool(uint64_t gpa, uint64_t len)>;

    explicit PhysicalMapMemory(mmu::PhysicalMap& map) : map_(map) {}
    bool read(uint64_t gpa, void* out, uint64_t len) override { return map_.read(gpa, out, len); }
    bool write(uint64_t gpa, const void* in, uint64_t len) override {
        if (guard_ && !guard_(gpa, len)) return false;
        return map_.write(gpa, in, len);
    }
    void setWriteGuard(WriteGuard guard) { guard_ = std::move(guard); }

private:
    mmu::PhysicalMap& map_;
    WriteGuard guard_;
};

}  // namespace hvlab::devices
