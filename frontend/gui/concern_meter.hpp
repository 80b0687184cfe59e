// Exits and time in the VMM's handlers per concern of the spectrum, counted on the VM's thread
// for every exit the VMM handles (VmConfig::onExit), so nothing is missed however fast exits come.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "frontend/gui/concern.hpp"
#include "frontend/gui/exit_attribution.hpp"
#include "hv/exit_ring.hpp"

namespace hvlab::frontend::gui {

struct ConcernCost {
    uint64_t exits = 0;
    uint64_t inEngine = 0;  // of them, handled inside the engine (no VMM handler, no cost)
    uint64_t handlerNs = 0;
};
using ConcernCosts = std::array<ConcernCost, kConcernCount>;

class ConcernMeter {
public:
    // On the VM thread, after the VMM handled `exit` in `costNs`.
    void record(const cpu::VmExit& exit, uint32_t costNs);

    // The totals so far, with the exits the engine handled itself (counted by reason only, from
    // the VM's exit counters) added.
    ConcernCosts totals(const hv::ExitCounters& counters) const;

private:
    struct Counter {
        std::atomic<uint64_t> exits{0}, handlerNs{0};
    };
    std::array<Counter, kConcernCount> counters_;
};

}  // namespace hvlab::frontend::gui
