/* icmp.h - ICMP echo (RFC 792): answering pings and sending our own. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <tinyos/abi.h>

struct icmp_echo {
    uint8_t type; /* 8 = echo request, 0 = echo reply */
    uint8_t code;
    uint16_t checksum; /* over the ICMP header and data */
    uint16_t id;
    uint16_t sequence;
} __attribute__((packed));

enum { ICMP_ECHO_REPLY = 0, ICMP_ECHO_REQUEST = 8 };

void icmp_receive(const uint8_t source_mac[6], uint32_t source_ip, uint8_t ttl, const uint8_t *data, size_t len);

/* net/ping.c: send one echo request and wait for its reply (process context). */
int ping_once(uint32_t ip, uint16_t sequence, unsigned timeout_ms, struct ping_result *result);
/* net/ping.c: an echo reply arrived (interrupt context). */
void ping_reply_received(uint32_t source_ip, uint16_t id, uint16_t sequence, uint8_t ttl);
