#include "mmu/page_walker.hpp"

#include <algorithm>

namespace hvlab::mmu {

const char* pagingModeName(PagingMode mode) {
    switch (mode) {
        case PagingMode::None: return "none";
        case PagingMode::Legacy32: return "32-bit";
        case PagingMode::Pae: return "PAE";
        case PagingMode::Long4: return "4-level";
    }
    return "?";
}

namespace {

constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kUser = 1ull << 2;
constexpr uint64_t kAccessed = 1ull << 5;
constexpr uint64_t kDirty = 1ull << 6;
constexpr uint64_t kPageSize = 1ull << 7;
constexpr uint64_t kGlobal = 1ull << 8;
constexpr uint64_t kNx = 1ull << 63;

// Reads an entry; page tables outside RAM read as all-ones, like an open bus.
uint64_t readEntry(const PhysicalMap& memory, uint64_t address, unsigned size) {
    uint64_t value = 0;
    if (!memory.read(address, &value, size)) return size == 8 ? ~0ull : 0xffffffffull;
    return value;
}

void writeEntry(PhysicalMap& memory, uint64_t address, uint64_t value, unsigned size) {
    memory.write(address, &value, size);
}

// `fetchBit`: whether I/D reports instruction fetches. Without SMEP (not modelled) that is
// only with CR4.PAE = 1 (PAE or 4-level paging) and EFER.NXE = 1 (SDM 4.7).
uint32_t baseError(AccessKind access, bool fetchBit) {
    uint32_t code = 0;
    if (access.write) code |= kPfWrite;
    if (access.user) code |= kPfUser;
    if (access.execute && fetchBit) code |= kPfFetch;
    return code;
}

}  // namespace

WalkResult walk(PhysicalMap& memory, const PagingControls& c, uint64_t linear, AccessKind access,
                bool setAccessedDirty) {
    WalkResult r;
    if (c.mode == PagingMode::None) {
        r.ok = true;
        r.physical = linear & 0xffffffffull;
        r.writable = r.user = true;
        return r;
    }

    const bool legacy = c.mode == PagingMode::Legacy32;
    const unsigned entrySize = legacy ? 4 : 8;
    const bool fetchBit = !legacy && c.nxe;
    const uint64_t physMask = ((1ull << c.maxPhysAddrBits) - 1) & ~0xfffull;
    // Bits that must be zero in PAE and 4-level entries: MAXPHYADDR..51 with 4-level paging,
    // MAXPHYADDR..62 with PAE paging (SDM 4.4.2, 4.5.4), and bit 63 without NXE.
    const uint64_t reservedHigh = legacy ? 0
                                  : ((1ull << (c.mode == PagingMode::Pae ? 63 : 52)) - 1) &
                                        ~((1ull << c.maxPhysAddrBits) - 1);
    const uint64_t reservedNx = (!legacy && !c.nxe) ? kNx : 0;

    int level;
    uint64_t table;
    if (c.mode == PagingMode::Long4) {
        level = 4;
        table = c.cr3 & physMask;
    } else if (c.mode == PagingMode::Pae) {
        // PAE: the four PDPTEs are loaded from CR3 (32-byte aligned); they have no U/W bits.
        const uint64_t pdpteAddr = (c.cr3 & 0xffffffe0ull) + ((linear >> 30) & 3) * 8;
        const uint64_t pdpte = readEntry(memory, pdpteAddr, 8);
        r.steps[r.stepCount++] = {3, pdpteAddr, pdpte};
        if (!(pdpte & kPresent)) {
            r.errorCode = baseError(access, fetchBit);
            return r;
        }
        if (pdpte & (0x1e6ull | reservedHigh | kNx)) {
            r.errorCode = baseError(access, fetchBit) | kPfPresent | kPfReserved;
            return r;
        }
        level = 2;
        table = pdpte & physMask;
    } else {
        level = 2;
        table = c.cr3 & 0xfffff000ull;
    }

    bool writable = true, user = true, nx = false;
    uint64_t leafEntry = 0;
    uint64_t pageSize = 4096;
    for (;; --level) {
        const unsigned shift = legacy ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
        const uint64_t index = (linear >> shift) & (legacy ? 0x3ff : 0x1ff);
        const uint64_t entryAddr = table + index * entrySize;
        uint64_t entry = readEntry(memory, entryAddr, entrySize);
        r.steps[r.stepCount++] = {static_cast<uint8_t>(level), entryAddr, entry};

        if (!(entry & kPresent)) {
            r.errorCode = baseError(access, fetchBit);
            return r;
        }
        const bool large = level > 1 && (entry & kPageSize) &&
                           (legacy ? c.pse && level == 2 : (level == 2 || level == 3));
        uint64_t reserved = reservedHigh | reservedNx;
        if (!legacy) {
            if (level == 4 && (entry & kPageSize)) reserved |= kPageSize;
            if (large) reserved |= ((1ull << shift) - 1) & ~0x1fffull;  // bits 13..shift-1 of a large page
        } else if (large) {
            // 4 MiB PDE: bits 20:13 are physical bits 39:32 (PSE-36), so bits 21:(M-19) are
            // reserved with M = min(MAXPHYADDR, 40) (SDM 4.3): bit 21 alone when M >= 40.
            const uint64_t m = std::min<uint64_t>(c.maxPhysAddrBits, 40);
            reserved |= ((1ull << 22) - 1) & ~((1ull << (m - 19)) - 1);
        }
        if (entry & reserved) {
            r.errorCode = baseError(access, fetchBit) | kPfPresent | kPfReserved;
            return r;
        }
        writable &= (entry & kWritable) != 0;
        user &= (entry & kUser) != 0;
        nx |= c.nxe && (entry & kNx);

        if (level == 1 || large) {
            leafEntry = entry;
            pageSize = 1ull << shift;
            if (large && legacy) {
                // 4 MiB page: bits 31:22 plus PSE-36 bits 13..20 as physical bits 32..39.
                r.physical = (entry & 0xffc00000ull) | ((entry >> 13 & 0xff) << 32) | (linear & (pageSize - 1));
            } else {
                r.physical = (entry & physMask & ~(pageSize - 1)) | (linear & (pageSize - 1));
            }
            break;
        }
        table = entry & (legacy ? 0xfffff000ull : physMask);
    }

    // Permission checks (SDM 4.6).
    const uint32_t err = baseError(access, fetchBit) | kPfPresent;
    if (access.user && !user) {
        r.errorCode = err;
        return r;
    }
    if (access.write && !writable && (access.user || c.wp)) {
        r.errorCode = err;
        return r;
    }
    if (access.execute && nx) {
        r.errorCode = err;
        return r;
    }

    // The walk succeeded: set A on every level that has one (not the PAE PDPTEs) and D on the
    // leaf for writes. A faulting walk leaves the tables untouched.
    if (setAccessedDirty) {
        const uint8_t first = c.mode == PagingMode::Pae ? 1 : 0;
        for (uint8_t i = first; i < r.stepCount; ++i) {
            WalkStep& step = r.steps[i];
            uint64_t value = step.entry | kAccessed;
            if (i == r.stepCount - 1 && access.write) value |= kDirty;
            if (value != step.entry) {
                writeEntry(memory, step.entryAddress, value, entrySize);
                step.entry = value;
            }
        }
        leafEntry = r.steps[r.stepCount - 1].entry;
    }
    r.ok = true;
    r.pageSize = pageSize;
    r.writable = writable;
    r.user = user;
    r.executeDisable = nx;
    r.global = (leafEntry & kGlobal) != 0;
    r.dirty = (leafEntry & kDirty) != 0;
    return r;
}

}  // namespace hvlab::mmu
