/* idle.h - waiting for the next interrupt when there is nothing to do. */
#pragma once
#include <stdbool.h>

/* Decides how to idle (after pic_init and pv_events_init): with no PIC and hvlab's events
 * (PVH) every interrupt is an event, and the kernel idles with the `block` hypercall as a Xen
 * PVH or PV kernel does; otherwise with STI; HLT. */
void idle_init(void);
/* Sleeps until an interrupt (or upcall) has been taken; returns with interrupts enabled. May be
 * called with interrupts disabled: a wake-up that is already due is not missed. */
void cpu_idle(void);
/* "hlt" or "block" */
const char *idle_path(void);
