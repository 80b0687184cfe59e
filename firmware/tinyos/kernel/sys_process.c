/* sys_process.c - system calls about processes and their memory. */
#include "kernel/layout.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/syscalls.h"
#include "kernel/uaccess.h"
#include "kernel/vmm.h"
#include "lib/string.h"

SYSCALL(sys_exit) { process_exit((int)a0); }

SYSCALL(sys_yield)
{
    sched_yield();
    return 0;
}

SYSCALL(sys_getpid) { return current->pid; }

/* sbrk(delta): move the end of the heap. Growing only moves the limit -- pages appear on
 * first touch (kernel/page_fault.c). Shrinking unmaps and frees the pages beyond the end. */
SYSCALL(sys_sbrk)
{
    int64_t delta = (int64_t)a0;
    uint64_t old_end = current->heap_end;
    uint64_t new_end = old_end + (uint64_t)delta;
    if ((delta > 0 && new_end > USER_HEAP_LIMIT) || (delta < 0 && (new_end < USER_HEAP_BASE || new_end > old_end)))
        return ERR_NO_MEMORY;
    if (delta < 0) {
        uint64_t first = (new_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        for (uint64_t page = first; page < old_end; page += PAGE_SIZE)
            vmm_unmap_user_page(current->cr3, page);
    }
    current->heap_end = new_end;
    return (long)old_end;
}

SYSCALL(sys_procinfo)
{
    struct proc_info *out = (struct proc_info *)a1;
    if (!user_range_ok(a1, sizeof *out))
        return ERR_INVALID;
    if (a0 >= MAX_PROCESSES)
        return ERR_NOT_FOUND;
    const struct process *p = &processes[a0];
    struct proc_info info = {
        .pid = p->pid,
        .parent = p->parent,
        .state = p->state,
        .ticks_used = p->ticks_used,
        .page_faults = p->page_faults,
        .syscalls = p->syscalls,
    };
    memcpy(info.name, p->name, sizeof info.name);
    *out = info;
    return 0;
}

SYSCALL(sys_spawn)
{
    char name[16];
    for (unsigned i = 0;; i++) {
        if (i == sizeof name || !user_range_ok(a0 + i, 1))
            return ERR_INVALID;
        name[i] = ((const char *)a0)[i];
        if (!name[i])
            break;
    }
    return process_spawn(name, (long)a1, current->pid);
}

SYSCALL(sys_wait) { return process_wait((int)a0); }
