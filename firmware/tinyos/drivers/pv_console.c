/* pv_console.c - the console through hypercalls (docs/hypercalls.md, calls 1 and 2).
 *
 * The UART costs two port accesses per byte (wait for LSR.THRE, write THR), and under a
 * hypervisor every access is an exit. Here a whole line leaves with one console_write exit:
 * bytes collect in a buffer until a newline, a full buffer or an explicit flush (console_write()
 * and kprintf() flush at their end). hvlab wants a guest-physical address; the buffer is kernel
 * memory, which the kernel maps 1:1, so its address is its physical address.
 *
 * Input: when the host has console input, hvlab raises event port 1; the handler reads with
 * console_read until it returns 0.
 */
#include "drivers/pv_console.h"
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "kernel/layout.h"
#include "kernel/pv_events.h"

enum { OUTPUT_SIZE = 256, INPUT_CHUNK = 64 };

static char output[OUTPUT_SIZE];
static unsigned output_len;
static char input[INPUT_CHUNK];
static void (*receive_callback)(char c);
static bool input_active;

bool pv_console_available(void) { return hvlab_offers(HVLAB_FEATURE_CONSOLE); }

static void send(void)
{
    if (output_len)
        hvlab_call(HVLAB_CONSOLE_WRITE, kernel_phys(output), output_len, 0);
    output_len = 0;
}

void pv_console_putc(char c)
{
    uint64_t flags = irq_save(); /* interrupt handlers print too */
    output[output_len++] = c;
    if (c == '\n' || output_len == OUTPUT_SIZE)
        send();
    irq_restore(flags);
}

void pv_console_flush(void)
{
    uint64_t flags = irq_save();
    send();
    irq_restore(flags);
}

static void read_all(void)
{
    int64_t n;
    while ((n = hvlab_call(HVLAB_CONSOLE_READ, kernel_phys(input), sizeof input, 0)) > 0)
        for (int64_t i = 0; i < n; i++)
            receive_callback(input[i]);
}

static void input_event(struct trap_frame *frame)
{
    (void)frame;
    read_all();
}

bool pv_console_start_input(void (*receive)(char c))
{
    if (!pv_console_available() || !pv_events_active())
        return false;
    receive_callback = receive;
    pv_event_bind(HVLAB_EVENT_CONSOLE_INPUT, input_event);
    input_active = true;
    uint64_t flags = irq_save();
    read_all(); /* typed before the event page existed: no event was raised for it */
    irq_restore(flags);
    return true;
}

bool pv_console_input_active(void) { return input_active; }
