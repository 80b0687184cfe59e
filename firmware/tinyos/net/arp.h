/* arp.h - the Address Resolution Protocol (RFC 826): IPv4 address -> Ethernet address. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <tinyos/abi.h>

void arp_receive(const uint8_t *packet, size_t len);
/* Find the MAC address of `ip`, asking the network if it is not cached (sleeps; process
 * context only). Returns 0 or ERR_TIMEOUT. */
int arp_resolve(uint32_t ip, uint8_t mac[6], unsigned timeout_ms);
void arp_forget(uint32_t ip);
/* Copy up to `max` cache entries; returns how many. */
int arp_list(struct arp_entry_info *out, int max);
