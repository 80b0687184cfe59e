/* virtio_net.c - the virtio network device (OASIS VIRTIO 1.1, section 5.1).
 *
 * Two virtqueues: receiveq (0) and transmitq (1). Every packet in either direction starts
 * with a 12-byte struct virtio_net_hdr (5.1.6) for checksum and segmentation offloads; we
 * negotiate none of them, so ours is all zeros and the device's can be skipped. In 1.x the
 * header always has its num_buffers field (12 bytes, not the legacy 10).
 *
 * Receiving: we hand the device 2 KiB buffers on receiveq; it writes header + frame into
 * one, returns it on the used ring and interrupts; we pass the frame up and hand the buffer
 * back. Transmitting: header + frame in one buffer on transmitq, notify; the device returns
 * the buffer once the frame has gone. Compare drivers/e1000.c: the same two rings, but the
 * descriptor format and the "doorbell" are the same for every virtio device.
 *
 * Batching (what makes a paravirtual NIC cheap): a burst fills every free transmit buffer and
 * notifies once; finished transmit buffers are found by looking at the used ring when we next
 * send, so the transmit queue asks for no interrupts at all; with VIRTIO_F_EVENT_IDX the device
 * also says (avail_event) when a notification is needed, e.g. not for receive buffers handed
 * back while it still has others.
 */
#include "drivers/virtio_net.h"
#include "drivers/virtio_pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/pmm.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "lib/string.h"

enum {
    NET_F_MAC = 5, /* the device has a MAC address in its configuration (5.1.3) */
    CONFIG_MAC = 0,
    RECEIVEQ = 0,
    TRANSMITQ = 1,
    HEADER_BYTES = 12,
    BUFFER_SIZE = 2048, /* header + the largest frame (1514 bytes) */
    RX_COUNT = 32,
    TX_COUNT = 128, /* also the largest burst: one notification per 128 frames */
    MIN_FRAME = 60, /* Ethernet minimum without CRC: pad shorter frames */
};

static struct virtio_device dev;
static struct virtq rxq, txq;
static bool present;
static uint8_t mac[6];
static virtio_net_receive_fn receive_handler;
static uint8_t *tx_free[TX_COUNT]; /* transmit buffers not in the device's hands */
static unsigned tx_free_count;
static uint64_t rx_packets, tx_packets;

void virtio_net_mac(uint8_t out[6]) { memcpy(out, mac, 6); }
unsigned virtio_net_irq(void) { return dev.irq; }
uint64_t virtio_net_rx_packets(void) { return rx_packets; }
uint64_t virtio_net_tx_packets(void) { return tx_packets; }

uint64_t virtio_net_doorbells(void) { return rxq.notifies + txq.notifies; }

static bool give_rx_buffer(uint8_t *buffer)
{
    struct virtq_buffer b = {(uint64_t)buffer, BUFFER_SIZE, true};
    return virtq_add(&rxq, &b, 1) >= 0;
}

/* Pass every received frame up, then give its buffer back to the device. */
static void receive_all(void)
{
    uint32_t len;
    int id;
    bool returned = false;
    while ((id = virtq_get_used(&rxq, &len)) >= 0) {
        uint8_t *buffer = (uint8_t *)rxq.desc[id].addr; /* the descriptor still names its buffer */
        if (len > HEADER_BYTES && len <= BUFFER_SIZE && receive_handler) {
            rx_packets++;
            receive_handler(buffer + HEADER_BYTES, len - HEADER_BYTES);
        }
        returned = give_rx_buffer(buffer) || returned;
    }
    if (returned)
        virtq_notify(&rxq);
}

/* Transmit buffers the device has finished with become free again. */
static void reclaim_tx(void)
{
    int id;
    while ((id = virtq_get_used(&txq, 0)) >= 0)
        if (tx_free_count < TX_COUNT)
            tx_free[tx_free_count++] = (uint8_t *)txq.desc[id].addr;
}

static void net_interrupt(struct trap_frame *frame)
{
    (void)frame;
    if (virtio_isr_read(&dev) & 1) { /* reading the ISR byte also deasserts INTx */
        receive_all();
        reclaim_tx();
    }
}

void virtio_net_poll(void)
{
    if (present && dev.irq == 0xFF) {
        receive_all();
        reclaim_tx();
    }
}

