#include "hv/boot/boot_memory.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "hv/boot/boot_image_error.hpp"

namespace hvlab::hv::boot {

BootMemory::BootMemory(mmu::PhysicalMap& memory, std::span<const E820Entry> map, std::string imageName)
    : memory_(memory), map_(map.begin(), map.end()), imageName_(std::move(imageName)) {}

bool BootMemory::isRam(uint64_t base, uint64_t size) const {
    if (size == 0) return true;
    return isUsable(map_, base, size) && memory_.hostPointer(base, size, true) != nullptr;
}

const Claim* BootMemory::overlapping(uint64_t base, uint64_t size) const {
    for (const Claim& c : claims_)
        if (base < c.end() && c.base < base + size) return &c;
    return nullptr;
}

bool BootMemory::isFree(uint64_t base, uint64_t size) const {
    return base + size >= base && isRam(base, size) && (size == 0 || overlapping(base, size) == nullptr);
}

void BootMemory::claim(uint64_t base, uint64_t size, const std::string& what) {
    if (base + size < base)
        throw BootImageError(fmt::format("{}: {} at {:#x} ({} bytes) wraps around the address space", imageName_,
                                         what, base, size));
    if (!isRam(base, size))
        throw BootImageError(fmt::format("{}: {} [{:#x}, {:#x}) is outside usable guest RAM (memory map: {})",
                                         imageName_, what, base, base + size, describe(map_)));
    if (size == 0) return;
    if (const Claim* other = overlapping(base, size))
        throw BootImageError(fmt::format("{}: {} [{:#x}, {:#x}) overlaps the {} [{:#x}, {:#x})", imageName_, what,
                                         base, base + size, other->what, other->base, other->end()));
    claims_.push_back({base, size, what});
}

std::optional<uint64_t> BootMemory::findLowest(uint64_t from, uint64_t size, uint64_t align) const {
    // Candidates: `from`, and the first aligned address after every claim or at every RAM start.
    std::vector<uint64_t> candidates{alignUp(from, align)};
    for (const Claim& c : claims_) candidates.push_back(alignUp(c.end(), align));
    for (const E820Entry& e : map_) candidates.push_back(alignUp(e.base, align));
    std::sort(candidates.begin(), candidates.end());
    for (uint64_t at : candidates)
        if (at >= from && isFree(at, size)) return at;
    return std::nullopt;
}

std::optional<uint64_t> BootMemory::findHighest(uint64_t limit, uint64_t size, uint64_t align) const {
    // Candidates end at `limit`, just below a claim, or at the end of a RAM range.
    std::vector<uint64_t> ends{limit};
    for (const Claim& c : claims_) ends.push_back(c.base);
    for (const E820Entry& e : map_) ends.push_back(e.end());
    std::sort(ends.rbegin(), ends.rend());
    for (uint64_t end : ends) {
        if (end > limit || end < size) continue;
        const uint64_t at = alignDown(end - size, align);
        if (isFree(at, size)) return at;
    }
    return std::nullopt;
}

void BootMemory::write(uint64_t gpa, std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    if (!memory_.write(gpa, bytes.data(), bytes.size()))
        throw BootImageError(fmt::format("{}: cannot write {} bytes at guest address {:#x}: not RAM", imageName_,
                                         bytes.size(), gpa));
}

void BootMemory::fill(uint64_t gpa, uint8_t value, uint64_t length) {
    if (length == 0) return;
    uint8_t* host = memory_.hostPointer(gpa, length, true);
    if (!host)
        throw BootImageError(fmt::format("{}: cannot clear {} bytes at guest address {:#x}: not RAM", imageName_,
                                         length, gpa));
    std::memset(host, value, length);
}

namespace {
template <typename T>
std::array<uint8_t, sizeof(T)> littleEndian(T value) {
    std::array<uint8_t, sizeof(T)> bytes{};
    for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
    return bytes;
}
}  // namespace

void BootMemory::write16(uint64_t gpa, uint16_t value) { write(gpa, littleEndian(value)); }
void BootMemory::write32(uint64_t gpa, uint32_t value) { write(gpa, littleEndian(value)); }
void BootMemory::write64(uint64_t gpa, uint64_t value) { write(gpa, littleEndian(value)); }

}  // namespace hvlab::hv::boot
