/* cmd_net.c - `ip` and `ping`. */
#include "user/shell.h"
#include "user/syscalls.h"
#include "user/ulib.h"

void cmd_ip(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct net_info n;
    netinfo(&n);
    if (!n.present) {
        printf("ip: no network card\n");
        return;
    }
    char ip[16];
    format_ip(ip, n.ip);
    printf("%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, ", n.driver, n.mac[0], n.mac[1], n.mac[2],
           n.mac[3], n.mac[4], n.mac[5]);
    if (n.irq == 0xFF)
        printf("polled\n");
    else
        printf("IRQ %u\n", n.irq);
    printf("inet %s/24, %lu packets received, %lu sent\n", ip, n.rx_packets, n.tx_packets);
    for (int i = 0; i < n.arp_count; i++) {
        format_ip(ip, n.arp[i].ip);
        const uint8_t *m = n.arp[i].mac;
        printf("arp: %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", ip, m[0], m[1], m[2], m[3], m[4], m[5]);
    }
}

void cmd_ping(int argc, char **argv)
{
    uint32_t ip;
    uint64_t count = 4;
    if (argc < 2 || !parse_ip(argv[1], &ip) || (argc > 2 && !parse_u64(argv[2], &count))) {
        printf("usage: ping IP [COUNT]\n");
        return;
    }
    unsigned received = 0;
    for (unsigned seq = 1; seq <= count; seq++) {
        struct ping_result r;
        long err = ping(ip, seq, 1000, &r);
        if (err == 0) {
            received++;
            printf("reply from %s: seq=%u ttl=%u time=%lu.%03lu ms (%lu ticks)\n", argv[1], seq, r.ttl, r.rtt_us / 1000,
                   r.rtt_us % 1000, r.rtt_ticks);
        } else {
            printf("no reply from %s: seq=%u: %s\n", argv[1], seq, error_name(err));
        }
        if (seq < count)
            sleep_ms(500);
    }
    printf("%lu sent, %u received\n", count, received);
}
