#include "frontend/summary.hpp"

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "devices/uart16550.hpp"
#include "hv/kvm_engine.hpp"
#include "hv/pc_board.hpp"
#include "hv/vm.hpp"

namespace hvlab::frontend {

uint64_t peakRssBytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

void printSummary(std::FILE* out, hv::Vm& vm, const hv::RunOutcome& outcome, double runSeconds, bool withOutcome) {
    const hv::ExitCounters c = vm.exits().counters();
    if (withOutcome) fmt::print(out, "hvlab: {}\n", outcome.message);
    fmt::print(out, "hvlab: engine {}, ran {:.3f} s", vm.engine().description(), runSeconds);
    if (const uint64_t n = vm.engine().instructionsRetired()) fmt::print(out, ", {} instructions retired", n);
    fmt::print(out, "\n");

    auto table = [&](const char* title, const auto& counts, bool withCost) {
        bool any = false;
        for (size_t r = 0; r < counts.size(); ++r) {
            if (!counts[r]) continue;
            if (!any) fmt::print(out, "{}\n", title);
            any = true;
            fmt::print(out, "  {:<16} {:>10}", cpu::exitReasonName(static_cast<cpu::ExitReason>(r)), counts[r]);
            if (withCost) fmt::print(out, "   {:>8.2f} us avg in VMM", c.costNs[r] / 1000.0 / counts[r]);
            fmt::print(out, "\n");
        }
    };
    table("exits handled by the VMM:", c.byVmm, true);
    table("exits handled inside the engine (as KVM does in the kernel):", c.inEngine, false);
    if (outcome.exitStatus == hv::exit_status::kTimeout) {
        // A guest that stopped answering: was console input still waiting for it?
        const devices::UartState u = vm.board().uart().state();
        fmt::print(out, "console at the timeout: COM1 holds {} received bytes, {} more wait on the host side, IER {:#04x}, "
                        "IRQ line {}\n",
                   u.rxCount, u.hostQueued, u.ier, u.irqLevel ? "high" : "low");
        if (auto* kvm = dynamic_cast<hv::KvmEngine*>(&vm.engine()))
            if (const std::string pic = kvm->kernelPicSummary(); !pic.empty()) fmt::print(out, "in-kernel 8259s: {}\n", pic);
    }

    if (auto t = vm.secondsToFirstEntry())
        fmt::print(out, "startup: first guest entry {:.3f} ms after main(), {:.3f} ms after VM creation began\n",
                   *t * 1e3, vm.vmCreateToFirstEntry().value_or(0) * 1e3);
    const uint64_t peak = peakRssBytes();
    const uint64_t guest = vm.hostMemory().residentBytes();
    fmt::print(out, "host memory: peak RSS {:.2f} MiB, guest memory resident {:.2f} MiB, beyond guest memory {:.2f} MiB\n",
               peak / 1048576.0, guest / 1048576.0, (peak > guest ? peak - guest : 0) / 1048576.0);
}

}  // namespace hvlab::frontend
