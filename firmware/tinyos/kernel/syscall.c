/* syscall.c - set up SYSCALL/SYSRET and route each call to its implementation.
 *
 * Model-specific registers involved (SDM vol. 3, section 5.8.8):
 *   IA32_EFER.SCE   enables the SYSCALL/SYSRET instructions
 *   IA32_STAR       bits 47:32 = kernel CS for SYSCALL (SS = that + 8);
 *                   bits 63:48 = base for SYSRET: user SS = base + 8, 64-bit user CS = base + 16
 *                   (both with RPL 3) -- hence the GDT order in kernel/gdt.h
 *   IA32_LSTAR      64-bit entry point (kernel/syscall_entry.asm)
 *   IA32_FMASK      RFLAGS bits cleared on entry: IF (no interrupts until we are on the
 *                   kernel stack), TF, DF (the C ABI wants DF = 0), AC
 *
 * Deprivileged (hvlab's PV MMU) the MSRs belong to hvlab: set_syscall_entry names our entry,
 * and kernel/syscall_entry.asm's pv_syscall_entry returns with IRETQ instead of SYSRET.
 */
#include "kernel/syscall.h"
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/gdt.h"
#include "kernel/process.h"
#include "kernel/syscalls.h"

enum {
    MSR_EFER = 0xC0000080,
    MSR_STAR = 0xC0000081,
    MSR_LSTAR = 0xC0000082,
    MSR_FMASK = 0xC0000084,
    EFER_SCE = 1 << 0,
    RFLAGS_TF = 1 << 8,
    RFLAGS_IF = 1 << 9,
    RFLAGS_DF = 1 << 10,
    RFLAGS_AC = 1 << 18,
};

extern void syscall_entry(void);
extern void pv_syscall_entry(void); /* deprivileged: bounced to by hvlab, returns with IRETQ */
extern uint64_t syscall_kernel_rsp;

typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);

static const syscall_fn syscall_table[SYS_COUNT] = {
    [SYS_WRITE] = sys_write,         [SYS_READ] = sys_read,
    [SYS_EXIT] = sys_exit,           [SYS_YIELD] = sys_yield,
    [SYS_SLEEP] = sys_sleep,         [SYS_GETPID] = sys_getpid,
    [SYS_TICKS] = sys_ticks,         [SYS_SBRK] = sys_sbrk,
    [SYS_PROCINFO] = sys_procinfo,   [SYS_SPAWN] = sys_spawn,
    [SYS_WAIT] = sys_wait,           [SYS_CLOCKINFO] = sys_clockinfo,
    [SYS_TIMERCHECK] = sys_timercheck, [SYS_DISKINFO] = sys_diskinfo,
    [SYS_DISKREAD] = sys_diskread,   [SYS_DISKWRITE] = sys_diskwrite,
    [SYS_NETINFO] = sys_netinfo,     [SYS_PING] = sys_ping,
    [SYS_ARPPROBE] = sys_arpprobe,   [SYS_REBOOT] = sys_reboot,
    [SYS_POWEROFF] = sys_poweroff,   [SYS_PVINFO] = sys_pvinfo,
    [SYS_UDPSTREAM] = sys_udpstream,
};

void syscall_init(void)
{
    if (cpu_pv) {
        /* The MSRs are hvlab's; it points SYSCALL at its own ring-0 stub, which bounces to us. */
        int64_t r = hvlab_call(HVLAB_SET_SYSCALL_ENTRY, (uint64_t)pv_syscall_entry, 0, 0);
        if (r < 0)
            panic("set_syscall_entry refused (%ld)", r);
        return;
    }
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)(SEL_USER_CODE32) << 48) | ((uint64_t)SEL_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC);
}

void syscall_set_kernel_stack(uint64_t rsp) { syscall_kernel_rsp = rsp; }

long syscall_dispatch(struct syscall_frame *f)
{
    current->syscalls++;
    if (f->number >= SYS_COUNT || !syscall_table[f->number])
        return ERR_INVALID;
    return syscall_table[f->number](f->arg0, f->arg1, f->arg2, f->arg3);
}
