/* console.c - the console sits on top of the UART driver, and of a virtio console if the
 * machine has one: output goes to both, input comes from both.
 *
 * Received bytes arrive in interrupt context (uart_interrupt or the virtio console's handler
 * -> console_receive) and go into a ring buffer; a process reading the console sleeps on that
 * buffer until bytes arrive.
 */
#include "kernel/console.h"
#include "drivers/uart.h"
#include "drivers/virtio_console.h"
#include "kernel/cpu.h"
#include "kernel/process.h"

#define INPUT_SIZE 1024

static char input[INPUT_SIZE];
static size_t input_head, input_tail; /* head: next write, tail: next read */

static void console_receive(char c)
{
    size_t next = (input_head + 1) % INPUT_SIZE;
    if (next == input_tail)
        return; /* full: drop the byte */
    input[input_head] = c;
    input_head = next;
    process_wakeup(input);
}

void console_init(void)
{
    uart_init();
}

void console_start_input(void) { uart_enable_rx_interrupt(console_receive); }

void console_probe_virtio(void) { virtio_console_init(console_receive); }

void console_poll(void) { virtio_console_poll(); }

void console_putc(char c)
{
    if (c == '\n') {
        uart_putc('\r');
        virtio_console_putc('\r');
    }
    uart_putc(c);
    virtio_console_putc(c);
}

void console_flush(void) { virtio_console_flush(); }

void console_drain(void) { virtio_console_drain(); }

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        console_putc(buf[i]);
    console_flush();
}

size_t console_read(char *buf, size_t len)
{
    uint64_t flags = irq_save();
    while (input_head == input_tail)
        process_sleep(input, 0);
    size_t n = 0;
    while (n < len && input_tail != input_head) {
        buf[n++] = input[input_tail];
        input_tail = (input_tail + 1) % INPUT_SIZE;
    }
    irq_restore(flags);
    return n;
}
