#include "hv/boot/linux_setup_header.hpp"

#include <bit>

#include <fmt/format.h>

#include "hv/boot/image_reader.hpp"

namespace hvlab::hv::boot::linux_boot {

std::string SetupHeader::versionText() const { return fmt::format("{}.{:02}", version >> 8, version & 0xff); }

bool hasLinuxHeader(std::span<const uint8_t> image) {
    ImageReader file("", image);
    return file.has(offset::kHeader, 4) && file.u16(offset::kBootFlag, "") == kBootFlag &&
           file.u32(offset::kHeader, "") == kHeaderMagic;
}

SetupHeader parseSetupHeader(const std::string& name, std::span<const uint8_t> image) {
    ImageReader file(name, image);
    if (!file.has(offset::kHeader, 4))
        throw BootImageError(fmt::format("{}: not a bzImage: {} bytes is too short for a Linux setup header", name,
                                         image.size()));
    const uint16_t bootFlag = file.u16(offset::kBootFlag, "boot_flag");
    if (bootFlag != kBootFlag)
        throw BootImageError(fmt::format("{}: not a bzImage: boot_flag at offset 0x1fe is {:#06x}, not 0xaa55", name,
                                         bootFlag));
    const uint32_t magic = file.u32(offset::kHeader, "header");
    if (magic != kHeaderMagic)
        throw BootImageError(fmt::format("{}: not a bzImage: no \"HdrS\" at offset 0x202 (found {:#010x}): a kernel "
                                         "older than boot protocol 2.00 or not a Linux kernel",
                                         name, magic));
    SetupHeader h;
    h.version = file.u16(offset::kVersion, "version");
    if (h.version < kMinVersion)
        throw BootImageError(fmt::format("{}: Linux boot protocol {} is too old: hvlab needs 2.06 or later", name,
                                         h.versionText()));
    h.setupSects = file.u8(offset::kSetupSects, "setup_sects");
    h.syssize = file.u32(offset::kSyssize, "syssize");
    h.loadflags = file.u8(offset::kLoadflags, "loadflags");
    h.code32Start = file.u32(offset::kCode32Start, "code32_start");
    h.initrdAddrMax = file.u32(offset::kInitrdAddrMax, "initrd_addr_max");
    h.kernelAlignment = file.u32(offset::kKernelAlignment, "kernel_alignment");
    h.relocatable = file.u8(offset::kRelocatableKernel, "relocatable_kernel") != 0;
    h.minAlignment = file.u8(offset::kMinAlignment, "min_alignment");
    h.cmdlineSize = file.u32(offset::kCmdlineSize, "cmdline_size");
    h.headerEnd = 0x202 + file.u8(offset::kJump + 1, "the setup header's jump");
    if (h.version >= 0x020a) {
        h.prefAddress = file.u64(offset::kPrefAddress, "pref_address");
        h.initSize = file.u32(offset::kInitSize, "init_size");
    } else {
        h.prefAddress = 0x100000;
    }
    if (h.version >= 0x020c) h.xloadflags = file.u16(offset::kXloadflags, "xloadflags");

    if (!(h.loadflags & loadflag::kLoadedHigh))
        throw BootImageError(fmt::format("{}: a zImage (loadflags {:#04x} without LOADED_HIGH): only bzImages, loaded "
                                         "at 1 MiB and above, are supported",
                                         name, h.loadflags));
    if (h.kernelAlignment == 0 || !std::has_single_bit(h.kernelAlignment))
        throw BootImageError(fmt::format("{}: kernel_alignment {:#x} at offset 0x230 is not a power of two", name,
                                         h.kernelAlignment));
    if (image.size() <= h.setupBytes())
        throw BootImageError(fmt::format("{}: truncated: the protected-mode kernel starts at offset {:#x} (setup_sects "
                                         "{}), but the file has {:#x} bytes",
                                         name, h.setupBytes(), h.setupSects, image.size()));
    const uint64_t kernelBytes = image.size() - h.setupBytes();
    if (uint64_t{h.syssize} * 16 > kernelBytes)
        throw BootImageError(fmt::format("{}: truncated: syssize says the protected-mode kernel is {:#x} bytes, the "
                                         "file holds {:#x} after the setup code",
                                         name, uint64_t{h.syssize} * 16, kernelBytes));
    return h;
}

}  // namespace hvlab::hv::boot::linux_boot
