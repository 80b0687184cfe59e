/* rtc.h - the MC146818 real-time clock in the CMOS chip. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct rtc_time {
    uint8_t hour, minute, second;
};

/* False (and 00:00:00) when there is no RTC to read: deprivileged under hvlab's PV MMU its
 * ports fault, as every port but PCI configuration's does. */
bool rtc_read(struct rtc_time *t);
