/* sched.c - a round-robin scheduler.
 *
 * The scheduler has its own context (the boot stack). A process gives up the CPU by
 * switching to it (schedule()); the scheduler picks the next READY process after the one
 * that ran last, loads its address space (CR3) and kernel stack pointers (TSS.RSP0 for
 * interrupts, the SYSCALL entry's stack), and switches to it. When nobody is ready it halts
 * the CPU until the next interrupt. Idea borrowed from xv6.
 *
 * Preemption: the timer interrupt calls sched_tick(); if the interrupted code was in ring 3
 * and has used up its quantum, the process is put back to READY and schedule() is called
 * from inside the interrupt handler. The kernel itself is never preempted (it only gives up
 * the CPU where it sleeps), which keeps its data structures simple.
 */
#include "kernel/sched.h"
#include "kernel/cpu.h"
#include "kernel/gdt.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/trap.h"
#include "kernel/vmm.h"
#include "kernel/idle.h"

static uint64_t scheduler_rsp; /* the scheduler's saved stack pointer */
static int last_slot = -1;
static uint64_t idle_ticks;

static struct process *pick_next(void)
{
    for (int n = 1; n <= MAX_PROCESSES; n++) {
        int slot = (last_slot + n) % MAX_PROCESSES;
        if (processes[slot].state == PROC_READY) {
            last_slot = slot;
            return &processes[slot];
        }
    }
    return 0;
}

void scheduler_run(void)
{
    for (;;) {
        cli();
        struct process *p = pick_next();
        if (!p) {
            cpu_idle(); /* idle: wait for an interrupt (HLT, or `block` on PVH) */
            continue;
        }
        p->state = PROC_RUNNING;
        p->slice = 0;
        current = p;
        tss_set_kernel_stack(p->kernel_stack_top);
        syscall_set_kernel_stack(p->kernel_stack_top);
        write_cr3(p->cr3);
        context_switch(&scheduler_rsp, p->saved_rsp);
        /* ... p called schedule(): back on the scheduler's stack. */
        write_cr3(vmm_kernel_cr3());
        current = 0;
        if (p->state == PROC_ZOMBIE)
            process_reap(p);
    }
}

void schedule(void) { context_switch(&current->saved_rsp, scheduler_rsp); }

void sched_yield(void)
{
    uint64_t flags = irq_save();
    current->state = PROC_READY;
    schedule();
    irq_restore(flags);
}

static int anyone_ready(void)
{
    for (int i = 0; i < MAX_PROCESSES; i++)
        if (processes[i].state == PROC_READY)
            return 1;
    return 0;
}

void sched_tick(struct trap_frame *frame, uint64_t now)
{
    if (current)
        current->ticks_used++;
    else
        idle_ticks++;
    process_wake_expired(now);
    if (current && trap_from_user(frame) && ++current->slice >= SCHED_QUANTUM_TICKS && anyone_ready()) {
        current->state = PROC_READY;
        schedule(); /* continue with the next process; we resume here later */
    }
}

uint64_t sched_idle_ticks(void) { return idle_ticks; }
