// The guest-physical address space (the "EPT" layer): RAM and ROM backed by host memory,
// MMIO ranges owned by devices. The interpreter uses it as the second stage of translation;
// the KVM engine turns its RAM and ROM regions into memory slots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hvlab::mmu {

enum class RegionKind : uint8_t { Ram, Rom, Mmio };

struct Region {
    uint64_t base = 0;
    uint64_t size = 0;
    RegionKind kind = RegionKind::Ram;
    uint8_t* host = nullptr;  // host address of `base` (Ram, Rom); nullptr for Mmio
    std::string name;

    uint64_t end() const { return base + size; }
    bool contains(uint64_t gpa) const { return gpa - base < size; }
};

// One anonymous host mapping that holds all guest RAM (and ROM images), page aligned.
// Pages are allocated lazily by the host kernel, so untouched guest RAM costs no RSS.
class HostMemory {
public:
    explicit HostMemory(uint64_t size);
    ~HostMemory();
    HostMemory(const HostMemory&) = delete;
    HostMemory& operator=(const HostMemory&) = delete;

    uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }
    // Bytes of this mapping the host has actually backed with memory (via mincore).
    uint64_t residentBytes() const;

private:
    uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

class PhysicalMap {
public:
    // Maps [base, base+size) to host memory at `host`. Ranges must not overlap.
    void addRam(uint64_t base, uint64_t size, uint8_t* host, std::string name = "ram");
    void addRom(uint64_t base, uint64_t size, uint8_t* host, std::string name = "rom");
    // An MMIO range: accesses leave the memory path and go to the device that owns it.
    void addMmio(uint64_t base, uint64_t size, std::string name);

    const Region* find(uint64_t gpa) const;
    const std::vector<Region>& regions() const { return regions_; }

    // Host pointer for [gpa, gpa+len) if it lies inside one RAM region (or ROM when !forWrite).
    uint8_t* hostPointer(uint64_t gpa, uint64_t len, bool forWrite) const;

    // Bounds-checked copies for RAM/ROM; false if any byte is outside RAM/ROM
    // (MMIO or unmapped), or if a write touches ROM. Nothing is copied on failure.
    bool read(uint64_t gpa, void* out, uint64_t len) const;
    bool write(uint64_t gpa, const void* in, uint64_t len);

    // Total bytes of RAM (not ROM, not MMIO) in the map.
    uint64_t ramBytes() const;

private:
    void add(Region region);
    std::vector<Region> regions_;  // sorted by base, non-overlapping
};

}  // namespace hvlab::mmu
