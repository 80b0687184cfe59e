/* kprintf.h - the kernel's printf, writing to the console (COM1, see kernel/console.c). */
#pragma once

__attribute__((format(printf, 1, 2))) void kprintf(const char *fmt, ...);

/* Print a message and stop the machine: for states the kernel cannot recover from. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
