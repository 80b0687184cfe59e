// The e1000 receive path (8254x SDM section 3.2): address and VLAN filtering, the descriptor
// ring between RDH and RDT, buffers per RCTL.BSIZE/BSEX, status write-back and interrupts.
#include <spdlog/spdlog.h>

#include "devices/e1000.hpp"
#include "devices/e1000_regs.hpp"

namespace hvlab::devices {

using namespace e1000;

namespace {

constexpr size_t kMinFrameWithoutFcs = 60;
constexpr size_t kMaxStandardFrameWithFcs = 1522;  // with an 802.1Q tag; RCTL.LPE lifts it
constexpr size_t kFcsBytes = 4;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTagBytes = 4;

// Which destination address bits index the 4096-bit multicast table, per RCTL.MO (SDM 13.5.1):
// bits 47:36, 46:35, 45:34 or 43:32 -- a right shift of the last two bytes.
constexpr unsigned kMulticastShift[4] = {4, 3, 2, 0};

bool isBroadcast(std::span<const uint8_t> mac) {
    for (size_t i = 0; i < 6; ++i)
        if (mac[i] != 0xFF) return false;
    return true;
}

uint16_t be16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

void putLe16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

}  // namespace

void E1000::accountQueueDrops() {
    // Frames the switch had to drop from our full queue are what a full receive FIFO loses:
    // missed packets, with a receiver overrun interrupt.
    const uint64_t drops = port_->counters().queueDrops;
    if (drops == seenQueueDrops_) return;
    const uint64_t missed = drops - seenQueueDrops_;
    seenQueueDrops_ = drops;
    counters_.rxQueueOverruns += missed;
    addStatistic(kMpc, missed);
    raiseInterrupt(kIntRxo);
}

void E1000::pollReceive() {
    if (!port_ || receiving_) return;
    receiving_ = true;
    accountQueueDrops();
    port_->drain([this](std::span<const uint8_t> frame) { return receiveFrame(frame); });
    receiving_ = false;
}

bool E1000::addressAccepted(std::span<const uint8_t> frame) const {
    const uint32_t rctl = reg(kRctl);
    const auto destination = frame.first(6);
    const bool group = destination[0] & 1;
    if (isBroadcast(destination) && (rctl & kRctlBam)) return true;
    if (!group && (rctl & kRctlUpe)) return true;
    if (group && (rctl & kRctlMpe)) return true;
    for (unsigned i = 0; i < kReceiveAddresses; ++i) {
        const uint32_t high = reg(kRah0 + 8 * i);
        if (!(high & kRahAv) || (high & kRahAsMask) != 0) continue;  // only destination filters
        const uint32_t low = reg(kRal0 + 8 * i);
        const uint8_t address[6] = {static_cast<uint8_t>(low),       static_cast<uint8_t>(low >> 8),
                                    static_cast<uint8_t>(low >> 16), static_cast<uint8_t>(low >> 24),
                                    static_cast<uint8_t>(high),      static_cast<uint8_t>(high >> 8)};
        if (std::equal(destination.begin(), destination.end(), address)) return true;
    }
    if (group) {
        const unsigned mo = (rctl & kRctlMoMask) >> kRctlMoShift;
        const unsigned hash = ((destination[4] | destination[5] << 8) >> kMulticastShift[mo]) & 0xFFF;
        if ((reg(kMta + 4 * (hash >> 5)) >> (hash & 31)) & 1) return true;
    }
    return false;
}

bool E1000::vlanAccepted(std::span<const uint8_t> frame) const {
    // The VLAN filter applies in VLAN mode (CTRL.VME) with RCTL.VFE, to tagged frames only.
    if (!(reg(kCtrl) & kCtrlVme) || !(reg(kRctl) & kRctlVfe)) return true;
    if (frame.size() < kEthernetHeader + kVlanTagBytes || be16(frame, 12) != (reg(kVet) & 0xFFFF)) return true;
    const unsigned vid = be16(frame, 14) & 0xFFF;
    return (reg(kVfta + 4 * (vid >> 5)) >> (vid & 31)) & 1;
}

size_t E1000::receiveBufferSize() const {
    const uint32_t rctl = reg(kRctl);
    const unsigned bsize = (rctl & kRctlBsizeMask) >> kRctlBsizeShift;
    if (!(rctl & kRctlBsex)) return size_t{2048} >> bsize;  // 2048, 1024, 512, 256
    return bsize == 0 ? 2048 : size_t{32768} >> bsize;     // (reserved), 16384, 8192, 4096
}

uint32_t E1000::freeReceiveDescriptors() const {
    // Hardware owns the descriptors from RDH up to, not including, RDT.
    const uint32_t ringSize = receiveRingSize();
    if (ringSize == 0) return 0;
    return (reg(kRdt) + ringSize - reg(kRdh) % ringSize) % ringSize;
}

bool E1000::receiveFrame(std::span<const uint8_t> frame) {
    const bool consumed = processReceivedFrame(frame);
    if (consumed) rxWaiting_ = false;  // the next frame that has to wait counts in RNBC again
    return consumed;
}

bool E1000::processReceivedFrame(std::span<const uint8_t> frame) {
    const uint32_t rctl = reg(kRctl);
    if (!(rctl & kRctlEn) || frame.size() < kEthernetHeader) {  // the receiver discards it
        ++counters_.rxDiscarded;
        return true;
    }
    const size_t wireBytes = std::max(frame.size(), kMinFrameWithoutFcs) + kFcsBytes;
    if (frame.size() > kMaxRxFrame || (!(rctl & kRctlLpe) && wireBytes > kMaxStandardFrameWithFcs)) {
        ++counters_.rxDiscarded;
        addStatistic(kRoc);
        return true;
    }
    if (!addressAccepted(frame) || !vlanAccepted(frame)) {
        ++counters_.rxFiltered;
        return true;
    }
    if (!busMasterEnabled()) return false;  // no DMA yet: the frame waits in the queue

    // What lands in guest memory: the frame padded to the minimum size, the VLAN tag moved
    // into the descriptor in VLAN mode, and the FCS unless RCTL.SECRC strips it.
    std::vector<uint8_t> data(frame.begin(), frame.end());
    if (data.size() < kMinFrameWithoutFcs) data.resize(kMinFrameWithoutFcs, 0);
    uint8_t status = kRxStaDd | kRxStaEop | kRxStaIxsm;
    uint16_t special = 0;
    if ((reg(kCtrl) & kCtrlVme) && be16(data, 12) == (reg(kVet) & 0xFFFF)) {
        special = be16(data, 14);
        data.erase(data.begin() + 12, data.begin() + 12 + kVlanTagBytes);
        status |= kRxStaVp;
    }
    if (!(rctl & kRctlSecrc)) {
        const uint32_t fcs = ethernetFcs(data);
        for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(fcs >> (8 * i)));
    }

