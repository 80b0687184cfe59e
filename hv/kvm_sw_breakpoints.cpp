#include "hv/kvm_sw_breakpoints.hpp"

#include <algorithm>

namespace hvlab::hv {

namespace {
constexpr uint8_t kInt3 = 0xcc;
}

bool SoftwareBreakpoints::contains(uint64_t linear) const {
    return std::find(linear_.begin(), linear_.end(), linear) != linear_.end();
}

void SoftwareBreakpoints::insert(const mmu::PagingControls& paging) {
    for (uint64_t linear : linear_) {
        const mmu::WalkResult walk = mmu::walk(memory_, paging, linear, {.execute = true}, false);
        if (!walk.ok) continue;  // not mapped now: it cannot be executed either
        // RAM or ROM (the firmware's code): KVM reads both from these host pages; MMIO has none.
        uint8_t* host = memory_.hostPointer(walk.physical, 1, false);
        if (!host || *host == kInt3) continue;  // two breakpoints on one byte: patched once
        patches_.push_back({host, *host});
        *host = kInt3;
    }
}

void SoftwareBreakpoints::remove() {
    // Last patched first, so overlapping patches unwind to the true original.
    for (auto it = patches_.rbegin(); it != patches_.rend(); ++it)
        if (*it->host == kInt3) *it->host = it->original;
    patches_.clear();
}

}  // namespace hvlab::hv
