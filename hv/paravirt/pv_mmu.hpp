// The PV MMU (privileged P, docs/hypercalls.md "The PV MMU"): the page tables of a deprivileged
// guest kernel are its own pages, which it reads directly but changes only through hvlab, which
// validates every change by Xen's rules, so a guest can never map memory it does not own:
//
//   - Every guest frame is ordinary or a page table of one level (1-4). It becomes a table when
//     it is pinned or when a validated entry of the level above points to it, and only if no
//     entry maps it writable; while it is a table no entry may map it writable. It becomes
//     ordinary again when its last pin and reference go (its own entries are released then).
//   - A level-1 entry may map guest RAM or device windows (neither RAM nor hvlab's), never
//     hvlab's frames. Large pages (PS) are refused. Entries of levels 2-4 point to frames that
//     are, or can become, tables of the level below. L4 slots 256-511 are hvlab's: slot 511
//     holds the hypervisor hole in every frame that becomes an L4.
//
// It works on the guest-physical map alone and reaches the vCPU through hooks (TLB flushes and
// CR3 loads), so it can be tested without a CPU. Every call returns 0 (or a count) or a negated
// errno from cpu::hypercall::Error; a refused request changes nothing.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "mmu/physical_map.hpp"

namespace hvlab::hv {

struct PvMmuHooks {
    std::function<void()> flushTlb;                    // after any change to a live entry
    std::function<void(uint64_t linear)> invalidatePage;
    std::function<void(uint64_t l4)> loadCr3;          // load CR3 and flush the TLB
};

enum class PageType : uint8_t { None = 0, L1 = 1, L2 = 2, L3 = 3, L4 = 4 };
const char* pageTypeName(PageType type);

class PvMmu {
public:
    // hvlab owns [ownedBase, ownedBase + ownedSize) (page aligned); `holeL4Entry` is the value
    // hvlab writes into slot 511 of every L4 (it points into the owned range).
    PvMmu(mmu::PhysicalMap& memory, uint64_t ownedBase, uint64_t ownedSize, uint64_t holeL4Entry, PvMmuHooks hooks);

    // MMU_UPDATE: `count` {u64 entry address, u64 value} pairs at guest-physical `list`. Returns
    // `count`, or the first error (the entries before it stay done).
    int64_t updateList(uint64_t list, uint64_t count);
    // One entry: `entryGpa` must lie in a page table; the new value is validated for its level.
    int64_t update(uint64_t entryGpa, uint64_t value);
    int64_t pin(uint64_t level, uint64_t tableGpa);
    int64_t unpin(uint64_t tableGpa);
    int64_t setCr3(uint64_t l4Gpa);  // the L4 must be pinned
    int64_t invlpg(uint64_t linear);  // ~0: everything

    std::optional<uint64_t> cr3() const { return cr3_; }

    // What hvlab knows about the frame holding `gpa` (for tests, the debugger and reports).
    struct FrameState {
        PageType type = PageType::None;
        uint32_t typeRefs = 0;          // pins, entries of the level above, the loaded CR3
        uint32_t pins = 0;
        uint32_t writableMappings = 0;  // level-1 entries (of live tables) mapping it writable
    };
    FrameState frame(uint64_t gpa) const;
    bool ownedByHvlab(uint64_t gpa) const { return gpa >= ownedBase_ && gpa - ownedBase_ < ownedSize_; }
    // Whether a device (DMA) or the VMM on the guest's behalf (hypercall buffers) may write
    // [gpa, gpa + len): not if it touches hvlab's pages or a page table.
    bool writableByDevices(uint64_t gpa, uint64_t len) const;

    // Counters.
    uint64_t updates() const { return updates_; }
    uint64_t validatedTables() const { return validated_; }

private:
    enum class Kind : uint8_t { Other, Guest, Hvlab };  // device window / not RAM, guest RAM, hvlab's
    // A frame that is a page table: its level, references (pins included) and pins.
    struct Table {
        PageType type = PageType::None;
        uint32_t typeRefs = 0;
        uint32_t pins = 0;
    };

    Kind kindOf(uint64_t frameNumber) const;
    Table* tableAt(uint64_t frameNumber);
    PageType typeOf(uint64_t frameNumber) const;
    uint32_t writableOf(uint64_t frameNumber) const {
        return frameNumber < writable_.size() ? writable_[frameNumber] : 0;
    }
    int64_t checkTableAddress(uint64_t gpa);
    int64_t getType(uint64_t frameNumber, PageType type);
    void putType(uint64_t frameNumber);
    int64_t validateTable(uint64_t frameNumber, PageType type);
    void releaseTable(uint64_t frameNumber, PageType type);
    int64_t getEntry(PageType level, uint64_t entry);
    void putEntry(PageType level, uint64_t entry);
    std::array<uint64_t, 512> readTable(uint64_t frameNumber) const;
    uint64_t readEntry(uint64_t gpa) const;
    void writeEntry(uint64_t gpa, uint64_t value);
    void flushTlb() const {
        if (hooks_.flushTlb) hooks_.flushTlb();
    }

    mmu::PhysicalMap& memory_;
    uint64_t ownedBase_, ownedSize_;
    uint64_t holeL4Entry_;
    PvMmuHooks hooks_;
    // Page tables are few: a map. Writable-mapping counts are kept for every guest frame (4 bytes
    // a frame; the identity map alone maps each one).
    std::unordered_map<uint64_t, Table> tables_;
    std::vector<uint32_t> writable_;  // by frame number, below the end of the highest RAM region
    std::optional<uint64_t> cr3_;
    uint64_t updates_ = 0;
    uint64_t validated_ = 0;
};

}  // namespace hvlab::hv
