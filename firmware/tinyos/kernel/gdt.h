/* gdt.h - segment descriptors and the Task State Segment. */
#pragma once
#include <stdint.h>

/* Selectors (index * 8 | requested privilege level). The order is forced by SYSCALL/SYSRET,
 * see kernel/syscall.c: user data must sit right after the 32-bit user code slot, and user
 * 64-bit code right after user data. */
enum segment_selector {
    SEL_KERNEL_CODE = 0x08,
    SEL_KERNEL_DATA = 0x10,
    SEL_USER_CODE32 = 0x18 | 3, /* unused, but SYSRET's layout needs the slot */
    SEL_USER_DATA = 0x20 | 3,
    SEL_USER_CODE = 0x28 | 3,
    SEL_TSS = 0x30,
    /* hvlab's GDT for a deprivileged kernel (docs/hypercalls.md, "The PV MMU"): user data and
     * 64-bit user code are the same selectors as ours; the kernel runs in ring 1. */
    SEL_PV_KERNEL_CODE = 0x40 | 1,
    SEL_PV_KERNEL_DATA = 0x48 | 1,
};

void gdt_init(void);
/* Stack the CPU switches to when an interrupt arrives in ring 3 (the process's kernel stack):
 * TSS.RSP0, or under PV TSS.RSP1 through hvlab's stack_switch call. */
void tss_set_kernel_stack(uint64_t rsp0);
