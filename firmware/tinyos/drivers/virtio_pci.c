/* virtio_pci.c - the virtio 1.x PCI transport and split virtqueues (OASIS "Virtual I/O Device
 * (VIRTIO) Version 1.1"; section numbers below refer to it).
 *
 * A modern virtio PCI device (vendor 0x1AF4, device 0x1040 + type) describes where its
 * registers are with vendor-specific PCI capabilities (4.1.4): each names a BAR, an offset and
 * a length for one structure --
 *   common configuration (4.1.4.3): feature bits, device status, queue set-up;
 *   notifications (4.1.4.4): one address per queue to "kick" the device;
 *   ISR status (4.1.4.5): one byte, read to learn why INTx fired and to deassert it;
 *   device configuration (4.1.4.6): device-specific, e.g. the disk's capacity or the MAC.
 * We use INTx (the PCI interrupt line the BIOS routed), not MSI-X, so the ISR byte matters.
 *
 * Initialisation (3.1.1): reset; ACKNOWLEDGE; DRIVER; read the device's features, write the
 * subset we understand; FEATURES_OK, and read it back (the device may refuse); set up the
 * queues; DRIVER_OK.
 *
 * A split virtqueue (2.6) is three areas in RAM: a table of descriptors (address, length,
 * flags, next), an "available" ring where the driver lists chains it hands over, and a "used"
 * ring where the device returns them with the number of bytes it wrote.
 */
#include "drivers/virtio_pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include "kernel/vmm.h"

enum {
    VIRTIO_VENDOR = 0x1AF4,
    VIRTIO_MODERN_DEVICE_BASE = 0x1040,
    PCI_STATUS = 0x06,
    PCI_STATUS_CAP_LIST = 1 << 4,
    PCI_CAP_POINTER = 0x34,
    PCI_CAP_VENDOR_SPECIFIC = 0x09,
    PCI_COMMAND_INTX_DISABLE = 1 << 10,

    /* virtio_pci_cap (4.1.4): cap_vndr, cap_next, cap_len, cfg_type, bar, id, pad[2], offset,
     * length; the notification capability adds notify_off_multiplier. */
    CAP_CFG_TYPE = 3,
    CAP_BAR = 4,
    CAP_OFFSET = 8,
    CAP_LENGTH = 12,
    CAP_NOTIFY_MULTIPLIER = 16,
    CFG_COMMON = 1,
    CFG_NOTIFY = 2,
    CFG_ISR = 3,
    CFG_DEVICE = 4,

    /* struct virtio_pci_common_cfg (4.1.4.3) */
    COMMON_DEVICE_FEATURE_SELECT = 0x00,
    COMMON_DEVICE_FEATURE = 0x04,
    COMMON_DRIVER_FEATURE_SELECT = 0x08,
    COMMON_DRIVER_FEATURE = 0x0C,
    COMMON_NUM_QUEUES = 0x12,
    COMMON_DEVICE_STATUS = 0x14,
    COMMON_CONFIG_GENERATION = 0x15,
    COMMON_QUEUE_SELECT = 0x16,
    COMMON_QUEUE_SIZE = 0x18,
    COMMON_QUEUE_ENABLE = 0x1C,
    COMMON_QUEUE_NOTIFY_OFF = 0x1E,
    COMMON_QUEUE_DESC = 0x20,
    COMMON_QUEUE_DRIVER = 0x28,
    COMMON_QUEUE_DEVICE = 0x30,

    /* Device status bits (2.1) */
    STATUS_ACKNOWLEDGE = 1,
    STATUS_DRIVER = 2,
    STATUS_DRIVER_OK = 4,
    STATUS_FEATURES_OK = 8,
    STATUS_FAILED = 128,
};

static uint8_t common_read8(struct virtio_device *d, unsigned off) { return mmio_read8(d->common + off); }
static uint16_t common_read16(struct virtio_device *d, unsigned off) { return mmio_read16(d->common + off); }
static uint32_t common_read32(struct virtio_device *d, unsigned off) { return mmio_read32(d->common + off); }
static void common_write8(struct virtio_device *d, unsigned off, uint8_t v) { mmio_write8(d->common + off, v); }
static void common_write16(struct virtio_device *d, unsigned off, uint16_t v) { mmio_write16(d->common + off, v); }
static void common_write32(struct virtio_device *d, unsigned off, uint32_t v) { mmio_write32(d->common + off, v); }
/* 64-bit fields are written as two 32-bit halves, low half first (4.1.3.1). */
static void common_write64(struct virtio_device *d, unsigned off, uint64_t v)
{
    common_write32(d, off, (uint32_t)v);
    common_write32(d, off + 4, (uint32_t)(v >> 32));
}

