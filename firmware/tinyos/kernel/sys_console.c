/* sys_console.c - write() and read() on the serial console. */
#include "kernel/console.h"
#include "kernel/syscalls.h"
#include "kernel/uaccess.h"
#include "lib/string.h"

enum { STDIN = 0, STDOUT = 1, STDERR = 2 };

SYSCALL(sys_write)
{
    if ((a0 != STDOUT && a0 != STDERR) || !user_range_ok(a1, a2))
        return ERR_INVALID;
    console_write((const char *)a1, a2);
    return (long)a2;
}

SYSCALL(sys_read)
{
    if (a0 != STDIN || !user_range_ok(a1, a2))
        return ERR_INVALID;
    if (a2 == 0)
        return 0;
    char buf[128];
    size_t n = console_read(buf, a2 < sizeof buf ? a2 : sizeof buf); /* sleeps until input */
    memcpy((void *)a1, buf, n);
    return (long)n;
}
