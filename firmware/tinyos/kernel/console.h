/* console.h - the system console: output to and line input from COM1 (and a virtio console). */
#pragma once
#include <stddef.h>

void console_init(void);
/* Turn on interrupt-driven input (once the IDT, the PIC and the event channel are set up):
 * hvlab's PV console input if the event channel is active, else the UART's IRQ 4. */
void console_start_input(void);
/* "uart" or "pv": which path output and input take. */
const char *console_output_path(void);
const char *console_input_path(void);
/* Look for a virtio console (after the PCI scan); if there is one, use it as well. */
void console_probe_virtio(void);
/* Called every timer tick: input from a virtio console without an interrupt line. */
void console_poll(void);
void console_putc(char c); /* "\n" becomes "\r\n" for terminals */
/* Send what console_putc() batched for the virtio console (console_write() does it itself). */
void console_flush(void);
/* Wait until everything written has left (before the machine stops). */
void console_drain(void);
void console_write(const char *buf, size_t len);
/* Wait until input is available, then copy up to len bytes (called by sys_read). */
size_t console_read(char *buf, size_t len);
