// The Linux/x86 boot protocol's setup header (Documentation/arch/x86/boot.rst), read from a
// bzImage at offset 0x1F1, and the boot_params ("zero page") offsets a loader fills.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hvlab::hv::boot::linux_boot {

constexpr uint16_t kBootFlag = 0xaa55;       // at 0x1FE
constexpr uint32_t kHeaderMagic = 0x53726448;  // "HdrS" at 0x202
constexpr uint16_t kMinVersion = 0x0206;       // oldest protocol hvlab loads
constexpr uint8_t kLoaderTypeUndefined = 0xff;  // type_of_loader for a loader without an assigned ID

// Offsets in the image and in boot_params (the setup header is at the same offset in both).
namespace offset {
constexpr uint32_t kSetupHeader = 0x1f1;
constexpr uint32_t kSetupSects = 0x1f1, kSyssize = 0x1f4, kVidMode = 0x1fa, kBootFlag = 0x1fe, kJump = 0x200,
                   kHeader = 0x202, kVersion = 0x206, kTypeOfLoader = 0x210, kLoadflags = 0x211,
                   kCode32Start = 0x214, kRamdiskImage = 0x218, kRamdiskSize = 0x21c, kHeapEndPtr = 0x224,
                   kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22c, kKernelAlignment = 0x230,
                   kRelocatableKernel = 0x234, kMinAlignment = 0x235, kXloadflags = 0x236, kCmdlineSize = 0x238,
                   kPrefAddress = 0x258, kInitSize = 0x260;
// boot_params only.
constexpr uint32_t kExtRamdiskImage = 0x0c0, kExtRamdiskSize = 0x0c4, kExtCmdLinePtr = 0x0c8, kE820Entries = 0x1e8,
                   kE820Table = 0x2d0;
constexpr uint32_t kSetupHeaderLimit = 0x290;  // boot_params.hdr ends before edd_mbr_sig_buffer
}  // namespace offset

constexpr uint32_t kBootParamsSize = 4096;
constexpr uint32_t kE820TableEntries = 128;  // E820_MAX_ENTRIES_ZEROPAGE
constexpr uint32_t kE820EntrySize = 20;      // u64 addr, u64 size, u32 type (packed)

namespace loadflag {
constexpr uint8_t kLoadedHigh = 1u << 0, kKaslr = 1u << 1, kQuiet = 1u << 5, kKeepSegments = 1u << 6,
                  kCanUseHeap = 1u << 7;
}
namespace xloadflag {
constexpr uint16_t kKernel64 = 1u << 0, kCanBeLoadedAbove4G = 1u << 1, kEfiHandover32 = 1u << 2,
                   kEfiHandover64 = 1u << 3, kEfiKexec = 1u << 4, k5Level = 1u << 5, k5LevelEnabled = 1u << 6;
}

struct SetupHeader {
    uint8_t setupSects = 0;  // as found; 0 means 4
    uint16_t version = 0;
    uint8_t loadflags = 0;
    uint32_t syssize = 0;
    uint32_t code32Start = 0;
    uint32_t initrdAddrMax = 0;
    uint32_t kernelAlignment = 0;
    bool relocatable = false;
    uint8_t minAlignment = 0;
    uint16_t xloadflags = 0;  // protocol 2.12+
    uint32_t cmdlineSize = 0;
    uint64_t prefAddress = 0;  // protocol 2.10+; 1 MiB before
    uint32_t initSize = 0;     // protocol 2.10+; 0 before (unknown)
    uint32_t headerEnd = 0;    // 0x202 + the byte at 0x201: the end of the header to copy

    // The real-mode part (boot sector + setup) is this many bytes; the protected-mode kernel follows.
    uint64_t setupBytes() const { return (uint64_t{setupSects ? setupSects : uint8_t{4}} + 1) * 512; }
    bool has64BitEntry() const { return version >= 0x020c && (xloadflags & xloadflag::kKernel64); }
    std::string versionText() const;  // "2.15"
};

// True if the image carries a boot flag and "HdrS" (any protocol version).
bool hasLinuxHeader(std::span<const uint8_t> image);

// Reads and validates the setup header of a bzImage (boot flag, HdrS, protocol >= 2.06, loaded
// high, kernel_alignment a power of two, the protected-mode kernel present and as long as
// syssize says). Throws BootImageError.
SetupHeader parseSetupHeader(const std::string& name, std::span<const uint8_t> image);

}  // namespace hvlab::hv::boot::linux_boot
