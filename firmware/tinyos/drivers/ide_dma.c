/* ide_dma.c - bus-master DMA on a PCI IDE controller (Intel 82371 PIIX/PIIX3 datasheet,
 * section "Bus Master IDE Function"; the same registers as SFF-8038i).
 *
 * The controller's BAR4 is a 16-byte I/O range; the primary channel uses the first 8 bytes:
 *   +0 command: bit 0 start/stop, bit 3 direction (1 = the controller WRITES memory, i.e.
 *      the disk is being read)
 *   +2 status:  bit 0 active, bit 1 error, bit 2 interrupt (bits 1 and 2 clear when written 1)
 *   +4 physical address of the PRD table
 * A Physical Region Descriptor (PRD) table lists the memory buffers: each entry is
 * {32-bit physical address, 16-bit byte count (0 = 64 KiB), bit 15 of the last word =
 * end of table}. A buffer must not cross a 64 KiB boundary.
 *
 * A DMA transfer: program the PRD table and direction, issue READ DMA / WRITE DMA to the
 * drive, set the start bit. The controller and drive move the data on their own; when done,
 * the drive raises IRQ 14 and the controller sets its interrupt bit. The waiting process
 * sleeps meanwhile, so the CPU can run someone else -- the point of DMA. (Interrupt-driven,
 * with a once-per-tick look at the status register in case an interrupt gets lost.)
 */
#include "drivers/ide_dma.h"
#include "drivers/ata.h"
#include "drivers/pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/process.h"
#include "kernel/timer.h"
#include "kernel/idle.h"
#include <tinyos/abi.h>

enum {
    BM_COMMAND = 0,
    BM_STATUS = 2,
    BM_PRD_TABLE = 4,
    BM_CMD_START = 0x01,
    BM_CMD_TO_MEMORY = 0x08,
    BM_ST_ACTIVE = 0x01,
    BM_ST_ERROR = 0x02,
    BM_ST_INTERRUPT = 0x04,
    PRD_END_OF_TABLE = 0x8000,
    TIMEOUT_MS = 3000,
};

struct prd {
    uint32_t address;
    uint16_t byte_count;
    uint16_t flags;
} __attribute__((packed));

static uint16_t bm_base; /* I/O port of the primary channel's bus-master registers */
static struct prd prd_table[1] __attribute__((aligned(16))); /* cannot cross 64 KiB */
static volatile bool transfer_done;
static volatile bool in_flight; /* IRQ 14 also fires for PIO commands: ignore those */

bool ide_dma_init(const struct pci_device *controller)
{
    uint64_t bar4 = pci_bar(controller, 4);
    if (!(pci_read32(controller, PCI_BAR0 + 16) & 1) || bar4 == 0)
        return false; /* must be an I/O BAR */
    bm_base = (uint16_t)bar4;
    /* I/O decoding for the registers, bus mastering for the DMA engine itself. */
    pci_enable(controller, PCI_COMMAND_IO | PCI_COMMAND_BUS_MASTER);
    kprintf("ide: bus-master DMA via %04x:%04x at pci %02x:%02x.%x, registers at port %x\n",
            controller->vendor_id, controller->device_id, controller->bus, controller->device,
            controller->function, bm_base);
    return true;
}

void ide_dma_interrupt(void)
{
    uint8_t status = inb(bm_base + BM_STATUS);
    if (in_flight && (status & BM_ST_INTERRUPT)) {
        in_flight = false;
        transfer_done = true;
        process_wakeup(&transfer_done);
    }
}

int ide_dma_transfer(uint32_t lba, uint32_t count, bool write, uint64_t buffer)
{
    uint32_t bytes = count * 512;
    prd_table[0].address = (uint32_t)buffer;
    prd_table[0].byte_count = (uint16_t)bytes; /* 65536 wraps to 0, which means 64 KiB */
    prd_table[0].flags = PRD_END_OF_TABLE;

    uint8_t direction = write ? 0 : BM_CMD_TO_MEMORY;
    outb(bm_base + BM_COMMAND, direction); /* stopped, direction set */
    outl(bm_base + BM_PRD_TABLE, (uint32_t)(uint64_t)prd_table);
    outb(bm_base + BM_STATUS, inb(bm_base + BM_STATUS) | BM_ST_ERROR | BM_ST_INTERRUPT);

    if (ata_wait_not_busy(TIMEOUT_MS) < 0)
        return ERR_TIMEOUT;
    uint64_t flags = irq_save();
    transfer_done = false;
    in_flight = true;
    ata_setup_lba28(lba, count);
    outb(ATA_COMMAND, write ? ATA_CMD_WRITE_DMA : ATA_CMD_READ_DMA);
    outb(bm_base + BM_COMMAND, direction | BM_CMD_START);

    uint64_t deadline = timer_ticks() + timer_ms_to_ticks(TIMEOUT_MS);
    while (!transfer_done && timer_ticks() < deadline) {
        /* Normally IRQ 14 wakes us. As a safety net (a lost interrupt) we also look at the
         * controller's status once per tick: interrupt bit set, engine no longer active. */
        uint8_t status = inb(bm_base + BM_STATUS);
        if ((status & BM_ST_INTERRUPT) && !(status & BM_ST_ACTIVE)) {
            transfer_done = true;
            break;
        }
        if (current)
            process_sleep(&transfer_done, timer_ticks() + 1);
        else { /* during boot there is no process to put to sleep */
            cpu_idle();
            cli();
        }
    }
    in_flight = false;
    irq_restore(flags);

    outb(bm_base + BM_COMMAND, direction); /* clear start: the engine stops */
    uint8_t bm_status = inb(bm_base + BM_STATUS);
    uint8_t ata_status = inb(ATA_STATUS);
    outb(bm_base + BM_STATUS, bm_status | BM_ST_ERROR | BM_ST_INTERRUPT);
    if (!transfer_done)
        return ERR_TIMEOUT;
    if ((bm_status & BM_ST_ERROR) || (ata_status & (ATA_SR_ERR | ATA_SR_DF)))
        return ERR_IO;
    return 0;
}
