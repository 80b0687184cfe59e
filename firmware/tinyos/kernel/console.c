/* console.c - the console sits on top of the UART driver, and of a virtio console if the
 * machine has one: output goes to both, input comes from both.
 *
 * Under hvlab with the PV console offered (`hvlab run --pv console` or `--pv all`), hvlab's
 * console_write / console_read hypercalls take the UART's place (drivers/pv_console.c); hvlab
 * prints that output where the serial output goes, so the UART then gets nothing (no doubled
 * lines). Input moves too when the event channel is there to say that input waits.
 *
 * Received bytes arrive in interrupt context (uart_interrupt or the virtio console's handler
 * -> console_receive) and go into a ring buffer; a process reading the console sleeps on that
 * buffer until bytes arrive.
 */
#include "kernel/console.h"
#include "drivers/pv_console.h"
#include "drivers/uart.h"
#include "drivers/virtio_console.h"
#include "kernel/cpu.h"
#include "kernel/process.h"

#define INPUT_SIZE 1024

static char input[INPUT_SIZE];
static bool pv_output; /* output through hvlab's console_write instead of the UART */
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
    pv_output = pv_console_available();
    if (!cpu_pv) /* deprivileged, the UART's ports fault: the PV console is the only one */
        uart_init();
}

void console_start_input(void)
{
    if (!pv_console_start_input(console_receive))
        uart_enable_rx_interrupt(console_receive);
}

const char *console_output_path(void) { return pv_output ? "pv" : "uart"; }

const char *console_input_path(void) { return pv_console_input_active() ? "pv" : "uart"; }

void console_probe_virtio(void) { virtio_console_init(console_receive); }

void console_poll(void) { virtio_console_poll(); }

void console_putc(char c)
{
    if (c == '\n')
        console_putc('\r');
    if (pv_output)
        pv_console_putc(c);
    else
        uart_putc(c);
    virtio_console_putc(c);
}

void console_flush(void)
{
    if (pv_output)
        pv_console_flush();
    virtio_console_flush();
}

void console_drain(void)
{
    console_flush();
    virtio_console_drain();
}

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
