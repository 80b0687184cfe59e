/* gdt.c - the Global Descriptor Table and the Task State Segment.
 *
 * In 64-bit mode segmentation is mostly switched off: base and limit are ignored for code and
 * data. What still matters (Intel SDM vol. 3, sections 3.4.5 and 5.2.1):
 *   - the code segment's L bit (64-bit code) and DPL (the Current Privilege Level, ring 0 or 3),
 *   - the data segment's DPL for SS,
 *   - the TSS: where the CPU finds the kernel stack when an interrupt arrives in ring 3 (RSP0)
 *     and the Interrupt Stack Table (IST) entries, known-good stacks for bad situations.
 *
 * Deprivileged under hvlab's PV MMU the kernel may not load a GDT or TSS (LGDT and LTR are
 * privileged): it runs on hvlab's, whose selectors are in gdt.h, and has hvlab put its stack
 * into TSS.RSP1 (ring 1's stack for interrupts from ring 3) with the stack_switch call.
 */
#include "kernel/gdt.h"
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "lib/string.h"

/* 64-bit TSS layout (SDM vol. 3, figure 8-11). */
struct tss {
    uint32_t reserved0;
    uint64_t rsp[3]; /* stack for ring 0, 1, 2 */
    uint64_t reserved1;
    uint64_t ist[7]; /* IST1..IST7 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base; /* offset of the I/O permission bitmap: beyond the limit = none */
} __attribute__((packed));

/* Access byte bits */
enum {
    SEG_PRESENT = 1 << 7,
    SEG_DPL3 = 3 << 5,
    SEG_CODE_OR_DATA = 1 << 4, /* S bit: 1 = code/data, 0 = system (TSS) */
    SEG_EXECUTABLE = 1 << 3,
    SEG_READ_WRITE = 1 << 1, /* readable code / writable data */
    SYS_TSS_AVAILABLE = 0x9,
};
/* Flags nibble */
enum {
    FLAG_GRANULARITY_4K = 1 << 3,
    FLAG_32BIT = 1 << 2, /* D/B */
    FLAG_LONG = 1 << 1,  /* L: 64-bit code */
};

static uint64_t gdt[8];
static struct tss tss;
static uint8_t double_fault_stack[4096] __attribute__((aligned(16)));

/* A flat segment: base 0, limit 0xFFFFF pages. */
static uint64_t segment(uint8_t access, uint8_t flags)
{
    uint64_t d = 0xFFFF;                /* limit 15:0 */
    d |= (uint64_t)0xF << 48;           /* limit 19:16 */
    d |= (uint64_t)access << 40;
    d |= (uint64_t)(flags & 0xF) << 52;
    return d;
}

void gdt_init(void)
{
    if (cpu_pv)
        return; /* deprivileged: the GDT and TSS are hvlab's (kernel/gdt.h, SEL_PV_*) */
    const uint8_t code = SEG_PRESENT | SEG_CODE_OR_DATA | SEG_EXECUTABLE | SEG_READ_WRITE;
    const uint8_t data = SEG_PRESENT | SEG_CODE_OR_DATA | SEG_READ_WRITE;
    gdt[0] = 0;
    gdt[SEL_KERNEL_CODE >> 3] = segment(code, FLAG_GRANULARITY_4K | FLAG_LONG);
    gdt[SEL_KERNEL_DATA >> 3] = segment(data, FLAG_GRANULARITY_4K | FLAG_32BIT);
    gdt[SEL_USER_CODE32 >> 3] = segment(code | SEG_DPL3, FLAG_GRANULARITY_4K | FLAG_32BIT);
    gdt[SEL_USER_DATA >> 3] = segment(data | SEG_DPL3, FLAG_GRANULARITY_4K | FLAG_32BIT);
    gdt[SEL_USER_CODE >> 3] = segment(code | SEG_DPL3, FLAG_GRANULARITY_4K | FLAG_LONG);

    /* The TSS descriptor is 16 bytes in long mode: base bits 63:32 in the second half. */
    memset(&tss, 0, sizeof tss);
    tss.ist[0] = (uint64_t)(double_fault_stack + sizeof double_fault_stack); /* IST1 */
    tss.iomap_base = sizeof tss; /* no I/O bitmap: ring 3 gets #GP on IN/OUT */
    uint64_t base = (uint64_t)&tss;
    uint64_t limit = sizeof tss - 1;
    gdt[SEL_TSS >> 3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                        ((uint64_t)(SEG_PRESENT | SYS_TSS_AVAILABLE) << 40) |
                        (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[(SEL_TSS >> 3) + 1] = base >> 32;

    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint64_t)gdt};

    /* LGDT, then reload every segment register: CS through a far return (there is no far
     * jump with an immediate target in 64-bit mode), the data segments with MOVs. */
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "xorw %%ax, %%ax\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"((uint64_t)SEL_KERNEL_CODE), "i"(SEL_KERNEL_DATA), "r"((uint16_t)SEL_TSS)
                     : "rax", "memory");
}

void tss_set_kernel_stack(uint64_t rsp0)
{
    if (cpu_pv) /* the kernel runs in ring 1: hvlab sets TSS.RSP1 for us */
        hvlab_call(HVLAB_STACK_SWITCH, rsp0, 0, 0);
    else
        tss.rsp[0] = rsp0;
}
