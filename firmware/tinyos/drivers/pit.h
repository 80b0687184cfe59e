/* pit.h - the Intel 8254 programmable interval timer, channel 0 = IRQ 0. */
#pragma once
#include <stdint.h>

#define PIT_INPUT_HZ 1193182u /* the 8254's input clock: 14.31818 MHz / 12 */

/* Program channel 0 to interrupt `hz` times per second. */
void pit_init(uint32_t hz);
