/* page_fault.c - demand-zero paging for the heap and the stack.
 *
 * A process's heap (sbrk) and stack are only reserved ranges of virtual addresses: no page is
 * mapped until the process touches it. The touch raises a page fault (#PF, vector 14); the CPU
 * puts the faulting address in CR2 and an error code on the stack (SDM vol. 3, section 4.7):
 *   bit 0 P    0 = the page was not present, 1 = a protection violation
 *   bit 1 W/R  the access was a write
 *   bit 2 U/S  the access came from ring 3
 * If the page was simply not present and the address lies in the heap or stack range, we map
 * a zeroed page and return: the CPU re-executes the instruction, which now succeeds.
 * The kernel can fault the same way while copying to a user buffer in a system call.
 */
#include "kernel/page_fault.h"
#include "kernel/cpu.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include "kernel/process.h"
#include "kernel/trap.h"
#include "kernel/vmm.h"
#include <tinyos/abi.h>

enum { PF_PROTECTION = 1 << 0 };

static bool in_demand_range(const struct process *p, uint64_t addr)
{
    bool heap = addr >= USER_HEAP_BASE && addr < p->heap_end;
    bool stack = addr >= USER_STACK_TOP - USER_STACK_SIZE && addr < USER_STACK_TOP;
    return heap || stack;
}

bool page_fault_handle(struct trap_frame *frame)
{
    uint64_t addr = read_cr2();
    if (!current || (frame->error_code & PF_PROTECTION) || !in_demand_range(current, addr))
        return false;
    uint64_t page = pmm_alloc_page(); /* zero-filled */
    if (!page)
        return false; /* out of memory: the process gets killed */
    if (!vmm_map_user_page(current->cr3, addr & ~(PAGE_SIZE - 1), page)) {
        pmm_free_page(page);
        vmm_commit();
        return false;
    }
    vmm_commit(); /* PV: the new entry goes to hvlab now, before the instruction retries */
    current->page_faults++;
    return true;
}
