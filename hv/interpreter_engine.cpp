#include "hv/interpreter_engine.hpp"

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
    return interpreter_.run(budget);
}

}  // namespace hvlab::hv
