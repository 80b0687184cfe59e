/* virtio_pci.h - the virtio 1.x "modern" PCI transport (OASIS VIRTIO 1.1, section 4.1) and the
 * split virtqueue (section 2.6) that every virtio driver in tinyos (blk, net, console) uses. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/pci.h"

/* Device types (5.x): PCI device ID = 0x1040 + type. */
enum virtio_device_type { VIRTIO_TYPE_NET = 1, VIRTIO_TYPE_BLOCK = 2, VIRTIO_TYPE_CONSOLE = 3 };

#define VIRTIO_F_VERSION_1 (1ull << 32) /* 6.1: "I am a modern (1.x) driver/device" */
#define VIRTIO_F_EVENT_IDX (1ull << 29)  /* 6: used_event / avail_event instead of the ring flags */

/* Descriptor flags (2.6.5) and the two rings' flags (2.6.7, 2.6.8) */
enum { VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2 };
enum { VIRTQ_AVAIL_F_NO_INTERRUPT = 1, VIRTQ_USED_F_NO_NOTIFY = 1 };

struct virtq_desc {
    uint64_t addr; /* guest-physical address of the buffer */
    uint32_t len;
    uint16_t flags;
    uint16_t next; /* index of the next descriptor when flags has NEXT */
};

struct virtq_used_elem {
    uint32_t id;  /* head descriptor of the completed chain */
    uint32_t len; /* bytes the device wrote into the chain */
};

/* A split virtqueue: the descriptor table, the available ring (driver -> device) and the
 * used ring (device -> driver), each in its own memory.
 *
 * Suppressing notifications and interrupts (2.6.7, 2.6.8, 2.7.10): without VIRTIO_F_EVENT_IDX
 * each side sets a flag in its ring ("do not interrupt me", "do not notify me"); with it, each
 * side writes the ring index it next wants to hear about (used_event at the end of the
 * available ring, avail_event at the end of the used ring), so a driver that queued 100
 * buffers since the device last looked notifies once, and the device interrupts once. */
struct virtq {
    uint16_t index; /* queue number on the device */
    uint16_t size;  /* number of descriptors, a power of two */
    struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then struct virtq_used_elem ring[size], avail_event */
    uintptr_t notify;         /* where writing the queue index tells the device to look */
    uint16_t free_head, free_count;
    uint16_t last_used;   /* the used->idx we have consumed up to */
    uint16_t kicked_avail; /* avail->idx when we last considered notifying */
    bool event_idx;        /* VIRTIO_F_EVENT_IDX was negotiated */
    bool interrupts;       /* we want an interrupt when the device uses a buffer */
    uint64_t notifies;     /* notifications actually written (each one an exit under a hypervisor) */
};

struct virtio_device {
    struct pci_device pci;
    uintptr_t common, isr, device_cfg, notify_base; /* mapped capability structures */
    uint32_t notify_multiplier;
    uint64_t features; /* what both sides agreed on */
    unsigned irq;      /* PIC line (PCI interrupt line register), 0xFF = none */
};

/* One buffer of a descriptor chain. */
struct virtq_buffer {
    uint64_t addr;
    uint32_t len;
    bool device_writes;
};

/* Find device `type` on the PCI bus (the first one), read its virtio
 * capabilities, reset it and negotiate: offer VERSION_1 plus whatever of `wanted` the device
 * has, check FEATURES_OK. `name` prefixes the boot messages. False if absent or refused. */
bool virtio_pci_start(enum virtio_device_type type, const char *name, uint64_t wanted,
                      struct virtio_device *dev);
/* Set up queue `index` with at most `max_size` descriptors (memory from the page allocator). */
bool virtio_queue_setup(struct virtio_device *dev, uint16_t index, uint16_t max_size, struct virtq *q);
/* Set DRIVER_OK: from now on the device may use the queues. */
void virtio_driver_ok(struct virtio_device *dev);
/* Mark the device FAILED (we gave up on it during setup). */
void virtio_fail(struct virtio_device *dev, const char *name, const char *why);
/* Read and clear the ISR status: bit 0 = a queue has news, bit 1 = configuration changed.
 * Reading also deasserts the INTx line. */
uint8_t virtio_isr_read(struct virtio_device *dev);
/* Device-specific configuration (the device_cfg capability). */
uint8_t virtio_config_read8(struct virtio_device *dev, unsigned offset);
uint32_t virtio_config_read32(struct virtio_device *dev, unsigned offset);
/* A 64-bit configuration field, read consistently (config_generation, 4.1.4.3.1). */
uint64_t virtio_config_read64(struct virtio_device *dev, unsigned offset);

/* Put a chain of `count` buffers on the available ring (does not notify). Returns the head
 * descriptor's index, or -1 when there are not enough free descriptors. */
int virtq_add(struct virtq *q, const struct virtq_buffer *buffers, unsigned count);
/* Tell the device there is something new on the available ring, unless it said it does not
 * need to hear (VIRTQ_USED_F_NO_NOTIFY, or avail_event outside what we added since the last
 * call). Returns whether it wrote the notification register. */
bool virtq_notify(struct virtq *q);
/* Ask for interrupts when the device uses this queue's buffers (the default), or not: a driver
 * that polls the used ring (e.g. for finished transmit buffers) needs none. */
void virtq_set_interrupts(struct virtq *q, bool wanted);
/* Take the next completed chain off the used ring: its head index (and written length), or
 * -1 when there is none. Its descriptors become free again. */
int virtq_get_used(struct virtq *q, uint32_t *len);
