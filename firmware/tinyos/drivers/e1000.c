/* e1000.c - driver for the Intel 82540EM (Intel "PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual", 8254x SDM; section numbers below refer to it).
 *
 * The card's registers are memory-mapped at BAR0. Packets move through two rings of
 * 16-byte descriptors in RAM that the card reads and writes by DMA:
 *   - receive ring (3.2): we hand the card empty 2 KiB buffers; it fills one per frame,
 *     sets the descriptor's DD ("descriptor done") bit and raises an interrupt;
 *   - transmit ring (3.3): we fill a buffer, point a descriptor at it and move the tail
 *     register; the card sends it and sets DD when done.
 * Each ring has a head (the card's position) and a tail (ours): the card owns the
 * descriptors from head up to tail-1.
 *
 * Interrupts: the card signals on its PCI INTx line, which the BIOS routed to a PIC input
 * and wrote into config register 0x3C. If that is unusable we poll from the timer tick.
 */
#include "drivers/e1000.h"
#include "drivers/pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include "kernel/timer.h"
#include "kernel/vmm.h"
#include "kernel/trap.h"
#include "lib/string.h"

enum {
    E1000_REGISTER_BYTES = 128 * 1024, /* BAR0: the register window */
    /* Register offsets (13.4) */
    REG_CTRL = 0x0000,
    REG_STATUS = 0x0008,
    REG_EERD = 0x0014, /* EEPROM read */
    REG_ICR = 0x00C0,  /* interrupt cause read (reading clears it) */
    REG_IMS = 0x00D0,  /* interrupt mask set */
    REG_IMC = 0x00D8,  /* interrupt mask clear */
    REG_RCTL = 0x0100,
    REG_TCTL = 0x0400,
    REG_TIPG = 0x0410,
    REG_RDBAL = 0x2800,
    REG_RDBAH = 0x2804,
    REG_RDLEN = 0x2808,
    REG_RDH = 0x2810,
    REG_RDT = 0x2818,
    REG_TDBAL = 0x3800,
    REG_TDBAH = 0x3804,
    REG_TDLEN = 0x3808,
    REG_TDH = 0x3810,
    REG_TDT = 0x3818,
    REG_MTA = 0x5200, /* multicast table, 128 entries */
    REG_RAL0 = 0x5400,
    REG_RAH0 = 0x5404,

    CTRL_ASDE = 1 << 5,  /* auto speed detection */
    CTRL_SLU = 1 << 6,   /* set link up */
    CTRL_RST = 1 << 26,  /* device reset (self-clearing) */
    EERD_START = 1 << 0,
    EERD_DONE = 1 << 4,
    RAH_ADDRESS_VALID = 1u << 31,
    RCTL_EN = 1 << 1,
    RCTL_BAM = 1 << 15,  /* accept broadcast (needed for ARP) */
    RCTL_SECRC = 1 << 26, /* strip the Ethernet CRC; buffer size bits 17:16 = 00 -> 2048 bytes */
    TCTL_EN = 1 << 1,
    TCTL_PSP = 1 << 3,   /* pad short packets to 64 bytes */
    TCTL_CT = 0x10 << 4, /* collision threshold (13.4.33: recommended 0x10) */
    TCTL_COLD = 0x40 << 12, /* collision distance for full duplex */
    TIPG_82540 = 10 | (8 << 10) | (6 << 20), /* IPGT, IPGR1, IPGR2 for copper (13.4.34) */
    INT_TXDW = 1 << 0,   /* transmit descriptor written back */
    INT_LSC = 1 << 2,    /* link status change */
    INT_RXDMT0 = 1 << 4, /* receive descriptors running low */
    INT_RXO = 1 << 6,    /* receiver overrun */
    INT_RXT0 = 1 << 7,   /* receive timer: a frame arrived */
    DESC_DD = 1 << 0,    /* status: descriptor done */
    DESC_EOP = 1 << 1,   /* receive status: end of packet */
    TXCMD_EOP = 1 << 0,  /* transmit command: end of packet (the last buffer of a frame) */
    TXCMD_IFCS = 1 << 1, /* insert the Ethernet CRC */
    TXCMD_RS = 1 << 3,   /* report status: set DD when sent */

    RX_COUNT = 32,
    TX_COUNT = 16,
    BUFFER_SIZE = 2048,
};

struct rx_descriptor { /* 3.2.3 */
    uint64_t address;
    uint16_t length;
    uint16_t checksum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
} __attribute__((packed));

struct tx_descriptor { /* 3.3.3, legacy format */
    uint64_t address;
    uint16_t length;
    uint8_t checksum_offset;
    uint8_t command;
    uint8_t status;
    uint8_t checksum_start;
    uint16_t special;
} __attribute__((packed));

