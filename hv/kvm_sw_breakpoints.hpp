// RIP breakpoints for the KVM engine as a debugger does them on real hardware: an INT3 byte
// patched over the first byte of each breakpointed instruction while the guest runs, and KVM's
// guest debug (KVM_GUESTDBG_USE_SW_BP) turning the #BP into a KVM_EXIT_DEBUG. The patches go in
// right before KVM_RUN and come out right after it, translated through the guest's page tables
// each time, so the VMM, the debugger's memory views and an interpreter step never see them,
// and a breakpoint follows the guest's current mappings. Any number of breakpoints works.
#pragma once

#include <cstdint>
#include <vector>

#include "mmu/page_walker.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {

class SoftwareBreakpoints {
public:
    explicit SoftwareBreakpoints(mmu::PhysicalMap& memory) : memory_(memory) {}
    ~SoftwareBreakpoints() { remove(); }
    SoftwareBreakpoints(const SoftwareBreakpoints&) = delete;
    SoftwareBreakpoints& operator=(const SoftwareBreakpoints&) = delete;

    // Linear addresses (CS.base + RIP) to stop at.
    void set(std::vector<uint64_t> linear) { linear_ = std::move(linear); }
    bool empty() const { return linear_.empty(); }
    bool contains(uint64_t linear) const;

    // Writes INT3 over every breakpoint that maps to RAM under `paging`. (Resuming at a
    // breakpoint is the VM's job: it steps that instruction first.)
    void insert(const mmu::PagingControls& paging);
    // Puts the original bytes back (a byte the guest overwrote meanwhile is left as it is).
    void remove();

private:
    struct Patch {
        uint8_t* host;
        uint8_t original;
    };
    mmu::PhysicalMap& memory_;
    std::vector<uint64_t> linear_;
    std::vector<Patch> patches_;
};

}  // namespace hvlab::hv
