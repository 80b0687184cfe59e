/* ide.h - the IDE disk on the primary channel (master drive): PIO and bus-master DMA. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <tinyos/abi.h>

#define IDE_MAX_SECTORS 128 /* one transfer = at most 64 KiB (one DMA buffer) */

struct ide_info {
    bool present;
    bool dma; /* a PCI IDE controller with bus mastering was found */
    uint32_t sectors; /* LBA28 capacity (IDENTIFY words 60-61) */
    char model[41];
};

void ide_init(void);
const struct ide_info *ide_get_info(void);

/* The buffer every transfer reads into / writes from (IDE_MAX_SECTORS * 512 bytes). It is
 * physically contiguous and 64 KiB aligned, as the DMA engine needs. Hold ide_lock()
 * while using it. */
uint8_t *ide_buffer(void);
void ide_lock(void);
void ide_unlock(void);

/* Transfer `count` sectors at absolute `lba` between the disk and ide_buffer().
 * Returns 0 or a negative error (include/tinyos/abi.h). */
int ide_transfer(uint32_t lba, uint32_t count, bool write, enum disk_mode mode);
