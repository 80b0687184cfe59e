#include "hv/boot/e820.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace hvlab::hv::boot {

std::vector<E820Entry> pcMemoryMap(uint64_t ramBytes) {
    using namespace pc_layout;
    std::vector<E820Entry> map;
    map.push_back({0, std::min(ramBytes, kEbdaStart), e820_type::kUsable});
    map.push_back({kEbdaStart, kConventionalEnd - kEbdaStart, e820_type::kReserved});
    map.push_back({kBiosStart, kHighMemoryStart - kBiosStart, e820_type::kReserved});
    if (ramBytes > kHighMemoryStart) {
        const uint64_t belowHole = std::min(ramBytes, kPciHoleStart);
        map.push_back({kHighMemoryStart, belowHole - kHighMemoryStart, e820_type::kUsable});
    }
    if (ramBytes > kPciHoleStart) map.push_back({k4GiB, ramBytes - kPciHoleStart, e820_type::kUsable});
    return map;
}

bool isUsable(std::span<const E820Entry> map, uint64_t base, uint64_t size) {
    if (base + size < base) return false;  // wraps
    return std::any_of(map.begin(), map.end(), [&](const E820Entry& e) {
        return e.type == e820_type::kUsable && base >= e.base && base + size <= e.end();
    });
}

std::string e820TypeName(uint32_t type) {
    switch (type) {
        case e820_type::kUsable: return "usable";
        case e820_type::kReserved: return "reserved";
        case e820_type::kAcpiReclaimable: return "ACPI reclaimable";
        case e820_type::kAcpiNvs: return "ACPI NVS";
        case e820_type::kUnusable: return "unusable";
        default: return fmt::format("type {}", type);
    }
}

std::string describe(std::span<const E820Entry> map) {
    std::string text;
    for (const E820Entry& e : map) {
        if (!text.empty()) text += ", ";
        text += fmt::format("[{:#x}, {:#x}) {}", e.base, e.end(), e820TypeName(e.type));
    }
    return text;
}

}  // namespace hvlab::hv::boot
