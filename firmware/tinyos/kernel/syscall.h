/* syscall.h - system call entry (SYSCALL/SYSRET) and dispatch. */
#pragma once
#include <stdint.h>

/* Built by kernel/syscall_entry.asm on the kernel stack; lowest address first. */
struct syscall_frame {
    uint64_t r9, r8;
    uint64_t arg3, arg2, arg1, arg0; /* r10, rdx, rsi, rdi */
    uint64_t number;                 /* rax */
    uint64_t user_rip, user_rflags, user_rsp;
};

void syscall_init(void);
void syscall_set_kernel_stack(uint64_t rsp);
long syscall_dispatch(struct syscall_frame *frame);