/* Put one frame `fill` writes on the transmit queue, without notifying. Interrupts off. */
static bool queue_one(virtio_net_fill_fn fill, void *ctx)
{
    if (tx_free_count == 0)
        return false;
    uint8_t *buffer = tx_free[tx_free_count - 1];
    size_t len = fill(ctx, buffer + HEADER_BYTES, BUFFER_SIZE - HEADER_BYTES);
    if (len == 0 || len > BUFFER_SIZE - HEADER_BYTES)
        return false;
    tx_free_count--;
    size_t frame_len = len < MIN_FRAME ? MIN_FRAME : len;
    memset(buffer, 0, HEADER_BYTES); /* no offloads: flags 0, gso_type NONE */
    memset(buffer + HEADER_BYTES + len, 0, frame_len - len);
    struct virtq_buffer b = {(uint64_t)buffer, (uint32_t)(HEADER_BYTES + frame_len), false};
    virtq_add(&txq, &b, 1); /* cannot fail: no more buffers than descriptors */
    tx_packets++;
    return true;
}

struct copy_frame {
    const void *frame;
    size_t len;
};

static size_t copy_frame(void *ctx, uint8_t *buffer, size_t room)
{
    const struct copy_frame *c = ctx;
    if (c->len > room)
        return 0;
    memcpy(buffer, c->frame, c->len);
    return c->len;
}

bool virtio_net_transmit(const void *frame, size_t len)
{
    return virtio_net_transmit_burst(copy_frame, &(struct copy_frame){frame, len}, 1) == 1;
}

unsigned virtio_net_transmit_burst(virtio_net_fill_fn fill, void *ctx, unsigned count)
{
    if (!present)
        return 0;
    /* Interrupt handlers transmit too (ARP and ping replies): interrupts are off while we touch
     * the queue, but only per frame, so that a long burst does not hold off the timer. A handler
     * that transmits meanwhile notifies for our frames so far too. */
    uint64_t flags = irq_save();
    reclaim_tx(); /* once per burst: the buffers the device has finished with since the last one */
    irq_restore(flags);
    unsigned queued = 0;
    for (; queued < count; queued++) {
        flags = irq_save();
        bool ok = queue_one(fill, ctx);
        irq_restore(flags);
        if (!ok)
            break;
    }
    if (queued) {
        flags = irq_save();
        virtq_notify(&txq); /* one doorbell for the whole burst */
        irq_restore(flags);
    }
    return queued;
}

static bool alloc_buffers(void)
{
    /* As many buffers as the queues have room for, up to RX_COUNT and TX_COUNT. */
    for (int i = 0; i < RX_COUNT && i + 2 <= rxq.size; i += 2) { /* two 2 KiB buffers per page */
        uint64_t page = pmm_alloc_page();
        if (!page || !give_rx_buffer((uint8_t *)page) || !give_rx_buffer((uint8_t *)page + BUFFER_SIZE))
            return false;
    }
    for (int i = 0; i < TX_COUNT && i + 2 <= txq.size; i += 2) {
        uint64_t page = pmm_alloc_page();
        if (!page)
            return false;
        tx_free[tx_free_count++] = (uint8_t *)page;
        tx_free[tx_free_count++] = (uint8_t *)page + BUFFER_SIZE;
    }
    return true;
}

bool virtio_net_init(virtio_net_receive_fn receive)
{
    if (!virtio_pci_start(VIRTIO_TYPE_NET, "virtio-net", 1ull << NET_F_MAC | VIRTIO_F_EVENT_IDX, &dev))
        return false;
    if (!virtio_queue_setup(&dev, RECEIVEQ, RX_COUNT, &rxq) || !virtio_queue_setup(&dev, TRANSMITQ, TX_COUNT, &txq) ||
        rxq.size < 2 || txq.size < 2) {
        virtio_fail(&dev, "virtio-net", "cannot set up the receive and transmit queues");
        return false;
    }
    virtq_set_interrupts(&txq, false); /* finished transmit buffers are reclaimed when sending */
    if (!alloc_buffers()) {
        virtio_fail(&dev, "virtio-net", "out of memory for buffers");
        return false;
    }
    if (dev.features & (1ull << NET_F_MAC)) {
        for (unsigned i = 0; i < 6; i++)
            mac[i] = virtio_config_read8(&dev, CONFIG_MAC + i);
    } else { /* no address from the device: make up a locally administered one (5.1.5) */
        uint64_t t = rdtsc();
        uint8_t made_up[6] = {0x52, 0x54, 0x00, (uint8_t)(t >> 8), (uint8_t)(t >> 16), (uint8_t)(2 + t % 250)};
        memcpy(mac, made_up, 6);
    }
    receive_handler = receive;
    if (dev.irq != 0xFF)
        irq_register(dev.irq, net_interrupt);
    present = true;
    virtio_driver_ok(&dev);
    virtq_notify(&rxq); /* the receive buffers are there */
    kprintf("virtio-net: MAC %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return true;
}
