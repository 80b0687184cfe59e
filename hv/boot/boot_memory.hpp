// Guest memory as a loader sees it: the E820 map says which ranges are usable RAM, the
// PhysicalMap holds the bytes. Every range a loader fills (kernel segments, boot structures,
// modules, initrd, page tables) is claimed first, so a range outside usable RAM or overlapping
// another one is refused with a BootImageError naming both. Loaders claim everything before
// they write anything, so a refused image leaves guest memory untouched.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hv/boot/e820.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv::boot {

struct Claim {
    uint64_t base = 0;
    uint64_t size = 0;
    std::string what;  // "ELF segment 1", "multiboot info area", "initrd", ...

    uint64_t end() const { return base + size; }
};

class BootMemory {
public:
    // `imageName` starts every error message (usually the kernel's file name).
    BootMemory(mmu::PhysicalMap& memory, std::span<const E820Entry> map, std::string imageName);

    // Claims [base, base+size) for `what`: it must be usable RAM in the E820 map, writable RAM
    // in the physical map, and overlap no earlier claim. Throws BootImageError otherwise.
    void claim(uint64_t base, uint64_t size, const std::string& what);
    // Where `size` bytes aligned to `align` (a power of two) fit in unclaimed usable RAM:
    // the lowest such address >= `from`, or the highest one whose end is <= `limit`.
    std::optional<uint64_t> findLowest(uint64_t from, uint64_t size, uint64_t align) const;
    std::optional<uint64_t> findHighest(uint64_t limit, uint64_t size, uint64_t align) const;
    // True if [base, base+size) could be claimed.
    bool isFree(uint64_t base, uint64_t size) const;

    // Writes into claimed memory (throws BootImageError if the range is not RAM: a loader bug).
    void write(uint64_t gpa, std::span<const uint8_t> bytes);
    void fill(uint64_t gpa, uint8_t value, uint64_t length);
    void write16(uint64_t gpa, uint16_t value);
    void write32(uint64_t gpa, uint32_t value);
    void write64(uint64_t gpa, uint64_t value);

    const std::vector<Claim>& claims() const { return claims_; }
    std::span<const E820Entry> map() const { return map_; }
    mmu::PhysicalMap& memory() { return memory_; }
    const std::string& imageName() const { return imageName_; }

private:
    bool isRam(uint64_t base, uint64_t size) const;
    const Claim* overlapping(uint64_t base, uint64_t size) const;

    mmu::PhysicalMap& memory_;
    std::vector<E820Entry> map_;
    std::string imageName_;
    std::vector<Claim> claims_;
};

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t alignUp(uint64_t value, uint64_t align) { return (value + align - 1) & ~(align - 1); }
constexpr uint64_t alignDown(uint64_t value, uint64_t align) { return value & ~(align - 1); }

}  // namespace hvlab::hv::boot
