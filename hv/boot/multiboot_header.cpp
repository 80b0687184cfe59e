#include "hv/boot/multiboot_header.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hv/boot/image_reader.hpp"

namespace hvlab::hv::boot::multiboot {

namespace {

uint32_t le32(std::span<const uint8_t> b, uint64_t at) {
    return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

// The first 4-aligned offset holding the magic, with or without a valid checksum.
std::optional<uint32_t> findMagic(std::span<const uint8_t> image, uint64_t from) {
    const uint64_t end = std::min<uint64_t>(image.size(), kSearchBytes);
    for (uint64_t at = from; at + 4 <= end; at += 4)
        if (le32(image, at) == kHeaderMagic) return static_cast<uint32_t>(at);
    return std::nullopt;
}

bool checksumOk(std::span<const uint8_t> image, uint32_t at) {
    return at + 12 <= image.size() && le32(image, at) + le32(image, at + 4) + le32(image, at + 8) == 0;
}

}  // namespace

std::optional<uint32_t> findHeader(std::span<const uint8_t> image) {
    for (auto at = findMagic(image, 0); at; at = findMagic(image, *at + 4))
        if (checksumOk(image, *at)) return at;
    return std::nullopt;
}

Header parseHeader(const std::string& name, std::span<const uint8_t> image) {
    const std::optional<uint32_t> magic = findMagic(image, 0);
    if (!magic)
        throw BootImageError(fmt::format("{}: not a multiboot kernel: no magic {:#x} at a 4-aligned offset in the "
                                         "first {} bytes",
                                         name, kHeaderMagic, kSearchBytes));
    const std::optional<uint32_t> at = findHeader(image);
    ImageReader file(name, image);
    if (!at) {
        const uint32_t flags = file.u32(*magic + 4, "the multiboot header flags");
        const uint32_t checksum = file.u32(*magic + 8, "the multiboot header checksum");
        throw BootImageError(fmt::format("{}: bad multiboot header checksum at offset {:#x}: magic + flags ({:#x}) + "
                                         "checksum ({:#x}) = {:#x}, must be 0",
                                         name, *magic, flags, checksum,
                                         static_cast<uint32_t>(kHeaderMagic + flags + checksum)));
    }
    Header header;
    header.offset = *at;
    header.flags = file.u32(*at + 4, "the multiboot header flags");
    const uint32_t unsupported = header.flags & header_flag::kRequiredMask & ~header_flag::kSupportedRequired;
    if (unsupported)
        throw BootImageError(fmt::format("{}: the multiboot header (offset {:#x}) requires features hvlab does not "
                                         "provide: flags {:#x}, unknown required bits {:#x}",
                                         name, *at, header.flags, unsupported));
    if (header.flags & header_flag::kAoutKludge) {
        AoutKludge k;
        k.headerAddr = file.u32(*at + 12, "the multiboot header_addr field");
        k.loadAddr = file.u32(*at + 16, "the multiboot load_addr field");
        k.loadEndAddr = file.u32(*at + 20, "the multiboot load_end_addr field");
        k.bssEndAddr = file.u32(*at + 24, "the multiboot bss_end_addr field");
        k.entryAddr = file.u32(*at + 28, "the multiboot entry_addr field");
        header.aout = k;
    }
    return header;
}

}  // namespace hvlab::hv::boot::multiboot
