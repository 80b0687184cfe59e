/* pv_events.h - hvlab's event channel: "P interrupts" instead of the 8259 PIC.
 *
 * One page shared with the hypervisor holds a pending bit per event port; when a port becomes
 * pending hvlab injects one interrupt, the upcall, at a vector we choose (VECTOR_PV_UPCALL). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "kernel/trap.h"

typedef void (*pv_event_handler)(struct trap_frame *frame);

/* The shared page's layout (docs/hypercalls.md, "The event channel"). */
struct pv_event_page {
    uint64_t pending;
    uint64_t mask;
    uint8_t upcall_pending; /* offset 16 */
    uint8_t upcall_mask;    /* offset 17: the virtual IF of a deprivileged kernel */
    uint8_t reserved[6];
    uint64_t time_ns;
};
union pv_shared_page {
    struct pv_event_page fields;
    uint8_t bytes[4096];
};
/* The page itself: kernel/pv_cpu.c and the PV entry paths in assembly use its upcall bytes. */
extern union pv_shared_page pv_shared;

/* Register the shared page and the upcall vector (HVLAB_FEATURE_EVENTS; after idt_init).
 * False if hvlab does not offer events or refused the page. */
bool pv_events_init(void);
bool pv_events_active(void);
/* Call `handler` (interrupts disabled) when event `port` arrives. */
void pv_event_bind(unsigned port, pv_event_handler handler);
/* Device interrupt line `irq` (0-15) as an event (event_bind_irq, port HVLAB_EVENT_FIRST_IRQ +
 * irq): its rising edges call dispatch(irq, frame) instead of going to the PIC. False if hvlab
 * refused. */
typedef void (*pv_irq_dispatch)(unsigned irq, struct trap_frame *frame);
bool pv_events_bind_irq(unsigned irq, pv_irq_dispatch dispatch);
/* Bit n: interrupt line n arrives as an event. */
uint32_t pv_events_irq_lines(void);
/* The upcall (kernel/trap.c calls it for VECTOR_PV_UPCALL). */
void pv_events_upcall(struct trap_frame *frame);

uint64_t pv_events_upcalls(void);
/* The page's time_ns: VM time when hvlab last raised an event. In an event handler it is at
 * least the time that event was raised, without a time_now hypercall. */
uint64_t pv_events_time_ns(void);
uint64_t pv_events_count(unsigned port); /* events taken on `port` */
/* "pic" (no event in use), "pv-events" (the tick, and console input if PV, come as events) or
 * "pic+pv-events" (console input as events, the tick still through the PIC). Devices with INTx
 * lines use the PIC when there is one, events (pv_events_bind_irq) when there is none (PVH). */
const char *interrupts_path(void);
