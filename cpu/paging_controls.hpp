// The paging controls (mode, CR3, WP, PSE, NXE) a CPU state implies, for the page-table walker:
// the interpreter's TLB fills and the debugger's translations use the same ones.
#pragma once

#include "cpu/cpu_state.hpp"
#include "mmu/page_walker.hpp"

namespace hvlab::cpu {

inline mmu::PagingControls pagingControlsOf(const CpuState& s) {
    mmu::PagingControls p;
    if (s.pagingEnabled()) {
        if (s.longModeActive())
            p.mode = mmu::PagingMode::Long4;
        else if (s.cr4 & cr4::PAE)
            p.mode = mmu::PagingMode::Pae;
        else
            p.mode = mmu::PagingMode::Legacy32;
    }
    p.cr3 = s.cr3;
    p.wp = s.cr0 & cr0::WP;
    p.pse = s.cr4 & cr4::PSE;
    p.nxe = s.efer & efer::NXE;
    return p;
}

}  // namespace hvlab::cpu
