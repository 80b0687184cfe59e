/* cpu.h - one-instruction wrappers around x86 instructions C cannot express.
 *
 * Each function is `static inline` so it compiles to the instruction itself. The "memory"
 * clobbers tell the compiler not to move memory accesses across port I/O or flag changes.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* ---- Port I/O (the separate 64 KiB I/O address space: PIC, PIT, UART, IDE, PCI config) ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory"); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
/* A write to port 0x80 (the POST-code port, unused) takes about a microsecond: a short
 * delay some old chips (the 8259 PIC) need between two accesses. */
static inline void io_wait(void) { outb(0x80, 0); }

/* ---- Memory-mapped device registers (volatile: every access really happens) ---- */
static inline uint8_t mmio_read8(uintptr_t addr) { return *(volatile uint8_t *)addr; }
static inline uint16_t mmio_read16(uintptr_t addr) { return *(volatile uint16_t *)addr; }
static inline uint32_t mmio_read32(uintptr_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write8(uintptr_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }
static inline void mmio_write16(uintptr_t addr, uint16_t v) { *(volatile uint16_t *)addr = v; }
static inline void mmio_write32(uintptr_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

/* Keep the compiler from moving memory accesses across this point. That is all the CPU
 * side needs for handing buffers to a device: x86 never reorders a store with an earlier
 * store, nor a load with an earlier load (SDM vol. 3, 8.2.2), and a write to an uncached
 * device register comes after every earlier store. (Linux's virt_wmb()/virt_rmb() are the
 * same compiler barrier on x86.) Only a store followed by a load of another location would
 * need MFENCE; the virtio drivers never wait on that pattern. */
static inline void dma_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- The deprivileged kernel (hvlab's PV MMU) ----
 * Entered through boot/pv_entry.asm, the kernel runs in ring 1, where every instruction below
 * except RDTSC and port I/O to the PCI configuration ports faults. Each wrapper then does the
 * same job through hvlab (kernel/pv_cpu.c): the interrupt flag becomes the event page's
 * upcall_mask (the "virtual IF"), HLT becomes the `block` call, CR2/CR3/INVLPG become
 * hypercalls. `cpu_pv` is set once, by the entry code, before any C runs. */
extern bool cpu_pv;
void pv_irq_disable(void);
void pv_irq_enable(void);
uint64_t pv_irq_save(void);
/* A trap arrived: mask as an interrupt gate would clear IF; returns what irq_restore() needs to
 * give the interrupted code its virtual IF back. */
uint64_t pv_trap_enter(bool upcall);
void pv_block(void);
uint64_t pv_read_cr2(void);
uint64_t pv_read_cr3(void);
void pv_write_cr3(uint64_t l4);
void pv_set_boot_cr3(uint64_t l4); /* the L4 hvlab entered with */
void pv_invlpg(uint64_t addr);
__attribute__((noreturn)) void pv_halt_forever(void);

/* ---- Interrupt flag ---- */
static inline void cli(void)
{
    if (cpu_pv)
        pv_irq_disable();
    else
        __asm__ volatile("cli" ::: "memory");
}
static inline void sti(void)
{
    if (cpu_pv)
        pv_irq_enable();
    else
        __asm__ volatile("sti" ::: "memory");
}
/* Wait for the next interrupt (with interrupts enabled). */
static inline void hlt(void)
{
    if (cpu_pv)
        pv_block();
    else
        __asm__ volatile("hlt" ::: "memory");
}
/* STI delays interrupts by one instruction, so "sti; hlt" cannot miss a wake-up interrupt
 * that arrives between the two. (`block` does both in one call, as atomically.) */
static inline void sti_hlt(void)
{
    if (cpu_pv)
        pv_block();
    else
        __asm__ volatile("sti; hlt" ::: "memory");
}

enum { RFLAGS_IF_BIT = 1u << 9 };

/* Disable interrupts and return the previous RFLAGS (under PV: IF = the virtual IF), for
 * irq_restore(). */
static inline uint64_t irq_save(void)
{
    if (cpu_pv)
        return pv_irq_save();
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & RFLAGS_IF_BIT) /* interrupts were enabled */
        sti();
}

/* ---- Control registers and MSRs ---- */
static inline uint64_t read_cr2(void)
{
    if (cpu_pv)
        return pv_read_cr2();
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr3(void)
{
    if (cpu_pv)
        return pv_read_cr3();
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v)
{
    if (cpu_pv)
        pv_write_cr3(v);
    else
        __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}
static inline void invlpg(uint64_t addr)
{
    if (cpu_pv)
        pv_invlpg(addr);
    else
        __asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

/* Never under PV: the MSRs belong to hvlab (SYSCALL's are set up by set_syscall_entry). */
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* Time Stamp Counter: CPU cycles since reset (constant rate on modern CPUs). */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

__attribute__((noreturn)) static inline void halt_forever(void)
{
    if (cpu_pv)
        pv_halt_forever();
    for (;;) {
        cli();
        hlt();
    }
}
