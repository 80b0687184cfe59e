/* ide.c - the master drive on the primary IDE channel: detection (IDENTIFY DEVICE) and
 * programmed I/O (PIO) transfers with 28-bit LBA addresses.
 *
 * PIO means the CPU moves every 16-bit word through the data port itself (REP INSW/OUTSW):
 * simple, but the CPU is busy the whole time. drivers/ide_dma.c lets the controller copy
 * instead. PIO here is polled: we watch the status register rather than wait for IRQ 14
 * (ATA/ATAPI-6, section 9.5 "PIO data-in / data-out" protocols).
 */
#include "drivers/ide.h"
#include "drivers/ata.h"
#include "drivers/ide_dma.h"
#include "drivers/pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "lib/string.h"

enum {
    IDE_IRQ = 14,
    TIMEOUT_MS = 2000,
    MAX_SECTORS = 128, /* 64 KiB: one PRD entry */
    PCI_CLASS_STORAGE = 0x01,
    PCI_SUBCLASS_IDE = 0x01,
};

static struct ide_info info;

const struct ide_info *ide_get_info(void) { return &info; }

/* The drive needs 400 ns after a device/command write before its status is valid; four
 * reads of the alternate status register take at least that long (ATA-6 section 9.2.2). */
static void delay_400ns(void)
{
    for (int i = 0; i < 4; i++)
        inb(ATA_ALT_STATUS);
}

int ata_wait_not_busy(unsigned timeout_ms)
{
    uint64_t deadline = timer_ticks() + timer_ms_to_ticks(timeout_ms) + 1;
    for (;;) {
        uint8_t status = inb(ATA_STATUS);
        if (!(status & ATA_SR_BSY))
            return status;
        if (timer_ticks() > deadline)
            return -1;
    }
}

void ata_setup_lba28(uint32_t lba, uint32_t count)
{
    outb(ATA_DEVICE, (uint8_t)(ATA_DEVICE_LBA_MASTER | ((lba >> 24) & 0x0F)));
    delay_400ns();
    outb(ATA_SECTOR_COUNT, (uint8_t)count); /* 0 would mean 256 */
    outb(ATA_LBA_LOW, (uint8_t)lba);
    outb(ATA_LBA_MID, (uint8_t)(lba >> 8));
    outb(ATA_LBA_HIGH, (uint8_t)(lba >> 16));
}

/* Wait for the drive to offer (or ask for) one sector: BSY clear and DRQ set. */
static int wait_data_request(void)
{
    int status = ata_wait_not_busy(TIMEOUT_MS);
    if (status < 0)
        return ERR_TIMEOUT;
    if (status & (ATA_SR_ERR | ATA_SR_DF) || !(status & ATA_SR_DRQ))
        return ERR_IO;
    return 0;
}

static int flush_cache(void)
{
    outb(ATA_COMMAND, ATA_CMD_FLUSH_CACHE);
    delay_400ns();
    int status = ata_wait_not_busy(TIMEOUT_MS * 5);
    return status < 0 ? ERR_TIMEOUT : (status & (ATA_SR_ERR | ATA_SR_DF)) ? ERR_IO : 0;
}

/* Software reset of both drives on the channel: SRST (device control bit 2) high for at
 * least 5 us, then low; the drive is ready again when BSY clears (ATA-6 section 9.2). */
static void soft_reset(void)
{
    outb(ATA_DEVICE_CONTROL, 0x04);
    for (int i = 0; i < 50; i++)
        io_wait(); /* ~1 us each */
    outb(ATA_DEVICE_CONTROL, 0);
    ata_wait_not_busy(TIMEOUT_MS * 5);
}

static int pio_transfer(uint32_t lba, uint32_t count, bool write, uint8_t *buffer)
{
    if (ata_wait_not_busy(TIMEOUT_MS) < 0)
        return ERR_TIMEOUT;
    ata_setup_lba28(lba, count);
    outb(ATA_COMMAND, write ? ATA_CMD_WRITE_SECTORS : ATA_CMD_READ_SECTORS);
    delay_400ns();
    for (uint32_t s = 0; s < count; s++) {
        int err = wait_data_request();
        if (err)
            return err;
        void *p = buffer + s * 512;
        uint64_t words = 256;
        if (write)
            __asm__ volatile("rep outsw" : "+S"(p), "+c"(words) : "d"((uint16_t)ATA_DATA) : "memory");
        else
            __asm__ volatile("rep insw" : "+D"(p), "+c"(words) : "d"((uint16_t)ATA_DATA) : "memory");
        delay_400ns();
    }
    if (write) {
        if (ata_wait_not_busy(TIMEOUT_MS) < 0)
            return ERR_TIMEOUT;
        return flush_cache(); /* make the data durable before we report success */
    }
    return 0;
}

