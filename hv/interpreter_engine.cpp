#include "hv/interpreter_engine.hpp"

#include <algorithm>

namespace hvlab::hv {

const char* engineKindName(EngineKind kind) { return kind == EngineKind::Kvm ? "kvm" : "interp"; }

InterpreterEngine::InterpreterEngine(mmu::PhysicalMap& memory, const cpu::CpuidModel& cpuid,
                                     cpu::InEngineExitObserver* observer)
    : interpreter_(state_, memory, cpuid) {
    interpreter_.setInEngineObserver(observer);
}

void InterpreterEngine::loadState(const cpu::CpuState& state) {
    state_ = state;
    interpreter_.stateLoaded();
}

void InterpreterEngine::saveState(cpu::CpuState& state) { state = state_; }

cpu::VmExit InterpreterEngine::run() {
    if (kicked_.exchange(false, std::memory_order_relaxed)) {
        cpu::VmExit e;
        e.reason = cpu::ExitReason::Kicked;
        e.rip = state_.rip;
        return e;
    }
    const uint64_t budget = budget_;
    budget_ = kSliceInstructions;
    if (!breakpoints_.empty()) return runWithBreakpoints(budget);
    return interpreter_.run(budget);
}

// With RIP breakpoints the interpreter runs one instruction at a time and looks at RIP before
// each one; the fast path stays free of the check. Resuming at the breakpoint just reported
// executes that instruction instead of reporting it again.
cpu::VmExit InterpreterEngine::runWithBreakpoints(uint64_t budget) {
    for (uint64_t done = 0; done < budget; ++done) {
        const bool resuming = done == 0 && reportedBreakpoint_ == state_.rip;
        reportedBreakpoint_.reset();
        if (!resuming && std::find(breakpoints_.begin(), breakpoints_.end(), state_.rip) != breakpoints_.end()) {
            reportedBreakpoint_ = state_.rip;
            cpu::VmExit e;
            e.reason = cpu::ExitReason::Debug;
            e.rip = state_.rip;
            return e;
        }
        cpu::VmExit e = interpreter_.run(1);
        if (e.reason != cpu::ExitReason::None) return e;
        if (kicked_.load(std::memory_order_relaxed)) break;
    }
    cpu::VmExit e;
    e.rip = state_.rip;
    return e;
}

}  // namespace hvlab::hv
