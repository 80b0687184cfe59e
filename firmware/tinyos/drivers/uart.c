/* uart.c - National Semiconductor PC16550D UART (datasheet section 8, "Registers").
 *
 * Registers at COM1 = 0x3F8 + offset:
 *   +0 RBR (read: received byte) / THR (write: byte to send) / DLL (with LCR.DLAB: divisor low)
 *   +1 IER interrupt enable / DLM (with DLAB: divisor high)
 *   +2 IIR interrupt identification (read) / FCR FIFO control (write)
 *   +3 LCR line control   +4 MCR modem control   +5 LSR line status
 *
 * Output is polled: we wait for LSR.THRE ("transmit holding register empty") before each
 * byte. Input is interrupt-driven: IER bit 0 makes the UART raise its interrupt when a byte
 * arrives; the handler drains the receive FIFO and hands the bytes to the console.
 */
#include "drivers/uart.h"
#include "kernel/cpu.h"
#include "kernel/trap.h"

enum {
    COM1 = 0x3F8,
    REG_DATA = 0,
    REG_IER = 1,
    REG_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    LCR_DLAB = 0x80,
    LCR_8N1 = 0x03,
    FCR_ENABLE_CLEAR_TRIGGER1 = 0x07, /* FIFOs on, both cleared, interrupt after 1 byte */
    MCR_DTR_RTS_OUT2 = 0x0B,          /* OUT2 gates the UART's IRQ line on PC boards */
    IER_RX_DATA = 0x01,
    LSR_DATA_READY = 0x01,
    LSR_THR_EMPTY = 0x20,
};

static void (*rx_callback)(char c);

void uart_init(void)
{
    outb(COM1 + REG_IER, 0);            /* no interrupts while we configure */
    outb(COM1 + REG_LCR, LCR_DLAB);     /* ports +0/+1 = baud divisor */
    outb(COM1 + REG_DATA, 1);           /* 115200 / 1 = 115200 baud */
    outb(COM1 + REG_IER, 0);
    outb(COM1 + REG_LCR, LCR_8N1);      /* 8 data bits, no parity, 1 stop bit */
    outb(COM1 + REG_FCR, FCR_ENABLE_CLEAR_TRIGGER1);
    outb(COM1 + REG_MCR, MCR_DTR_RTS_OUT2);
}

void uart_putc(char c)
{
    while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY))
        ;
    outb(COM1 + REG_DATA, (uint8_t)c);
}

static void uart_interrupt(struct trap_frame *frame)
{
    (void)frame;
    /* Reading RBR until LSR.DR clears empties the FIFO and clears the interrupt. */
    while (inb(COM1 + REG_LSR) & LSR_DATA_READY) {
        char c = (char)inb(COM1 + REG_DATA);
        if (rx_callback)
            rx_callback(c);
    }
}

void uart_enable_rx_interrupt(void (*receive)(char c))
{
    rx_callback = receive;
    irq_register(UART_IRQ, uart_interrupt);
    outb(COM1 + REG_IER, IER_RX_DATA);
}
