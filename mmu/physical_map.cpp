#include "mmu/physical_map.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace hvlab::mmu {

HostMemory::HostMemory(uint64_t size) : size_(size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        throw std::runtime_error(fmt::format("cannot reserve {} MiB of host memory for the guest", size >> 20));
    data_ = static_cast<uint8_t*>(p);
}

HostMemory::~HostMemory() {
    if (data_) munmap(data_, size_);
}

uint64_t HostMemory::residentBytes() const {
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> vec((size_ + page - 1) / page);
    if (mincore(data_, size_, vec.data()) != 0) return 0;
    uint64_t resident = 0;
    for (unsigned char v : vec) resident += (v & 1) ? page : 0;
    return resident;
}

void PhysicalMap::add(Region region) {
    if (region.size == 0 || region.base + region.size < region.base)
        throw std::invalid_argument(fmt::format("empty or wrapping region '{}'", region.name));
    for (const Region& r : regions_)
        if (region.base < r.end() && r.base < region.end())
            throw std::invalid_argument(fmt::format("region '{}' [{:#x}, {:#x}) overlaps '{}' [{:#x}, {:#x})",
                                                    region.name, region.base, region.end(), r.name, r.base, r.end()));
    regions_.push_back(std::move(region));
    std::sort(regions_.begin(), regions_.end(), [](const Region& a, const Region& b) { return a.base < b.base; });
}

void PhysicalMap::addRam(uint64_t base, uint64_t size, uint8_t* host, std::string name) {
    add({base, size, RegionKind::Ram, host, std::move(name)});
}

void PhysicalMap::addRom(uint64_t base, uint64_t size, uint8_t* host, std::string name) {
    add({base, size, RegionKind::Rom, host, std::move(name)});
}

void PhysicalMap::addMmio(uint64_t base, uint64_t size, std::string name) {
    add({base, size, RegionKind::Mmio, nullptr, std::move(name)});
}

const Region* PhysicalMap::find(uint64_t gpa) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), gpa,
                               [](uint64_t a, const Region& r) { return a < r.base; });
    if (it == regions_.begin()) return nullptr;
    --it;
    return it->contains(gpa) ? &*it : nullptr;
}

uint8_t* PhysicalMap::hostPointer(uint64_t gpa, uint64_t len, bool forWrite) const {
    const Region* r = find(gpa);
    if (!r || r->kind == RegionKind::Mmio || (forWrite && r->kind == RegionKind::Rom)) return nullptr;
    if (len > r->end() - gpa) return nullptr;
    return r->host + (gpa - r->base);
}

bool PhysicalMap::read(uint64_t gpa, void* out, uint64_t len) const {
    // A copy may span adjacent regions (for example RAM followed by RAM); check all first.
    for (uint64_t done = 0; done < len;) {
        const Region* r = find(gpa + done);
        if (!r || r->kind == RegionKind::Mmio) return false;
        done += std::min(len - done, r->end() - (gpa + done));
    }
    auto* dst = static_cast<uint8_t*>(out);
    for (uint64_t done = 0; done < len;) {
        const Region* r = find(gpa + done);
        const uint64_t chunk = std::min(len - done, r->end() - (gpa + done));
        std::memcpy(dst + done, r->host + (gpa + done - r->base), chunk);
        done += chunk;
    }
    return true;
}

bool PhysicalMap::write(uint64_t gpa, const void* in, uint64_t len) {
    for (uint64_t done = 0; done < len;) {
        const Region* r = find(gpa + done);
        if (!r || r->kind != RegionKind::Ram) return false;
        done += std::min(len - done, r->end() - (gpa + done));
    }
    const auto* src = static_cast<const uint8_t*>(in);
    for (uint64_t done = 0; done < len;) {
        const Region* r = find(gpa + done);
        const uint64_t chunk = std::min(len - done, r->end() - (gpa + done));
        std::memcpy(r->host + (gpa + done - r->base), src + done, chunk);
        done += chunk;
    }
    return true;
}

uint64_t PhysicalMap::ramBytes() const {
    uint64_t total = 0;
    for (const Region& r : regions_)
        if (r.kind == RegionKind::Ram) total += r.size;
    return total;
}

}  // namespace hvlab::mmu