static uintptr_t regs; /* BAR0: base of the memory-mapped registers */
static bool present;
static uint8_t mac[6];
static unsigned irq_line = 0xFF;
static e1000_receive_fn receive_handler;
static struct rx_descriptor *rx_ring;
static struct tx_descriptor *tx_ring;
static uint8_t *rx_buffers[RX_COUNT], *tx_buffers[TX_COUNT];
static unsigned rx_next, tx_tail;
static uint64_t rx_packets, tx_packets, tdt_writes;

static uint32_t rd(uint32_t reg) { return mmio_read32(regs + reg); }
static void wr(uint32_t reg, uint32_t v) { mmio_write32(regs + reg, v); }

bool e1000_present(void) { return present; }
void e1000_mac(uint8_t out[6]) { memcpy(out, mac, 6); }
unsigned e1000_irq(void) { return irq_line; }
uint64_t e1000_rx_packets(void) { return rx_packets; }
uint64_t e1000_tx_packets(void) { return tx_packets; }
uint64_t e1000_doorbells(void) { return tdt_writes; }

/* EEPROM words 0-2 hold the MAC address (5.6.1). EERD (13.4.4): write the word address to
 * bits 15:8 with START, poll DONE, the data is in bits 31:16. */
static bool read_mac_from_eeprom(void)
{
    for (uint32_t word = 0; word < 3; word++) {
        wr(REG_EERD, (word << 8) | EERD_START);
        uint32_t v = 0;
        for (int tries = 0; tries < 100000 && !((v = rd(REG_EERD)) & EERD_DONE); tries++)
            ;
        if (!(v & EERD_DONE))
            return false;
        mac[2 * word] = (uint8_t)(v >> 16);
        mac[2 * word + 1] = (uint8_t)(v >> 24);
    }
    return true;
}

/* After reset the card also loads the address into Receive Address register 0. */
static void read_mac_from_ral(void)
{
    uint32_t low = rd(REG_RAL0), high = rd(REG_RAH0);
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(low >> (8 * i));
    mac[4] = (uint8_t)high;
    mac[5] = (uint8_t)(high >> 8);
}

