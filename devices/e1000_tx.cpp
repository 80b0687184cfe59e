// The e1000 transmit path (8254x SDM section 3.3): the descriptor ring between TDH and TDT,
// legacy, context and data descriptors, gathering fragments until EOP, offloads, write-back.
#include <spdlog/spdlog.h>

#include "devices/e1000.hpp"
#include "devices/e1000_regs.hpp"

namespace hvlab::devices {

using namespace e1000;

namespace {

constexpr size_t kMinFrameWithoutFcs = 60;  // TCTL.PSP pads to 64 bytes on the wire
constexpr uint32_t kFcsBytes = 4;

uint16_t le16(const std::array<uint8_t, 16>& b, size_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }
uint32_t le32(const std::array<uint8_t, 16>& b, size_t at) {
    return static_cast<uint32_t>(b[at]) | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
uint64_t le64(const std::array<uint8_t, 16>& b, size_t at) { return le32(b, at) | uint64_t{le32(b, at + 4)} << 32; }

bool isBroadcast(std::span<const uint8_t> frame) {
    for (size_t i = 0; i < 6; ++i)
        if (frame[i] != 0xFF) return false;
    return true;
}

}  // namespace

void E1000::processTransmitRing() {
    if (!(reg(kTctl) & kTctlEn) || !busMasterEnabled()) return;
    const uint32_t ringSize = (reg(kTdlen) & kRingLengthMask) / kDescriptorSize;
    if (ringSize == 0) return;
    uint32_t head = reg(kTdh);
    const uint32_t tail = reg(kTdt);
    if (head >= ringSize || tail >= ringSize) {
        ++counters_.txRingErrors;
        spdlog::debug("e1000: TDH {} or TDT {} outside the {}-descriptor ring", head, tail, ringSize);
        return;
    }
    const uint64_t base = uint64_t{reg(kTdbah)} << 32 | reg(kTdbal);
    uint32_t causes = 0;
    // Each descriptor is visited once: head walks towards the (fixed) tail, at most ringSize steps.
    while (head != tail) {
        const uint64_t address = base + uint64_t{head} * kDescriptorSize;
        std::array<uint8_t, 16> raw{};
        if (memory_.read(address, raw.data(), raw.size())) {
            causes |= processTxDescriptor(raw, address);
        } else {
            ++counters_.txDmaErrors;
            spdlog::debug("e1000: transmit descriptor at {:#x} is outside RAM", address);
            if (tx_.active) tx_.failed = true;
        }
        head = (head + 1) % ringSize;
        reg(kTdh) = head;
    }
    raiseInterrupt(causes | kIntTxqe);
}

uint32_t E1000::processTxDescriptor(const std::array<uint8_t, 16>& raw, uint64_t address) {
    const uint64_t buffer = le64(raw, 0);
    const uint32_t lower = le32(raw, 8);
    const uint32_t upper = le32(raw, 12);
    const auto command = static_cast<uint8_t>(lower >> 24);
    const auto special = static_cast<uint16_t>(upper >> 16);

    if (!(command & kTxCmdDext)) {  // legacy: address, 16-bit length, CSO, CMD, STA, CSS, special
        if (!tx_.active) {  // the checksum fields count in the first descriptor of a packet
            tx_.active = true;
            tx_.legacyChecksum = command & kTxCmdIc;
            tx_.cso = static_cast<uint8_t>(lower >> 16);
            tx_.css = static_cast<uint8_t>(upper >> 8);
        }
        appendTxBuffer(buffer, lower & 0xFFFF);
        if (command & kTxCmdEop) finishTxPacket(command, special);
    } else {
        const auto type = static_cast<uint8_t>((lower >> 20) & 0xF);
        if (type == kTxDtypContext) {
            loadContext(raw);
        } else if (type == kTxDtypData) {
            if (!tx_.active) {  // POPTS and TSE count in the first data descriptor of a packet
                tx_.active = true;
                tx_.extended = true;
                tx_.tso = command & kTxCmdTse;
                tx_.popts = static_cast<uint8_t>(upper >> 8);
            }
            appendTxBuffer(buffer, lower & 0xFFFFF);
            if (command & kTxCmdEop) finishTxPacket(command, special);
        } else {
            spdlog::debug("e1000: transmit descriptor type {} is reserved", type);
            if (tx_.active) tx_.failed = true;
        }
    }

    if (!(command & kTxCmdRs)) return 0;
    // Report status: DD in the STA nibble (byte 12), the rest of the descriptor untouched.
    const auto status = static_cast<uint8_t>((raw[12] & 0xF0) | kTxStaDd);
    if (!memory_.write(address + 12, &status, 1)) ++counters_.txDmaErrors;
    return kIntTxdw;
}

void E1000::loadContext(const std::array<uint8_t, 16>& raw) {
    const uint32_t lower = le32(raw, 8);
    const uint32_t upper = le32(raw, 12);
    const auto tucmd = static_cast<uint8_t>(lower >> 24);
    txContext_.ipcss = raw[0];
    txContext_.ipcso = raw[1];
    txContext_.ipcse = le16(raw, 2);
    txContext_.tucss = raw[4];
    txContext_.tucso = raw[5];
    txContext_.tucse = le16(raw, 6);
    txContext_.payloadLength = lower & 0xFFFFF;
    txContext_.tcp = tucmd & kTxTucmdTcp;
    txContext_.ipv4 = tucmd & kTxTucmdIp;
    txContext_.headerLength = static_cast<uint8_t>(upper >> 8);
    txContext_.mss = static_cast<uint16_t>(upper >> 16);
    txContextTso_ = tucmd & kTxCmdTse;
}

void E1000::appendTxBuffer(uint64_t address, uint32_t length) {
    if (tx_.failed || length == 0) return;  // null descriptors carry no data
    const size_t limit = tx_.tso ? kMaxTsoPacket : kMaxTxFrame;
    const size_t used = tx_.data.size();
    if (used + length > limit) {
        spdlog::debug("e1000: transmit packet longer than {} bytes dropped", limit);
        tx_.failed = true;
        return;
    }
    tx_.data.resize(used + length);
    if (!memory_.read(address, tx_.data.data() + used, length)) {
        ++counters_.txDmaErrors;
        spdlog::debug("e1000: transmit buffer {:#x}+{} is outside RAM", address, length);
        tx_.failed = true;
    }
}

void E1000::finishTxPacket(uint8_t eopCommand, uint16_t special) {
    TxPacket packet = std::move(tx_);
    tx_ = {};
    // VLE (taken from the EOP descriptor) inserts the tag only in VLAN mode.
    const bool insertVlan = (eopCommand & kTxCmdVle) && (reg(kCtrl) & kCtrlVme);
    if (packet.failed) {
        ++counters_.txDropped;
        if (packet.tso) addStatistic(kTsctfc);
        return;
    }
    if (packet.data.empty()) return;
    if (packet.tso) {
        if (!txContextTso_) spdlog::debug("e1000: TSO data descriptor after a non-TSO context");
        const bool segmented = segmentPacket(packet.data, txContext_, packet.popts,
                                             [&](std::vector<uint8_t>& frame) { transmitFrame(frame, insertVlan, special); });
        if (segmented) {
            ++counters_.txTsoPackets;
            addStatistic(kTsctc);
        } else {
            ++counters_.txDropped;
            addStatistic(kTsctfc);
            spdlog::debug("e1000: TSO packet of {} bytes does not match its context (header {}, MSS {})",
                          packet.data.size(), txContext_.headerLength, txContext_.mss);
        }
        return;
    }
    // Checksum fields out of range make the hardware skip the insertion, not drop the packet.
    if (packet.extended) {
        if (!applyChecksumOffload(packet.data, txContext_, packet.popts))
            spdlog::debug("e1000: checksum offsets outside the packet, checksum not inserted");
    } else if (packet.legacyChecksum) {
        if (!insertChecksum(packet.data, packet.css, 0, packet.cso))
            spdlog::debug("e1000: legacy CSS {} / CSO {} outside the packet", packet.css, packet.cso);
    }
    transmitFrame(packet.data, insertVlan, special);
}

void E1000::transmitFrame(std::vector<uint8_t>& frame, bool insertVlan, uint16_t special) {
    if (insertVlan) insertVlanTag(frame, static_cast<uint16_t>(reg(kVet)), special);
    if ((reg(kTctl) & kTctlPsp) && frame.size() < kMinFrameWithoutFcs) frame.resize(kMinFrameWithoutFcs, 0);
    const size_t wireBytes = frame.size() + kFcsBytes;  // the MAC appends the FCS
    addStatistic(kGptc);
    addStatistic(kTpt);
    addOctets(kGotcl, wireBytes);
    addOctets(kTotl, wireBytes);
    countPacketSize(kPtc64, wireBytes);
    if (frame.size() >= 6 && (frame[0] & 1)) addStatistic(isBroadcast(frame) ? kBptc : kMptc);
    ++counters_.txFrames;
    counters_.txBytes += frame.size();
    if (port_ && linkUp_) port_->send(frame);
}

}  // namespace hvlab::devices
