// The BIOS memory map (INT 15h, E820h) a PC with a given amount of RAM presents. Both direct-boot
// loaders hand it to the kernel (Linux: boot_params.e820_table; multiboot: the mmap buffer) and
// use it to decide where images may go.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hvlab::hv::boot {

// Address range types (ACPI 6.x, table 15-312 "Address Range Types").
namespace e820_type {
constexpr uint32_t kUsable = 1, kReserved = 2, kAcpiReclaimable = 3, kAcpiNvs = 4, kUnusable = 5;
}

struct E820Entry {
    uint64_t base = 0;
    uint64_t size = 0;
    uint32_t type = 0;

    uint64_t end() const { return base + size; }
    bool operator==(const E820Entry&) const = default;
};

// Fixed PC layout points the map is built from.
namespace pc_layout {
constexpr uint64_t kEbdaStart = 0x9f000;       // the last KiB-page of conventional memory: EBDA
constexpr uint64_t kConventionalEnd = 0xa0000;  // 640 KiB
constexpr uint64_t kBiosStart = 0xf0000;        // system BIOS area below 1 MiB
constexpr uint64_t kHighMemoryStart = 0x100000;  // 1 MiB
constexpr uint64_t kPciHoleStart = 0xc0000000ull;  // RAM above 3 GiB is remapped above 4 GiB
constexpr uint64_t k4GiB = 0x100000000ull;
}  // namespace pc_layout

// The map of a PC with `ramBytes` of RAM (the VM's configured memory size, not
// PhysicalMap::ramBytes(), which leaves out the VGA hole and ROM aliases):
//   [0, 0x9F000) usable, [0x9F000, 0xA0000) reserved (EBDA), [0xF0000, 0x100000) reserved (BIOS),
//   [1 MiB, min(RAM, 3 GiB)) usable, and RAM beyond 3 GiB usable from 4 GiB up.
std::vector<E820Entry> pcMemoryMap(uint64_t ramBytes);

// True if [base, base+size) lies inside one usable entry (size 0 counts as inside when base is).
bool isUsable(std::span<const E820Entry> map, uint64_t base, uint64_t size);

// "usable", "reserved", "ACPI reclaimable", ... or "type N".
std::string e820TypeName(uint32_t type);
// "[0x100000, 0x8000000) usable" lines, for logs and errors.
std::string describe(std::span<const E820Entry> map);

}  // namespace hvlab::hv::boot
