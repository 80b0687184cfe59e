/* uart.h - the 16550 UART at COM1 (I/O port 0x3F8, IRQ 4): the serial console. */
#pragma once
#include <stdbool.h>

#define UART_IRQ 4

void uart_init(void);
/* Send one byte, waiting until the transmitter can take it. */
void uart_putc(char c);
/* Start delivering received bytes to `receive` from the IRQ 4 handler. */
void uart_enable_rx_interrupt(void (*receive)(char c));
