/* virtio_blk.c - the virtio block device (OASIS VIRTIO 1.1, section 5.2).
 *
 * One virtqueue (requestq, 0). A request is a chain of three kinds of buffers (5.2.6):
 *   a 16-byte header the device reads: type (IN = read, OUT = write, FLUSH, GET_ID), the
 *   starting sector (always 512-byte units, whatever the block size);
 *   the data: the device writes it for IN and reads it for OUT (one or more descriptors);
 *   one status byte the device writes last: OK, IOERR or UNSUPP.
 * We put the chain on the available ring, notify, and sleep until the device returns it on
 * the used ring and raises its interrupt -- the same pattern as IDE bus-master DMA, but with
 * no task-file registers: everything the device needs is in RAM.
 */
#include "drivers/virtio_blk.h"
#include "drivers/virtio_pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/process.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "lib/string.h"
#include "kernel/idle.h"
#include <tinyos/abi.h>

enum {
    /* Feature bits (5.2.3) */
    BLK_F_SIZE_MAX = 1, /* size_max: largest data descriptor */
    BLK_F_SEG_MAX = 2,  /* seg_max: most data descriptors per request */
    BLK_F_RO = 5,
    BLK_F_FLUSH = 9,
    /* Device configuration (5.2.4) */
    CONFIG_CAPACITY = 0,
    CONFIG_SIZE_MAX = 8,
    CONFIG_SEG_MAX = 12,
    /* Request types and status (5.2.6) */
    BLK_T_IN = 0,
    BLK_T_OUT = 1,
    BLK_T_FLUSH = 4,
    BLK_T_GET_ID = 8,
    BLK_S_OK = 0,
    BLK_S_UNSUPP = 2,
    ID_BYTES = 20,
    MAX_SEGMENTS = 16, /* data descriptors per request (64 KiB in 4 KiB pieces at worst) */
    QUEUE_SIZE = 32,
    TIMEOUT_MS = 3000,
};

struct request_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct virtio_device dev;
static struct virtq queue;
static struct virtio_blk_info info;
static uint32_t segment_bytes = 1u << 16, max_segments = MAX_SEGMENTS;
/* One request at a time (the disk layer's lock ensures it): its header and status live here. */
static struct request_header header __attribute__((aligned(16)));
static volatile uint8_t status;
static volatile bool request_done;

const struct virtio_blk_info *virtio_blk_get_info(void) { return &info; }

static bool has(unsigned feature) { return dev.features & (1ull << feature); }

/* Take finished requests off the used ring; true if ours is among them. */
static bool collect(void)
{
    bool done = false;
    while (virtq_get_used(&queue, 0) >= 0)
        done = true;
    if (done) {
        request_done = true;
        process_wakeup(&request_done);
    }
    return done;
}

static void blk_interrupt(struct trap_frame *frame)
{
    (void)frame;
    if (virtio_isr_read(&dev) & 1) /* bit 0: a queue was used (this also deasserts INTx) */
        collect();
}

/* Put one request on the queue and wait for it: header, `data` split into descriptors of at
 * most segment_bytes, status. */
static int submit(uint32_t type, uint64_t sector, uint8_t *data, uint32_t bytes, bool device_writes)
{
    struct virtq_buffer chain[MAX_SEGMENTS + 2];
    unsigned n = 0;
    header = (struct request_header){.type = type, .sector = sector};
    chain[n++] = (struct virtq_buffer){(uint64_t)&header, sizeof header, false};
    for (uint32_t off = 0; off < bytes; off += segment_bytes) {
        uint32_t len = bytes - off < segment_bytes ? bytes - off : segment_bytes;
        chain[n++] = (struct virtq_buffer){(uint64_t)(data + off), len, device_writes};
    }
    status = 0xFF;
    chain[n++] = (struct virtq_buffer){(uint64_t)&status, 1, true};

    uint64_t flags = irq_save();
    request_done = false;
    if (virtq_add(&queue, chain, n) < 0) {
        irq_restore(flags);
        return ERR_AGAIN;
    }
    virtq_notify(&queue);
    uint64_t deadline = timer_ticks() + timer_ms_to_ticks(TIMEOUT_MS);
    while (!request_done && timer_ticks() < deadline) {
        if (collect()) /* a lost or not yet delivered interrupt: look at the used ring ourselves */
            break;
        if (current)
            process_sleep(&request_done, timer_ticks() + 1);
        else { /* during boot there is no process to put to sleep */
            cpu_idle();
            cli();
        }
    }
    irq_restore(flags);
    if (!request_done) {
        kprintf("virtio-blk: request (type %u, sector %lu) timed out\n", type, sector);
        return ERR_TIMEOUT;
    }
    return status == BLK_S_OK ? 0 : status == BLK_S_UNSUPP ? ERR_INVALID : ERR_IO;
}

