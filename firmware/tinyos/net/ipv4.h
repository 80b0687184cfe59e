/* ipv4.h - Internet Protocol version 4 (RFC 791), just enough for ICMP on one subnet. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipv4_header {
    uint8_t version_ihl; /* version 4 in the high nibble, header length in 32-bit words low */
    uint8_t tos;
    uint16_t total_length;
    uint16_t id;
    uint16_t flags_fragment; /* bit 14 DF, bit 13 MF, bits 12:0 fragment offset */
    uint8_t ttl;
    uint8_t protocol;
    uint16_t checksum;
    uint32_t source;
    uint32_t destination;
} __attribute__((packed));

enum { IP_PROTOCOL_ICMP = 1, IP_PROTOCOL_UDP = 17 };

void ipv4_receive(const uint8_t source_mac[6], const uint8_t *packet, size_t len);
/* Write the header of a packet from us to `destination_ip` carrying `payload_len` bytes. */
void ipv4_write_header(struct ipv4_header *h, uint32_t destination_ip, uint8_t protocol, size_t payload_len);
/* Send to `destination_ip` whose Ethernet address is already known. */
bool ipv4_send(const uint8_t destination_mac[6], uint32_t destination_ip, uint8_t protocol, const void *payload,
               size_t len);
