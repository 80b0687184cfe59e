// Every exit is recorded: a bounded ring of the latest exits plus counters per reason.
// The CLI summary, the trace and (later) the GUI all read this one record.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "cpu/vm_exit.hpp"

namespace hvlab::hv {

struct ExitRecord {
    uint64_t sequence = 0;  // 1, 2, 3... over the VM's life
    uint64_t timeNs = 0;    // since the VM started
    uint32_t vcpu = 0;
    uint32_t costNs = 0;    // time the VMM spent handling it (0 for in-engine exits)
    cpu::VmExit exit;
};

struct ExitCounters {
    std::array<uint64_t, static_cast<size_t>(cpu::ExitReason::Count)> byVmm{};
    std::array<uint64_t, static_cast<size_t>(cpu::ExitReason::Count)> inEngine{};
    std::array<uint64_t, static_cast<size_t>(cpu::ExitReason::Count)> costNs{};
    uint64_t total() const;
};

class ExitRing {
public:
    explicit ExitRing(size_t capacity = 4096);

    // Thread-safe: the vCPU thread records while a UI thread may read.
    const ExitRecord& record(uint64_t timeNs, uint32_t vcpu, const cpu::VmExit& exit, uint32_t costNs);
    void setCost(uint64_t sequence, uint32_t costNs);

    ExitCounters counters() const;
    // The newest `count` records, oldest first.
    std::vector<ExitRecord> latest(size_t count) const;
    // Records with sequence > `after` still in the ring, oldest first; at most the newest `max`.
    std::vector<ExitRecord> after(uint64_t after, size_t max) const;
    uint64_t recorded() const;
    size_t capacity() const { return capacity_; }

private:
    mutable std::mutex mutex_;
    size_t capacity_;
    std::vector<ExitRecord> ring_;
    uint64_t next_ = 0;  // records written so far
    ExitCounters counters_;
};

}  // namespace hvlab::hv
