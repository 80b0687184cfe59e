// An execution engine runs the guest until an exit the VMM must handle. The interpreter
// and KVM both implement it and both return cpu::VmExit, so the VMM's exit loop is shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/vm_exit.hpp"

namespace hvlab::hv {

class PvVcpu;

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

    // The INTR line, as the VMM drives it (VS interrupts). canInjectInterrupt(): IF = 1 and no
    // STI/MOV SS shadow, so injectInterrupt() may deliver a vector before the next instruction.
    // Otherwise the VMM asks for an interrupt window: the next run() returns an InterruptWindow
    // exit as soon as the guest can take one.
    virtual bool canInjectInterrupt() = 0;
    virtual void injectInterrupt(uint8_t vector) = 0;
    virtual void requestInterruptWindow(bool on) = 0;
    // The next run() returns (reason None) after about this many guest instructions, so timers
    // fire on time; engines that run on host time (KVM) ignore it: the VMM kicks them instead.
    virtual void setRunBudget(uint64_t /*instructions*/) {}
    // The A20 gate. KVM has no A20 masking (memory above 1 MiB never wraps there): ignored.
    virtual void setA20(bool /*enabled*/) {}
    // RIP breakpoints: run() returns a Debug exit (rip = the breakpoint) before executing an
    // instruction at one of these addresses. Empty: none. Returns how many the engine took (KVM
    // has four hardware breakpoint registers).
    virtual size_t setBreakpoints(const std::vector<uint64_t>& rips) = 0;
    // Whether the engine is between the parts of one instruction (KVM hands a string I/O exit to
    // the VMM element by element): the state cannot be saved or moved to another engine now.
    virtual bool midInstruction() const { return false; }
    // Instructions retired so far, where the engine can count them (0 otherwise).
    virtual uint64_t instructionsRetired() const { return 0; }
    // The vCPU as the PV machine edits it (privileged P); nullptr where the engine cannot host a
    // deprivileged PV kernel (KVM).
    virtual PvVcpu* pvVcpu() { return nullptr; }
};

}  // namespace hvlab::hv
