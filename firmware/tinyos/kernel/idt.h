/* idt.h - the Interrupt Descriptor Table. */
#pragma once

/* Vector numbers: 0-31 are CPU exceptions, 32-47 the 16 PIC lines, 48 hvlab's event upcall
 * (kernel/trap.c, kernel/pv_events.c). */
enum {
    VECTOR_IRQ_BASE = 32,
    VECTOR_PV_UPCALL = 48,
    VECTOR_COUNT = 49,
};

void idt_init(void);
