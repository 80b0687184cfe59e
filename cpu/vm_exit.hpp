// The one exit model. Both engines return this record; the VMM handles each exit once, for both.
// The interpreter raises exits where VT-x would; the KVM engine translates kvm_run exits.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace hvlab::cpu {

enum class ExitReason : uint8_t {
    None,
    PortIo,             // IN/OUT/INS/OUTS
    Mmio,               // an access to a guest-physical address no RAM backs
    Hlt,                // HLT
    Cpuid,              // CPUID
    MsrRead,            // RDMSR
    MsrWrite,           // WRMSR
    CrAccess,           // MOV to/from a control register, CLTS, LMSW
    Invlpg,             // INVLPG
    InterruptWindow,    // the guest can take an interrupt now
    Debug,              // single step or breakpoint
    Shutdown,           // triple fault
    Hypercall,          // an `out` to the hypercall port (cpu/hypercall_abi.hpp)
    UnimplementedInsn,  // a valid instruction the interpreter does not implement yet
    EntryFailure,       // the engine could not enter the guest
    InternalError,      // the engine failed (for KVM: KVM_EXIT_INTERNAL_ERROR)
    Kicked,             // the run was interrupted from outside (pause, stop, timer)
    Count,
};

const char* exitReasonName(ExitReason reason);

// Exits caused by the guest executing a privileged instruction (HLT, MOV CR, INVLPG, RDMSR,
// WRMSR): what a deprivileged (PV) kernel asks for with hypercalls instead.
constexpr bool isPrivilegedInstructionExit(ExitReason reason) {
    switch (reason) {
    case ExitReason::Hlt:
    case ExitReason::CrAccess:
    case ExitReason::Invlpg:
    case ExitReason::MsrRead:
    case ExitReason::MsrWrite: return true;
    default: return false;
    }
}

struct IoDetail {
    uint16_t port;
    uint8_t size;  // 1, 2, 4
    bool write;
    uint32_t value;  // data written, or (after handling) data read
};

struct MmioDetail {
    uint64_t gpa;
    uint8_t size;  // 1, 2, 4, 8
    bool write;
    uint64_t value;
};

struct CpuidDetail {
    uint32_t leaf, subleaf;
    uint32_t eax, ebx, ecx, edx;  // the answer given
};

struct MsrDetail {
    uint32_t index;
    uint64_t value;
};

struct CrDetail {
    uint8_t cr;  // 0, 2, 3, 4, 8
    bool write;
    uint64_t value;
};

struct InsnDetail {
    std::array<uint8_t, 15> bytes;
    uint8_t length;
};

// `out dx, eax` to the hypercall port (cpu/hypercall_abi.hpp): the call and its arguments, and
// the result the VMM hands back (RAX) through Engine::complete.
struct HypercallDetail {
    uint64_t number;
    std::array<uint64_t, 3> args;
    int64_t result;
};

struct FailureDetail {
    uint64_t code;  // engine-specific (hardware entry failure reason, suberror, ...)
};

struct VmExit {
    ExitReason reason = ExitReason::None;
    // Handled inside the engine (KVM's kernel, or the interpreter's equivalent fast path)
    // rather than by the VMM: recorded and counted, but never dispatched to devices.
    bool inEngine = false;
    // Guest RIP of the instruction that exited; for HLT the RIP after it (as KVM reports it).
    uint64_t rip = 0;
    union {
        IoDetail io;
        MmioDetail mmio;
        CpuidDetail cpuid;
        MsrDetail msr;
        CrDetail cr;
        InsnDetail insn;
        FailureDetail failure;
        HypercallDetail hypercall;
        uint64_t raw[5];
    };

    VmExit() : raw{} {}
};

// One-line description of an exit's details ("out 0x3f8 <- 0x41 (1 byte)").
std::string describeExit(const VmExit& exit);

// Receives the exits an engine handles itself, so they are recorded like all others.
class InEngineExitObserver {
public:
    virtual ~InEngineExitObserver() = default;
    virtual void onInEngineExit(const VmExit& exit) = 0;
};

}  // namespace hvlab::cpu
