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
    // Instructions are stored in fixed chunks, so their addresses never change while the page
    // lives (instructions link to their successors by pointer).
    static constexpr unsigned kChunk = 64;
    struct Page {
        uint64_t physPage = 0;
        uint32_t generation = 0;                  // bumped when the page is reset
        bool stale = false;                       // written to: reset before the next use
        std::array<uint16_t, 4096> slot{};        // offset -> 1 + index of the instruction (0: none)
        std::vector<std::unique_ptr<std::array<DecodedInsn, kChunk>>> chunks;
        uint32_t count = 0;

        DecodedInsn& at(uint32_t index) { return (*chunks[index / kChunk])[index % kChunk]; }
        const DecodedInsn* bySlot(unsigned offset) {
            const uint16_t s = slot[offset];
            return s ? &at(s - 1u) : nullptr;
        }
    };

    struct Counters {
        uint64_t decodes = 0;        // instructions decoded into the cache
        uint64_t invalidations = 0;  // pages dropped because the guest wrote to them
    };

    // The page's cache (created if needed). A stale page is reset first: call this only at an
    // instruction boundary, never while a cached instruction of the page is executing.
    Page& page(uint64_t physPage, bool& created);
    // The page's cache if it exists and was not written to since (nullptr otherwise).
    Page* live(uint64_t physPage);
    // Whether `physPage` holds live cached code (so writes to it must be watched).
    bool holdsCode(uint64_t physPage) const;
    // A guest write hit `physPage`: its instructions become invalid (reset lazily).
    bool invalidate(uint64_t physPage);
    const DecodedInsn* insert(Page& page, unsigned offset, const DecodedInsn& insn);
    void clear();

    const Counters& counters() const { return counters_; }
    // Changes whenever pages may have been freed (clear): links across it are not safe.
    uint64_t epoch() const { return epoch_; }
    size_t pages() const { return pages_.size(); }

    static constexpr size_t kMaxPages = 512;

private:
    std::unordered_map<uint64_t, std::unique_ptr<Page>> pages_;
    Counters counters_;
    uint64_t epoch_ = 0;
};

}  // namespace hvlab::cpu
