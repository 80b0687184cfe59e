#include "devices/e1000_offload.hpp"

#include <algorithm>
#include <array>

#include "devices/e1000_regs.hpp"

namespace hvlab::devices::e1000 {

namespace {

constexpr size_t kIpv4TotalLength = 2;     // offsets inside the IPv4 header
constexpr size_t kIpv4Identification = 4;
constexpr size_t kIpv6PayloadLength = 4;   // offset inside the IPv6 header
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kTcpSequence = 4;         // offsets inside the TCP header
constexpr size_t kTcpFlags = 13;
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr size_t kUdpLength = 4;           // offset inside the UDP header

bool fits(size_t offset, size_t width, size_t size) { return offset + width <= size; }

uint16_t load16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
void store16(std::span<uint8_t> b, size_t at, uint32_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}
uint32_t load32(std::span<const uint8_t> b, size_t at) {
    return static_cast<uint32_t>(b[at]) << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
}
void store32(std::span<uint8_t> b, size_t at, uint32_t v) {
    store16(b, at, v >> 16);
    store16(b, at + 2, v & 0xFFFF);
}

uint16_t fold(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// The TCP/UDP checksum with the UDP rule: a computed 0 goes out as 0xFFFF.
bool insertTransportChecksum(std::span<uint8_t> frame, const TxOffloadContext& c) {
    if (!insertChecksum(frame, c.tucss, c.tucse, c.tucso)) return false;
    if (!c.tcp && load16(frame, c.tucso) == 0) store16(frame, c.tucso, 0xFFFF);
    return true;
}

constexpr std::array<uint32_t, 256> makeCrcTable() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;  // reflected 0x04C11DB7
        table[i] = c;
    }
    return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

}  // namespace

uint16_t onesComplementSum(std::span<const uint8_t> bytes, uint32_t initial) {
    uint64_t sum = initial;
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i]) << 8;
    return fold(sum);
}

bool insertChecksum(std::span<uint8_t> frame, size_t start, size_t end, size_t offset) {
    if (frame.empty()) return false;
    const size_t last = end == 0 ? frame.size() - 1 : std::min(end, frame.size() - 1);
    if (start > last || !fits(offset, 2, frame.size())) return false;
    const uint16_t sum = onesComplementSum(frame.subspan(start, last - start + 1));
    store16(frame, offset, static_cast<uint16_t>(~sum));
    return true;
}

bool applyChecksumOffload(std::vector<uint8_t>& frame, const TxOffloadContext& context, uint8_t popts) {
    if ((popts & kTxPoptsIxsm) && !insertChecksum(frame, context.ipcss, context.ipcse, context.ipcso)) return false;
    if ((popts & kTxPoptsTxsm) && !insertTransportChecksum(frame, context)) return false;
    return true;
}

bool segmentPacket(std::span<const uint8_t> packet, const TxOffloadContext& c, uint8_t popts,
                   const std::function<void(std::vector<uint8_t>&)>& emit) {
    const size_t header = c.headerLength;
    const size_t transportHeader = c.tcp ? 20 : 8;
    if (c.mss == 0 || header == 0 || packet.size() <= header) return false;
    if (!fits(c.tucss, transportHeader, header)) return false;
    if (c.ipv4 && !fits(c.ipcss, 20, header)) return false;
    if (!c.ipv4 && !fits(c.ipcss, kIpv6HeaderSize, header)) return false;
    if ((popts & kTxPoptsTxsm) && !fits(c.tucso, 2, header)) return false;
    if ((popts & kTxPoptsIxsm) && !fits(c.ipcso, 2, header)) return false;

    const auto headerBytes = packet.first(header);
    const auto payload = packet.subspan(header);
    const uint16_t firstId = c.ipv4 ? load16(headerBytes, c.ipcss + kIpv4Identification) : 0;
    const uint32_t firstSequence = c.tcp ? load32(headerBytes, c.tucss + kTcpSequence) : 0;
    std::vector<uint8_t> frame;
    uint16_t segmentIndex = 0;
    for (size_t sent = 0; sent < payload.size(); sent += c.mss, ++segmentIndex) {
        const size_t chunk = std::min<size_t>(c.mss, payload.size() - sent);
        const bool last = sent + chunk == payload.size();
        frame.assign(headerBytes.begin(), headerBytes.end());
        frame.insert(frame.end(), payload.begin() + static_cast<std::ptrdiff_t>(sent),
                     payload.begin() + static_cast<std::ptrdiff_t>(sent + chunk));
        std::span<uint8_t> f(frame);
        if (c.ipv4) {
            store16(f, c.ipcss + kIpv4TotalLength, static_cast<uint32_t>(frame.size() - c.ipcss));
            store16(f, c.ipcss + kIpv4Identification, static_cast<uint16_t>(firstId + segmentIndex));
        } else {
            store16(f, c.ipcss + kIpv6PayloadLength, static_cast<uint32_t>(frame.size() - c.ipcss - kIpv6HeaderSize));
        }
        const size_t transportLength = frame.size() - c.tucss;
        if (c.tcp) {
            store32(f, c.tucss + kTcpSequence, firstSequence + static_cast<uint32_t>(sent));
            if (!last) f[c.tucss + kTcpFlags] &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
        } else {
            store16(f, c.tucss + kUdpLength, static_cast<uint32_t>(transportLength));
        }
        if (popts & kTxPoptsTxsm) {
            // Software left the pseudo-header sum without the length; add this segment's.
            store16(f, c.tucso, fold(static_cast<uint64_t>(load16(f, c.tucso)) + transportLength));
            if (!insertTransportChecksum(f, c)) return false;
        }
        if ((popts & kTxPoptsIxsm) && !insertChecksum(f, c.ipcss, c.ipcse, c.ipcso)) return false;
        emit(frame);
    }
    return true;
}

void insertVlanTag(std::vector<uint8_t>& frame, uint16_t tpid, uint16_t tci) {
    if (frame.size() < 12) return;
    const std::array<uint8_t, 4> tag = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                        static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
    frame.insert(frame.begin() + 12, tag.begin(), tag.end());
}

uint32_t ethernetFcs(std::span<const uint8_t> frame) {
    uint32_t crc = 0xFFFFFFFFu;
    for (uint8_t byte : frame) crc = kCrcTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

}  // namespace hvlab::devices::e1000
