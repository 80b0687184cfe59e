/* udp.c - a UDP stream to another host, the network throughput benchmark (like netperf's
 * UDP_STREAM): fixed-size datagrams to the discard port (RFC 863), each numbered in its first
 * four payload bytes, handed to the card in bursts as fast as it takes them.
 *
 * The frames are built straight into the card's transmit buffers (net_driver.transmit_burst);
 * how often the card hears about them is the driver's choice, and that is what this measures:
 * the e1000 driver writes the tail register once per frame, virtio-net notifies once per burst. */
#include "net/udp.h"
#include "kernel/cpu.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/ethernet.h"
#include "net/ipv4.h"
#include "net/net.h"

enum { SOURCE_PORT = 49152, ARP_TIMEOUT_MS = 1000, STALL_MS = 1000 };

enum {
    IP_AT = sizeof(struct eth_header),
    UDP_AT = IP_AT + sizeof(struct ipv4_header),
    PAYLOAD_AT = UDP_AT + sizeof(struct udp_header),
};

struct stream {
    uint8_t mac[6];
    uint32_t ip;
    uint32_t payload;
    uint32_t next_sequence;
    uint64_t bytes;
};

/* The payload after the sequence number: 'u's, eight at a time with REP STOSQ as a real kernel's
 * memset would (lib/string.c keeps to byte loops for readability). */
static void fill_pattern(uint8_t *p, size_t n)
{
    size_t words = n / 8;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(0x7575757575757575ull) : "memory");
    for (size_t i = 0; i < n % 8; i++)
        p[i] = 'u';
}

/* net_fill_fn: one numbered datagram. */
static size_t fill_datagram(void *ctx, uint8_t *frame, size_t room)
{
    struct stream *s = ctx;
    size_t len = PAYLOAD_AT + s->payload;
    if (len > room)
        return 0;
    struct eth_header *eth = (struct eth_header *)frame;
    memcpy(eth->destination, s->mac, 6);
    memcpy(eth->source, net_if.mac, 6);
    eth->type = htons(ETH_TYPE_IPV4);
    ipv4_write_header((struct ipv4_header *)(frame + IP_AT), s->ip, IP_PROTOCOL_UDP,
                      sizeof(struct udp_header) + s->payload);
    struct udp_header *udp = (struct udp_header *)(frame + UDP_AT);
    udp->source_port = htons(SOURCE_PORT);
    udp->destination_port = htons(UDP_DISCARD_PORT);
    udp->length = htons((uint16_t)(sizeof *udp + s->payload));
    udp->checksum = 0;
    uint8_t *data = frame + PAYLOAD_AT;
    uint32_t sequence = htonl(s->next_sequence++);
    memcpy(data, &sequence, s->payload < 4 ? s->payload : 4);
    if (s->payload > 4)
        fill_pattern(data + 4, s->payload - 4);
    s->bytes += len;
    return len;
}

int udp_stream(uint32_t ip, uint32_t frames, uint32_t payload, struct udp_stream_result *result)
{
    if (!net_if.up)
        return ERR_NO_DEVICE;
    if ((ip & net_if.netmask) != (net_if.ip & net_if.netmask) || ip == net_if.ip || payload > UDP_MAX_PAYLOAD ||
        frames == 0)
        return ERR_INVALID;
    struct stream s = {.ip = ip, .payload = payload};
    int err = arp_resolve(ip, s.mac, ARP_TIMEOUT_MS);
    if (err)
        return err;

    const struct net_driver *card = net_if.driver;
    memset(result, 0, sizeof *result);
    strlcpy(result->driver, card->name, sizeof result->driver);
    uint64_t doorbells0 = card->doorbells(), ticks0 = timer_ticks(), tsc0 = rdtsc();
    uint64_t stalled_since = 0;
    while (result->frames < frames) {
        unsigned sent = card->transmit_burst(fill_datagram, &s, frames - (uint32_t)result->frames);
        result->frames += sent;
        if (sent) {
            stalled_since = 0;
            continue;
        }
        /* Ring full: the card has not sent what we gave it yet. Wait for it, but not forever. */
        uint64_t now = timer_ticks();
        if (!stalled_since) {
            stalled_since = now;
            result->ring_full++;
        } else if (now - stalled_since > timer_ms_to_ticks(STALL_MS)) {
            err = ERR_TIMEOUT;
            break;
        }
        __asm__ volatile("pause");
    }
    result->us = timer_cycles_to_us(rdtsc() - tsc0);
    result->ticks = timer_ticks() - ticks0;
    result->doorbells = card->doorbells() - doorbells0;
    result->bytes = s.bytes;
    return err;
}
