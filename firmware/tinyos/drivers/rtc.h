/* rtc.h - the MC146818 real-time clock in the CMOS chip. */
#pragma once
#include <stdint.h>

struct rtc_time {
    uint8_t hour, minute, second;
};

void rtc_read(struct rtc_time *t);
