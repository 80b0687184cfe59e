#include "cpu/vm_exit.hpp"

#include "cpu/hypercall_abi.hpp"

#include <fmt/format.h>

namespace hvlab::cpu {

const char* exitReasonName(ExitReason reason) {
    switch (reason) {
        case ExitReason::None: return "none";
        case ExitReason::PortIo: return "io";
        case ExitReason::Mmio: return "mmio";
        case ExitReason::Hlt: return "hlt";
        case ExitReason::Cpuid: return "cpuid";
        case ExitReason::MsrRead: return "rdmsr";
        case ExitReason::MsrWrite: return "wrmsr";
        case ExitReason::CrAccess: return "cr-access";
        case ExitReason::Invlpg: return "invlpg";
        case ExitReason::InterruptWindow: return "irq-window";
        case ExitReason::Debug: return "debug";
        case ExitReason::Shutdown: return "shutdown";
        case ExitReason::Hypercall: return "hypercall";
        case ExitReason::UnimplementedInsn: return "unimplemented";
        case ExitReason::EntryFailure: return "entry-failure";
        case ExitReason::InternalError: return "internal-error";
        case ExitReason::Kicked: return "kicked";
        case ExitReason::Count: break;
    }
    return "?";
}

namespace {
const char* hypercallName(uint64_t number) {
    using namespace hypercall;
    switch (number) {
        case kConsoleWrite: return "console_write";
        case kConsoleRead: return "console_read";
        case kTimeNow: return "time_now";
        case kTimerSet: return "timer_set";
        case kEventInit: return "event_init";
        case kEventRaise: return "event_raise";
        default: return "unknown";
    }
}
}  // namespace

std::string describeExit(const VmExit& e) {
    switch (e.reason) {
        case ExitReason::PortIo:
            return e.io.write ? fmt::format("out {:#x} <- {:#x} ({} byte{})", e.io.port, e.io.value, e.io.size,
                                            e.io.size > 1 ? "s" : "")
                              : fmt::format("in {:#x} -> {:#x} ({} byte{})", e.io.port, e.io.value, e.io.size,
                                            e.io.size > 1 ? "s" : "");
        case ExitReason::Mmio:
            return fmt::format("{} {:#x} {} {:#x} ({} bytes)", e.mmio.write ? "write" : "read", e.mmio.gpa,
                               e.mmio.write ? "<-" : "->", e.mmio.value, e.mmio.size);
        case ExitReason::Cpuid:
            return fmt::format("leaf {:#x}.{} -> {:08x} {:08x} {:08x} {:08x}", e.cpuid.leaf, e.cpuid.subleaf,
                               e.cpuid.eax, e.cpuid.ebx, e.cpuid.ecx, e.cpuid.edx);
        case ExitReason::MsrRead: return fmt::format("msr {:#x} -> {:#x}", e.msr.index, e.msr.value);
        case ExitReason::MsrWrite: return fmt::format("msr {:#x} <- {:#x}", e.msr.index, e.msr.value);
        case ExitReason::CrAccess:
            return fmt::format("cr{} {} {:#x}", e.cr.cr, e.cr.write ? "<-" : "->", e.cr.value);
        case ExitReason::UnimplementedInsn: {
            std::string bytes;
            for (unsigned k = 0; k < e.insn.length && k < e.insn.bytes.size(); ++k)
                bytes += fmt::format("{}{:02x}", k ? " " : "", e.insn.bytes[k]);
            return "bytes " + bytes;
        }
        case ExitReason::EntryFailure:
        case ExitReason::InternalError: return fmt::format("code {:#x}", e.failure.code);
        case ExitReason::Hypercall:
            return fmt::format("{} {}({:#x}, {:#x}, {:#x}) -> {}", e.hypercall.number, hypercallName(e.hypercall.number),
                               e.hypercall.args[0], e.hypercall.args[1], e.hypercall.args[2], e.hypercall.result);
        default: return {};
    }
}

}  // namespace hvlab::cpu
