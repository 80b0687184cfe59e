/* rtc.h - the MC146818 real-time clock in the CMOS chip. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct rtc_time {
    uint8_t hour, minute, second;
};

/* False on a machine without one (PVH), or deprivileged (PV MMU: its ports fault): rtc_read()
 * then gives 00:00:00. */
bool rtc_present(void);
void rtc_read(struct rtc_time *t);
