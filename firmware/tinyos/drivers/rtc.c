/* rtc.c - reading the time of day from the MC146818 RTC (Motorola MC146818A datasheet).
 *
 * The CMOS RAM is reached through two ports: write a register number to 0x70, then read the
 * value from 0x71. Registers 0x00/0x02/0x04 hold seconds/minutes/hours. While register A's
 * bit 7 (UIP, "update in progress") is set the clock is changing them, so we wait for it to
 * clear. Register B bit 2 says binary (1) or BCD (0) values; bit 1 says 24-hour mode.
 */
#include "drivers/rtc.h"
#include "kernel/cpu.h"

enum {
    CMOS_INDEX = 0x70,
    CMOS_DATA = 0x71,
    NMI_DISABLE = 0x80, /* bit 7 of the index port masks NMIs; we leave them masked */
    RTC_SECONDS = 0x00,
    RTC_MINUTES = 0x02,
    RTC_HOURS = 0x04,
    RTC_STATUS_A = 0x0A,
    RTC_STATUS_B = 0x0B,
    STATUS_A_UPDATE_IN_PROGRESS = 0x80,
    STATUS_B_BINARY = 0x04,
    STATUS_B_24HOUR = 0x02,
};

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, NMI_DISABLE | reg);
    return inb(CMOS_DATA);
}

static uint8_t from_bcd(uint8_t v) { return (uint8_t)((v >> 4) * 10 + (v & 0x0F)); }

/* Status register D reads 0x80 (VRT: valid RAM and time) on a working RTC; with no RTC at all
 * (a PVH machine) the port reads 0xFF. Deprivileged (hvlab's PV MMU) its ports fault: none. */
bool rtc_present(void) { return !cpu_pv && cmos_read(0x0D) == 0x80; }

void rtc_read(struct rtc_time *t)
{
    if (!rtc_present()) { /* UIP would read as set forever */
        t->hour = t->minute = t->second = 0;
        return;
    }
    while (cmos_read(RTC_STATUS_A) & STATUS_A_UPDATE_IN_PROGRESS)
        ;
    uint8_t sec = cmos_read(RTC_SECONDS), min = cmos_read(RTC_MINUTES), hour = cmos_read(RTC_HOURS);
    uint8_t status_b = cmos_read(RTC_STATUS_B);
    bool pm = !(status_b & STATUS_B_24HOUR) && (hour & 0x80);
    hour &= 0x7F;
    if (!(status_b & STATUS_B_BINARY)) {
        sec = from_bcd(sec);
        min = from_bcd(min);
        hour = from_bcd(hour);
    }
    if (!(status_b & STATUS_B_24HOUR)) /* 12-hour clock: 12 AM is 0:00, 1 PM is 13:00 */
        hour = (uint8_t)(hour % 12 + (pm ? 12 : 0));
    t->hour = hour;
    t->minute = min;
    t->second = sec;
}
