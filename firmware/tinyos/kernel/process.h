/* process.h - processes: the process table, creation, exit, sleeping and waking. */
#pragma once
#include <stdint.h>
#include <tinyos/abi.h>

#define MAX_PROCESSES 16
#define KERNEL_STACK_SIZE 16384

struct process {
    int pid;                /* 0 = slot unused */
    enum proc_state state;  /* PROC_READY, PROC_RUNNING, ... (include/tinyos/abi.h) */
    char name[16];
    int parent;             /* pid of the process that spawned it, 0 = none (started at boot) */
    int exit_code;

    uint64_t saved_rsp;        /* kernel stack pointer while switched out (kernel/switch.asm) */
    uint64_t kernel_stack_top; /* where the CPU/SYSCALL put RSP on entry from ring 3 */
    uint64_t cr3;              /* physical address of its PML4 */
    uint64_t heap_end;         /* current "break": heap is [USER_HEAP_BASE, heap_end) */

    const volatile void *wait_channel; /* what it sleeps on (any address), 0 = only a timeout */
    uint64_t wake_tick;       /* wake up at this tick even without a wakeup(), 0 = never */
    unsigned slice;           /* ticks used since it was last scheduled */

    uint64_t ticks_used, page_faults, syscalls; /* statistics for `ps` */
};

extern struct process processes[MAX_PROCESSES];
extern struct process *current; /* the running process, 0 while the scheduler runs */

/* Create a process running user program `program` (see user/programs.c) with argument `arg`.
 * Returns its pid or a negative error. */
int process_spawn(const char *program, long arg, int parent);
/* End the current process. */
__attribute__((noreturn)) void process_exit(int code);
/* Wait until child `pid` has exited; returns its exit code (or a negative error). */
int process_wait(int pid);

/* Put the current process to sleep until process_wakeup(channel) or the tick `wake_tick`
 * (0 = no timeout). Must be called with interrupts disabled -- check your condition, then
 * sleep, with no interrupt in between, or a wake-up could be lost. */
void process_sleep(const volatile void *channel, uint64_t wake_tick);
void process_wakeup(const volatile void *channel);
/* Called from the timer interrupt: wake processes whose timeout has passed. */
void process_wake_expired(uint64_t now);

/* Free what a dead process held (called by the scheduler, off the process's stack). */
void process_reap(struct process *p);
