/* idle.c - the idle instruction: HLT, or hvlab's `block` hypercall.
 *
 * "sti; hlt" sleeps until an interrupt and cannot miss one (STI takes effect after HLT has
 * started). `block` (docs/hypercalls.md) is the same for events: it clears the event page's
 * upcall mask and returns once an upcall is owed, and "sti; out" (hvlab_call_sti) makes the
 * same pair: an event that came before it is owed already, so `block` returns at once, and the
 * upcall is taken right after the call. On a PVH machine every interrupt is an event, so
 * `block` never sleeps through one, and the hypervisor counts a hypercall instead of a HLT
 * exit. */
#include "kernel/idle.h"
#include "drivers/hvlab.h"
#include "drivers/pic.h"
#include "kernel/cpu.h"
#include "kernel/pv_events.h"

static bool use_block;

void idle_init(void) { use_block = !pic_present() && pv_events_active(); }

void cpu_idle(void)
{
    if (cpu_pv) {
        pv_block(); /* deprivileged: no STI; the virtual one follows `block` (kernel/pv_cpu.c) */
    } else if (use_block) {
        hvlab_call_sti(HVLAB_BLOCK);
    } else {
        sti_hlt();
    }
}

const char *idle_path(void) { return use_block ? "block" : "hlt"; }
