// PV boot (privileged P, docs/hypercalls.md "The PV MMU"): an ELF64 kernel with an "hvlab" note
// of type 1 (a u64: the linear entry address) is loaded at its physical addresses and entered at
// ring 1 of long mode, on an identity map of guest RAM that hvlab builds, validates and pins
// through the PV MMU (the page-table pages themselves mapped read-only). RSI points at the
// start-info: Xen's hvm_start_info (version 1: memory map, command line, modules), followed at
// offset 56 by a u64 with the L4's address and a u64 with the first free address.
//
// Everything the loader places follows the kernel's highest byte, page aligned, in this order:
// start-info (with its memory map, module list and strings), modules, page tables, the 16 KiB
// boot stack. Everything from the kernel's lowest byte up to the first free address is in use.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/hypercall_abi.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/elf_kernel.hpp"
#include "hv/boot/pvh_loader.hpp"
#include "hv/boot/multiboot_loader.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {
class PvMachine;
}

namespace hvlab::hv::boot {

// An x86-64 ELF with the "hvlab" note of type 1 (never throws).
bool isPvKernel(std::span<const uint8_t> image);

// The PC's memory map with hvlab's pages [reservedBase, +reservedSize) reserved.
std::vector<E820Entry> pvMemoryMap(uint64_t memoryBytes, uint64_t reservedBase, uint64_t reservedSize);

// The start-info: Xen's hvm_start_info (pvh::start_info) and hvlab's two fields after it; where
// the loader puts the memory map inside the start-info block; the boot stack.
namespace pv_start_info {
constexpr uint64_t kL4 = cpu::hypercall::pv::kStartInfoPtOffset, kFirstFree = kL4 + 8;
constexpr uint64_t kMemmapOffset = 128;
constexpr uint64_t kBootStackBytes = 16 * 1024;
}  // namespace pv_start_info

struct PvBoot {
    cpu::CpuState entry;
    uint64_t entryPoint = 0;
    uint64_t kernelStart = 0, kernelEnd = 0;
    uint64_t startInfo = 0;
    uint64_t l4 = 0;
    unsigned pageTablePages = 0;
    uint64_t stackTop = 0;
    uint64_t firstFree = 0;
    unsigned modules = 0;
};

class PvLoader {
public:
    // Parses the kernel; throws BootImageError (not ELF64, no hvlab note, a bad note).
    PvLoader(std::string name, std::span<const uint8_t> image);

    // Loads into `memory` for a VM with `memoryBytes` of RAM whose hvlab pages `machine` holds;
    // builds and pins the first address space through the machine's PV MMU. Throws BootImageError.
    PvBoot load(PvMachine& machine, mmu::PhysicalMap& memory, uint64_t memoryBytes, const std::string& cmdline,
                const std::vector<MultibootModule>& modules) const;

    uint64_t entryPoint() const { return entry_; }

private:
    std::string name_;
    std::span<const uint8_t> image_;
    ElfKernel elf_;
    uint64_t entry_ = 0;
};

}  // namespace hvlab::hv::boot
