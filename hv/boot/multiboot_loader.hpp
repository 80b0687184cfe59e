// A Multiboot v1 (0.6.96) loader: puts an i386 ELF kernel (or an a.out-kludge image) into guest
// memory with its modules and the boot information, and returns the machine state of
// section 3.2 ("Machine state") for the kernel's entry.
//
// Guest memory after load (all page aligned, above the kernel's highest byte, BSS included):
//   info area:  the info structure, a GDT (null, 0x08 flat 32-bit code, 0x10 flat data), the
//               memory map (multiboot mmap format, with the size field), the module list,
//               the command line, the boot loader name and the module strings
//   modules:    each on its own 4 KiB boundary, in order
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
#include "hv/boot/multiboot_header.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv::boot {

struct MultibootModule {
    std::vector<uint8_t> bytes;
    std::string string;  // what the kernel sees in the module's `string` (QEMU: "path args")
};

// Claims room for each module, in order, on its own 4 KiB boundary at or above `from` and below
// 4 GiB; returns their addresses. Throws BootImageError (naming `imageName`) when one does not fit.
// The multiboot and PVH loaders share it.
std::vector<uint64_t> placeModules(BootMemory& memory, const std::string& imageName,
                                   std::span<const MultibootModule> modules, uint64_t from);

struct MultibootPlacedModule {
    uint32_t start = 0;
    uint32_t end = 0;  // exclusive, as mod_end
    std::string string;
};

struct MultibootBoot {
    cpu::CpuState entry;  // EAX = 0x2BADB002, EBX = infoAddress, 32-bit flat protected mode
    uint32_t entryPoint = 0;
    uint32_t infoAddress = 0;
    uint32_t kernelStart = 0, kernelEnd = 0;  // [lowest, highest) loaded byte, BSS included
    std::vector<MultibootPlacedModule> modules;
    std::vector<Claim> layout;  // every range the loader filled, for logs
};

// The GDT selectors of the entry state.
namespace multiboot {
constexpr uint16_t kCodeSelector = 0x08, kDataSelector = 0x10;
constexpr std::string_view kBootLoaderName = "hvlab";
}  // namespace multiboot

class MultibootLoader {
public:
    // Parses and validates the header, and the ELF headers unless the a.out kludge is used.
    // `image` must outlive the loader. Throws BootImageError.
    MultibootLoader(std::string name, std::span<const uint8_t> image);

    const multiboot::Header& header() const { return header_; }
    bool usesAoutKludge() const { return header_.aout.has_value(); }

    // Loads kernel, info and modules into `memory`; every range must be usable RAM in `map`.
    // `cmdline` goes to the kernel as is (QEMU and GRUB pass "kernel-path args").
    // Throws BootImageError before writing anything if something does not fit.
    MultibootBoot load(mmu::PhysicalMap& memory, std::span<const E820Entry> map, std::string_view cmdline,
                       std::span<const MultibootModule> modules) const;

private:
    struct KernelPlan;
    KernelPlan planElf(BootMemory& memory) const;
    KernelPlan planAout(BootMemory& memory) const;

    std::string name_;
    std::span<const uint8_t> image_;
    multiboot::Header header_;
    ElfKernel elf_;  // an i386 (ELFCLASS32) executable
};

}  // namespace hvlab::hv::boot
