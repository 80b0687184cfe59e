/* disk.h - "the disk": the one block device the kernel's disk system calls use. At boot it is
 * a virtio-blk device when there is one, the IDE primary master otherwise. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <tinyos/abi.h>

#define DISK_MAX_SECTORS 128 /* one transfer = at most 64 KiB (one buffer) */

struct disk_description {
    bool present;
    bool virtio;        /* the virtio-blk driver, not IDE */
    const char *driver; /* "ide" or "virtio-blk" */
    bool dma;           /* IDE only: bus-master DMA usable (DISK_PIO and DISK_DMA choose) */
    uint64_t sectors;
    char model[41];
};

/* Probe virtio-blk, then IDE; say on the console which one is used. */
void disk_init(void);
const struct disk_description *disk_get(void);

/* The buffer every transfer reads into / writes from (DISK_MAX_SECTORS * 512 bytes),
 * physically contiguous and 64 KiB aligned. Hold disk_lock() while using it. */
uint8_t *disk_buffer(void);
void disk_lock(void);
void disk_unlock(void);

/* Transfer `count` sectors at absolute `lba` between the disk and disk_buffer(). `mode` picks
 * PIO or DMA on IDE; a virtio disk only knows DISK_AUTO. Returns 0 or a negative error. */
int disk_transfer(uint64_t lba, uint32_t count, bool write, enum disk_mode mode);
