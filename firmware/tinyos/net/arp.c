/* arp.c - ARP for IPv4 over Ethernet (RFC 826).
 *
 * Packet: hardware type 1 (Ethernet), protocol 0x0800 (IPv4), address lengths 6 and 4,
 * operation 1 (request: "who has target IP? tell sender") or 2 (reply: "target IP is at
 * sender MAC"), then sender MAC/IP and target MAC/IP. Requests are broadcast; replies go
 * straight back to the asker.
 */
#include "net/arp.h"
#include "kernel/cpu.h"
#include "kernel/process.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "net/ethernet.h"
#include "net/net.h"

struct arp_packet {
    uint16_t hardware_type;
    uint16_t protocol_type;
    uint8_t hardware_len;
    uint8_t protocol_len;
    uint16_t operation;
    uint8_t sender_mac[6];
    uint32_t sender_ip;
    uint8_t target_mac[6];
    uint32_t target_ip;
} __attribute__((packed));

enum { ARP_REQUEST = 1, ARP_REPLY = 2, HW_ETHERNET = 1, CACHE_SIZE = 8, RESEND_MS = 250 };

struct cache_entry {
    uint32_t ip; /* 0 = free */
    uint8_t mac[6];
};
static struct cache_entry cache[CACHE_SIZE];
static unsigned next_victim;

static struct cache_entry *lookup(uint32_t ip)
{
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].ip == ip)
            return &cache[i];
    return 0;
}

static void remember(uint32_t ip, const uint8_t mac[6])
{
    struct cache_entry *e = lookup(ip);
    if (!e) {
        e = &cache[next_victim]; /* replace entries round-robin */
        next_victim = (next_victim + 1) % CACHE_SIZE;
        e->ip = ip;
    }
    memcpy(e->mac, mac, 6);
}

static void send(uint16_t operation, const uint8_t eth_dst[6], const uint8_t target_mac[6], uint32_t target_ip)
{
    struct arp_packet p = {
        .hardware_type = htons(HW_ETHERNET),
        .protocol_type = htons(ETH_TYPE_IPV4),
        .hardware_len = 6,
        .protocol_len = 4,
        .operation = htons(operation),
        .sender_ip = htonl(net_if.ip),
        .target_ip = htonl(target_ip),
    };
    memcpy(p.sender_mac, net_if.mac, 6);
    memcpy(p.target_mac, target_mac, 6);
    eth_send(eth_dst, ETH_TYPE_ARP, &p, sizeof p);
}

void arp_receive(const uint8_t *packet, size_t len)
{
    if (len < sizeof(struct arp_packet) || !net_if.up)
        return;
    const struct arp_packet *p = (const struct arp_packet *)packet;
    if (ntohs(p->hardware_type) != HW_ETHERNET || ntohs(p->protocol_type) != ETH_TYPE_IPV4 ||
        p->hardware_len != 6 || p->protocol_len != 4)
        return;
    uint32_t sender = ntohl(p->sender_ip), target = ntohl(p->target_ip);
    /* RFC 826 "merge": update a known sender; learn a new one only if it talks to us. */
    if (lookup(sender) || target == net_if.ip) {
        remember(sender, p->sender_mac);
        process_wakeup(cache);
    }
    if (ntohs(p->operation) == ARP_REQUEST && target == net_if.ip)
        send(ARP_REPLY, p->sender_mac, p->sender_mac, sender);
}

int arp_resolve(uint32_t ip, uint8_t mac[6], unsigned timeout_ms)
{
    static const uint8_t unknown[6];
    uint64_t deadline = timer_ticks() + timer_ms_to_ticks(timeout_ms);
    uint64_t flags = irq_save();
    int result = ERR_TIMEOUT;
    for (;;) {
        struct cache_entry *e = lookup(ip);
        if (e) {
            memcpy(mac, e->mac, 6);
            result = 0;
            break;
        }
        uint64_t now = timer_ticks();
        if (now >= deadline)
            break;
        send(ARP_REQUEST, eth_broadcast, unknown, ip);
        uint64_t resend = now + timer_ms_to_ticks(RESEND_MS);
        /* Woken by arp_receive when any entry changes, or at the resend time. */
        process_sleep(cache, resend < deadline ? resend : deadline);
    }
    irq_restore(flags);
    return result;
}

void arp_forget(uint32_t ip)
{
    uint64_t flags = irq_save();
    struct cache_entry *e = lookup(ip);
    if (e)
        e->ip = 0;
    irq_restore(flags);
}

int arp_list(struct arp_entry_info *out, int max)
{
    int n = 0;
    for (int i = 0; i < CACHE_SIZE && n < max; i++)
        if (cache[i].ip) {
            out[n].ip = cache[i].ip;
            memcpy(out[n].mac, cache[i].mac, 6);
            n++;
        }
    return n;
}
