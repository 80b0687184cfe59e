/* ipv4.c - check incoming IPv4 headers, build outgoing ones.
 * No routing (every peer is on our /24), no fragments, no options on what we send. */
#include "net/ipv4.h"
#include "lib/string.h"
#include "net/ethernet.h"
#include "net/icmp.h"
#include "net/net.h"

enum { FLAG_DONT_FRAGMENT = 0x4000, FLAG_MORE_FRAGMENTS = 0x2000, OFFSET_MASK = 0x1FFF, DEFAULT_TTL = 64 };

static uint16_t next_id;

void ipv4_receive(const uint8_t source_mac[6], const uint8_t *packet, size_t len)
{
    if (len < sizeof(struct ipv4_header))
        return;
    const struct ipv4_header *h = (const struct ipv4_header *)packet;
    size_t header_len = (size_t)(h->version_ihl & 0x0F) * 4;
    size_t total = ntohs(h->total_length);
    if ((h->version_ihl >> 4) != 4 || header_len < sizeof *h || total < header_len || total > len)
        return;
    if (net_checksum(h, header_len) != 0)
        return; /* corrupted header */
    if (ntohs(h->flags_fragment) & (FLAG_MORE_FRAGMENTS | OFFSET_MASK))
        return; /* a fragment: we do not reassemble */
    uint32_t destination = ntohl(h->destination);
    if (destination != net_if.ip && destination != 0xFFFFFFFFu)
        return;
    if (h->protocol == IP_PROTOCOL_ICMP)
        icmp_receive(source_mac, ntohl(h->source), h->ttl, packet + header_len, total - header_len);
}

void ipv4_write_header(struct ipv4_header *h, uint32_t destination_ip, uint8_t protocol, size_t payload_len)
{
    h->version_ihl = 0x45; /* version 4, 5 words = 20 bytes of header */
    h->tos = 0;
    h->total_length = htons((uint16_t)(sizeof *h + payload_len));
    h->id = htons(next_id++);
    h->flags_fragment = htons(FLAG_DONT_FRAGMENT);
    h->ttl = DEFAULT_TTL;
    h->protocol = protocol;
    h->checksum = 0;
    h->source = htonl(net_if.ip);
    h->destination = htonl(destination_ip);
    h->checksum = htons(net_checksum(h, sizeof *h));
}

bool ipv4_send(const uint8_t destination_mac[6], uint32_t destination_ip, uint8_t protocol, const void *payload,
               size_t len)
{
    uint8_t packet[ETH_MAX_PAYLOAD];
    if (len > sizeof packet - sizeof(struct ipv4_header))
        return false;
    struct ipv4_header *h = (struct ipv4_header *)packet;
    ipv4_write_header(h, destination_ip, protocol, len);
    memcpy(packet + sizeof *h, payload, len);
    return eth_send(destination_mac, ETH_TYPE_IPV4, packet, sizeof *h + len);
}
