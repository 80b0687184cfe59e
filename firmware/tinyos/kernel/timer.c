/* timer.c - the tick: PIT channel 0 interrupts TIMER_HZ times per second on IRQ 0.
 *
 * Each tick advances the uptime, wakes sleeping processes whose time has come and lets the
 * scheduler preempt the running process (kernel/sched.c).
 */
#include "kernel/timer.h"
#include "drivers/pit.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/sched.h"
#include "kernel/trap.h"
#include "net/net.h"

enum { TIMER_IRQ = 0, CALIBRATION_TICKS = 50 };

static volatile uint64_t ticks;
static uint32_t tsc_khz;

static void timer_interrupt(struct trap_frame *frame)
{
    ticks++;
    net_poll();     /* only does something for a network card without an interrupt line */
    console_poll(); /* ... and for a virtio console without one */
    sched_tick(frame, ticks);
}

void timer_init(void)
{
    pit_init(TIMER_HZ);
    irq_register(TIMER_IRQ, timer_interrupt);
}

uint64_t timer_ticks(void) { return ticks; }

void timer_calibrate_tsc(void)
{
    /* Start right at a tick edge, count TSC cycles over CALIBRATION_TICKS ticks. */
    uint64_t start = ticks;
    while (ticks == start)
        hlt();
    uint64_t tsc0 = rdtsc();
    start = ticks;
    while (ticks < start + CALIBRATION_TICKS)
        hlt();
    uint64_t cycles = rdtsc() - tsc0;
    tsc_khz = (uint32_t)(cycles / (CALIBRATION_TICKS * 1000 / TIMER_HZ));
}

uint32_t timer_tsc_khz(void) { return tsc_khz; }

uint64_t timer_cycles_to_us(uint64_t cycles)
{
    if (!tsc_khz)
        return 0;
    return cycles * 1000 / tsc_khz;
}
