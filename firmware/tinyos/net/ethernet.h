/* ethernet.h - Ethernet II framing (IEEE 802.3, "DIX" type field). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eth_header {
    uint8_t destination[6];
    uint8_t source[6];
    uint16_t type; /* big-endian EtherType */
} __attribute__((packed));

enum { ETH_TYPE_IPV4 = 0x0800, ETH_TYPE_ARP = 0x0806, ETH_MAX_PAYLOAD = 1500 };

extern const uint8_t eth_broadcast[6];

/* A frame came in (called by the network driver in interrupt context). */
void eth_receive(const uint8_t *frame, size_t len);
/* Wrap payload in an Ethernet header and transmit it. */
bool eth_send(const uint8_t destination[6], uint16_t type, const void *payload, size_t len);
