// The interpreter as an engine: it runs cpu::Interpreter on the VM's CpuState in slices,
// so a kick is noticed within a slice.
#pragma once

#include <algorithm>
#include <atomic>
#include <optional>
#include <vector>

#include "cpu/interpreter.hpp"
#include "hv/engine.hpp"
#include "hv/paravirt/pv_vcpu.hpp"

namespace hvlab::hv {

class InterpreterEngine final : public Engine, private PvVcpu {
public:
    InterpreterEngine(mmu::PhysicalMap& memory, const cpu::CpuidModel& cpuid, cpu::InEngineExitObserver* observer);

    EngineKind kind() const override { return EngineKind::Interpreter; }
    std::string description() const override { return "interpreter"; }
    void loadState(const cpu::CpuState& state) override;
    void saveState(cpu::CpuState& state) override;
    cpu::VmExit run() override;
    void complete(const cpu::VmExit& handled) override { interpreter_.completeExit(handled); }
    void kick() override { kicked_.store(true, std::memory_order_relaxed); }
    bool interruptsEnabled() override { return state_.flags.test(cpu::rflag::IF); }
    uint64_t instructionsRetired() const override { return interpreter_.retired(); }
    bool canInjectInterrupt() override { return interpreter_.interruptible(); }
    void injectInterrupt(uint8_t vector) override { interpreter_.injectInterrupt(vector); }
    void requestInterruptWindow(bool on) override { interpreter_.requestInterruptWindow(on); }
    void setA20(bool enabled) override { interpreter_.setA20(enabled); }
    void setRunBudget(uint64_t instructions) override {
        budget_ = std::clamp<uint64_t>(instructions, 1, kSliceInstructions);
    }

    size_t setBreakpoints(const std::vector<uint64_t>& rips) override {
        breakpoints_ = rips;
        return rips.size();
    }

    cpu::Interpreter& interpreter() { return interpreter_; }
    PvVcpu* pvVcpu() override { return this; }

    static constexpr uint64_t kSliceInstructions = 1u << 18;

private:
    cpu::VmExit runWithBreakpoints(uint64_t budget);

    // PvVcpu: the PV machine edits the interpreter's state in place between exits.
    cpu::CpuState& liveState() override { return state_; }
    void cr3Changed() override {
        interpreter_.modeChanged();  // the paging controls hold CR3
        interpreter_.flushTlb();
    }
    void privilegeChanged() override { interpreter_.modeChanged(); }
    void flushTlb() override { interpreter_.flushTlb(); }
    void invalidatePage(uint64_t linear) override { interpreter_.invalidatePage(linear); }

    cpu::CpuState state_;
    std::vector<uint64_t> breakpoints_;
    std::optional<uint64_t> reportedBreakpoint_;  // resuming here steps over the breakpoint
    cpu::Interpreter interpreter_;
    std::atomic<bool> kicked_{false};
    uint64_t budget_ = kSliceInstructions;
};

}  // namespace hvlab::hv
