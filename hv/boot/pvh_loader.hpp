// A PVH loader (boot P): puts an ELF kernel (32- or 64-bit) that carries Xen's
// XEN_ELFNOTE_PHYS32_ENTRY note into guest memory at its segments' physical addresses, writes
// Xen's `struct hvm_start_info` (version 1) with the memory map, the command line and the
// modules, and returns the entry state of Xen's PVH ABI (docs/hypercalls.md "PVH boot").
//
// Guest memory after load:
//   kernel:           every PT_LOAD segment at p_paddr (BSS zeroed); all below 4 GiB
//   start-info area:  the highest free pages of conventional memory below the EBDA (0x9F000),
//                     in this order: hvm_start_info (56 bytes), a GDT (null, 0x08 flat 32-bit
//                     code, 0x10 flat data), the memory map (hvm_memmap_table_entry x n), the
//                     module list (hvm_modlist_entry x m), the command line, the modules'
//                     command lines. Should low memory be taken, the lowest free pages above
//                     the kernel instead.
//   modules:          each on its own 4 KiB boundary above the kernel (and the area), in order
// The memory map lists all of that as RAM, as Xen's does: the kernel copies what it needs
// before it hands those pages out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "hv/boot/boot_memory.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/elf_kernel.hpp"
#include "hv/boot/multiboot_loader.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv::boot {

// The layout of Xen's public/arch-x86/hvm/start_info.h, version 1 (all little endian).
namespace pvh {
constexpr uint32_t kVersion = 1;
constexpr uint64_t kStartInfoSize = 56;
namespace start_info {
constexpr uint64_t kMagic = 0, kVersion = 4, kFlags = 8, kNrModules = 12, kModlistPaddr = 16, kCmdlinePaddr = 24,
                   kRsdpPaddr = 32, kMemmapPaddr = 40, kMemmapEntries = 48;
}
constexpr uint64_t kModlistEntrySize = 32;  // u64 paddr, u64 size, u64 cmdline_paddr, u64 reserved
constexpr uint64_t kMemmapEntrySize = 24;   // u64 addr, u64 size, u32 type, u32 reserved
constexpr uint16_t kCodeSelector = 0x08, kDataSelector = 0x10;
}  // namespace pvh

struct PvhPlacedModule {
    uint64_t start = 0;
    uint64_t size = 0;
    std::string cmdline;
};

struct PvhBoot {
    cpu::CpuState entry;  // 32-bit flat protected mode, paging off, IF=0, EBX = startInfo
    uint32_t entryPoint = 0;
    uint64_t startInfo = 0;
    uint64_t startInfoAreaEnd = 0;  // [startInfo, startInfoAreaEnd): the whole area
    uint64_t kernelStart = 0, kernelEnd = 0;  // [lowest, highest) loaded byte, BSS included
    bool elf64 = false;
    std::vector<PvhPlacedModule> modules;
    std::vector<Claim> layout;  // every range the loader filled, for logs
};

// True if the image is an x86 ELF with the XEN_ELFNOTE_PHYS32_ENTRY note (never throws).
bool hasPvhEntryNote(std::span<const uint8_t> image);

class PvhLoader {
public:
    // Parses the ELF and finds the entry note; `image` must outlive the loader. Throws
    // BootImageError (not ELF, no PHYS32_ENTRY note, a note of the wrong size, ...).
    PvhLoader(std::string name, std::span<const uint8_t> image);

    uint32_t entryPoint() const { return entry_; }
    const ElfKernel& elf() const { return elf_; }

    // Loads kernel, start-info and modules (each module's `string` is its command line) into
    // `memory`; every range must be usable RAM in `map` below 4 GiB. Throws BootImageError before
    // writing anything if something does not fit.
    PvhBoot load(mmu::PhysicalMap& memory, std::span<const E820Entry> map, std::string_view cmdline,
                 std::span<const MultibootModule> modules) const;

private:
    std::string name_;
    std::span<const uint8_t> image_;
    ElfKernel elf_;
    uint32_t entry_ = 0;
};

}  // namespace hvlab::hv::boot
