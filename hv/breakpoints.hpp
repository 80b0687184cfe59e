// Where a running VM pauses by itself (the debugger's breakpoints). RIP breakpoints are checked
// by the engine before the instruction runs; exit conditions after the VMM handled the exit (so
// the exit log and the device panels already show its effect).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cpu/vm_exit.hpp"

namespace hvlab::hv {

struct Breakpoints {
    std::vector<uint64_t> rips;  // guest RIP (not a linear address)
    std::array<bool, static_cast<size_t>(cpu::ExitReason::Count)> exitReasons{};
    std::vector<uint16_t> ports;                             // any IN/OUT to one of these ports
    std::vector<std::pair<uint64_t, uint64_t>> mmioRanges;  // [first, last] guest-physical

    bool empty() const;
    bool hasExitConditions() const;
    // Whether this handled exit should pause the VM; `why` then says which breakpoint matched.
    bool matchesExit(const cpu::VmExit& exit, std::string& why) const;
};

}  // namespace hvlab::hv
