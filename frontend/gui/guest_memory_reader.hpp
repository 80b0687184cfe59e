// Guest memory as the debugger reads it, through a VmSession: by guest-physical address, or by
// linear (guest-virtual) address through the guest's page tables, page by page.
#pragma once

#include <cstdint>
#include <vector>

#include "hv/vm_session.hpp"

namespace hvlab::frontend::gui {

struct GuestBytes {
    uint64_t address = 0;
    std::vector<uint8_t> bytes;
    std::vector<bool> valid;  // false where no RAM/ROM backs the byte or the page is not mapped
    bool allValid() const;
};

GuestBytes readGuestPhysical(const hv::VmSession& session, uint64_t gpa, size_t length);
// Uses the paging state of the session's latest snapshot (linear = physical with paging off).
GuestBytes readGuestLinear(const hv::VmSession& session, const cpu::CpuState& cpu, uint64_t linear, size_t length);

// Where the CPU fetches its next instruction: CS.base + RIP (RIP alone in 64-bit mode).
uint64_t codeLinearAddress(const cpu::CpuState& cpu);

}  // namespace hvlab::frontend::gui
