/* timer.c - the tick: TIMER_HZ interrupts per second that advance the uptime, wake sleeping
 * processes whose time has come and let the scheduler preempt the running process
 * (kernel/sched.c). Two sources:
 *
 *   PIT (emulated hardware): channel 0 in rate-generator mode interrupts on IRQ 0 through the
 *       8259 PIC, which wants an EOI each time: port I/O on every tick.
 *   PV  (hvlab with the clock and events features): a one-shot timer_set deadline raises event
 *       port 0, which arrives as the upcall (kernel/pv_events.c). Each tick re-arms the next
 *       deadline on the PV clock. Deadlines are multiples of 1 ms after the first, computed
 *       from the event page's time_ns (the time hvlab raised the event: no time_now call, so a
 *       tick costs one hypercall, as a PIT tick costs one EOI), so a late upcall neither shifts
 *       the later ticks nor loses any: the tick count is the number of whole milliseconds of PV
 *       clock since the timer started.
 */
#include "kernel/timer.h"
#include "drivers/hvlab.h"
#include "drivers/pic.h"
#include "drivers/pit.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/pv_events.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "net/net.h"
#include "kernel/idle.h"
#include "kernel/kprintf.h"

enum { TIMER_IRQ = 0, CALIBRATION_TICKS = 50 };
#define NS_PER_TICK (1000000000ull / TIMER_HZ)

static volatile uint64_t ticks;
static uint32_t tsc_khz;
static bool pv_timer;
static uint64_t pv_start_ns;   /* PV clock when the timer started: tick n is due at start + n ms */
static uint64_t pv_catch_ups;  /* upcalls that found more than one tick due */

static void tick_work(struct trap_frame *frame)
{
    net_poll();     /* only does something for a network card without an interrupt line */
    console_poll(); /* ... and for a virtio console without one */
    sched_tick(frame, ticks); /* last: it may switch to another process */
}

static void pit_interrupt(struct trap_frame *frame)
{
    ticks++;
    tick_work(frame);
}

static void pv_timer_event(struct trap_frame *frame)
{
    uint64_t now = pv_events_time_ns(); /* >= the moment the timer event was raised */
    uint64_t due = (now - pv_start_ns) / NS_PER_TICK; /* ticks that should have happened by now */
    hvlab_call(HVLAB_TIMER_SET, pv_start_ns + (due + 1) * NS_PER_TICK, 0, 0);
    if (due <= ticks)
        return; /* early (cannot happen with a correct clock): the re-armed deadline is next */
    if (due > ticks + 1)
        pv_catch_ups++;
    ticks = due;
    tick_work(frame);
}

void timer_init(void)
{
    if (hvlab_offers(HVLAB_FEATURE_CLOCK) && pv_events_active()) {
        pv_timer = true;
        pv_event_bind(HVLAB_EVENT_TIMER, pv_timer_event);
        pv_start_ns = hvlab_time_now();
        hvlab_call(HVLAB_TIMER_SET, pv_start_ns + NS_PER_TICK, 0, 0);
        return; /* the PIT stays unprogrammed and IRQ 0 masked */
    }
    if (!pic_present())
        panic("no timer: this machine has no PIC (and so no PIT: a PVH machine) and hvlab offers no PV clock "
              "and events");
    pit_init(TIMER_HZ);
    irq_register(TIMER_IRQ, pit_interrupt);
}

bool timer_is_pv(void) { return pv_timer; }

uint64_t timer_pv_catch_ups(void) { return pv_catch_ups; }

uint64_t timer_ticks(void) { return ticks; }

void timer_calibrate_tsc(void)
{
    /* Start right at a tick edge, count TSC cycles over CALIBRATION_TICKS ticks; with the PV
     * clock, divide by the nanoseconds it measured instead (it is the exact reference). */
    uint64_t start = ticks;
    while (ticks == start)
        cpu_idle();
    uint64_t tsc0 = rdtsc(), ns0 = pv_timer ? hvlab_time_now() : 0;
    start = ticks;
    while (ticks < start + CALIBRATION_TICKS)
        cpu_idle();
    uint64_t cycles = rdtsc() - tsc0;
    if (pv_timer) {
        uint64_t ns = hvlab_time_now() - ns0;
        tsc_khz = ns ? (uint32_t)(cycles * 1000000 / ns) : 0;
    } else {
        tsc_khz = (uint32_t)(cycles / (CALIBRATION_TICKS * 1000 / TIMER_HZ));
    }
}

uint32_t timer_tsc_khz(void) { return tsc_khz; }

uint64_t timer_cycles_to_us(uint64_t cycles)
{
    if (!tsc_khz)
        return 0;
    return cycles * 1000 / tsc_khz;
}
