/* timer.h - the system tick (PIT, IRQ 0) and time conversions. */
#pragma once
#include <stdint.h>

#define TIMER_HZ 1000 /* one tick = 1 ms */

void timer_init(void);
/* Measure the TSC frequency against the tick (needs interrupts enabled). */
void timer_calibrate_tsc(void);
uint64_t timer_ticks(void);
uint32_t timer_tsc_khz(void);
/* TSC cycles -> microseconds (0 if the TSC could not be calibrated). */
uint64_t timer_cycles_to_us(uint64_t cycles);
static inline uint64_t timer_ms_to_ticks(uint64_t ms) { return ms * TIMER_HZ / 1000; }
