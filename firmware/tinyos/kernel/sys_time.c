/* sys_time.c - sleeping and clocks. */
#include "drivers/hvlab.h"
#include "drivers/rtc.h"
#include "kernel/cpu.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/syscalls.h"
#include "kernel/timer.h"
#include "kernel/uaccess.h"

SYSCALL(sys_sleep)
{
    uint64_t wake = timer_ticks() + timer_ms_to_ticks(a0) + 1; /* +1: at least a full tick */
    uint64_t flags = irq_save();
    while (timer_ticks() < wake)
        process_sleep(0, wake);
    irq_restore(flags);
    return 0;
}

SYSCALL(sys_ticks) { return (long)timer_ticks(); }

SYSCALL(sys_clockinfo)
{
    struct clock_info *out = (struct clock_info *)a0;
    if (!user_range_ok(a0, sizeof *out))
        return ERR_INVALID;
    struct rtc_time now;
    rtc_read(&now);
    out->rtc_present = rtc_present();
    out->ticks = timer_ticks();
    out->idle_ticks = sched_idle_ticks();
    out->hz = TIMER_HZ;
    out->tsc_khz = timer_tsc_khz();
    out->rtc_hour = now.hour;
    out->rtc_minute = now.minute;
    out->rtc_second = now.second;
    out->timer_pv = timer_is_pv();
    return 0;
}

/* Catching the RTC's seconds edge precisely without hammering the CMOS ports (under an
 * emulator every port access is a trip into the emulator, and reading the RTC flat out can
 * starve the emulated PIT, which then drops ticks):
 *   1. poll every ~1 ms until the seconds register changes: that edge is known to ~1 ms;
 *   2. for each following second, wait (TSC only, no I/O) until 990 ms after the previous
 *      edge, then poll every ~20 us until the register changes. */
struct edge {
    uint8_t second;
    uint64_t tsc, ticks, pv_clock_ns;
};

/* No PAUSE in this loop: QEMU's TCG leaves its CPU loop on every PAUSE, and doing that
 * millions of times a second keeps its timer thread from running (lost PIT ticks). */
static void spin_until(uint64_t tsc)
{
    while (rdtsc() < tsc)
        ;
}

static void wait_for_edge(struct edge *e, uint64_t poll_gap_cycles)
{
    struct rtc_time t;
    for (;;) {
        rtc_read(&t);
        if (t.second != e->second)
            break;
        spin_until(rdtsc() + poll_gap_cycles);
    }
    e->tsc = rdtsc();
    e->ticks = timer_ticks();
    e->pv_clock_ns = hvlab_offers(HVLAB_FEATURE_CLOCK) ? hvlab_time_now() : 0;
    e->second = t.second;
}

/* Count timer ticks (PIT or PV), TSC cycles and the PV clock between two edges of the RTC's seconds counter, `a0`
 * seconds apart. The CPU busy-waits with interrupts on, so the tick keeps counting. */
SYSCALL(sys_timercheck)
{
    struct timer_check *out = (struct timer_check *)a1;
    uint64_t khz = timer_tsc_khz();
    if (!user_range_ok(a1, sizeof *out) || a0 < 1 || a0 > 10)
        return ERR_INVALID;
    if (!khz)
        return ERR_NO_DEVICE; /* no TSC calibration */
    if (!rtc_present()) {
        /* No RTC (a PVH machine): the PV clock is the reference, `a0` seconds of it. */
        if (!hvlab_offers(HVLAB_FEATURE_CLOCK))
            return ERR_NO_DEVICE;
        uint64_t ns0 = hvlab_time_now(), tsc0 = rdtsc(), ticks0 = timer_ticks(), now;
        while ((now = hvlab_time_now()) < ns0 + a0 * 1000000000ull)
            spin_until(rdtsc() + khz); /* a time_now call per ~1 ms */
        out->ticks = timer_ticks() - ticks0;
        out->tsc = rdtsc() - tsc0;
        out->pv_clock_ns = now - ns0;
        out->timer_pv = timer_is_pv();
        out->rtc_seconds = 0;
        return 0;
    }
    struct rtc_time t;
    rtc_read(&t);
    struct edge e = {.second = t.second};
    wait_for_edge(&e, khz); /* ~1 ms resolution */
    struct edge start = e;
    for (uint64_t i = 0; i <= a0; i++) {
        spin_until(e.tsc + 990 * khz);
        wait_for_edge(&e, khz / 50); /* ~20 us resolution */
        if (i == 0)
            start = e; /* the first precise edge */
    }
    out->ticks = e.ticks - start.ticks;
    out->tsc = e.tsc - start.tsc;
    out->pv_clock_ns = e.pv_clock_ns - start.pv_clock_ns;
    out->timer_pv = timer_is_pv();
    out->rtc_seconds = (uint32_t)a0;
    return 0;
}