static bool setup_rings(void)
{
    uint64_t rx_page = pmm_alloc_page(), tx_page = pmm_alloc_page();
    if (!rx_page || !tx_page)
        return false;
    rx_ring = (struct rx_descriptor *)rx_page; /* 32 * 16 bytes; 128-byte aligned (page) */
    tx_ring = (struct tx_descriptor *)tx_page;
    for (int i = 0; i < RX_COUNT; i += 2) { /* two 2 KiB buffers per page */
        uint64_t page = pmm_alloc_page();
        if (!page)
            return false;
        rx_buffers[i] = (uint8_t *)page;
        rx_buffers[i + 1] = (uint8_t *)page + BUFFER_SIZE;
    }
    for (int i = 0; i < TX_COUNT; i += 2) {
        uint64_t page = pmm_alloc_page();
        if (!page)
            return false;
        tx_buffers[i] = (uint8_t *)page;
        tx_buffers[i + 1] = (uint8_t *)page + BUFFER_SIZE;
    }
    for (int i = 0; i < RX_COUNT; i++)
        rx_ring[i].address = (uint64_t)rx_buffers[i];
    for (int i = 0; i < TX_COUNT; i++) {
        tx_ring[i].address = (uint64_t)tx_buffers[i];
        tx_ring[i].status = DESC_DD; /* "done": free for us to use */
    }

    /* Receive (14.4): ring address/length, head 0, tail = last: all but one buffer are the card's. */
    wr(REG_RDBAL, (uint32_t)rx_page);
    wr(REG_RDBAH, (uint32_t)(rx_page >> 32));
    wr(REG_RDLEN, RX_COUNT * sizeof(struct rx_descriptor));
    wr(REG_RDH, 0);
    wr(REG_RDT, RX_COUNT - 1);
    rx_next = 0;
    wr(REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);

    /* Transmit (14.5): ring, head = tail = 0 (nothing to send). */
    wr(REG_TDBAL, (uint32_t)tx_page);
    wr(REG_TDBAH, (uint32_t)(tx_page >> 32));
    wr(REG_TDLEN, TX_COUNT * sizeof(struct tx_descriptor));
    wr(REG_TDH, 0);
    wr(REG_TDT, 0);
    tx_tail = 0;
    wr(REG_TIPG, TIPG_82540);
    wr(REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
    return true;
}

/* Hand every completed receive descriptor's frame to the network stack, then give the
 * buffer back to the card by moving the tail onto it. */
static void receive_all(void)
{
    while (rx_ring[rx_next].status & DESC_DD) {
        struct rx_descriptor *d = &rx_ring[rx_next];
        if ((d->status & DESC_EOP) && !d->errors && receive_handler) {
            rx_packets++;
            receive_handler(rx_buffers[rx_next], d->length);
        }
        d->status = 0;
        wr(REG_RDT, rx_next);
        rx_next = (rx_next + 1) % RX_COUNT;
    }
}

static void e1000_interrupt(struct trap_frame *frame)
{
    (void)frame;
    uint32_t cause = rd(REG_ICR); /* reading ICR clears the causes and deasserts INTx */
    if (cause & INT_LSC)
        kprintf("e1000: link %s\n", (rd(REG_STATUS) & 2) ? "up" : "down");
    if (cause & (INT_RXT0 | INT_RXO | INT_RXDMT0))
        receive_all();
}

void e1000_poll(void)
{
    if (present && irq_line == 0xFF)
        receive_all();
}

/* Hand the next descriptor to the card with a frame `fill` writes into its buffer. False if the
 * card still owns that descriptor (ring full) or `fill` had nothing. Interrupts off. */
static bool transmit_one(e1000_fill_fn fill, void *ctx)
{
    struct tx_descriptor *d = &tx_ring[tx_tail];
    if (!(d->status & DESC_DD)) /* the card has not sent this one yet: ring full */
        return false;
    size_t len = fill(ctx, tx_buffers[tx_tail], BUFFER_SIZE);
    if (len == 0 || len > BUFFER_SIZE)
        return false;
    d->length = (uint16_t)len;
    d->command = TXCMD_EOP | TXCMD_IFCS | TXCMD_RS;
    d->status = 0;
    tx_tail = (tx_tail + 1) % TX_COUNT;
    wr(REG_TDT, tx_tail); /* the card now owns the descriptor and will send it */
    tdt_writes++;
    tx_packets++;
    return true;
}

struct copy_frame {
    const void *frame;
    size_t len;
};

static size_t copy_frame(void *ctx, uint8_t *buffer, size_t room)
{
    const struct copy_frame *c = ctx;
    if (c->len > room)
        return 0;
    memcpy(buffer, c->frame, c->len);
    return c->len;
}

bool e1000_transmit(const void *frame, size_t len)
{
    if (!present || len > BUFFER_SIZE)
        return false;
    struct copy_frame c = {frame, len};
    uint64_t flags = irq_save(); /* interrupt handlers transmit too (ARP and ping replies) */
    bool sent = transmit_one(copy_frame, &c);
    irq_restore(flags);
    return sent;
}

/* A simple driver (like Linux's e1000 before it learnt to batch with xmit_more) moves the tail
 * once per frame: under an emulated card that is one exit per frame. */
unsigned e1000_transmit_burst(e1000_fill_fn fill, void *ctx, unsigned count)
{
    if (!present)
        return 0;
    unsigned sent = 0;
    for (; sent < count; sent++) {
        uint64_t flags = irq_save(); /* per frame: a long burst must not hold off the timer */
        bool queued = transmit_one(fill, ctx);
        irq_restore(flags);
        if (!queued)
            break;
    }
    return sent;
}

bool e1000_init(e1000_receive_fn receive)
{
    struct pci_device dev;
    if (!pci_find_device(0x8086, 0x100E, &dev)) {
        kprintf("e1000: no 8086:100E network card found\n");
        return false;
    }
    uint64_t bar0 = pci_bar(&dev, 0);
    if (!vmm_map_device(bar0, E1000_REGISTER_BYTES)) {
        kprintf("e1000: BAR0 %lx lies outside the kernel's device window\n", bar0);
        return false;
    }
    regs = (uintptr_t)bar0;
    pci_enable(&dev, PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
    receive_handler = receive;

    wr(REG_IMC, 0xFFFFFFFF); /* mask all interrupts during reset (14.3) */
    wr(REG_CTRL, rd(REG_CTRL) | CTRL_RST);
    for (int i = 0; i < 1000000 && (rd(REG_CTRL) & CTRL_RST); i++)
        ;
    wr(REG_IMC, 0xFFFFFFFF);
    rd(REG_ICR);
    wr(REG_CTRL, rd(REG_CTRL) | CTRL_SLU | CTRL_ASDE);

    if (!read_mac_from_eeprom())
        read_mac_from_ral();
    /* Program receive address 0 so the card accepts unicast frames for us. */
    wr(REG_RAL0, mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
    wr(REG_RAH0, mac[4] | mac[5] << 8 | RAH_ADDRESS_VALID);
    for (int i = 0; i < 128; i++)
        wr(REG_MTA + 4 * i, 0); /* no multicast */

    if (!setup_rings()) {
        kprintf("e1000: out of memory for rings\n");
        return false;
    }
    present = true;
    if (dev.irq_line > 0 && dev.irq_line < 16 && dev.irq_line != 2) {
        irq_line = dev.irq_line;
        irq_register(irq_line, e1000_interrupt);
        wr(REG_IMS, INT_RXT0 | INT_RXO | INT_RXDMT0 | INT_LSC);
    }
    kprintf("e1000: pci %02x:%02x.%x, registers at %lx, MAC %02x:%02x:%02x:%02x:%02x:%02x, ", dev.bus,
            dev.device, dev.function, bar0, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    if (irq_line == 0xFF)
        kprintf("no IRQ line: polled every tick\n");
    else
        kprintf("IRQ %u\n", irq_line);
    return true;
}
