#include "cpu/decode_cache.hpp"

namespace hvlab::cpu {

DecodeCache::Page& DecodeCache::page(uint64_t physPage, bool& created) {
    auto it = pages_.find(physPage);
    if (it != pages_.end()) {
        created = false;
        Page& p = *it->second;
        if (p.stale) {
            p.slot.fill(0);
            p.count = 0;  // the chunks stay allocated and are reused
            ++p.generation;
            p.stale = false;
            created = true;  // it holds code again: the caller write-protects it again
        }
        return p;
    }
    if (pages_.size() >= kMaxPages) clear();  // a simple bound: start over
    auto fresh = std::make_unique<Page>();
    fresh->physPage = physPage;
    Page& p = *fresh;
    pages_.emplace(physPage, std::move(fresh));
    created = true;
    return p;
}

DecodeCache::Page* DecodeCache::live(uint64_t physPage) {
    auto it = pages_.find(physPage);
    return it != pages_.end() && !it->second->stale ? it->second.get() : nullptr;
}

bool DecodeCache::holdsCode(uint64_t physPage) const {
    auto it = pages_.find(physPage);
    return it != pages_.end() && !it->second->stale && it->second->count != 0;
}

bool DecodeCache::invalidate(uint64_t physPage) {
    auto it = pages_.find(physPage);
    if (it == pages_.end() || it->second->stale) return false;
    it->second->stale = true;
    ++counters_.invalidations;
    return true;
}

const DecodedInsn* DecodeCache::insert(Page& page, unsigned offset, const DecodedInsn& insn) {
    if (page.count >= 0xffff) return nullptr;  // the slot index is 16 bits
    if (page.count == page.chunks.size() * kChunk) page.chunks.push_back(std::make_unique<std::array<DecodedInsn, kChunk>>());
    DecodedInsn& stored = page.at(page.count++);
    stored = insn;
    page.slot[offset] = static_cast<uint16_t>(page.count);
    ++counters_.decodes;
    return &stored;
}

void DecodeCache::clear() {
    pages_.clear();
    ++epoch_;
}

}  // namespace hvlab::cpu
