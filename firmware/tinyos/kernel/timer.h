/* timer.h - the system tick (PIT on IRQ 0, or hvlab's PV timer) and time conversions. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define TIMER_HZ 1000 /* one tick = 1 ms */

/* The PV timer if hvlab offers the clock and the event channel is active, else the PIT. */
void timer_init(void);
bool timer_is_pv(void);
/* PV timer: upcalls that came so late that they made up for more than one tick. */
uint64_t timer_pv_catch_ups(void);
/* Measure the TSC frequency against the tick (needs interrupts enabled). */
void timer_calibrate_tsc(void);
uint64_t timer_ticks(void);
uint32_t timer_tsc_khz(void);
/* TSC cycles -> microseconds (0 if the TSC could not be calibrated). */
uint64_t timer_cycles_to_us(uint64_t cycles);
static inline uint64_t timer_ms_to_ticks(uint64_t ms) { return ms * TIMER_HZ / 1000; }
