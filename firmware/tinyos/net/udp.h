/* udp.h - the User Datagram Protocol (RFC 768), sending only: enough for a throughput test. */
#pragma once
#include <stdint.h>
#include <tinyos/abi.h>

struct udp_header {
    uint16_t source_port;
    uint16_t destination_port;
    uint16_t length;   /* header + data */
    uint16_t checksum; /* 0: none (allowed over IPv4) */
} __attribute__((packed));

enum { UDP_DISCARD_PORT = 9, UDP_MAX_PAYLOAD = 1472 /* 1500 - IPv4 and UDP headers */ };

/* Send `frames` datagrams of `payload` bytes to `ip`'s discard port as fast as the card takes
 * them (process context: resolves the address with ARP first). Fills `result`; returns 0 or an
 * error (ERR_TIMEOUT if the card stopped taking frames for a second). */
int udp_stream(uint32_t ip, uint32_t frames, uint32_t payload, struct udp_stream_result *result);
