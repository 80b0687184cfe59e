// Packet work the 82540EM does on the way out and in, as pure functions on byte buffers:
// the Internet checksum insertion of legacy and context-based descriptors, TCP segmentation
// (TSO), 802.1Q tag insertion and the Ethernet FCS (8254x SDM sections 3.3.5-3.3.7, 3.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace hvlab::devices::e1000 {

// What a TCP/IP context descriptor sets up for the data descriptors that follow it.
struct TxOffloadContext {
    uint8_t ipcss = 0;   // IP checksum start
    uint8_t ipcso = 0;   // IP checksum offset (where the result goes)
    uint16_t ipcse = 0;  // IP checksum end, inclusive; 0 = end of packet
    uint8_t tucss = 0;   // TCP/UDP checksum start
    uint8_t tucso = 0;
    uint16_t tucse = 0;
    uint32_t payloadLength = 0;  // TSO: bytes after the header
    uint8_t headerLength = 0;    // TSO: MAC + IP + TCP/UDP header bytes, copied into every segment
    uint16_t mss = 0;            // TSO: payload bytes per segment
    bool tcp = false;            // TUCMD.TCP: TCP (else UDP)
    bool ipv4 = false;           // TUCMD.IP: IPv4 (else IPv6)
};

// The 16-bit one's complement sum of `bytes` as big-endian words (RFC 1071), added to `initial`
// and folded, not complemented. An odd last byte is padded with zero.
uint16_t onesComplementSum(std::span<const uint8_t> bytes, uint32_t initial = 0);

// Computes the Internet checksum of frame[start..end] (end inclusive, 0 = the last byte) and
// stores it big-endian at `offset`. Returns false, changing nothing, if a field is out of range.
bool insertChecksum(std::span<uint8_t> frame, size_t start, size_t end, size_t offset);

// The checksums a data descriptor's POPTS asks for (IXSM: IP header, TXSM: TCP/UDP), using the
// offsets of `context`. A UDP checksum that comes out as 0 is sent as 0xFFFF (RFC 768).
// Returns false if an offset lies outside the frame.
bool applyChecksumOffload(std::vector<uint8_t>& frame, const TxOffloadContext& context, uint8_t popts);

// TCP segmentation: `packet` is the gathered header (context.headerLength bytes) plus payload.
// Emits one frame per MSS of payload with the header copied and fixed up (IPv4 total length and
// identification, IPv6 payload length, TCP sequence number and FIN/PSH only on the last segment,
// UDP length), then the checksums POPTS asks for; the pseudo-header sum software left in the
// TCP/UDP checksum field gets each segment's length added first. Returns false (emitting nothing)
// if the context cannot describe this packet.
bool segmentPacket(std::span<const uint8_t> packet, const TxOffloadContext& context, uint8_t popts,
                   const std::function<void(std::vector<uint8_t>&)>& emit);

// Inserts an 802.1Q tag (TPID, TCI) after the two MAC addresses. Frames shorter than 12 bytes stay as they are.
void insertVlanTag(std::vector<uint8_t>& frame, uint16_t tpid, uint16_t tci);

// The IEEE 802.3 frame check sequence (CRC-32) of `frame`, in the order it follows the frame
// on the wire when stored little-endian.
uint32_t ethernetFcs(std::span<const uint8_t> frame);

}  // namespace hvlab::devices::e1000
