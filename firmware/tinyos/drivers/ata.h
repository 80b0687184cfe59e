/* ata.h - ATA (IDE) task-file registers of the primary channel, shared by drivers/ide.c
 * (PIO) and drivers/ide_dma.c (bus-master DMA). Reference: ATA/ATAPI-6 (T13/1410D), section 7. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

enum {
    ATA_DATA = 0x1F0,         /* 16-bit data port for PIO transfers */
    ATA_ERROR = 0x1F1,        /* read: error register */
    ATA_SECTOR_COUNT = 0x1F2,
    ATA_LBA_LOW = 0x1F3,      /* LBA bits 7:0 */
    ATA_LBA_MID = 0x1F4,      /* LBA bits 15:8 */
    ATA_LBA_HIGH = 0x1F5,     /* LBA bits 23:16 */
    ATA_DEVICE = 0x1F6,       /* bit 6 LBA mode, bit 4 drive (0 = master), bits 3:0 LBA 27:24 */
    ATA_STATUS = 0x1F7,       /* read: status (reading it acknowledges the interrupt) */
    ATA_COMMAND = 0x1F7,      /* write: command */
    ATA_ALT_STATUS = 0x3F6,   /* read: status without acknowledging */
    ATA_DEVICE_CONTROL = 0x3F6, /* write: bit 1 nIEN (1 = no interrupts), bit 2 SRST */

    ATA_SR_ERR = 0x01,  /* the command failed, see the error register */
    ATA_SR_DRQ = 0x08,  /* the drive wants to transfer a sector of data */
    ATA_SR_DF = 0x20,   /* device fault */
    ATA_SR_DRDY = 0x40, /* ready for a command */
    ATA_SR_BSY = 0x80,  /* busy: all other bits are meaningless */

    ATA_CMD_READ_SECTORS = 0x20, /* PIO, LBA28 */
    ATA_CMD_WRITE_SECTORS = 0x30,
    ATA_CMD_READ_DMA = 0xC8,
    ATA_CMD_WRITE_DMA = 0xCA,
    ATA_CMD_FLUSH_CACHE = 0xE7,
    ATA_CMD_IDENTIFY = 0xEC,

    ATA_DEVICE_LBA_MASTER = 0xE0, /* bits 7 and 5 are obsolete "always 1", bit 6 = LBA */
};

/* Wait until BSY clears; returns the status, or -1 after `timeout_ms`. */
int ata_wait_not_busy(unsigned timeout_ms);
/* Select the master drive and load LBA + sector count into the task file. */
void ata_setup_lba28(uint32_t lba, uint32_t count);
