// An execution engine runs the guest until an exit the VMM must handle. The interpreter
// and KVM both implement it and both return cpu::VmExit, so the VMM's exit loop is shared.
#pragma once

#include <memory>
#include <string>

#include "cpu/cpu_state.hpp"
#include "cpu/vm_exit.hpp"

namespace hvlab::hv {

enum class EngineKind { Interpreter, Kvm };
const char* engineKindName(EngineKind kind);

class Engine {
public:
    virtual ~Engine() = default;
    virtual EngineKind kind() const = 0;
    // A one-line description ("interpreter", "KVM (API 12)").
    virtual std::string description() const = 0;

    // Moves the one CPU state in or out. Only while the engine is not running.
    virtual void loadState(const cpu::CpuState& state) = 0;
    virtual void saveState(cpu::CpuState& state) = 0;

    // Runs the guest until an exit for the VMM. `Kicked`/`None` exits just return control.
    virtual cpu::VmExit run() = 0;
    // Hands the VMM's answer back (the data of an IN or MMIO read) before the next run().
    virtual void complete(const cpu::VmExit& handled) = 0;
    // Asks a running run() to return soon. Safe from any thread and from signal context.
    virtual void kick() = 0;

    // Whether the guest can take a maskable interrupt now (RFLAGS.IF), read cheaply.
    virtual bool interruptsEnabled() = 0;
    // Instructions retired so far, where the engine can count them (0 otherwise).
    virtual uint64_t instructionsRetired() const { return 0; }
};

}  // namespace hvlab::hv
