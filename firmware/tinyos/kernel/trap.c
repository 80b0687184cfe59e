/* trap.c - where every interrupt and exception arrives (called from kernel/isr.asm).
 *
 *   vectors 0-31   CPU exceptions: a page fault may be a demand-paging request
 *                  (kernel/page_fault.c); anything else from ring 3 kills the process,
 *                  from ring 0 it is a kernel bug: panic.
 *   vectors 32-47  hardware interrupts from the two 8259 PICs: acknowledge, then call the
 *                  driver's handler.
 *   vector 48      hvlab's event upcall (kernel/pv_events.c): the PV timer and console input,
 *                  when hvlab offers them. No PIC involved, nothing to acknowledge.
 *                  Without a PIC (PVH, or deprivileged under the PV MMU, where its ports
 *                  fault), device interrupt lines arrive here too, each bound to an event port.
 */
#include "kernel/trap.h"
#include "drivers/pic.h"
#include "kernel/cpu.h"
#include "kernel/idt.h"
#include "kernel/kprintf.h"
#include "kernel/page_fault.h"
#include "kernel/process.h"
#include "kernel/pv_events.h"
#include <tinyos/abi.h>

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

enum { VECTOR_PAGE_FAULT = 14 };

/* PCI interrupts are shared: the BIOS routes several devices' INTx to one PIC line, so each
 * line has a short list of handlers; every one of them asks its own device whether it was
 * the one that interrupted. */
enum { HANDLERS_PER_IRQ = 4 };
static irq_handler irq_handlers[16][HANDLERS_PER_IRQ];
static uint64_t spurious_count;

static void run_irq_handlers(unsigned irq, struct trap_frame *f)
{
    for (int i = 0; i < HANDLERS_PER_IRQ && irq_handlers[irq][i]; i++)
        irq_handlers[irq][i](f);
}

/* With no PIC (PVH), the line is bound to an event port and its handlers run from the upcall;
 * the driver acknowledges its device first, so its next interrupt is a new rising edge. */
void irq_register(unsigned irq, irq_handler handler)
{
    irq_handler *slots = irq_handlers[irq & 15];
    for (int i = 0; i < HANDLERS_PER_IRQ; i++)
        if (!slots[i] || slots[i] == handler) {
            slots[i] = handler;
            if (pic_present())
                pic_unmask(irq & 15);
            else if (!pv_events_bind_irq(irq & 15, run_irq_handlers))
                kprintf("irq %u: no PIC and no event channel: the driver polls\n", irq & 15);
            return;
        }
    panic("irq_register: more than %d handlers on IRQ %u", HANDLERS_PER_IRQ, irq);
}

void trap_print_frame(const struct trap_frame *f)
{
    kprintf("  rip=%016lx cs=%lx rflags=%lx rsp=%016lx ss=%lx\n", f->rip, f->cs, f->rflags, f->rsp, f->ss);
    kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("  cr2=%016lx cr3=%016lx\n", read_cr2(), read_cr3());
}

static void exception(struct trap_frame *f)
{
    if (f->vector == VECTOR_PAGE_FAULT && page_fault_handle(f))
        return; /* a demand-zero page was mapped: retry the instruction */

    const char *name = exception_names[f->vector] ? exception_names[f->vector] : "reserved";
    /* Ring 3 faulted, or the kernel tripped over a bad user pointer in a system call:
     * either way the process is to blame, not the kernel. */
    uint64_t cr2 = read_cr2();
    bool bad_user_pointer = f->vector == VECTOR_PAGE_FAULT && cr2 >= USER_BASE && cr2 < USER_TOP;
    if (current && (trap_from_user(f) || bad_user_pointer)) {
        kprintf("\n[kernel] process %d (%s): exception %lu %s, error code %lx, rip %lx, cr2 %lx"
                " -> process killed\n",
                current->pid, current->name, f->vector, name, f->error_code, f->rip, cr2);
        process_exit(-(int)f->vector - 100); /* exit code -1xx = killed by exception xx */
    }
    kprintf("\nexception %lu %s in the kernel, error code %lx\n", f->vector, name, f->error_code);
    trap_print_frame(f);
    panic("unexpected exception");
}

static void hardware_interrupt(struct trap_frame *f)
{
    unsigned irq = f->vector - VECTOR_IRQ_BASE;
    if (pic_is_spurious(irq)) {
        spurious_count++;
        return; /* no EOI for the line that was not really in service (see pic.c) */
    }
    /* Acknowledge first: the timer handler may switch to another process and come back much
     * later. Interrupts stay disabled until this handler returns, so nothing nests. */
    pic_send_eoi(irq);
    run_irq_handlers(irq, f);
}

void trap_dispatch(struct trap_frame *f)
{
    /* Deprivileged, hvlab's gates are trap gates: the handler masks events itself, as an
     * interrupt gate would clear IF, and gives the interrupted code its virtual IF back at the
     * end (which may take an upcall that became pending meanwhile, see kernel/pv_cpu.c). */
    uint64_t pv_flags = cpu_pv ? pv_trap_enter(f->vector == VECTOR_PV_UPCALL) : 0;
    if (f->vector < 32)
        exception(f);
    else if (f->vector == VECTOR_PV_UPCALL)
        pv_events_upcall(f);
    else
        hardware_interrupt(f);
    if (cpu_pv)
        irq_restore(pv_flags);
}
