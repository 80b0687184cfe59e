#include "frontend/gui/exit_log.hpp"

#include <algorithm>

namespace hvlab::frontend::gui {

void ExitLog::append(const std::vector<hv::ExitRecord>& records) {
    for (const hv::ExitRecord& r : records) {
        if (r.sequence <= lastSequence_) continue;
        missed_ += r.sequence - lastSequence_ - 1;
        lastSequence_ = r.sequence;
        records_.push_back(r);
    }
    while (records_.size() > kCapacity) records_.pop_front();
}

void ExitLog::clear() { *this = ExitLog{}; }

const hv::ExitRecord* ExitLog::find(uint64_t sequence) const {
    const auto it = std::lower_bound(records_.begin(), records_.end(), sequence,
                                     [](const hv::ExitRecord& r, uint64_t s) { return r.sequence < s; });
    return it != records_.end() && it->sequence == sequence ? &*it : nullptr;
}

}  // namespace hvlab::frontend::gui
