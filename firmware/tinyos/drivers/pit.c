/* pit.c - the 8254 Programmable Interval Timer (Intel 8254 datasheet).
 *
 * Channel 0's output drives IRQ 0. In mode 2 ("rate generator") the counter counts down from
 * the divisor at 1.193182 MHz and pulses its output each time it reaches 1, so we get
 * 1193182 / divisor interrupts per second. With hz = 1000 the divisor is 1193 and the real
 * rate 1000.15 Hz; `bench timer` shows the drift against the RTC.
 */
#include "drivers/pit.h"
#include "kernel/cpu.h"

enum {
    PIT_CHANNEL0 = 0x40,
    PIT_COMMAND = 0x43,
    /* command byte: bits 7-6 channel 0, bits 5-4 = 11 lobyte then hibyte,
     * bits 3-1 = 010 mode 2, bit 0 = 0 binary counting */
    PIT_CH0_LOHI_MODE2 = 0x34,
};

void pit_init(uint32_t hz)
{
    uint32_t divisor = PIT_INPUT_HZ / hz;
    if (divisor > 0xFFFF)
        divisor = 0xFFFF;
    outb(PIT_COMMAND, PIT_CH0_LOHI_MODE2);
    outb(PIT_CHANNEL0, divisor & 0xFF);
    outb(PIT_CHANNEL0, divisor >> 8);
}
