// The KVM engine: real KVM ioctls on /dev/kvm. Memory slots come from the guest-physical map,
// CPUID from the shared model, and the CPU state is converted to and from kvm_regs/kvm_sregs
// and MSRs. KVM_RUN runs on the calling (vCPU) thread; a signal plus `immediate_exit` can
// always kick it out.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <pthread.h>

#include "cpu/cpuid_model.hpp"
#include "hv/engine.hpp"
#include "hv/kvm_sw_breakpoints.hpp"
#include "mmu/physical_map.hpp"

struct kvm_run;

namespace hvlab::hv {

// KVM is missing or unusable; the message says why in one line.
class KvmUnavailable : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class KvmEngine final : public Engine {
public:
    // Opens /dev/kvm (or `devicePath`), creates the VM, its memory slots and one vCPU.
    // `inKernelIrqchip`: KVM's own 8259 pair, IOAPIC, local APIC and 8254 (KVM_CREATE_IRQCHIP,
    // KVM_CREATE_PIT2), the VH interrupt path; devices then raise lines with setIrqLine().
    KvmEngine(mmu::PhysicalMap& memory, cpu::CpuidModel& cpuid, const char* devicePath = "/dev/kvm",
              bool inKernelIrqchip = false);
    ~KvmEngine() override;
    KvmEngine(const KvmEngine&) = delete;
    KvmEngine& operator=(const KvmEngine&) = delete;

    // Whether /dev/kvm can be opened and speaks API 12; if not, `why` says so.
    static bool available(std::string* why = nullptr, const char* devicePath = "/dev/kvm");

    EngineKind kind() const override { return EngineKind::Kvm; }
    std::string description() const override;
    void loadState(const cpu::CpuState& state) override;
    void saveState(cpu::CpuState& state) override;
    cpu::VmExit run() override;
    void complete(const cpu::VmExit& handled) override;
    void kick() override;
    bool interruptsEnabled() override;
    bool canInjectInterrupt() override;
    void injectInterrupt(uint8_t vector) override;
    void requestInterruptWindow(bool on) override;
    bool inKernelIrqchip() const { return irqchip_; }
    // Also while an interrupt given to KVM_INTERRUPT has not been delivered yet (the state would
    // not show it: moving the state elsewhere would lose an interrupt the PIC already acknowledged).
    bool midInstruction() const override { return injectionPending_ || stringIoInProgress(); }
    // RIP breakpoints as INT3 patches and KVM's guest debug (KVM_SET_GUEST_DEBUG,
    // KVM_GUESTDBG_USE_SW_BP): see SoftwareBreakpoints. Addresses are linear (CS.base + RIP as of
    // now); any number of them.
    size_t setBreakpoints(const std::vector<uint64_t>& rips) override;
    // KVM_IRQ_LINE: drives GSI `gsi` (an ISA IRQ 0-15 or IOAPIC pin) of the in-kernel irqchip.
    // Any thread.
    void setIrqLine(unsigned gsi, bool level);
    // The in-kernel 8259 pair's registers (KVM_GET_IRQCHIP), for diagnostics: "master irr .. imr
    // .. isr .., slave ...". Empty without the in-kernel irqchip.
    std::string kernelPicSummary();

    // Seconds spent creating the VM (open to vCPU ready), for the startup figure.
    double setupSeconds() const { return setupSeconds_; }

private:
    int vmIoctl(unsigned long request, void* arg, const char* what) const;
    int vcpuIoctl(unsigned long request, void* arg, const char* what) const;
    void setupMemory(const mmu::PhysicalMap& memory);
    void setupCpuid(cpu::CpuidModel& cpuid);
    void routeIsaInterrupts();
    cpu::VmExit translateExit();
    cpu::VmExit hypercallExit(cpu::VmExit& e);
    void setHypercallResult(int64_t result);
    int enterGuest();
    void setGuestDebug(uint32_t extraControl);
    bool stringIoInProgress() const { return pendingIo_.active && pendingIo_.index + 1 < pendingIo_.count; }
    // Completes a handled I/O or MMIO exit inside KVM without running guest code (KVM_RUN with
    // immediate_exit), so the registers read next are the ones after the instruction.
    void finishPendingExit();
    cpu::VmExit nextStringIoElement();

    int kvmFd_ = -1;
    int vmFd_ = -1;
    int vcpuFd_ = -1;
    kvm_run* run_ = nullptr;
    size_t runSize_ = 0;
    bool syncRegs_ = false;
    bool readonlyMem_ = false;
    double setupSeconds_ = 0;
    pthread_t vcpuThread_{};
    bool vcpuThreadKnown_ = false;

    // A string I/O exit (INS/OUTS) with count > 1 is handed to the VMM one element at a time.
    struct PendingIo {
        bool active = false;
        uint32_t index = 0;
        uint32_t count = 0;
    } pendingIo_;
    uint64_t lastRip_ = 0;
    bool irqchip_ = false;
    // KVM finishes an I/O or MMIO exit (RAX, memory, RIP) only on the next KVM_RUN.
    bool exitNeedsEntry_ = false;
    bool injectionPending_ = false;
    SoftwareBreakpoints breakpoints_;
};

}  // namespace hvlab::hv
