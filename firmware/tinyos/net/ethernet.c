/* ethernet.c - demultiplex incoming frames by EtherType; frame outgoing packets. */
#include "net/ethernet.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/ipv4.h"
#include "net/net.h"

const uint8_t eth_broadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

void eth_receive(const uint8_t *frame, size_t len)
{
    if (len < sizeof(struct eth_header))
        return;
    const struct eth_header *h = (const struct eth_header *)frame;
    const uint8_t *payload = frame + sizeof *h;
    size_t payload_len = len - sizeof *h;
    switch (ntohs(h->type)) {
    case ETH_TYPE_ARP:
        arp_receive(payload, payload_len);
        break;
    case ETH_TYPE_IPV4:
        ipv4_receive(h->source, payload, payload_len);
        break;
    default:
        break; /* IPv6, LLDP, ...: not for us */
    }
}

bool eth_send(const uint8_t destination[6], uint16_t type, const void *payload, size_t len)
{
    if (len > ETH_MAX_PAYLOAD)
        return false;
    uint8_t frame[sizeof(struct eth_header) + ETH_MAX_PAYLOAD];
    struct eth_header *h = (struct eth_header *)frame;
    memcpy(h->destination, destination, 6);
    memcpy(h->source, net_if.mac, 6);
    h->type = htons(type);
    memcpy(frame + sizeof *h, payload, len);
    /* The driver pads frames shorter than 60 bytes (the e1000 does it in hardware, TCTL.PSP). */
    return net_if.driver && net_if.driver->transmit(frame, sizeof *h + len);
}
