/* sys_net.c - network information, ping, ARP probes and the UDP stream benchmark. */
#include "kernel/cpu.h"
#include "kernel/syscalls.h"
#include "kernel/timer.h"
#include "kernel/uaccess.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/icmp.h"
#include "net/net.h"
#include "net/udp.h"

enum { MAX_TIMEOUT_MS = 10000, MAX_STREAM_FRAMES = 1000000 };

SYSCALL(sys_netinfo)
{
    struct net_info *out = (struct net_info *)a0;
    if (!user_range_ok(a0, sizeof *out))
        return ERR_INVALID;
    struct net_info info = {0};
    info.present = net_if.up;
    info.ip = net_if.ip;
    info.netmask = net_if.netmask;
    if (net_if.up) {
        info.irq = net_if.driver->irq();
        strlcpy(info.driver, net_if.driver->name, sizeof info.driver);
        info.rx_packets = net_if.driver->rx_packets();
        info.tx_packets = net_if.driver->tx_packets();
    }
    memcpy(info.mac, net_if.mac, 6);
    info.arp_count = (uint16_t)arp_list(info.arp, 8);
    *out = info;
    return 0;
}

SYSCALL(sys_ping)
{
    struct ping_result *out = (struct ping_result *)a3;
    if (!user_range_ok(a3, sizeof *out) || a2 > MAX_TIMEOUT_MS)
        return ERR_INVALID;
    struct ping_result r;
    int err = ping_once((uint32_t)a0, (uint16_t)a1, (unsigned)a2, &r);
    if (!err)
        *out = r;
    return err;
}

/* Forget `ip`'s cache entry and time how long the ARP request/reply takes. */
SYSCALL(sys_arpprobe)
{
    struct ping_result *out = (struct ping_result *)a2;
    if (!user_range_ok(a2, sizeof *out) || a1 > MAX_TIMEOUT_MS)
        return ERR_INVALID;
    if (!net_if.up)
        return ERR_NO_DEVICE;
    uint8_t mac[6];
    arp_forget((uint32_t)a0);
    uint64_t ticks0 = timer_ticks(), tsc0 = rdtsc();
    int err = arp_resolve((uint32_t)a0, mac, (unsigned)a1);
    if (err)
        return err;
    out->rtt_us = timer_cycles_to_us(rdtsc() - tsc0);
    out->rtt_ticks = timer_ticks() - ticks0;
    out->ttl = 0;
    return 0;
}

/* Send a1 UDP datagrams of a2 payload bytes to a0 as fast as the card takes them. */
SYSCALL(sys_udpstream)
{
    struct udp_stream_result *out = (struct udp_stream_result *)a3;
    if (!user_range_ok(a3, sizeof *out) || a1 > MAX_STREAM_FRAMES)
        return ERR_INVALID;
    struct udp_stream_result r = {0};
    int err = udp_stream((uint32_t)a0, (uint32_t)a1, (uint32_t)a2, &r);
    if (err == 0 || err == ERR_TIMEOUT)
        *out = r; /* a stalled card still reports how far it got */
    return err;
}
