// The processor state a direct-boot loader hands over: flat GDTs placed in guest memory whose
// descriptors match the segment caches (so a kernel that reloads a selector gets the same
// segment), 32-bit protected mode without paging, or 64-bit long mode on identity-mapped
// 4-level page tables.
#pragma once

#include <cstdint>
#include <span>

#include "cpu/cpu_state.hpp"
#include "hv/boot/boot_memory.hpp"

namespace hvlab::hv::boot {

// Flat descriptors (base 0, limit 4 GiB, G=1, present, DPL 0, accessed so no write-back is needed).
namespace descriptor {
constexpr uint64_t kCode32 = 0x00cf9b000000ffffull;  // execute/read, D=1
constexpr uint64_t kCode64 = 0x00af9b000000ffffull;  // execute/read, L=1 D=0
constexpr uint64_t kData = 0x00cf93000000ffffull;    // read/write, B=1
}  // namespace descriptor

// A GDT in guest memory and the selectors the state uses.
struct FlatGdt {
    uint64_t base = 0;
    std::span<const uint64_t> entries;  // entry 0 is the null descriptor
    uint16_t codeSelector = 0;
    uint16_t dataSelector = 0;
};

// Writes the GDT's bytes (the caller has claimed entries.size() * 8 bytes at `base`).
void writeGdt(BootMemory& memory, const FlatGdt& gdt);

// 32-bit protected mode, paging off: CR0 = PE|ET, CS/DS/ES/FS/GS/SS from the GDT's
// descriptors, GDTR = the GDT, IDTR limit 0 (the kernel must load its own IDT), RFLAGS = 2
// (IF=0), everything else as after RESET.
cpu::CpuState protectedModeState(const FlatGdt& gdt, uint32_t entry);

// 4-level identity map of [0, 4 GiB) with 2 MiB pages at `pml4` (one page each for PML4 and PDPT,
// then four page directories: 6 pages in all; the caller has claimed them). Returns CR3.
constexpr uint64_t kIdentityMapBytes = 4ull << 30;
constexpr uint64_t kIdentityMapTableBytes = 6 * kPageSize;
uint64_t buildIdentityMap(BootMemory& memory, uint64_t pml4);

// 64-bit long mode: CR0 = PE|PG|ET, CR4 = PAE, EFER = LME|LMA, CR3 = `cr3`, CS a 64-bit code
// segment, the data segments flat, RFLAGS = 2.
cpu::CpuState longModeState(const FlatGdt& gdt, uint64_t cr3, uint64_t entry);

}  // namespace hvlab::hv::boot
