/* kprintf.c - printf for the kernel, and panic(). */
#include "kernel/kprintf.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "lib/format.h"

static void console_sink(char c, void *context)
{
    (void)context;
    console_putc(c);
}

void kprintf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    /* Interrupt handlers print too: keep each message in one piece. */
    uint64_t flags = irq_save();
    format(console_sink, 0, fmt, args);
    console_flush();
    irq_restore(flags);
    va_end(args);
}

void panic(const char *fmt, ...)
{
    cli();
    kprintf("\nKERNEL PANIC: ");
    va_list args;
    va_start(args, fmt);
    format(console_sink, 0, fmt, args);
    va_end(args);
    kprintf("\nSystem halted.\n");
    console_drain();
    /* Under hvlab or QEMU with isa-debug-exit, end the emulator with status (1 << 1) | 1 = 3
     * so scripts see the failure; on other PCs nothing listens on port 0xF4. */
    outb(0xF4, 1); /* deprivileged too: hvlab's TSS opens this port to ring 1 */
    halt_forever();
}
