/* virtio_console.h - the virtio console device (OASIS VIRTIO 1.1, section 5.3): a second
 * console next to COM1. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Find and set up the first virtio console; received bytes go to `receive` (in interrupt
 * context). False when there is none. */
bool virtio_console_init(void (*receive)(char c));
bool virtio_console_present(void);
/* Input work when the device has no usable interrupt line (called every tick). */
void virtio_console_poll(void);
/* Queue one byte; bytes are sent in batches by virtio_console_flush() (or when a batch is
 * full). Called with interrupts disabled or enabled. */
void virtio_console_putc(char c);
void virtio_console_flush(void);
/* Flush, then wait (briefly) until the device has taken every byte: before power-off. */
void virtio_console_drain(void);
