/* disk.c - the kernel's disk: virtio-blk if the machine has one, else IDE.
 *
 * Both drivers move data between the disk and one buffer owned here, under one sleeping lock,
 * so kernel/sys_disk.c does not care which is underneath. The choice is made once at boot.
 */
#include "drivers/disk.h"
#include "drivers/ide.h"
#include "drivers/virtio_blk.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/process.h"
#include "lib/string.h"

static struct disk_description disk;
static uint8_t buffer[DISK_MAX_SECTORS * 512] __attribute__((aligned(65536)));
static bool locked;

const struct disk_description *disk_get(void) { return &disk; }
uint8_t *disk_buffer(void) { return buffer; }

/* A sleeping lock: a process that finds the disk busy sleeps until it is released. */
void disk_lock(void)
{
    uint64_t flags = irq_save();
    while (locked)
        process_sleep(&locked, 0);
    locked = true;
    irq_restore(flags);
}

void disk_unlock(void)
{
    uint64_t flags = irq_save();
    locked = false;
    process_wakeup(&locked);
    irq_restore(flags);
}

void disk_init(void)
{
    if (virtio_blk_init()) {
        const struct virtio_blk_info *v = virtio_blk_get_info();
        disk = (struct disk_description){.present = true, .virtio = true, .driver = "virtio-blk", .sectors = v->sectors};
        memcpy(disk.model, v->model, sizeof disk.model);
        kprintf("disk: using virtio-blk (IDE not probed)\n");
        return;
    }
    if (cpu_pv) { /* IDE is port I/O, which faults in ring 1 */
        kprintf("disk: no virtio-blk, and IDE's ports are out of reach of a deprivileged kernel\n");
        return;
    }
    ide_init();
    const struct ide_info *i = ide_get_info();
    disk = (struct disk_description){.present = i->present, .driver = "ide", .dma = i->dma, .sectors = i->sectors};
    memcpy(disk.model, i->model, sizeof disk.model);
    if (disk.present)
        kprintf("disk: using IDE (%s)\n", disk.dma ? "PIO and DMA" : "PIO");
}

int disk_transfer(uint64_t lba, uint32_t count, bool write, enum disk_mode mode)
{
    if (!disk.present)
        return ERR_NO_DEVICE;
    if (count == 0 || count > DISK_MAX_SECTORS || lba >= disk.sectors || count > disk.sectors - lba)
        return ERR_INVALID;
    if (disk.virtio) {
        if (mode != DISK_AUTO)
            return ERR_NO_DEVICE; /* PIO and DMA are IDE's two ways; virtio has one */
        return virtio_blk_transfer(lba, count, write, buffer);
    }
    return ide_transfer((uint32_t)lba, count, write, mode, buffer);
}
