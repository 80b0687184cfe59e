/* pv_cpu.c - what kernel/cpu.h's privileged wrappers do when the kernel runs deprivileged, in
 * ring 1 under hvlab's PV MMU (docs/hypercalls.md, "The PV MMU"; boot/pv_entry.asm sets cpu_pv).
 *
 * The virtual interrupt flag. In ring 1 CLI and STI fault and POPF leaves IF alone, so the real
 * IF stays 1 for good and hvlab's gates are trap gates. Whether the kernel accepts interrupts is
 * the byte upcall_mask in the event page (kernel/pv_events.c): while it is 1 hvlab injects no
 * upcall, events only become pending. `cli` sets it. `sti` clears it, but an event may have
 * arrived meanwhile, and hvlab does not read the byte before its next exit: so after clearing
 * it we look at upcall_pending ourselves and, if it is set, take the upcall at once with INT 48
 * (its gate has DPL 1). Device interrupts arrive as events too (kernel/trap.c, irq_register),
 * so this byte is the kernel's only interrupt flag.
 *
 * Entering a handler clears IF on a real CPU (interrupt gates); kernel/trap.c does the same
 * with the mask around every trap (pv_trap_enter) and restores it on the way out.
 *
 * CR2, CR3 and INVLPG become hypercalls; the CR3 hvlab loaded last is remembered here, since
 * reading CR3 faults too. HLT becomes `block`.
 */
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "kernel/idt.h"
#include "kernel/kprintf.h"
#include "kernel/pv_events.h"

bool cpu_pv;
static uint64_t loaded_cr3;

static volatile struct pv_event_page *const events = &pv_shared.fields;

static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }

void pv_irq_disable(void)
{
    events->upcall_mask = 1;
    compiler_barrier();
}

/* Take an upcall that became pending while the mask was set (the mask must be clear). */
static void deliver_pending(void)
{
    compiler_barrier();
    if (events->upcall_pending)
        __asm__ volatile("int %0" : : "i"(VECTOR_PV_UPCALL) : "memory");
}

void pv_irq_enable(void)
{
    compiler_barrier();
    events->upcall_mask = 0;
    deliver_pending();
}

uint64_t pv_irq_save(void)
{
    uint64_t flags = events->upcall_mask ? 0 : RFLAGS_IF_BIT;
    pv_irq_disable();
    return flags;
}

uint64_t pv_trap_enter(bool upcall)
{
    /* hvlab sets the mask itself when it injects the upcall, and injects only while it was
     * clear; INT 48 is only issued with it clear. Exceptions leave it as it was. */
    uint64_t flags = upcall || !events->upcall_mask ? RFLAGS_IF_BIT : 0;
    pv_irq_disable();
    return flags;
}

void pv_block(void)
{
    hvlab_call(HVLAB_BLOCK, 0, 0, 0); /* returns with the mask clear and an upcall owed */
    deliver_pending();                /* in case hvlab left its injection to us */
}

uint64_t pv_read_cr2(void) { return (uint64_t)hvlab_call(HVLAB_READ_CR2, 0, 0, 0); }

void pv_set_boot_cr3(uint64_t l4) { loaded_cr3 = l4; }

uint64_t pv_read_cr3(void) { return loaded_cr3; }

void pv_write_cr3(uint64_t l4)
{
    int64_t r = hvlab_call(HVLAB_MMU_SET_CR3, l4, 0, 0);
    if (r < 0)
        panic("mmu_set_cr3(%lx) refused (%ld)", l4, r);
    loaded_cr3 = l4;
}

void pv_invlpg(uint64_t addr) { hvlab_call(HVLAB_MMU_INVLPG, addr, 0, 0); }

void pv_halt_forever(void)
{
    /* No HLT in ring 1: stop the tick and sleep in `block` with nothing left to wake us but
     * console input, whose upcall returns here. */
    pv_irq_disable();
    hvlab_call(HVLAB_TIMER_SET, 0, 0, 0);
    for (;;)
        hvlab_call(HVLAB_BLOCK, 0, 0, 0);
}
