/* power.h - reset and power off. */
#pragma once

__attribute__((noreturn)) void power_reboot(void);
__attribute__((noreturn)) void power_off(void);
