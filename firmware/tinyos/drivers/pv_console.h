/* pv_console.h - hvlab's PV console: console_write / console_read hypercalls instead of the
 * UART's data and status ports. */
#pragma once
#include <stdbool.h>

/* Whether hvlab offers the console (HVLAB_FEATURE_CONSOLE); then output goes through it. */
bool pv_console_available(void);
/* Queue one byte; a full line (or a full buffer) is sent with one hypercall. */
void pv_console_putc(char c);
/* Send what is queued. */
void pv_console_flush(void);
/* Input through event 1 (needs the event channel): bytes go to `receive` in interrupt
 * context. False without the event channel (then the UART keeps the input). */
bool pv_console_start_input(void (*receive)(char c));
bool pv_console_input_active(void);
