#include "hv/breakpoints.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace hvlab::hv {

bool Breakpoints::hasExitConditions() const {
    return !ports.empty() || !mmioRanges.empty() ||
           std::any_of(exitReasons.begin(), exitReasons.end(), [](bool on) { return on; });
}

bool Breakpoints::empty() const { return rips.empty() && !hasExitConditions(); }

bool Breakpoints::matchesExit(const cpu::VmExit& exit, std::string& why) const {
    const auto reason = static_cast<size_t>(exit.reason);
    if (reason < exitReasons.size() && exitReasons[reason]) {
        why = fmt::format("break on {} exit at rip {:#x}", cpu::exitReasonName(exit.reason), exit.rip);
        return true;
    }
    if (exit.reason == cpu::ExitReason::PortIo &&
        std::find(ports.begin(), ports.end(), exit.io.port) != ports.end()) {
        why = fmt::format("break on port {:#x} ({} {}) at rip {:#x}", exit.io.port, exit.io.write ? "write" : "read",
                          exit.io.value, exit.rip);
        return true;
    }
    if (exit.reason == cpu::ExitReason::Mmio) {
        for (const auto& [first, last] : mmioRanges) {
            if (exit.mmio.gpa >= first && exit.mmio.gpa <= last) {
                why = fmt::format("break on MMIO {:#x} ({}) at rip {:#x}", exit.mmio.gpa,
                                  exit.mmio.write ? "write" : "read", exit.rip);
                return true;
            }
        }
    }
    return false;
}

}  // namespace hvlab::hv
