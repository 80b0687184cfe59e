// The e1000's register file, interrupts, link and PCI glue. Transmit is in e1000_tx.cpp,
// receive in e1000_rx.cpp.
#include "devices/e1000.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "devices/e1000_regs.hpp"

namespace hvlab::devices {

using namespace e1000;

namespace {

// How the register file treats one register (or a block of equal ones).
enum class Kind : uint8_t {
    Plain,      // stores the writable bits, reads them back
    ReadOnly,   // reads what the device keeps there, writes are ignored
    Special,    // read or write has side effects: handled by name
    Statistic,  // read-to-clear counter
};

struct RegisterInfo {
    uint32_t offset;
    uint32_t count;  // dwords in the block
    uint32_t writeMask;
    uint32_t resetValue;
    Kind kind;
};

constexpr uint32_t kAll = 0xFFFFFFFF;

// The registers the 82540EM implements (8254x SDM table 13-2), sorted by offset. Reset values are
// the SDM's where they matter to drivers; CTRL as an EEPROM-configured adapter leaves it.
constexpr RegisterInfo kRegisterTable[] = {
    {kCtrl, 1, ~kCtrlRst, kCtrlFd | kCtrlAsde | kCtrlSlu, Kind::Special},
    {kStatus, 1, 0, 0, Kind::Special},
    {kEecd, 1, 0, 0, Kind::Special},
    {kEerd, 1, 0, 0, Kind::Special},
    {kCtrlExt, 1, kAll, 0, Kind::Plain},
    {kMdic, 1, 0, 0, Kind::Special},
    {kFcal, 1, kAll, 0, Kind::Plain},
    {kFcah, 1, 0xFFFF, 0, Kind::Plain},
    {kFct, 1, 0xFFFF, 0, Kind::Plain},
    {kVet, 1, 0xFFFF, 0x8100, Kind::Plain},
    {kIcr, 1, 0, 0, Kind::Special},
    {kItr, 1, 0xFFFF, 0, Kind::Plain},
    {kIcs, 1, 0, 0, Kind::Special},
    {kIms, 1, 0, 0, Kind::Special},
    {kImc, 1, 0, 0, Kind::Special},
    {kRctl, 1, 0x07FFFFFE, 0, Kind::Special},
    {kFcttv, 1, 0xFFFF, 0, Kind::Plain},
    {kTxcw, 1, kAll, 0, Kind::Plain},
    {kRxcw, 1, 0, 0, Kind::ReadOnly},
    {kTctl, 1, kAll, 0, Kind::Special},
    {kTipg, 1, 0x3FFFFFFF, 0, Kind::Plain},
    {kAifs, 1, 0xFFFF, 0, Kind::Plain},
    {kLedctl, 1, kAll, 0x07068302, Kind::Plain},
    {kPba, 1, 0xFFFF, 0x00100030, Kind::Plain},  // 48 KiB receive, 16 KiB transmit packet buffer
    {kFcrtl, 1, 0x8000FFF8, 0, Kind::Plain},
    {kFcrth, 1, 0xFFF8, 0, Kind::Plain},
    {kRdbal, 1, 0xFFFFFFF0, 0, Kind::Plain},
    {kRdbah, 1, kAll, 0, Kind::Plain},
    {kRdlen, 1, kRingLengthMask, 0, Kind::Plain},
    {kRdh, 1, 0xFFFF, 0, Kind::Plain},
    {kRdt, 1, 0xFFFF, 0, Kind::Special},
    {kRdtr, 1, 0xFFFF, 0, Kind::Plain},
    {kRxdctl, 1, 0x013F3F3F, 0x00010000, Kind::Plain},
    {kRadv, 1, 0xFFFF, 0, Kind::Plain},
    {kRsrpd, 1, 0xFFF, 0, Kind::Plain},
    {kTxdmac, 1, 0x1, 0, Kind::Plain},
    {kTdbal, 1, 0xFFFFFFF0, 0, Kind::Plain},
    {kTdbah, 1, kAll, 0, Kind::Plain},
    {kTdlen, 1, kRingLengthMask, 0, Kind::Plain},
    {kTdh, 1, 0xFFFF, 0, Kind::Plain},
    {kTdt, 1, 0xFFFF, 0, Kind::Special},
    {kTidv, 1, 0xFFFF, 0, Kind::Plain},
    {kTxdctl, 1, kAll, 0, Kind::Plain},
    {kTadv, 1, 0xFFFF, 0, Kind::Plain},
    {kTspmt, 1, kAll, 0x01000400, Kind::Plain},
    {kStatsFirst, 64, 0, 0, Kind::Statistic},
    {kRxcsum, 1, 0x3FF, 0, Kind::Plain},
    {kMta, kMtaEntries, kAll, 0, Kind::Plain},
    {kRal0, 2 * kReceiveAddresses, 0, 0, Kind::Special},
    {kVfta, kVftaEntries, kAll, 0, Kind::Plain},
    {kWuc, 1, kAll, 0, Kind::Plain},
    {kWufc, 1, kAll, 0, Kind::Plain},
    {kWus, 1, 0, 0, Kind::ReadOnly},
    {kManc, 1, kAll, 0, Kind::Plain},
    {kIpav, 1, kAll, 0, Kind::Plain},
};

constexpr bool tableIsSorted() {
    for (size_t i = 1; i < std::size(kRegisterTable); ++i)
        if (kRegisterTable[i].offset < kRegisterTable[i - 1].offset + 4 * kRegisterTable[i - 1].count) return false;
    return true;
}
static_assert(tableIsSorted(), "the register table must be sorted and without overlaps");

const RegisterInfo* findRegister(uint32_t offset) {
    const auto* end = std::end(kRegisterTable);
    const auto* it = std::upper_bound(std::begin(kRegisterTable), end, offset,
                                      [](uint32_t o, const RegisterInfo& r) { return o < r.offset; });
    if (it == std::begin(kRegisterTable)) return nullptr;
    --it;
    return offset < it->offset + 4 * it->count ? it : nullptr;
}

constexpr uint32_t kRahWritable = kRahAv | kRahAsMask | 0xFFFF;

// The 64-bit statistics: {low, high}. Reading the high half clears the pair (SDM 13.7).
constexpr std::pair<uint32_t, uint32_t> kOctetPairs[] = {{kGorcl, kGorch}, {kGotcl, kGotch}, {kTorl, kTorh}, {kTotl, kToth}};

// Writes to these registers mean "act on the bits that are 1": a partial write must not merge
// in the current value.
bool isWriteOneRegister(uint32_t offset) {
    return offset == kIcr || offset == kIcs || offset == kIms || offset == kImc;
}

}  // namespace

E1000::E1000(const MacAddress& mac, GuestMemory& memory)
    : PciFunction(kVendorIntel, kDevice82540EM, 0x02, 0x00, 0x00, kRevision),
      mac_(mac),
      memory_(memory),
      eeprom_(mac, kDevice82540EM, kSubsystemId),
      regs_(kMmioSize / 4, 0) {
    setSubsystem(kVendorIntel, kSubsystemId);
    defineBar(0, BarKind::Memory32, kMmioSize);
    defineBar(1, BarKind::Io, kIoSize);
    setInterruptPin(1);  // INTA#
    reset();
}

E1000::~E1000() = default;

void E1000::reset() {
    std::fill(regs_.begin(), regs_.end(), 0);
    for (const RegisterInfo& r : kRegisterTable)
        for (uint32_t i = 0; i < r.count; ++i) regs_[r.offset / 4 + i] = r.resetValue;
    // The MAC loads receive address 0 from EEPROM words 0-2 at reset (SDM 5.6.1).
    reg(kRal0) = static_cast<uint32_t>(eeprom_.word(0)) | static_cast<uint32_t>(eeprom_.word(1)) << 16;
    reg(kRah0) = eeprom_.word(2) | kRahAv;
    icr_ = 0;
    ims_ = 0;
    eeprom_.reset();
    phy_.reset();
    phy_.setCable(port_ != nullptr);
    linkUp_ = port_ != nullptr && phy_.linkUp();  // a reset is no link change: no LSC
    tx_ = {};
    txContext_ = {};
    txContextTso_ = false;
    rxWaiting_ = false;
    updateIrq();
}

// ---- BAR accesses -----------------------------------------------------------------------------

uint64_t E1000::barMmioRead(int bar, uint64_t offset, unsigned size) {
    if (bar != 0 || offset >= kMmioSize) return PciFunction::barMmioRead(bar, offset, size);
    const auto aligned = static_cast<uint32_t>(offset & ~3ull);
    if (size == 8) return readRegister(aligned) | static_cast<uint64_t>(readRegister(aligned + 4)) << 32;
    const uint32_t value = readRegister(aligned) >> ((offset & 3) * 8);
    return size >= 4 ? value : value & ((1u << (size * 8)) - 1);
}

void E1000::barMmioWrite(int bar, uint64_t offset, unsigned size, uint64_t value) {
    if (bar != 0 || offset >= kMmioSize) return;
    const auto aligned = static_cast<uint32_t>(offset & ~3ull);
    if (size == 8) {
        writeRegister(aligned, static_cast<uint32_t>(value));
        writeRegister(aligned + 4, static_cast<uint32_t>(value >> 32));
        return;
    }
    if (size >= 4) {
        writeRegister(aligned, static_cast<uint32_t>(value));
        return;
    }
    // A byte or word write: merge into the dword (drivers never do this, but a guest may).
    const unsigned shift = (offset & 3) * 8;
    const uint32_t lanes = ((1u << (size * 8)) - 1) << shift;
    const uint32_t base = isWriteOneRegister(aligned) ? 0 : peekRegister(aligned);
    writeRegister(aligned, (base & ~lanes) | ((static_cast<uint32_t>(value) << shift) & lanes));
}

uint32_t E1000::barIoRead(int bar, uint32_t offset, unsigned size) {
    if (bar != 1) return PciFunction::barIoRead(bar, offset, size);
    switch (offset & ~3u) {
    case kIoAddr: return ioAddress_;
    case kIoData: return static_cast<uint32_t>(barMmioRead(0, ioAddress_ + (offset & 3), size));
    default: return 0;  // reserved
    }
}

void E1000::barIoWrite(int bar, uint32_t offset, unsigned size, uint32_t value) {
    if (bar != 1) return;
    switch (offset & ~3u) {
    case kIoAddr: ioAddress_ = value & (kMmioSize - 1) & ~3u; break;
    case kIoData: barMmioWrite(0, ioAddress_ + (offset & 3), size, value); break;
    default: break;
    }
}

// ---- register file ---------------------------------------------------------------------------

uint32_t E1000::peekRegister(uint32_t offset) const {
    const RegisterInfo* info = findRegister(offset & ~3u);
    if (!info) return 0;
    switch (offset & ~3u) {
    case kStatus: return readStatus();
    case kEecd: return eeprom_.readEecd();
    case kEerd: return eeprom_.readEerd();
    case kIcr: return icr_;
    case kIms: return ims_;
    case kIcs:
    case kImc: return 0;  // write-only
    default: return reg(offset & ~3u);
    }
}

uint32_t E1000::readRegister(uint32_t offset) {
    offset &= ~3u;
    const RegisterInfo* info = findRegister(offset);
    if (!info) return 0;
    if (info->kind == Kind::Statistic) return readStatistic(offset);
    if (offset == kIcr) {
        const uint32_t causes = icr_;  // reading ICR acknowledges every cause (SDM 13.4.17)
        icr_ = 0;
        updateIrq();
        return causes;
    }
    return peekRegister(offset);
}

void E1000::writeRegister(uint32_t offset, uint32_t value) {
    offset &= ~3u;
    const RegisterInfo* info = findRegister(offset);
    if (!info || info->kind == Kind::ReadOnly || info->kind == Kind::Statistic) return;
    if (info->kind == Kind::Plain) {
        reg(offset) = (reg(offset) & ~info->writeMask) | (value & info->writeMask);
        return;
    }
    if (info->offset == kRal0) {  // the receive address pairs: RAL whole, RAH address + AS + AV
        reg(offset) = (offset & 4) ? value & kRahWritable : value;
        return;
    }
    switch (offset) {
    case kCtrl: writeCtrl(value); break;
    case kEecd: eeprom_.writeEecd(value); break;
    case kEerd: eeprom_.writeEerd(value); break;
    case kMdic: writeMdic(value); break;
    case kIcr:  // writing 1s clears those causes
        icr_ &= ~value;
        updateIrq();
        break;
    case kIcs: raiseInterrupt(value & kIntAll); break;
    case kIms:
        ims_ |= value & kIntAll;
        updateIrq();
        break;
    case kImc:
        ims_ &= ~value;
        updateIrq();
        break;
    case kRctl:
        reg(kRctl) = value & info->writeMask;
        pollReceive();  // frames that waited for the receiver
        break;
    case kRdt:
        reg(kRdt) = value & info->writeMask;
        pollReceive();  // frames that waited for descriptors
        break;
    case kTctl:
        reg(kTctl) = value;
        processTransmitRing();
        break;
    case kTdt:
        reg(kTdt) = value & info->writeMask;
        processTransmitRing();
        break;
    default: break;
    }
}

void E1000::writeCtrl(uint32_t value) {
    if (value & kCtrlRst) {  // global reset; the bit self-clears (SDM 13.4.1)
        spdlog::debug("e1000: device reset (CTRL.RST)");
        reset();
        return;
    }
    const uint32_t previous = reg(kCtrl);
    reg(kCtrl) = value & ~kCtrlRst;
    if ((value & kCtrlPhyRst) && !(previous & kCtrlPhyRst)) phy_.reset();
    updateLink();
}

uint32_t E1000::readStatus() const {
    // Always 1000 Mb/s full duplex (what autonegotiation with the switch yields); TXOFF stays 0
    // because flow control never pauses the transmitter.
    uint32_t value = kStatusFd | kStatusSpeed1000 | kStatusAsdv1000;
    if (linkUp_) value |= kStatusLu;
    return value;
}

void E1000::writeMdic(uint32_t value) {
    const unsigned phyAddress = (value >> kMdicPhyShift) & 0x1F;
    const auto phyRegister = static_cast<uint8_t>((value >> kMdicRegShift) & 0x1F);
    uint32_t result = value & ~(kMdicReady | kMdicError);
    const uint32_t op = value & kMdicOpMask;
    if (phyAddress != phy::kAddress || (op != kMdicOpRead && op != kMdicOpWrite)) {
        spdlog::debug("e1000: MDIC access to PHY {} op {} fails", phyAddress, op >> 26);
        result |= kMdicError;
    } else if (op == kMdicOpRead) {
        result = (result & ~kMdicDataMask) | phy_.read(phyRegister);
    } else {
        phy_.write(phyRegister, static_cast<uint16_t>(value & kMdicDataMask));
    }
    reg(kMdic) = result | kMdicReady;  // MDI/O cycles complete at once
    if (op == kMdicOpWrite) updateLink();  // power down, reset
    if (value & kMdicInterrupt) raiseInterrupt(kIntMdac);
}

// ---- interrupts and link ---------------------------------------------------------------------

void E1000::raiseInterrupt(uint32_t causes) {
    icr_ |= causes;
    updateIrq();
}

void E1000::updateIrq() { setIrq((icr_ & ims_) != 0); }

void E1000::updateLink() {
    phy_.setCable(port_ != nullptr);
    const bool up = port_ != nullptr && phy_.linkUp() && !(reg(kCtrl) & kCtrlPhyRst);
    if (up == linkUp_) return;
    linkUp_ = up;
    spdlog::debug("e1000: link {}", up ? "up" : "down");
    raiseInterrupt(kIntLsc);
}

void E1000::attach(VirtualSwitch::Port* port) {
    port_ = port;
    seenQueueDrops_ = port ? port->counters().queueDrops : 0;
    updateLink();
}

// ---- statistics ------------------------------------------------------------------------------

uint32_t E1000::readStatistic(uint32_t offset) {
    for (const auto& [low, high] : kOctetPairs) {
        if (offset == low) return reg(low);  // the low half alone does not clear
        if (offset == high) {
            const uint32_t value = reg(high);
            reg(low) = 0;
            reg(high) = 0;
            return value;
        }
    }
    const uint32_t value = reg(offset);
    reg(offset) = 0;
    return value;
}

void E1000::addStatistic(uint32_t offset, uint64_t amount) {
    // Statistics stick at 0xFFFFFFFF instead of wrapping (SDM 13.7).
    reg(offset) = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{reg(offset)} + amount, 0xFFFFFFFFu));
}

void E1000::addOctets(uint32_t lowOffset, uint64_t amount) {
    const uint64_t value = (uint64_t{reg(lowOffset + 4)} << 32 | reg(lowOffset)) + amount;
    reg(lowOffset) = static_cast<uint32_t>(value);
    reg(lowOffset + 4) = static_cast<uint32_t>(value >> 32);
}

void E1000::countPacketSize(uint32_t firstBin, size_t bytesWithFcs) {
    // Bins: 64, 65-127, 128-255, 256-511, 512-1023, 1024-1522 bytes; longer frames are not binned.
    constexpr size_t kUpperBounds[] = {64, 127, 255, 511, 1023, 1522};
    for (size_t i = 0; i < std::size(kUpperBounds); ++i) {
        if (bytesWithFcs <= kUpperBounds[i]) {
            addStatistic(firstBin + static_cast<uint32_t>(4 * i));
            return;
        }
    }
}

}  // namespace hvlab::devices
