/* syscalls.h - user-side system call stubs.
 *
 * A system call is: number in RAX, arguments in RDI, RSI, RDX, R10, then SYSCALL. The CPU
 * overwrites RCX (return address) and R11 (saved RFLAGS), so we tell the compiler they are
 * clobbered. The kernel returns the result in RAX. See include/tinyos/abi.h for the list.
 */
#pragma once
#include <stdint.h>
#include <tinyos/abi.h>

static inline long syscall4(long number, long a0, long a1, long a2, long a3)
{
    long result;
    register long r10 __asm__("r10") = a3;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
                     : "rcx", "r11", "memory");
    return result;
}
static inline long syscall0(long n) { return syscall4(n, 0, 0, 0, 0); }
static inline long syscall1(long n, long a0) { return syscall4(n, a0, 0, 0, 0); }
static inline long syscall2(long n, long a0, long a1) { return syscall4(n, a0, a1, 0, 0); }
static inline long syscall3(long n, long a0, long a1, long a2) { return syscall4(n, a0, a1, a2, 0); }

static inline long write(int fd, const void *buf, unsigned long len) { return syscall3(SYS_WRITE, fd, (long)buf, (long)len); }
static inline long read(int fd, void *buf, unsigned long len) { return syscall3(SYS_READ, fd, (long)buf, (long)len); }
__attribute__((noreturn)) static inline void exit(int code)
{
    syscall1(SYS_EXIT, code);
    __builtin_unreachable();
}
static inline void yield(void) { syscall0(SYS_YIELD); }
static inline void sleep_ms(unsigned long ms) { syscall1(SYS_SLEEP, (long)ms); }
static inline int getpid(void) { return (int)syscall0(SYS_GETPID); }
static inline uint64_t ticks(void) { return (uint64_t)syscall0(SYS_TICKS); }
static inline void *sbrk(long delta) { return (void *)syscall1(SYS_SBRK, delta); }
static inline long procinfo(int slot, struct proc_info *info) { return syscall2(SYS_PROCINFO, slot, (long)info); }
static inline int spawn(const char *program, long arg) { return (int)syscall2(SYS_SPAWN, (long)program, arg); }
static inline int wait(int pid) { return (int)syscall1(SYS_WAIT, pid); }
static inline long clockinfo(struct clock_info *c) { return syscall1(SYS_CLOCKINFO, (long)c); }
static inline long timercheck(unsigned seconds, struct timer_check *t) { return syscall2(SYS_TIMERCHECK, seconds, (long)t); }
static inline long diskinfo(struct disk_info *d) { return syscall1(SYS_DISKINFO, (long)d); }
static inline long diskread(uint64_t lba, void *buf, unsigned count, enum disk_mode mode)
{
    return syscall4(SYS_DISKREAD, (long)lba, (long)buf, count, mode);
}
static inline long diskwrite(uint64_t lba, const void *buf, unsigned count, enum disk_mode mode)
{
    return syscall4(SYS_DISKWRITE, (long)lba, (long)buf, count, mode);
}
static inline long netinfo(struct net_info *n) { return syscall1(SYS_NETINFO, (long)n); }
static inline long ping(uint32_t ip, unsigned seq, unsigned timeout_ms, struct ping_result *r)
{
    return syscall4(SYS_PING, ip, seq, timeout_ms, (long)r);
}
static inline long arpprobe(uint32_t ip, unsigned timeout_ms, struct ping_result *r)
{
    return syscall3(SYS_ARPPROBE, ip, timeout_ms, (long)r);
}
static inline long udpstream(uint32_t ip, uint32_t frames, uint32_t payload, struct udp_stream_result *r)
{
    return syscall4(SYS_UDPSTREAM, ip, frames, payload, (long)r);
}
static inline void reboot(void) { syscall0(SYS_REBOOT); }
static inline void poweroff(void) { syscall0(SYS_POWEROFF); }
static inline long pvinfo(struct pv_info *p) { return syscall1(SYS_PVINFO, (long)p); }

/* RDTSC is allowed in ring 3 unless the kernel sets CR4.TSD (tinyos does not). */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