int virtio_blk_transfer(uint64_t lba, uint32_t count, bool write, uint8_t *buffer)
{
    if (!info.present)
        return ERR_NO_DEVICE;
    if (count == 0 || lba >= info.sectors || count > info.sectors - lba)
        return ERR_INVALID;
    if (write && info.read_only)
        return ERR_IO;
    /* Split what does not fit one request's segments. */
    uint32_t per_request = segment_bytes * max_segments / 512;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < per_request ? count - done : per_request;
        int err = submit(write ? BLK_T_OUT : BLK_T_IN, lba + done, buffer + (uint64_t)done * 512, n * 512, !write);
        if (err)
            return err;
        done += n;
    }
    /* As on IDE: a write is reported only once it is durable. */
    if (write && has(BLK_F_FLUSH))
        return submit(BLK_T_FLUSH, 0, 0, 0, false);
    return 0;
}

/* GET_ID returns up to 20 bytes of serial number, NUL-padded (5.2.6). Not every device has it. */
static void read_model(void)
{
    static uint8_t id[ID_BYTES + 1] __attribute__((aligned(16)));
    memset(id, 0, sizeof id);
    memcpy(info.model, "virtio-blk", sizeof "virtio-blk");
    if (submit(BLK_T_GET_ID, 0, id, ID_BYTES, true) == 0 && id[0]) {
        size_t len = strlen(info.model);
        info.model[len++] = ' ';
        for (unsigned i = 0; i < ID_BYTES && id[i] && len < sizeof info.model - 1; i++)
            info.model[len++] = (char)(id[i] >= ' ' && id[i] < 127 ? id[i] : '?');
        info.model[len] = '\0';
    }
}

bool virtio_blk_init(void)
{
    uint64_t wanted = 1ull << BLK_F_SIZE_MAX | 1ull << BLK_F_SEG_MAX | 1ull << BLK_F_RO | 1ull << BLK_F_FLUSH;
    if (!virtio_pci_start(VIRTIO_TYPE_BLOCK, "virtio-blk", wanted, &dev))
        return false;
    if (!virtio_queue_setup(&dev, 0, QUEUE_SIZE, &queue)) {
        virtio_fail(&dev, "virtio-blk", "cannot set up the request queue");
        return false;
    }
    info.sectors = virtio_config_read64(&dev, CONFIG_CAPACITY);
    info.read_only = has(BLK_F_RO);
    if (has(BLK_F_SIZE_MAX)) {
        uint32_t size_max = virtio_config_read32(&dev, CONFIG_SIZE_MAX) & ~511u;
        if (size_max && size_max < segment_bytes)
            segment_bytes = size_max;
    }
    if (has(BLK_F_SEG_MAX)) {
        uint32_t seg_max = virtio_config_read32(&dev, CONFIG_SEG_MAX);
        if (seg_max && seg_max < max_segments)
            max_segments = seg_max;
    }
    if (max_segments > queue.size - 2u) /* header and status take a descriptor each */
        max_segments = queue.size - 2u;
    if (dev.irq != 0xFF)
        irq_register(dev.irq, blk_interrupt);
    virtio_driver_ok(&dev);
    info.present = true;
    read_model();
    kprintf("virtio-blk: \"%s\", %lu sectors (%lu MiB)%s, up to %u x %u bytes per request\n", info.model,
            info.sectors, info.sectors / 2048, info.read_only ? ", read-only" : "", max_segments, segment_bytes);
    return true;
}
