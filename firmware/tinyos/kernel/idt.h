/* idt.h - the Interrupt Descriptor Table. */
#pragma once

/* Vector numbers: 0-31 are CPU exceptions, 32-47 the 16 PIC lines (kernel/trap.c). */
enum {
    VECTOR_IRQ_BASE = 32,
    VECTOR_COUNT = 48,
};

void idt_init(void);
