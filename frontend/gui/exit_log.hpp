// The exit records the debugger has fetched from one VM, newest last, bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "hv/exit_ring.hpp"

namespace hvlab::frontend::gui {

class ExitLog {
public:
    static constexpr size_t kCapacity = 8192;

    // Appends records fetched with sequence > lastSequence(), oldest first. Records lost in
    // between (the VM's ring overran) are counted in missed().
    void append(const std::vector<hv::ExitRecord>& records);
    // Forgets everything (the VM was rebuilt: its sequence numbers start again).
    void clear();

    uint64_t lastSequence() const { return lastSequence_; }
    const std::deque<hv::ExitRecord>& records() const { return records_; }
    const hv::ExitRecord* find(uint64_t sequence) const;
    uint64_t missed() const { return missed_; }

private:
    std::deque<hv::ExitRecord> records_;
    uint64_t lastSequence_ = 0;
    uint64_t missed_ = 0;
};

}  // namespace hvlab::frontend::gui
