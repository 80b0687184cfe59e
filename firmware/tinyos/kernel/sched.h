/* sched.h - the round-robin scheduler. */
#pragma once
#include <stdint.h>

struct trap_frame;

#define SCHED_QUANTUM_TICKS 10 /* a process runs at most 10 ticks (10 ms) before preemption */

/* Run processes forever (kmain ends here; this becomes the idle loop). */
__attribute__((noreturn)) void scheduler_run(void);
/* Give the CPU back to the scheduler. Interrupts must be disabled; the caller has set
 * current->state (READY to be picked again, SLEEPING, ZOMBIE). Returns when picked again. */
void schedule(void);
/* The current process lets others run (sys_yield). */
void sched_yield(void);
/* Timer interrupt: account the tick, wake sleepers, preempt a process whose quantum is over. */
void sched_tick(struct trap_frame *frame, uint64_t now);
uint64_t sched_idle_ticks(void);

/* kernel/switch.asm: save callee-saved registers + RFLAGS on the current stack, store RSP in
 * *save_rsp, load load_rsp and pop the registers saved there. */
void context_switch(uint64_t *save_rsp, uint64_t load_rsp);