static void set_status(struct virtio_device *d, uint8_t bits)
{
    common_write8(d, COMMON_DEVICE_STATUS, common_read8(d, COMMON_DEVICE_STATUS) | bits);
}

/* Walk the capability list and fill in the four register areas. */
static bool read_capabilities(struct virtio_device *d, const char *name)
{
    if (!(pci_read16(&d->pci, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        kprintf("%s: no PCI capability list: not a modern virtio device\n", name);
        return false;
    }
    uint8_t cap = pci_read8(&d->pci, PCI_CAP_POINTER) & 0xFC;
    for (int guard = 0; cap && guard < 48; guard++) {
        uint8_t id = pci_read8(&d->pci, cap), next = pci_read8(&d->pci, (uint8_t)(cap + 1)) & 0xFC;
        if (id == PCI_CAP_VENDOR_SPECIFIC) {
            uint8_t type = pci_read8(&d->pci, (uint8_t)(cap + CAP_CFG_TYPE));
            uint8_t bar = pci_read8(&d->pci, (uint8_t)(cap + CAP_BAR));
            uint32_t offset = pci_read32(&d->pci, (uint8_t)(cap + CAP_OFFSET));
            uint32_t length = pci_read32(&d->pci, (uint8_t)(cap + CAP_LENGTH));
            /* Of several capabilities of one type the first is the preferred one (4.1.4). */
            uintptr_t *slot = type == CFG_COMMON   ? &d->common
                              : type == CFG_NOTIFY ? &d->notify_base
                              : type == CFG_ISR    ? &d->isr
                              : type == CFG_DEVICE ? &d->device_cfg
                                                   : 0;
            if (slot && !*slot && bar < 6) {
                uint64_t base = pci_bar(&d->pci, bar);
                /* The kernel maps GiB 0 and GiBs 2-3 (under PV: what is asked for, here) */
                if (!vmm_map_device(base + offset, length ? length : 1)) {
                    kprintf("%s: BAR%u at %lx is outside the kernel's device window\n", name, bar, base);
                    return false;
                }
                *slot = (uintptr_t)(base + offset);
                if (type == CFG_NOTIFY)
                    d->notify_multiplier = pci_read32(&d->pci, (uint8_t)(cap + CAP_NOTIFY_MULTIPLIER));
            }
        }
        cap = next;
    }
    if (!d->common || !d->notify_base || !d->isr) {
        kprintf("%s: missing virtio capability (common %lx, notify %lx, isr %lx)\n", name, d->common,
                d->notify_base, d->isr);
        return false;
    }
    return true;
}

static bool find_device(enum virtio_device_type type, struct pci_device *out)
{
    return pci_find_device(VIRTIO_VENDOR, (uint16_t)(VIRTIO_MODERN_DEVICE_BASE + type), out);
}

static uint64_t read_device_features(struct virtio_device *d)
{
    common_write32(d, COMMON_DEVICE_FEATURE_SELECT, 0);
    uint64_t low = common_read32(d, COMMON_DEVICE_FEATURE);
    common_write32(d, COMMON_DEVICE_FEATURE_SELECT, 1);
    return low | (uint64_t)common_read32(d, COMMON_DEVICE_FEATURE) << 32;
}

static void write_driver_features(struct virtio_device *d, uint64_t features)
{
    common_write32(d, COMMON_DRIVER_FEATURE_SELECT, 0);
    common_write32(d, COMMON_DRIVER_FEATURE, (uint32_t)features);
    common_write32(d, COMMON_DRIVER_FEATURE_SELECT, 1);
    common_write32(d, COMMON_DRIVER_FEATURE, (uint32_t)(features >> 32));
}

void virtio_fail(struct virtio_device *d, const char *name, const char *why)
{
    kprintf("%s: %s\n", name, why);
    if (d->common)
        set_status(d, STATUS_FAILED);
}

bool virtio_pci_start(enum virtio_device_type type, const char *name, uint64_t wanted, struct virtio_device *d)
{
    *d = (struct virtio_device){.irq = 0xFF};
    if (!find_device(type, &d->pci))
        return false;
    if (!read_capabilities(d, name))
        return false;
    /* Memory decoding for the BARs, bus mastering for the queues, INTx not disabled. */
    pci_write16(&d->pci, PCI_COMMAND,
                (pci_read16(&d->pci, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER) &
                    (uint16_t)~PCI_COMMAND_INTX_DISABLE);

    /* Reset (4.1.4.3.2): write 0, wait until the device reads back 0. */
    common_write8(d, COMMON_DEVICE_STATUS, 0);
    for (int i = 0; i < 1000000 && common_read8(d, COMMON_DEVICE_STATUS); i++)
        ;
    set_status(d, STATUS_ACKNOWLEDGE); /* "I have noticed you" */
    set_status(d, STATUS_DRIVER);      /* "... and I know how to drive you" */

    uint64_t offered = read_device_features(d);
    if (!(offered & VIRTIO_F_VERSION_1)) {
        virtio_fail(d, name, "device does not offer VIRTIO_F_VERSION_1 (legacy only)");
        return false;
    }
    d->features = offered & (wanted | VIRTIO_F_VERSION_1);
    write_driver_features(d, d->features);
    set_status(d, STATUS_FEATURES_OK);
    if (!(common_read8(d, COMMON_DEVICE_STATUS) & STATUS_FEATURES_OK)) {
        virtio_fail(d, name, "device refused our features (FEATURES_OK did not stick)");
        return false;
    }
    uint8_t line = d->pci.irq_line;
    if (line > 0 && line < 16 && line != 2)
        d->irq = line;
    kprintf("%s: pci %02x:%02x.%x %04x:%04x, %u queues, features %lx (offered %lx), ", name, d->pci.bus,
            d->pci.device, d->pci.function, d->pci.vendor_id, d->pci.device_id,
            common_read16(d, COMMON_NUM_QUEUES), d->features, offered);
    if (d->irq == 0xFF)
        kprintf("no IRQ line: polled\n");
    else
        kprintf("IRQ %u\n", d->irq);
    return true;
}

bool virtio_queue_setup(struct virtio_device *d, uint16_t index, uint16_t max_size, struct virtq *q)
{
    common_write16(d, COMMON_QUEUE_SELECT, index);
    uint16_t size = common_read16(d, COMMON_QUEUE_SIZE);
    if (size == 0)
        return false; /* no such queue */
    /* The driver may make a queue smaller (4.1.4.3.2); a descriptor table of up to 256
     * entries fits one page, and the two rings fit together in a second page. */
    if (max_size > 256)
        max_size = 256;
    while (size > max_size)
        size /= 2;
    uint64_t table = pmm_alloc_page(), rings = pmm_alloc_page();
    if (!table || !rings)
        return false;
    *q = (struct virtq){.index = index, .size = size, .interrupts = true};
    q->event_idx = (d->features & VIRTIO_F_EVENT_IDX) != 0;
    q->desc = (struct virtq_desc *)table;
    q->avail = (volatile uint16_t *)rings;
    /* The used ring must be 4-byte aligned (2.6): after flags, idx, ring[size], used_event. */
    uint64_t used = rings + ((6 + 2 * (uint64_t)size + 3) & ~3ull);
    q->used = (volatile uint16_t *)used;
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1); /* the free descriptors form a list */
    q->free_head = 0;
    q->free_count = size;

    common_write16(d, COMMON_QUEUE_SIZE, size);
    common_write64(d, COMMON_QUEUE_DESC, table);
    common_write64(d, COMMON_QUEUE_DRIVER, rings);
    common_write64(d, COMMON_QUEUE_DEVICE, used);
    q->notify = d->notify_base + (uintptr_t)common_read16(d, COMMON_QUEUE_NOTIFY_OFF) * d->notify_multiplier;
    common_write16(d, COMMON_QUEUE_ENABLE, 1);
    return true;
}

void virtio_driver_ok(struct virtio_device *d) { set_status(d, STATUS_DRIVER_OK); }

uint8_t virtio_isr_read(struct virtio_device *d) { return mmio_read8(d->isr); }

uint8_t virtio_config_read8(struct virtio_device *d, unsigned offset)
{
    return d->device_cfg ? mmio_read8(d->device_cfg + offset) : 0;
}

uint32_t virtio_config_read32(struct virtio_device *d, unsigned offset)
{
    return d->device_cfg ? mmio_read32(d->device_cfg + offset) : 0;
}

uint64_t virtio_config_read64(struct virtio_device *d, unsigned offset)
{
    uint8_t generation;
    uint64_t value;
    do { /* the device may change the field between our two reads: retry if it did */
        generation = common_read8(d, COMMON_CONFIG_GENERATION);
        value = virtio_config_read32(d, offset) | (uint64_t)virtio_config_read32(d, offset + 4) << 32;
    } while (generation != common_read8(d, COMMON_CONFIG_GENERATION));
    return value;
}

/* ---- split virtqueue (2.6) ---- */

enum { AVAIL_FLAGS = 0, AVAIL_IDX = 1, AVAIL_RING = 2, USED_FLAGS = 0, USED_IDX = 1, USED_RING = 2 };

/* used_event follows the available ring's entries; avail_event the used ring's (8 bytes each). */
static volatile uint16_t *used_event(struct virtq *q) { return &q->avail[AVAIL_RING + q->size]; }
static volatile uint16_t *avail_event(struct virtq *q) { return &q->used[USED_RING + 4 * (uint32_t)q->size]; }

/* A store followed by a load of the other side's field: x86 may reorder those, so a real fence. */
static inline void full_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

/* vring_need_event (2.6.7.2): has the index moved from `old` to `new` past `event`? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* With EVENT_IDX: interrupt for the next used entry, or (not wanted) for one half the index
 * space away, which the device cannot reach while we keep consuming. */
static void update_used_event(struct virtq *q)
{
    if (!q->event_idx)
        return;
    *used_event(q) = (uint16_t)(q->last_used + (q->interrupts ? 0 : 0x8000));
    full_barrier(); /* before we look at used->idx again: an entry used meanwhile is seen or signalled */
}

void virtq_set_interrupts(struct virtq *q, bool wanted)
{
    q->interrupts = wanted;
    if (q->event_idx)
        update_used_event(q);
    else
        q->avail[AVAIL_FLAGS] = wanted ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    full_barrier();
}

int virtq_add(struct virtq *q, const struct virtq_buffer *buffers, unsigned count)
{
    if (count == 0 || count > q->free_count)
        return -1;
    uint16_t head = q->free_head, i = head, last = head;
    for (unsigned n = 0; n < count; n++) {
        struct virtq_desc *d = &q->desc[i];
        d->addr = buffers[n].addr;
        d->len = buffers[n].len;
        d->flags = (uint16_t)((buffers[n].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                              (n + 1 < count ? VIRTQ_DESC_F_NEXT : 0));
        last = i;
        i = d->next; /* for the free list and for our chain alike */
    }
    q->free_head = q->desc[last].next;
    q->free_count = (uint16_t)(q->free_count - count);
    /* Publish: the ring entry first, then (after a barrier) the index the device reads. */
    uint16_t idx = q->avail[AVAIL_IDX];
    q->avail[AVAIL_RING + (idx & (q->size - 1))] = head;
    dma_barrier();
    q->avail[AVAIL_IDX] = (uint16_t)(idx + 1);
    return head;
}

bool virtq_notify(struct virtq *q)
{
    full_barrier(); /* avail->idx must be visible before we read what the device asked for */
    uint16_t old_idx = q->kicked_avail, new_idx = q->avail[AVAIL_IDX];
    q->kicked_avail = new_idx;
    bool needed = q->event_idx ? need_event(*avail_event(q), new_idx, old_idx)
                               : !(q->used[USED_FLAGS] & VIRTQ_USED_F_NO_NOTIFY);
    if (!needed)
        return false;
    mmio_write16(q->notify, q->index);
    q->notifies++;
    return true;
}

int virtq_get_used(struct virtq *q, uint32_t *len)
{
    if (q->used[USED_IDX] == q->last_used)
        return -1;
    dma_barrier(); /* read the element only after seeing the index that covers it */
    const volatile struct virtq_used_elem *ring = (const volatile struct virtq_used_elem *)(q->used + 2);
    struct virtq_used_elem e = {ring[q->last_used & (q->size - 1)].id, ring[q->last_used & (q->size - 1)].len};
    q->last_used++;
    update_used_event(q);
    if (e.id >= q->size)
        return -1; /* a broken device; nothing sane to free */
    if (len)
        *len = e.len;
    /* Give the chain's descriptors back to the free list. */
    uint16_t i = (uint16_t)e.id, count = 1;
    while (q->desc[i].flags & VIRTQ_DESC_F_NEXT && count < q->size) {
        i = q->desc[i].next;
        count++;
    }
    q->desc[i].next = q->free_head;
    q->free_head = (uint16_t)e.id;
    q->free_count = (uint16_t)(q->free_count + count);
    return (int)e.id;
}
