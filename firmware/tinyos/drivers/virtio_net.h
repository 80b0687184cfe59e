/* virtio_net.h - the virtio network device (OASIS VIRTIO 1.1, section 5.1). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*virtio_net_receive_fn)(const uint8_t *frame, size_t len);

/* Find and set up the first virtio-net device; received frames go to `receive` (in interrupt
 * context). False when there is none. */
bool virtio_net_init(virtio_net_receive_fn receive);
void virtio_net_mac(uint8_t mac[6]);
unsigned virtio_net_irq(void); /* PIC line, or 0xFF when polled from the timer */
/* Queue one Ethernet frame (without CRC). False if every transmit buffer is still in use. */
bool virtio_net_transmit(const void *frame, size_t len);
/* Builds one frame into `buffer` and returns its length (0: stop); see net_fill_fn. */
typedef size_t (*virtio_net_fill_fn)(void *ctx, uint8_t *buffer, size_t room);
/* Queue up to `count` frames built by `fill` straight into transmit buffers (as many as are
 * free), then notify the device once for all of them; returns how many were queued. */
unsigned virtio_net_transmit_burst(virtio_net_fill_fn fill, void *ctx, unsigned count);
uint64_t virtio_net_doorbells(void); /* notifications written to either queue so far */
/* Receive work when the device has no usable interrupt line (called every tick). */
void virtio_net_poll(void);
uint64_t virtio_net_rx_packets(void);
uint64_t virtio_net_tx_packets(void);
