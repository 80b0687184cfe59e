// The x86 page-table walker, shared by the interpreter (TLB fills), the debugger and the
// gdbstub on either engine. It can report every step of a walk for the GUI.
#pragma once

#include <array>
#include <cstdint>

#include "mmu/physical_map.hpp"

namespace hvlab::mmu {

enum class PagingMode : uint8_t {
    None,      // CR0.PG = 0: linear = physical
    Legacy32,  // 2-level, 4 KiB pages and 4 MiB pages when CR4.PSE
    Pae,       // 3-level, 4 KiB and 2 MiB pages
    Long4,     // 4-level (IA-32e), 4 KiB, 2 MiB and 1 GiB pages
};

const char* pagingModeName(PagingMode mode);

// What kind of access is being translated. `user` means CPL 3 (not an implicit supervisor access).
struct AccessKind {
    bool write = false;
    bool user = false;
    bool execute = false;
};

// The paging controls that shape a walk, taken from CR0/CR4/EFER.
struct PagingControls {
    PagingMode mode = PagingMode::None;
    uint64_t cr3 = 0;
    bool wp = false;   // CR0.WP: supervisor writes honour read-only pages
    bool pse = false;  // CR4.PSE: 4 MiB pages in legacy mode
    bool nxe = false;  // EFER.NXE: bit 63 is execute-disable
    uint64_t maxPhysAddrBits = 40;
};

// #PF error code bits (Intel SDM vol. 3, 4.7).
enum PageFaultBits : uint32_t {
    kPfPresent = 1u << 0,
    kPfWrite = 1u << 1,
    kPfUser = 1u << 2,
    kPfReserved = 1u << 3,
    kPfFetch = 1u << 4,
};

struct WalkStep {
    uint8_t level = 0;        // 4 = PML4, 3 = PDPT, 2 = PD, 1 = PT (legacy: 2 = PD, 1 = PT)
    uint64_t entryAddress = 0;  // guest-physical address of the entry
    uint64_t entry = 0;         // its value after the walk (accessed/dirty bits set)
};

struct WalkResult {
    bool ok = false;
    uint64_t physical = 0;     // translated address (valid when ok)
    uint64_t pageSize = 4096;
    uint32_t errorCode = 0;    // #PF error code (valid when !ok)
    // Effective permissions of the whole walk.
    bool writable = false;
    bool user = false;
    bool executeDisable = false;
    bool global = false;
    bool dirty = false;
    std::array<WalkStep, 4> steps{};
    uint8_t stepCount = 0;
};

// Walks the guest page tables for `linear`. When `setAccessedDirty`, sets A on every level
// and D on the leaf for writes, as the hardware does (only if the walk succeeds).
WalkResult walk(PhysicalMap& memory, const PagingControls& controls, uint64_t linear, AccessKind access,
                bool setAccessedDirty = true);

}  // namespace hvlab::mmu
