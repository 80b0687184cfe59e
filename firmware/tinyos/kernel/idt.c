/* idt.c - fill the Interrupt Descriptor Table with the stubs from kernel/isr.asm.
 *
 * Each 16-byte gate says where the CPU jumps for a vector (SDM vol. 3, section 6.14.1):
 * the handler's address, the code segment, an optional IST stack and a type. We use
 * interrupt gates (type 0xE), which clear RFLAGS.IF on entry, so a handler is never
 * interrupted by another interrupt.
 */
#include "kernel/idt.h"
#include "kernel/gdt.h"
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include <stdint.h>

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist; /* bits 0-2: use stack IST1..7 from the TSS, 0 = normal stack */
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

enum {
    GATE_INTERRUPT = 0x8E,      /* present, DPL 0, 64-bit interrupt gate */
    GATE_INTERRUPT_USER = 0xEE, /* same, but DPL 3: INT n allowed from ring 3 */
    VECTOR_BREAKPOINT = 3,
    VECTOR_DOUBLE_FAULT = 8,
};

extern const uint64_t isr_stub_table[VECTOR_COUNT]; /* kernel/isr.asm */
static struct idt_gate idt[256];

/* Deprivileged, the IDT is hvlab's: it installs 64-bit trap gates to our stubs from a list
 * (set_trap_table). DPL 1 lets the kernel itself raise INT 48 (kernel/pv_cpu.c); ring 3 may
 * only raise the breakpoint. There is no IST: a double fault uses the current stack. */
struct pv_trap {
    uint8_t vector;
    uint8_t dpl;
    uint8_t zero[6];
    uint64_t handler;
};

static void idt_init_pv(void)
{
    static struct pv_trap traps[VECTOR_COUNT];
    for (int v = 0; v < VECTOR_COUNT; v++)
        traps[v] = (struct pv_trap){.vector = (uint8_t)v, .dpl = v == VECTOR_BREAKPOINT ? 3 : 1,
                                    .handler = isr_stub_table[v]};
    int64_t r = hvlab_call(HVLAB_SET_TRAP_TABLE, kernel_phys(traps), VECTOR_COUNT, 0);
    if (r < 0)
        panic("set_trap_table refused (%ld)", r);
}

void idt_init(void)
{
    if (cpu_pv) {
        idt_init_pv();
        return;
    }
    for (int v = 0; v < VECTOR_COUNT; v++) {
        uint64_t handler = isr_stub_table[v];
        idt[v].offset_low = handler & 0xFFFF;
        idt[v].offset_middle = (handler >> 16) & 0xFFFF;
        idt[v].offset_high = handler >> 32;
        idt[v].selector = SEL_KERNEL_CODE;
        idt[v].type_attributes = v == VECTOR_BREAKPOINT ? GATE_INTERRUPT_USER : GATE_INTERRUPT;
        /* A double fault often means the stack is broken: give it a stack of its own. */
        idt[v].ist = v == VECTOR_DOUBLE_FAULT ? 1 : 0;
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
