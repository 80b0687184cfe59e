/* net.h - the network interface and helpers shared by the protocol files in net/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_PREFIX 0x0A000000u  /* 10.0.0.0 */
#define NET_NETMASK 0xFFFFFF00u /* /24 */

struct net_interface {
    bool up;
    uint8_t mac[6];
    uint32_t ip; /* host byte order */
    uint32_t netmask;
};

extern struct net_interface net_if;

/* Bring up the e1000 and take the address 10.0.0.<last byte of the MAC>. */
void net_init(void);

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
