// A Linux/x86 bzImage loader (boot protocol 2.06+, Documentation/arch/x86/boot.rst) that enters
// the kernel directly, without running its real-mode setup code: the "64-bit boot protocol"
// (long mode, identity-mapped, RIP = load address + 0x200) when the kernel has XLF_KERNEL_64,
// else the "32-bit boot protocol" (protected mode, paging off, RIP = load address).
//
// Guest memory after load (the fixed low part is usable RAM in every hvlab memory map):
//   0x00500  GDT: 0x10 = __BOOT_CS (flat code, 64-bit or 32-bit), 0x18 = __BOOT_DS (flat data)
//   0x07000  boot_params (the "zero page", 4 KiB)
//   0x08000  a 4 KiB stack (RSP = 0x9000 at entry; the kernel switches to its own at once)
//   0x09000  page tables, 64-bit entry only: PML4, PDPT, 4 page directories mapping [0, 4 GiB)
//            1:1 with 2 MiB pages (6 pages, up to 0xF000)
//   0x20000  the command line (cmdline_size + 1 bytes at most)
//   pref_address (or the lowest kernel_alignment-aligned address >= 1 MiB with room)
//            the protected-mode kernel, with init_size bytes kept free from its start
//   below min(initrd_addr_max, RAM end): the initrd, as high as it fits, page aligned
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "hv/boot/boot_memory.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/linux_setup_header.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv::boot {

namespace linux_layout {
constexpr uint64_t kGdt = 0x500;
constexpr uint64_t kBootParams = 0x7000;
constexpr uint64_t kStack = 0x8000, kStackTop = 0x9000;
constexpr uint64_t kPageTables = 0x9000;
constexpr uint64_t kCmdline = 0x20000;
constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18;
constexpr uint64_t kHeapEndPtr = 0xe000 - 0x200;  // boot.rst's example value for heap_end_ptr
constexpr uint64_t kEntry64Offset = 0x200;         // startup_64 is 0x200 past the load address
}  // namespace linux_layout

enum class LinuxEntryMode { Auto, Bits64, Bits32 };

struct LinuxBoot {
    cpu::CpuState entry;  // long mode (RSI = boot_params) or protected mode (ESI = boot_params)
    bool longMode = false;
    uint64_t loadAddress = 0;  // of the protected-mode kernel
    uint64_t entryPoint = 0;
    uint64_t bootParams = linux_layout::kBootParams;
    uint64_t cmdline = linux_layout::kCmdline;
    uint64_t initrdAddress = 0, initrdSize = 0;
    std::vector<Claim> layout;  // every range the loader filled or reserved, for logs
};

class LinuxLoader {
public:
    // Parses and validates the setup header. `image` must outlive the loader. Throws BootImageError.
    LinuxLoader(std::string name, std::span<const uint8_t> image);

    const linux_boot::SetupHeader& header() const { return header_; }
    // The protected-mode kernel: the file after the setup sectors.
    std::span<const uint8_t> protectedModeKernel() const { return image_.subspan(header_.setupBytes()); }

    // Loads kernel, boot_params, command line and initrd (empty: none) and builds the entry state.
    // Auto picks the 64-bit entry when the kernel has one. Throws BootImageError (nothing
    // written) if the kernel or initrd do not fit, or the command line exceeds cmdline_size.
    LinuxBoot load(mmu::PhysicalMap& memory, std::span<const E820Entry> map, std::string_view cmdline,
                   std::span<const uint8_t> initrd, LinuxEntryMode mode = LinuxEntryMode::Auto) const;

private:
    uint64_t placeKernel(BootMemory& memory) const;
    void writeBootParams(BootMemory& memory, std::span<const E820Entry> map, const LinuxBoot& boot) const;

    std::string name_;
    std::span<const uint8_t> image_;
    linux_boot::SetupHeader header_;
};

}  // namespace hvlab::hv::boot
