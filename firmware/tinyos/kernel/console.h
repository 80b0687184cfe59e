/* console.h - the system console: output to and line input from COM1. */
#pragma once
#include <stddef.h>

void console_init(void);
/* Turn on interrupt-driven input (once the IDT and the PIC are set up). */
void console_start_input(void);
void console_putc(char c); /* "\n" becomes "\r\n" for terminals */
void console_write(const char *buf, size_t len);
/* Wait until input is available, then copy up to len bytes (called by sys_read). */
size_t console_read(char *buf, size_t len);
