#include "cpu/decode_cache.hpp"

namespace hvlab::cpu {

DecodeCache::Page& DecodeCache::page(uint64_t physPage, bool& created) {
    auto it = pages_.find(physPage);
    if (it != pages_.end()) {
        created = false;
        Page& p = *it->second;
        if (p.stale) {
            p.slot.fill(0);
            p.insns.clear();
            p.stale = false;
            created = true;  // it holds code again: the caller write-protects it again
        }
        return p;
    }
    if (pages_.size() >= kMaxPages) pages_.clear();  // a simple bound: start over
    auto fresh = std::make_unique<Page>();
    fresh->physPage = physPage;
    Page& p = *fresh;
    pages_.emplace(physPage, std::move(fresh));
    created = true;
    return p;
}

bool DecodeCache::holdsCode(uint64_t physPage) const {
    auto it = pages_.find(physPage);
    return it != pages_.end() && !it->second->stale && !it->second->insns.empty();
}

bool DecodeCache::invalidate(uint64_t physPage) {
    auto it = pages_.find(physPage);
    if (it == pages_.end() || it->second->stale) return false;
    it->second->stale = true;
    ++counters_.invalidations;
    return true;
}

const DecodedInsn* DecodeCache::insert(Page& page, unsigned offset, const DecodedInsn& insn) {
    if (page.insns.size() >= 0xffff) return nullptr;  // the slot index is 16 bits
    page.insns.push_back(insn);
    page.slot[offset] = static_cast<uint16_t>(page.insns.size());
    ++counters_.decodes;
    return &page.insns.back();
}

void DecodeCache::clear() { pages_.clear(); }

}  // namespace hvlab::cpu
