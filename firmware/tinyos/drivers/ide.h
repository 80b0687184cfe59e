/* ide.h - the IDE disk on the primary channel (master drive): PIO and bus-master DMA. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <tinyos/abi.h>

struct ide_info {
    bool present;
    bool dma; /* a PCI IDE controller with bus mastering was found */
    uint32_t sectors; /* LBA28 capacity (IDENTIFY words 60-61) */
    char model[41];
};

void ide_init(void);
const struct ide_info *ide_get_info(void);

/* Transfer `count` sectors at absolute `lba` between the disk and `buffer` (physically
 * contiguous and 64 KiB aligned, as the DMA engine needs; drivers/disk.c owns it).
 * Returns 0 or a negative error (include/tinyos/abi.h). */
int ide_transfer(uint32_t lba, uint32_t count, bool write, enum disk_mode mode, uint8_t *buffer);
