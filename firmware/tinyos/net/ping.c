/* ping.c - send an ICMP echo request and wait for the matching reply.
 * The round trip is measured with the TSC (microseconds) and the tick counter. */
#include "kernel/cpu.h"
#include "kernel/process.h"
#include "kernel/timer.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/net.h"

enum { PING_ID = 0x7105, PAYLOAD = 32 };

static struct {
    bool busy; /* one ping at a time */
    bool answered;
    uint32_t ip;
    uint16_t sequence;
    uint8_t ttl;
    uint64_t tsc, ticks; /* when the reply arrived */
} pending;

void ping_reply_received(uint32_t source_ip, uint16_t id, uint16_t sequence, uint8_t ttl)
{
    if (!pending.busy || pending.answered || id != PING_ID || source_ip != pending.ip || sequence != pending.sequence)
        return;
    pending.tsc = rdtsc();
    pending.ticks = timer_ticks();
    pending.ttl = ttl;
    pending.answered = true;
    process_wakeup(&pending);
}

int ping_once(uint32_t ip, uint16_t sequence, unsigned timeout_ms, struct ping_result *result)
{
    if (!net_if.up)
        return ERR_NO_DEVICE;
    if ((ip & net_if.netmask) != (net_if.ip & net_if.netmask) || ip == net_if.ip)
        return ERR_INVALID; /* no router: only other hosts on our /24 */
    uint8_t mac[6];
    int err = arp_resolve(ip, mac, timeout_ms);
    if (err)
        return err;

    uint8_t packet[sizeof(struct icmp_echo) + PAYLOAD];
    struct icmp_echo *h = (struct icmp_echo *)packet;
    h->type = ICMP_ECHO_REQUEST;
    h->code = 0;
    h->checksum = 0;
    h->id = htons(PING_ID);
    h->sequence = htons(sequence);
    for (int i = 0; i < PAYLOAD; i++)
        packet[sizeof *h + i] = (uint8_t)('a' + i % 26);
    h->checksum = htons(net_checksum(packet, sizeof packet));

    uint64_t flags = irq_save();
    if (pending.busy) {
        irq_restore(flags);
        return ERR_AGAIN;
    }
    pending.busy = true;
    pending.answered = false;
    pending.ip = ip;
    pending.sequence = sequence;
    uint64_t start_ticks = timer_ticks();
    uint64_t start_tsc = rdtsc();
    ipv4_send(mac, ip, IP_PROTOCOL_ICMP, packet, sizeof packet);
    uint64_t deadline = start_ticks + timer_ms_to_ticks(timeout_ms);
    while (!pending.answered && timer_ticks() < deadline)
        process_sleep(&pending, deadline);
    bool answered = pending.answered;
    pending.busy = false;
    irq_restore(flags);

    if (!answered)
        return ERR_TIMEOUT;
    result->rtt_us = timer_cycles_to_us(pending.tsc - start_tsc);
    result->rtt_ticks = pending.ticks - start_ticks;
    result->ttl = pending.ttl;
    return 0;
}
