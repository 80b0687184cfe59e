/* trap.h - what an interrupted context looks like on the stack, and IRQ handler registration. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Pushed by kernel/isr.asm (r15 ... rax, vector, error code) and by the CPU (rip ... ss).
 * Lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

static inline bool trap_from_user(const struct trap_frame *f) { return (f->cs & 3) == 3; }

typedef void (*irq_handler)(struct trap_frame *frame);

/* Call `handler` (with interrupts disabled) whenever PIC line `irq` fires, and unmask it.
 * A line may have several handlers (shared PCI interrupts): each is called in turn. */
void irq_register(unsigned irq, irq_handler handler);

void trap_dispatch(struct trap_frame *frame);
void trap_print_frame(const struct trap_frame *f);
