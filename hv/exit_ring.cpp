#include "hv/exit_ring.hpp"

#include <algorithm>

namespace hvlab::hv {

uint64_t ExitCounters::total() const {
    uint64_t n = 0;
    for (size_t k = 0; k < byVmm.size(); ++k) n += byVmm[k] + inEngine[k];
    return n;
}

// The ring grows to its capacity as exits arrive, so a short run touches little host memory.
ExitRing::ExitRing(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) { ring_.reserve(capacity_); }

const ExitRecord& ExitRing::record(uint64_t timeNs, uint32_t vcpu, const cpu::VmExit& exit, uint32_t costNs) {
    std::lock_guard lock(mutex_);
    if (ring_.size() < capacity_) ring_.emplace_back();
    ExitRecord& r = ring_[next_ % capacity_];
    r.sequence = ++next_;
    r.timeNs = timeNs;
    r.vcpu = vcpu;
    r.costNs = costNs;
    r.exit = exit;
    const auto reason = static_cast<size_t>(exit.reason);
    if (reason < counters_.byVmm.size()) {
        (exit.inEngine ? counters_.inEngine : counters_.byVmm)[reason]++;
        counters_.costNs[reason] += costNs;
    }
    return r;
}

void ExitRing::setCost(uint64_t sequence, uint32_t costNs) {
    std::lock_guard lock(mutex_);
    if (sequence == 0 || sequence > next_ || next_ - sequence >= capacity_) return;
    ExitRecord& r = ring_[(sequence - 1) % capacity_];
    r.costNs = costNs;
    const auto reason = static_cast<size_t>(r.exit.reason);
    if (reason < counters_.costNs.size()) counters_.costNs[reason] += costNs;
}

ExitCounters ExitRing::counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
}

uint64_t ExitRing::recorded() const {
    std::lock_guard lock(mutex_);
    return next_;
}

std::vector<ExitRecord> ExitRing::latest(size_t count) const { return after(0, count); }

std::vector<ExitRecord> ExitRing::after(uint64_t after, size_t max) const {
    std::lock_guard lock(mutex_);
    const uint64_t have = std::min<uint64_t>(next_, capacity_);
    const uint64_t newer = next_ > after ? std::min<uint64_t>(next_ - after, have) : 0;
    const uint64_t count = std::min<uint64_t>(newer, max);
    std::vector<ExitRecord> out;
    out.reserve(static_cast<size_t>(count));
    // Sequence numbers start at 1: record `seq` + 1 sits in slot `seq % capacity`.
    for (uint64_t seq = next_ - count; seq < next_; ++seq) out.push_back(ring_[seq % capacity_]);
    return out;
}

}  // namespace hvlab::hv
