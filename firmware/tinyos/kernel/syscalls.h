/* syscalls.h - the system call implementations (kernel/sys_*.c), called by kernel/syscall.c
 * with the raw register values. include/tinyos/abi.h documents each call. */
#pragma once
#include <stdint.h>

#define SYSCALL(name) long name(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)

/* sys_process.c */
SYSCALL(sys_exit);
SYSCALL(sys_yield);
SYSCALL(sys_getpid);
SYSCALL(sys_sbrk);
SYSCALL(sys_procinfo);
SYSCALL(sys_spawn);
SYSCALL(sys_wait);
/* sys_console.c */
SYSCALL(sys_write);
SYSCALL(sys_read);
/* sys_time.c */
SYSCALL(sys_sleep);
SYSCALL(sys_ticks);
SYSCALL(sys_clockinfo);
SYSCALL(sys_timercheck);
/* sys_disk.c */
SYSCALL(sys_diskinfo);
SYSCALL(sys_diskread);
SYSCALL(sys_diskwrite);
/* sys_net.c */
SYSCALL(sys_netinfo);
SYSCALL(sys_ping);
SYSCALL(sys_arpprobe);
SYSCALL(sys_udpstream);
/* sys_machine.c */
SYSCALL(sys_reboot);
SYSCALL(sys_poweroff);
/* sys_pv.c */
SYSCALL(sys_pvinfo);