int ide_transfer(uint32_t lba, uint32_t count, bool write, enum disk_mode mode, uint8_t *buffer)
{
    if (!info.present)
        return ERR_NO_DEVICE;
    if (count == 0 || count > MAX_SECTORS || lba + count > info.sectors)
        return ERR_INVALID;
    if (mode == DISK_DMA && !info.dma)
        return ERR_NO_DEVICE;
    if (mode == DISK_DMA || (mode == DISK_AUTO && info.dma)) {
        int err = ide_dma_transfer(lba, count, write, (uint64_t)buffer);
        if (!err && write)
            err = flush_cache();
        if (!err || mode == DISK_DMA)
            return err;
        /* DMA failed where the drive and controller claimed to support it: reset the drive,
         * stop using DMA and do this transfer with PIO instead. */
        kprintf("ide: DMA transfer failed (error %d): using PIO from now on\n", err);
        info.dma = false;
        soft_reset();
    }
    return pio_transfer(lba, count, write, buffer);
}

static void ide_interrupt(struct trap_frame *frame)
{
    (void)frame;
    if (info.dma)
        ide_dma_interrupt();
    inb(ATA_STATUS); /* reading STATUS deasserts the drive's INTRQ */
}

/* IDENTIFY DEVICE returns 256 words describing the drive (ATA-6 section 8.15). */
static bool identify(void)
{
    outb(ATA_DEVICE, ATA_DEVICE_LBA_MASTER);
    delay_400ns();
    if (inb(ATA_STATUS) == 0xFF)
        return false; /* floating bus: no controller or no drive */
    outb(ATA_SECTOR_COUNT, 0);
    outb(ATA_LBA_LOW, 0);
    outb(ATA_LBA_MID, 0);
    outb(ATA_LBA_HIGH, 0);
    outb(ATA_COMMAND, ATA_CMD_IDENTIFY);
    delay_400ns();
    if (inb(ATA_STATUS) == 0)
        return false; /* no drive */
    int status = ata_wait_not_busy(TIMEOUT_MS);
    if (status < 0)
        return false;
    if (inb(ATA_LBA_MID) || inb(ATA_LBA_HIGH))
        return false; /* a signature of an ATAPI (CD-ROM) or SATA device, not an ATA disk */
    if (wait_data_request())
        return false;
    uint16_t id[256];
    for (int i = 0; i < 256; i++)
        id[i] = inw(ATA_DATA);
    /* Words 27-46: model name, 40 ASCII characters, two per word with the first in the high byte. */
    for (int i = 0; i < 20; i++) {
        info.model[2 * i] = (char)(id[27 + i] >> 8);
        info.model[2 * i + 1] = (char)(id[27 + i] & 0xFF);
    }
    for (int i = 39; i >= 0 && info.model[i] == ' '; i--)
        info.model[i] = '\0';
    info.sectors = id[60] | (uint32_t)id[61] << 16; /* words 60-61: LBA28 sector count */
    return info.sectors != 0;
}

void ide_init(void)
{
    outb(ATA_DEVICE_CONTROL, 0); /* nIEN = 0: the drive may raise IRQ 14 (used by DMA) */
    info.present = identify();
    if (!info.present) {
        kprintf("ide: no ATA disk on the primary channel\n");
        return;
    }
    kprintf("ide: primary master \"%s\", %u sectors (%u MiB)\n", info.model, info.sectors,
            info.sectors / 2048);

    struct pci_device controller;
    if (pci_find_class(PCI_CLASS_STORAGE, PCI_SUBCLASS_IDE, &controller))
        info.dma = ide_dma_init(&controller);
    if (!info.dma)
        kprintf("ide: no bus-master IDE controller, PIO only\n");
    irq_register(IDE_IRQ, ide_interrupt);
}
