/* virtio_pci.h - the virtio 1.x "modern" PCI transport (OASIS VIRTIO 1.1, section 4.1) and the
 * split virtqueue (section 2.6) that every virtio driver in tinyos (blk, net, console) uses. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "drivers/pci.h"

/* Device types (5.x): PCI device ID = 0x1040 + type. */
enum virtio_device_type { VIRTIO_TYPE_NET = 1, VIRTIO_TYPE_BLOCK = 2, VIRTIO_TYPE_CONSOLE = 3 };

#define VIRTIO_F_VERSION_1 (1ull << 32) /* 6.1: "I am a modern (1.x) driver/device" */

/* Descriptor flags (2.6.5) */
enum { VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2 };

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
 * used ring (device -> driver), each in its own memory. */
struct virtq {
    uint16_t index; /* queue number on the device */
    uint16_t size;  /* number of descriptors, a power of two */
    struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size] */
    volatile uint16_t *used;  /* flags, idx, then struct virtq_used_elem ring[size] */
    uintptr_t notify;         /* where writing the queue index tells the device to look */
    uint16_t free_head, free_count;
    uint16_t last_used; /* the used->idx we have consumed up to */
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
/* Tell the device there is something new on the available ring. */
void virtq_notify(struct virtq *q);
/* Take the next completed chain off the used ring: its head index (and written length), or
 * -1 when there is none. Its descriptors become free again. */
int virtq_get_used(struct virtq *q, uint32_t *len);
