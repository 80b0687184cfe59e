// The interpreter's translation cache: linear page -> host page, with the permissions of the
// walk that filled it. Filled from walks, dropped on CR3 writes, INVLPG and mode changes.
#pragma once

#include <array>
#include <cstdint>

namespace hvlab::mmu {

// Which accesses an entry allows without a new walk.
enum TlbAllow : uint8_t {
    kAllowReadSup = 1u << 0,
    kAllowWriteSup = 1u << 1,
    kAllowExecSup = 1u << 2,
    kAllowReadUser = 1u << 3,
    kAllowWriteUser = 1u << 4,
    kAllowExecUser = 1u << 5,
};

struct TlbEntry {
    uint64_t tag = ~0ull;      // linear page number, or ~0 when empty
    uint8_t* host = nullptr;   // host address of the page; nullptr: not RAM/ROM (MMIO or unmapped)
    uint64_t physPage = 0;     // guest-physical page address
    uint8_t allow = 0;
    bool global = false;
};

struct TlbCounters {
    uint64_t fills = 0;
    uint64_t flushes = 0;        // whole-TLB flushes
    uint64_t pageInvalidations = 0;
    uint64_t pageTableWriteTraps = 0;  // guest writes to a page its translations came from
    uint64_t codeWriteTraps = 0;       // guest writes to a page holding cached decoded code
};

class Tlb {
public:
    static constexpr unsigned kEntries = 1024;

    const TlbEntry* lookup(uint64_t linear) const {
        const uint64_t page = linear >> 12;
        const TlbEntry& e = entries_[page & (kEntries - 1)];
        return e.tag == page ? &e : nullptr;
    }

    void fill(uint64_t linear, uint8_t* host, uint64_t physPage, uint8_t allow, bool global) {
        const uint64_t page = linear >> 12;
        entries_[page & (kEntries - 1)] = TlbEntry{page, host, physPage, allow, global};
        ++counters_.fills;
    }

    void invalidatePage(uint64_t linear) {
        const uint64_t page = linear >> 12;
        TlbEntry& e = entries_[page & (kEntries - 1)];
        if (e.tag == page) e.tag = ~0ull;
        ++counters_.pageInvalidations;
    }

    // Takes write permission away from every entry that maps `physPage` (the page became
    // watched: it holds cached code or page tables), so writes to it take the slow path.
    void revokeWrite(uint64_t physPage) {
        for (TlbEntry& e : entries_)
            if (e.tag != ~0ull && e.physPage == physPage) e.allow &= ~(kAllowWriteSup | kAllowWriteUser);
    }

    // Drops every entry, or every non-global one (a CR3 write with CR4.PGE set).
    void flush(bool keepGlobal = false) {
        for (TlbEntry& e : entries_)
            if (!(keepGlobal && e.global)) e.tag = ~0ull;
        ++counters_.flushes;
    }

    const TlbCounters& counters() const { return counters_; }
    TlbCounters& counters() { return counters_; }

private:
    std::array<TlbEntry, kEntries> entries_{};
    TlbCounters counters_;
};

}  // namespace hvlab::mmu
