/* sys_machine.c - reboot and power off. */
#include "drivers/power.h"
#include "kernel/syscalls.h"

SYSCALL(sys_reboot) { power_reboot(); }
SYSCALL(sys_poweroff) { power_off(); }
