/* virtio_console.c - the virtio console device (OASIS VIRTIO 1.1, section 5.3), port 0 only
 * (we do not negotiate VIRTIO_CONSOLE_F_MULTIPORT, so there is no control queue).
 *
 * Queue 0 (receiveq) gets empty buffers the device fills with typed bytes; queue 1
 * (transmitq) gets buffers of bytes to print. A virtqueue notification costs an exit to the
 * hypervisor, so unlike the UART (one port write per byte) we collect output into a batch and
 * send it at the end of a line or of a write.
 */
#include "drivers/virtio_console.h"
#include "drivers/virtio_pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/pmm.h"
#include "kernel/timer.h"
#include "kernel/trap.h"

enum {
    RECEIVEQ = 0,
    TRANSMITQ = 1,
    RX_COUNT = 8,
    RX_SIZE = 64,
    TX_COUNT = 8,
    TX_SIZE = 256,
    TX_WAIT_MS = 100, /* how long to wait for a free buffer before dropping output */
};

static struct virtio_device dev;
static struct virtq rxq, txq;
static bool present;
static void (*receive_handler)(char c);
static char *tx_free[TX_COUNT];
static unsigned tx_free_count, tx_buffers;
static char *batch; /* the transmit buffer being filled, or 0 */
static unsigned batch_len;
static uint64_t dropped_bytes;

bool virtio_console_present(void) { return present; }

static void give_rx_buffer(char *buffer)
{
    struct virtq_buffer b = {(uint64_t)buffer, RX_SIZE, true};
    virtq_add(&rxq, &b, 1);
}

static void receive_all(void)
{
    uint32_t len;
    int id;
    bool returned = false;
    while ((id = virtq_get_used(&rxq, &len)) >= 0) {
        char *buffer = (char *)rxq.desc[id].addr;
        for (uint32_t i = 0; i < len && i < RX_SIZE; i++)
            if (receive_handler)
                receive_handler(buffer[i]);
        give_rx_buffer(buffer);
        returned = true;
    }
    if (returned)
        virtq_notify(&rxq);
}

static void reclaim_tx(void)
{
    int id;
    while ((id = virtq_get_used(&txq, 0)) >= 0)
        if (tx_free_count < TX_COUNT)
            tx_free[tx_free_count++] = (char *)txq.desc[id].addr;
}

/* Wait (busy, it may be called with interrupts disabled) until at least `wanted` transmit
 * buffers are back, for at most TX_WAIT_MS. The host may handle our notification in another
 * thread, a little later. */
static bool wait_for_tx_buffers(unsigned wanted)
{
    uint64_t start = rdtsc(), limit = (uint64_t)timer_tsc_khz() * TX_WAIT_MS;
    reclaim_tx();
    while (tx_free_count < wanted && rdtsc() - start < limit)
        reclaim_tx();
    return tx_free_count >= wanted;
}

static void console_interrupt(struct trap_frame *frame)
{
    (void)frame;
    if (virtio_isr_read(&dev) & 1) {
        receive_all();
        reclaim_tx();
    }
}

void virtio_console_poll(void)
{
    if (present && dev.irq == 0xFF) {
        receive_all();
        reclaim_tx();
    }
}

void virtio_console_flush(void)
{
    if (!present)
        return;
    uint64_t flags = irq_save();
    if (batch && batch_len) {
        struct virtq_buffer b = {(uint64_t)batch, batch_len, false};
        virtq_add(&txq, &b, 1); /* no more buffers than descriptors: cannot fail */
        virtq_notify(&txq);
        batch = 0;
        batch_len = 0;
    }
    irq_restore(flags);
}

void virtio_console_putc(char c)
{
    if (!present)
        return;
    uint64_t flags = irq_save();
    if (!batch) {
        /* The device returns transmit buffers when the bytes have left; a host side that does
         * not read (nothing connected) must not hang the kernel: after a while, drop. */
        if (!wait_for_tx_buffers(1)) {
            dropped_bytes++;
            irq_restore(flags);
            return;
        }
        batch = tx_free[--tx_free_count];
    }
    batch[batch_len++] = c;
    bool full = batch_len == TX_SIZE;
    irq_restore(flags);
    if (c == '\n' || full)
        virtio_console_flush();
}

void virtio_console_drain(void)
{
    if (!present)
        return;
    virtio_console_flush();
    uint64_t flags = irq_save();
    wait_for_tx_buffers(tx_buffers);
    irq_restore(flags);
}

bool virtio_console_init(void (*receive)(char c))
{
    if (!virtio_pci_start(VIRTIO_TYPE_CONSOLE, "virtio-console", 0, &dev))
        return false;
    uint64_t rx_page = 0, tx_page = 0;
    if (!virtio_queue_setup(&dev, RECEIVEQ, RX_COUNT, &rxq) || !virtio_queue_setup(&dev, TRANSMITQ, TX_COUNT, &txq) ||
        !(rx_page = pmm_alloc_page()) || !(tx_page = pmm_alloc_page())) {
        virtio_fail(&dev, "virtio-console", "cannot set up the receive and transmit queues");
        return false;
    }
    for (unsigned i = 0; i < RX_COUNT && i < rxq.size; i++)
        give_rx_buffer((char *)rx_page + i * RX_SIZE);
    for (unsigned i = 0; i < TX_COUNT && i < txq.size; i++)
        tx_free[tx_free_count++] = (char *)tx_page + i * TX_SIZE;
    tx_buffers = tx_free_count;
    receive_handler = receive;
    if (dev.irq != 0xFF)
        irq_register(dev.irq, console_interrupt);
    virtio_driver_ok(&dev);
    virtq_notify(&rxq);
    present = true;
    kprintf("virtio-console: console output goes here as well as to COM1, input comes from both\n");
    return true;
}
