// The Multiboot (v1, specification 0.6.96) header: where it is, what it asks for, and the
// constants of the boot information the loader hands over.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace hvlab::hv::boot::multiboot {

constexpr uint32_t kHeaderMagic = 0x1badb002;      // in the OS image
constexpr uint32_t kBootloaderMagic = 0x2badb002;  // in EAX at entry
constexpr uint32_t kSearchBytes = 8192;            // the header lies in the first 8 KiB, 4-aligned

// Header flags (3.1.2). Bits 0-15 are requirements: a loader that cannot meet one must refuse.
namespace header_flag {
constexpr uint32_t kPageAlignModules = 1u << 0;  // modules on 4 KiB boundaries (always done)
constexpr uint32_t kMemoryInfo = 1u << 1;        // mem_* and mmap_* must be provided (always done)
constexpr uint32_t kVideoMode = 1u << 2;         // a video mode table: not provided, see docs
constexpr uint32_t kAoutKludge = 1u << 16;       // load from the address fields, not the ELF headers
constexpr uint32_t kRequiredMask = 0xffff;
constexpr uint32_t kSupportedRequired = kPageAlignModules | kMemoryInfo | kVideoMode;
}  // namespace header_flag

// Boot information flags (3.3): which fields of the info structure are valid.
namespace info_flag {
constexpr uint32_t kMemory = 1u << 0, kBootDevice = 1u << 1, kCmdline = 1u << 2, kModules = 1u << 3,
                   kAoutSymbols = 1u << 4, kElfSections = 1u << 5, kMemoryMap = 1u << 6, kDrives = 1u << 7,
                   kConfigTable = 1u << 8, kBootLoaderName = 1u << 9, kApmTable = 1u << 10, kVbe = 1u << 11,
                   kFramebuffer = 1u << 12;
}

// Byte offsets in the boot information structure (3.3).
namespace info_offset {
constexpr uint32_t kFlags = 0, kMemLower = 4, kMemUpper = 8, kBootDevice = 12, kCmdline = 16, kModsCount = 20,
                   kModsAddr = 24, kMmapLength = 44, kMmapAddr = 48, kBootLoaderName = 64;
constexpr uint32_t kSize = 120;  // up to and including the framebuffer fields
}  // namespace info_offset

constexpr uint32_t kModuleEntrySize = 16;  // mod_start, mod_end, string, reserved
constexpr uint32_t kMmapEntrySize = 24;    // size (= 20, not counting itself), base_addr, length, type

// The a.out kludge address fields (flags bit 16): physical addresses.
struct AoutKludge {
    uint32_t headerAddr = 0;   // where the header's magic lands
    uint32_t loadAddr = 0;     // start of text
    uint32_t loadEndAddr = 0;  // end of data; 0 = to the end of the file
    uint32_t bssEndAddr = 0;   // end of bss; 0 = no bss
    uint32_t entryAddr = 0;
};

struct Header {
    uint32_t offset = 0;  // file offset of the magic
    uint32_t flags = 0;
    std::optional<AoutKludge> aout;  // set when flags bit 16 is
};

// The offset of a multiboot header (magic with a valid checksum) in the first 8 KiB, if any.
std::optional<uint32_t> findHeader(std::span<const uint8_t> image);

// Finds and validates the header: present, checksum, required flags the loader supports,
// a.out fields present when bit 16 is set. Throws BootImageError.
Header parseHeader(const std::string& name, std::span<const uint8_t> image);

}  // namespace hvlab::hv::boot::multiboot
