// The vCPU as the PV machine (privileged P) changes it between two exits: CR3 loads, TLB
// flushes and the SYSCALL bounce edit the engine's live state in place, cheaper than a full
// saveState/loadState (which also drops the interpreter's decoded code). The interpreter engine
// implements it; privileged P runs on the interpreter only.
#pragma once

#include <cstdint>

#include "cpu/cpu_state.hpp"

namespace hvlab::hv {

class PvVcpu {
public:
    virtual ~PvVcpu() = default;
    // The engine's own state; valid between exits, edited in place.
    virtual cpu::CpuState& liveState() = 0;
    // CR3 (or CS, SS, RFLAGS, EFER) was written in liveState(): the engine looks again.
    virtual void cr3Changed() = 0;
    virtual void privilegeChanged() = 0;
    virtual void flushTlb() = 0;
    virtual void invalidatePage(uint64_t linear) = 0;
};

}  // namespace hvlab::hv
