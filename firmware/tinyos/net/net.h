/* net.h - the network interface and helpers shared by the protocol files in net/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_PREFIX 0x0A000000u  /* 10.0.0.0 */
#define NET_NETMASK 0xFFFFFF00u /* /24 */

/* Writes one Ethernet frame (without CRC) into `buffer` (room for `room` bytes) and returns its
 * length, or 0 to stop. Used by transmit_burst to build frames in the card's own buffers. */
typedef size_t (*net_fill_fn)(void *ctx, uint8_t *buffer, size_t room);

/* The network card underneath: e1000 or virtio-net, chosen at boot by net_init(). */
struct net_driver {
    const char *name;
    bool (*transmit)(const void *frame, size_t len); /* an Ethernet frame without CRC */
    /* Queue up to `count` frames built by `fill`; returns how many (fewer when the ring is full).
     * How often the card is told is the driver's business: see doorbells. */
    unsigned (*transmit_burst)(net_fill_fn fill, void *ctx, unsigned count);
    /* Writes to the card's "there is more to send" register (e1000 TDT, virtio notify) so far. */
    uint64_t (*doorbells)(void);
    unsigned (*irq)(void);                           /* PIC line, 0xFF when polled */
    void (*poll)(void);                              /* receive work for a card without IRQ */
    uint64_t (*rx_packets)(void);
    uint64_t (*tx_packets)(void);
};

struct net_interface {
    bool up;
    const struct net_driver *driver;
    uint8_t mac[6];
    uint32_t ip; /* host byte order */
    uint32_t netmask;
};

extern struct net_interface net_if;

/* Bring up virtio-net if there is one, else the e1000, and take the address
 * 10.0.0.<last byte of the MAC>. */
void net_init(void);
/* Called every timer tick: lets a card without an interrupt line receive. */
void net_poll(void);

/* Network byte order is big-endian; x86 is little-endian. */
static inline uint16_t htons(uint16_t v) { return __builtin_bswap16(v); }
static inline uint16_t ntohs(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t htonl(uint32_t v) { return __builtin_bswap32(v); }
static inline uint32_t ntohl(uint32_t v) { return __builtin_bswap32(v); }

/* The Internet checksum (RFC 1071): one's complement of the one's-complement sum of 16-bit
 * words. Returned in host order; store it with htons(). Over data that includes a correct
 * checksum field the result is 0. */
uint16_t net_checksum(const void *data, size_t len);

/* Print "a.b.c.d" into buf (at least 16 bytes). */
void net_format_ip(char *buf, uint32_t ip);
