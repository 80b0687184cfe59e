/* virtio_blk.h - the virtio block device (OASIS VIRTIO 1.1, section 5.2). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct virtio_blk_info {
    bool present;
    bool read_only;    /* VIRTIO_BLK_F_RO: writes fail */
    uint64_t sectors;  /* capacity in 512-byte sectors */
    char model[41];    /* "virtio-blk" plus the device's serial number, if it has one */
};

/* Find, reset and set up the first virtio-blk device. False when there is none. */
bool virtio_blk_init(void);
const struct virtio_blk_info *virtio_blk_get_info(void);
/* Transfer `count` sectors at absolute `lba` between the disk and `buffer` (physically
 * contiguous; the kernel's identity map makes any kernel pointer one). The caller sleeps until
 * the device has finished. Returns 0 or a negative error (include/tinyos/abi.h). */
int virtio_blk_transfer(uint64_t lba, uint32_t count, bool write, uint8_t *buffer);
