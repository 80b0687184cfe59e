/* e1000.h - Intel 82540EM gigabit Ethernet controller (PCI 8086:100E), QEMU's "e1000". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*e1000_receive_fn)(const uint8_t *frame, size_t len);

/* Find the card, reset it, read its MAC address, set up the rings and the interrupt.
 * Received frames are passed to `receive` (in interrupt context). */
bool e1000_init(e1000_receive_fn receive);
bool e1000_present(void);
void e1000_mac(uint8_t mac[6]);
unsigned e1000_irq(void); /* PIC line, or 0xFF when polled from the timer */
/* Queue one Ethernet frame (without CRC, the card appends it). Returns false if the ring is full. */
bool e1000_transmit(const void *frame, size_t len);
/* Builds one frame into `buffer` and returns its length (0: stop); see net_fill_fn. */
typedef size_t (*e1000_fill_fn)(void *ctx, uint8_t *buffer, size_t room);
/* Queue up to `count` frames built by `fill` straight into transmit buffers, one TDT write per
 * frame (as a simple driver does); returns how many were queued. */
unsigned e1000_transmit_burst(e1000_fill_fn fill, void *ctx, unsigned count);
uint64_t e1000_doorbells(void); /* TDT writes so far */
/* Receive work when the card has no usable interrupt line (called every tick). */
void e1000_poll(void);
uint64_t e1000_rx_packets(void);
uint64_t e1000_tx_packets(void);
