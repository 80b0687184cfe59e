/* icmp.c - answer echo requests; pass echo replies to the waiting ping (net/ping.c). */
#include "net/icmp.h"
#include "lib/string.h"
#include "net/ipv4.h"
#include "net/net.h"

void icmp_receive(const uint8_t source_mac[6], uint32_t source_ip, uint8_t ttl, const uint8_t *data, size_t len)
{
    if (len < sizeof(struct icmp_echo) || net_checksum(data, len) != 0)
        return;
    const struct icmp_echo *h = (const struct icmp_echo *)data;
    if (h->type == ICMP_ECHO_REQUEST && h->code == 0) {
        /* The reply is the request with type 0 and a new checksum; id, sequence and data
         * stay the same. We answer the Ethernet address it came from, so no ARP lookup. */
        uint8_t reply[1480];
        if (len > sizeof reply)
            return;
        memcpy(reply, data, len);
        struct icmp_echo *r = (struct icmp_echo *)reply;
        r->type = ICMP_ECHO_REPLY;
        r->checksum = 0;
        r->checksum = htons(net_checksum(reply, len));
        ipv4_send(source_mac, source_ip, IP_PROTOCOL_ICMP, reply, len);
    } else if (h->type == ICMP_ECHO_REPLY) {
        ping_reply_received(source_ip, ntohs(h->id), ntohs(h->sequence), ttl);
    }
}
