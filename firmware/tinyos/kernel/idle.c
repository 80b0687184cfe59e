/* idle.c - the idle instruction: HLT, or hvlab's `block` hypercall.
 *
 * "sti; hlt" sleeps until an interrupt and cannot miss one (STI takes effect after HLT has
 * started). `block` (docs/hypercalls.md) is the same for events: it clears the event page's
 * upcall mask and returns once an upcall is owed; with interrupts disabled the upcall then
 * comes at the STI that follows. On a PVH machine every interrupt is an event, so `block` never
 * sleeps through one, and the hypervisor counts a hypercall instead of a HLT exit. */
#include "kernel/idle.h"
#include "drivers/hvlab.h"
#include "drivers/pic.h"
#include "kernel/cpu.h"
#include "kernel/pv_events.h"

static bool use_block;

void idle_init(void) { use_block = !pic_present() && pv_events_active(); }

void cpu_idle(void)
{
    if (use_block) {
        hvlab_call(HVLAB_BLOCK, 0, 0, 0);
        sti();
    } else {
        sti_hlt();
    }
}

const char *idle_path(void) { return use_block ? "block" : "hlt"; }
