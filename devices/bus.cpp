#include "devices/bus.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace hvlab::devices {

namespace {
uint64_t allOnes(unsigned size) { return size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1); }
}  // namespace

void IoBus::attach(uint16_t first, uint32_t count, PortDevice* device) {
    if (count == 0 || first + count > 0x10000)
        throw std::invalid_argument(fmt::format("port range {:#x}+{} is out of the 64K I/O space", first, count));
    for (const Range& r : ranges_)
        if (first < r.first + r.count && r.first < first + count)
            throw std::invalid_argument(fmt::format("port {:#x} already belongs to {}",
                                                    std::max<uint32_t>(first, r.first), r.device->name()));
    ranges_.push_back({first, count, device});
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
}

void IoBus::detach(PortDevice* device) {
    std::erase_if(ranges_, [device](const Range& r) { return r.device == device; });
}

PortDevice* IoBus::deviceAt(uint16_t port) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), port,
                               [](uint16_t p, const Range& r) { return p < r.first; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return port - it->first < it->count ? it->device : nullptr;
}

uint32_t IoBus::read(uint16_t port, unsigned size) {
    PortDevice* dev = deviceAt(port);
    return dev ? dev->ioRead(port, size) : static_cast<uint32_t>(allOnes(size));
}

void IoBus::write(uint16_t port, unsigned size, uint32_t value) {
    if (PortDevice* dev = deviceAt(port)) dev->ioWrite(port, size, value);
}

void MmioBus::attach(uint64_t base, uint64_t size, MmioDevice* device) {
    if (size == 0 || base + size < base) throw std::invalid_argument("empty or wrapping MMIO range");
    for (const Range& r : ranges_)
        if (base < r.base + r.size && r.base < base + size)
            throw std::invalid_argument(fmt::format("MMIO range {:#x}+{:#x} overlaps {}", base, size, r.device->name()));
    ranges_.push_back({base, size, device});
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.base < b.base; });
}

void MmioBus::detach(MmioDevice* device) {
    std::erase_if(ranges_, [device](const Range& r) { return r.device == device; });
}

const MmioBus::Range* MmioBus::find(uint64_t gpa) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), gpa,
                               [](uint64_t a, const Range& r) { return a < r.base; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return gpa - it->base < it->size ? &*it : nullptr;
}

bool MmioBus::read(uint64_t gpa, unsigned size, uint64_t& value) {
    if (const Range* r = find(gpa)) {
        value = r->device->mmioRead(gpa - r->base, size);
        return true;
    }
    value = allOnes(size);
    return false;
}

bool MmioBus::write(uint64_t gpa, unsigned size, uint64_t value) {
    if (const Range* r = find(gpa)) {
        r->device->mmioWrite(gpa - r->base, size, value);
        return true;
    }
    return false;
}

}  // namespace hvlab::devices
