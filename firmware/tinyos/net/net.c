/* net.c - interface setup and the helpers every protocol uses. */
#include "net/net.h"
#include "drivers/e1000.h"
#include "drivers/virtio_net.h"
#include "kernel/kprintf.h"
#include "net/ethernet.h"

struct net_interface net_if;

static const struct net_driver virtio_net = {
    "virtio-net",    virtio_net_transmit,  virtio_net_transmit_burst,  virtio_net_doorbells,
    virtio_net_irq,  virtio_net_poll,      virtio_net_rx_packets,      virtio_net_tx_packets,
};
static const struct net_driver e1000 = {
    "e1000",   e1000_transmit, e1000_transmit_burst, e1000_doorbells,
    e1000_irq, e1000_poll,     e1000_rx_packets,     e1000_tx_packets,
};

void net_init(void)
{
    if (virtio_net_init(eth_receive)) {
        net_if.driver = &virtio_net;
        virtio_net_mac(net_if.mac);
    } else if (e1000_init(eth_receive)) {
        net_if.driver = &e1000;
        e1000_mac(net_if.mac);
    } else {
        return;
    }
    net_if.ip = NET_PREFIX | net_if.mac[5];
    net_if.netmask = NET_NETMASK;
    net_if.up = true;
    char ip[16];
    net_format_ip(ip, net_if.ip);
    kprintf("net: IP address %s/24\n", ip);
    kprintf("net: using %s\n", net_if.driver->name);
}

void net_poll(void)
{
    if (net_if.up)
        net_if.driver->poll();
}

uint16_t net_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (; len > 1; len -= 2, p += 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16) /* fold the carries back in */
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

void net_format_ip(char *buf, uint32_t ip)
{
    int n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned byte = (ip >> shift) & 0xFF;
        if (byte >= 100)
            buf[n++] = (char)('0' + byte / 100);
        if (byte >= 10)
            buf[n++] = (char)('0' + byte / 10 % 10);
        buf[n++] = (char)('0' + byte % 10);
        if (shift)
            buf[n++] = '.';
    }
    buf[n] = '\0';
}
