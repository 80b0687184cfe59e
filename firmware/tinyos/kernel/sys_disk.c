/* sys_disk.c - reading and writing the data area of the disk (drivers/disk.c: virtio-blk or IDE).
 *
 * User LBA 0 is absolute LBA DISK_DATA_AREA_LBA: the boot sector, stage2 and the kernel
 * below it cannot be overwritten from the shell. The same rule holds on a virtio disk, so
 * one image file can be attached either way.
 */
#include "drivers/disk.h"
#include "kernel/layout.h"
#include "kernel/syscalls.h"
#include "kernel/uaccess.h"
#include "lib/string.h"

static uint64_t data_sectors(void)
{
    const struct disk_description *disk = disk_get();
    return disk->present && disk->sectors > DISK_DATA_AREA_LBA ? disk->sectors - DISK_DATA_AREA_LBA : 0;
}

SYSCALL(sys_diskinfo)
{
    struct disk_info *out = (struct disk_info *)a0;
    if (!user_range_ok(a0, sizeof *out))
        return ERR_INVALID;
    const struct disk_description *disk = disk_get();
    out->present = disk->present;
    out->dma = disk->dma;
    out->virtio = disk->virtio;
    out->data_lba = DISK_DATA_AREA_LBA;
    out->data_sectors = data_sectors();
    out->max_sectors = DISK_MAX_SECTORS;
    memcpy(out->model, disk->model, sizeof out->model);
    return 0;
}

/* Touch every page of the user buffer now, so that a missing heap/stack page is mapped (or
 * the process killed) before we hold the disk lock. */
static void prefault(uint64_t addr, uint64_t len)
{
    for (uint64_t p = addr & ~(PAGE_SIZE - 1); p < addr + len; p += PAGE_SIZE)
        (void)*(volatile uint8_t *)(p < addr ? addr : p);
}

static long transfer(uint64_t lba, uint64_t buf, uint64_t count, uint64_t mode, bool write)
{
    if (count == 0 || count > DISK_MAX_SECTORS || mode > DISK_DMA || lba >= data_sectors() ||
        count > data_sectors() - lba || !user_range_ok(buf, count * 512))
        return ERR_INVALID;
    prefault(buf, count * 512);
    disk_lock();
    if (write)
        memcpy(disk_buffer(), (const void *)buf, count * 512);
    int err = disk_transfer(DISK_DATA_AREA_LBA + lba, (uint32_t)count, write, (enum disk_mode)mode);
    if (!err && !write)
        memcpy((void *)buf, disk_buffer(), count * 512);
    disk_unlock();
    return err ? err : (long)count;
}

SYSCALL(sys_diskread) { return transfer(a0, a1, a2, a3, false); }
SYSCALL(sys_diskwrite) { return transfer(a0, a1, a2, a3, true); }
