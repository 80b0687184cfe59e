/* pv_events.c - the guest side of hvlab's event channel (docs/hypercalls.md, "The event
 * channel").
 *
 * The shared page (hvlab writes `pending` and `upcall_pending`, we clear them):
 *   offset  0  u64 pending          bit n: event port n is pending
 *   offset  8  u64 mask             bit n: port n never upcalls (we mask nothing)
 *   offset 16  u8  upcall_pending   an unmasked port became pending: the upcall is on its way
 *   offset 17  u8  upcall_mask      the "virtual IF": 0 while we use the real IF, the only
 *                                   interrupt flag of a deprivileged kernel (kernel/pv_cpu.c)
 *   offset 24  u64 time_ns          VM time when hvlab last raised an event (any port)
 *
 * The upcall comes through the IDT like a PIC interrupt, but needs no acknowledge: there is no
 * EOI port to write. While upcall_pending is 1 hvlab sends no further upcall, so the handler
 * clears it *first*, then takes the pending bits: an event that arrives meanwhile either shows
 * up in the bits we take now or causes a fresh upcall.
 */
#include "kernel/pv_events.h"
#include "drivers/hvlab.h"
#include "kernel/idt.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/timer.h"

/* One page of kernel memory (.bss is page aligned and zeroed at boot). */
union pv_shared_page pv_shared __attribute__((aligned(PAGE_SIZE)));

static volatile struct pv_event_page *const page = &pv_shared.fields;
static pv_event_handler handlers[HVLAB_EVENT_PORTS];
static pv_irq_dispatch irq_dispatch;
static uint32_t irq_lines; /* bit n: line n is bound to port HVLAB_EVENT_FIRST_IRQ + n */
static uint64_t counts[HVLAB_EVENT_PORTS];
static uint64_t upcalls;
static bool active;

bool pv_events_init(void)
{
    if (!hvlab_offers(HVLAB_FEATURE_EVENTS))
        return false;
    int64_t r = hvlab_call(HVLAB_EVENT_INIT, kernel_phys(&pv_shared), VECTOR_PV_UPCALL, 0);
    if (r < 0) {
        kprintf("events: event_init refused (%ld): staying with the PIC\n", r);
        return false;
    }
    active = true;
    return true;
}

bool pv_events_active(void) { return active; }

void pv_event_bind(unsigned port, pv_event_handler handler)
{
    if (port < HVLAB_EVENT_PORTS)
        handlers[port] = handler;
}

void pv_events_upcall(struct trap_frame *frame)
{
    upcalls++;
    page->upcall_pending = 0;
    /* Take the bits we handle; hvlab may set others at any exit, hence the atomic. */
    uint64_t taken = __atomic_fetch_and(&page->pending, page->mask, __ATOMIC_SEQ_CST) & ~page->mask;
    /* Highest port first: port 0 (the timer tick) may switch to another process and come back
     * here much later, so everything else is handled before it. */
    for (int port = HVLAB_EVENT_PORTS - 1; port >= 0; port--) {
        if (!(taken & (1ull << port)))
            continue;
        counts[port]++;
        unsigned irq = (unsigned)port - HVLAB_EVENT_FIRST_IRQ;
        if (handlers[port])
            handlers[port](frame);
        else if (port >= HVLAB_EVENT_FIRST_IRQ && irq < 32 && (irq_lines & (1u << irq)) && irq_dispatch)
            irq_dispatch(irq, frame);
    }
}

bool pv_events_bind_irq(unsigned irq, pv_irq_dispatch dispatch)
{
    if (!active || irq >= 16)
        return false;
    if (irq_lines & (1u << irq))
        return true;
    int64_t r = hvlab_call(HVLAB_EVENT_BIND_IRQ, irq, HVLAB_EVENT_FIRST_IRQ + irq, 0);
    if (r < 0) {
        kprintf("events: event_bind_irq(%u) refused (%ld)\n", irq, r);
        return false;
    }
    irq_dispatch = dispatch;
    irq_lines |= 1u << irq;
    return true;
}

uint32_t pv_events_irq_lines(void) { return irq_lines; }

uint64_t pv_events_upcalls(void) { return upcalls; }

uint64_t pv_events_time_ns(void) { return page->time_ns; }

uint64_t pv_events_count(unsigned port) { return port < HVLAB_EVENT_PORTS ? counts[port] : 0; }

const char *interrupts_path(void)
{
    bool bound = irq_lines != 0;
    for (int port = 0; port < HVLAB_EVENT_PORTS; port++)
        bound = bound || handlers[port];
    if (!active || !bound)
        return "pic"; /* no event source in use (e.g. `--pv events` alone) */
    return timer_is_pv() ? "pv-events" : "pic+pv-events"; /* the tick decides who carries the load */
}
