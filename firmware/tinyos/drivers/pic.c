/* pic.c - the 8259A interrupt controllers (Intel 8259A datasheet; "ICW" = initialization
 * command word, "OCW" = operation command word).
 *
 * A PC has two: the master (ports 0x20/0x21) takes IRQ 0-7, the slave (0xA0/0xA1) IRQ 8-15
 * and is wired to the master's input 2. The BIOS leaves the master delivering vectors 8-15,
 * which in protected mode are CPU exceptions, so we "remap" the PICs to vectors 0x20-0x2F.
 */
#include "drivers/pic.h"
#include "kernel/cpu.h"

enum {
    MASTER_COMMAND = 0x20,
    MASTER_DATA = 0x21,
    SLAVE_COMMAND = 0xA0,
    SLAVE_DATA = 0xA1,
    ICW1_INIT_WITH_ICW4 = 0x11, /* start initialization, edge mode, cascade, ICW4 follows */
    ICW4_8086 = 0x01,           /* 8086 mode (not 8080) */
    OCW2_EOI = 0x20,            /* non-specific end of interrupt */
    OCW3_READ_ISR = 0x0B,       /* next read of the command port returns the In-Service Reg. */
    CASCADE_IRQ = 2,
};

static bool present;

bool pic_present(void) { return present; }

bool pic_init(void)
{
    /* Deprivileged (hvlab's PV MMU) the ports fault in ring 1: no PIC to look for. */
    if (cpu_pv)
        return false;
    /* The mask register (OCW1) of a real 8259 reads back what was written to it. */
    outb(MASTER_DATA, 0xA5);
    present = inb(MASTER_DATA) == 0xA5;
    if (!present)
        return false;
    outb(MASTER_COMMAND, ICW1_INIT_WITH_ICW4);
    io_wait();
    outb(SLAVE_COMMAND, ICW1_INIT_WITH_ICW4);
    io_wait();
    outb(MASTER_DATA, 0x20); /* ICW2: IRQ 0-7 -> vectors 0x20-0x27 */
    io_wait();
    outb(SLAVE_DATA, 0x28); /* ICW2: IRQ 8-15 -> vectors 0x28-0x2F */
    io_wait();
    outb(MASTER_DATA, 1 << CASCADE_IRQ); /* ICW3 master: a slave sits on input 2 */
    io_wait();
    outb(SLAVE_DATA, CASCADE_IRQ); /* ICW3 slave: my cascade identity is 2 */
    io_wait();
    outb(MASTER_DATA, ICW4_8086);
    io_wait();
    outb(SLAVE_DATA, ICW4_8086);
    io_wait();
    /* OCW1: mask every line; drivers unmask theirs (irq_register), the cascade opens with
     * the first slave line. With hvlab's PV timer and console nothing may ever be unmasked. */
    outb(MASTER_DATA, 0xFF);
    outb(SLAVE_DATA, 0xFF);
    return true;
}

void pic_unmask(unsigned irq)
{
    if (!present)
        return;
    uint16_t port = irq < 8 ? MASTER_DATA : SLAVE_DATA;
    outb(port, inb(port) & ~(1 << (irq & 7)));
    if (irq >= 8)
        outb(MASTER_DATA, inb(MASTER_DATA) & ~(1 << CASCADE_IRQ));
}

uint16_t pic_unmasked_lines(void)
{
    if (!present)
        return 0;
    return (uint16_t)~(inb(MASTER_DATA) | (uint16_t)inb(SLAVE_DATA) << 8);
}

void pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? MASTER_DATA : SLAVE_DATA;
    outb(port, inb(port) | (1 << (irq & 7)));
}

void pic_send_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(SLAVE_COMMAND, OCW2_EOI); /* the slave and ... */
    outb(MASTER_COMMAND, OCW2_EOI);    /* ... the master, which saw it on its input 2 */
}

static uint8_t read_isr(uint16_t command_port)
{
    outb(command_port, OCW3_READ_ISR);
    return inb(command_port);
}

/* When a request disappears before the CPU's acknowledge cycle (noise, a level-triggered
 * device that was serviced already), the 8259A answers with its lowest-priority vector,
 * IRQ 7 (or 15 on the slave), without setting the In-Service bit. Such an IRQ must not get an
 * EOI from its own PIC -- that would end some other interrupt in service -- but a spurious
 * IRQ 15 did go through the master's cascade input, so the master still needs one. */
bool pic_is_spurious(unsigned irq)
{
    if (irq == 7 && !(read_isr(MASTER_COMMAND) & 0x80))
        return true;
    if (irq == 15 && !(read_isr(SLAVE_COMMAND) & 0x80)) {
        outb(MASTER_COMMAND, OCW2_EOI);
        return true;
    }
    return false;
}
