// Pre-decoded instructions, cached per guest-physical page. The interpreter looks an
// instruction up by its offset in the page instead of decoding it again. A page holding cached
// code is write-protected in the TLB, so a guest write to it (self-modifying code, or a loader
// writing code) is seen and the page's instructions are dropped.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/decoded_insn.hpp"

namespace hvlab::cpu {

class DecodeCache {
public:
    struct Page {
        uint64_t physPage = 0;
        bool stale = false;                       // written to: reset before the next use
        std::array<uint16_t, 4096> slot{};        // offset -> 1 + index in insns (0: not decoded)
        std::vector<DecodedInsn> insns;
    };

    struct Counters {
        uint64_t decodes = 0;        // instructions decoded into the cache
        uint64_t invalidations = 0;  // pages dropped because the guest wrote to them
    };

    // The page's cache (created if needed). A stale page is reset first: call this only at an
    // instruction boundary, never while a cached instruction of the page is executing.
    Page& page(uint64_t physPage, bool& created);
    // Whether `physPage` holds live cached code (so writes to it must be watched).
    bool holdsCode(uint64_t physPage) const;
    // A guest write hit `physPage`: its instructions become invalid (reset lazily).
    bool invalidate(uint64_t physPage);
    const DecodedInsn* insert(Page& page, unsigned offset, const DecodedInsn& insn);
    void clear();

    const Counters& counters() const { return counters_; }
    size_t pages() const { return pages_.size(); }

    static constexpr size_t kMaxPages = 512;

private:
    std::unordered_map<uint64_t, std::unique_ptr<Page>> pages_;
    Counters counters_;
};

}  // namespace hvlab::cpu