    const uint32_t ringSize = receiveRingSize();
    const uint32_t head = reg(kRdh);
    if (ringSize != 0 && (head >= ringSize || reg(kRdt) >= ringSize)) {
        ++counters_.rxRingErrors;
        spdlog::debug("e1000: RDH {} or RDT {} outside the {}-descriptor ring", head, reg(kRdt), ringSize);
        return true;
    }
    const size_t bufferSize = receiveBufferSize();
    const size_t needed = (data.size() + bufferSize - 1) / bufferSize;
    if (ringSize != 0 && needed >= ringSize) {  // can never fit: the FIFO would overflow
        ++counters_.rxDiscarded;
        addStatistic(kMpc);
        raiseInterrupt(kIntRxo);
        return true;
    }
    if (freeReceiveDescriptors() < needed) {
        if (!rxWaiting_) {  // count each waiting frame once
            rxWaiting_ = true;
            ++counters_.rxNoDescriptors;
            addStatistic(kRnbc);
        }
        return false;
    }
    if (!storeFrame(data, status, special)) return true;

    addStatistic(kGprc);
    addStatistic(kTpr);
    addOctets(kGorcl, wireBytes);
    addOctets(kTorl, wireBytes);
    countPacketSize(kPrc64, wireBytes);
    if (frame[0] & 1) addStatistic(isBroadcast(frame) ? kBprc : kMprc);
    ++counters_.rxFrames;
    counters_.rxBytes += frame.size();

    uint32_t causes = kIntRxt0;  // no receive delay timer: the interrupt is immediate
    const unsigned rdmts = (reg(kRctl) & kRctlRdmtsMask) >> kRctlRdmtsShift;
    if (freeReceiveDescriptors() <= ringSize >> (rdmts + 1)) causes |= kIntRxdmt0;
    raiseInterrupt(causes);
    return true;
}

bool E1000::storeFrame(std::span<const uint8_t> data, uint8_t status, uint16_t special) {
    const uint32_t ringSize = receiveRingSize();
    const uint64_t base = uint64_t{reg(kRdbah)} << 32 | reg(kRdbal);
    const size_t bufferSize = receiveBufferSize();
    const uint16_t packetChecksum = onesComplementSum(data.subspan(std::min<size_t>(reg(kRxcsum) & 0xFF, data.size())));
    uint8_t errors = 0;
    for (size_t offset = 0; offset < data.size(); offset += bufferSize) {
        const uint32_t head = reg(kRdh);
        const uint64_t address = base + uint64_t{head} * kDescriptorSize;
        std::array<uint8_t, 16> descriptor{};
        if (!memory_.read(address, descriptor.data(), descriptor.size())) {
            ++counters_.rxDmaErrors;
            spdlog::debug("e1000: receive descriptor at {:#x} is outside RAM; frame dropped", address);
            return false;
        }
        uint64_t buffer = 0;
        for (int i = 7; i >= 0; --i) buffer = buffer << 8 | descriptor[static_cast<size_t>(i)];
        const size_t chunk = std::min(bufferSize, data.size() - offset);
        if (!memory_.write(buffer, data.data() + offset, chunk)) {
            ++counters_.rxDmaErrors;
            spdlog::debug("e1000: receive buffer {:#x} is outside RAM", buffer);
            errors |= kRxErrRxe;
        }
        // Status bits other than DD mean something only in the last descriptor of the frame.
        const bool last = offset + chunk == data.size();
        putLe16(&descriptor[8], static_cast<uint16_t>(chunk));
        putLe16(&descriptor[10], last ? packetChecksum : 0);
        descriptor[12] = last ? status : kRxStaDd;
        descriptor[13] = last ? errors : 0;
        putLe16(&descriptor[14], last ? special : 0);
        if (!memory_.write(address + 8, &descriptor[8], 8)) ++counters_.rxDmaErrors;
        reg(kRdh) = (head + 1) % ringSize;
    }
    return true;
}

}  // namespace hvlab::devices
