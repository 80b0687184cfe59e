#include "frontend/gui/concern_meter.hpp"

namespace hvlab::frontend::gui {

void ConcernMeter::record(const cpu::VmExit& exit, uint32_t costNs) {
    Counter& c = counters_[static_cast<size_t>(attributeExit(exit))];
    c.exits.fetch_add(1, std::memory_order_relaxed);
    c.handlerNs.fetch_add(costNs, std::memory_order_relaxed);
}

ConcernCosts ConcernMeter::totals(const hv::ExitCounters& counters) const {
    ConcernCosts costs{};
    for (size_t k = 0; k < kConcernCount; ++k) {
        costs[k].exits = counters_[k].exits.load(std::memory_order_relaxed);
        costs[k].handlerNs = counters_[k].handlerNs.load(std::memory_order_relaxed);
    }
    for (size_t reason = 0; reason < counters.inEngine.size(); ++reason) {
        if (!counters.inEngine[reason]) continue;
        cpu::VmExit byReason;
        byReason.reason = static_cast<cpu::ExitReason>(reason);
        ConcernCost& c = costs[static_cast<size_t>(attributeExit(byReason))];
        c.exits += counters.inEngine[reason];
        c.inEngine += counters.inEngine[reason];
    }
    return costs;
}

}  // namespace hvlab::frontend::gui
