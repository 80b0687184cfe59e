#include "devices/piix_ide.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace piix;

namespace {

constexpr uint8_t kBmCommandWritable = kBmCommandStart | kBmCommandWriteToMemory;
constexpr uint8_t kBmStatusWriteToClear = kBmStatusError | kBmStatusInterrupt;
constexpr uint8_t kBmStatusReadWrite = kBmStatusDrive0Dma | kBmStatusDrive1Dma;
constexpr uint32_t kDmaChunkSectors = 128;  // 64 KiB bounce buffer
constexpr uint16_t kPciStatusAtReset = 0x0280;  // fast back-to-back capable, medium DEVSEL
constexpr uint8_t kIdeTimingHighWritable = 0xF3;  // IDETIM bits 11:10 are reserved

uint32_t le32(const uint8_t* p) {
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

void PiixIde::InterruptTap::setLevel(bool asserted) {
    if (asserted && !level_) bmStatus_ |= kBmStatusInterrupt;
    level_ = asserted;
    if (out_) out_->setLevel(asserted);
}

PiixIde::PiixIde(GuestMemory& memory, IrqLine* primaryIrq, IrqLine* secondaryIrq)
    : PciFunction(kVendorIntel, kDevicePiix3Ide, 0x01, 0x01, kProgIfLegacyBusMaster), memory_(memory) {
    channels_[0] = std::make_unique<Channel>(primaryIrq, AtaChannel::kPrimaryCommandBase, AtaChannel::kPrimaryControlPort);
    channels_[1] =
        std::make_unique<Channel>(secondaryIrq, AtaChannel::kSecondaryCommandBase, AtaChannel::kSecondaryControlPort);
    for (unsigned i = 0; i < 2; ++i) channels_[i]->ata.setDmaRequestHandler([this, i] { runDma(i); });
    defineBar(kBusMasterBar, BarKind::Io, kBusMasterBarSize);
    setInterruptPin(0);  // legacy mode: ISA IRQ 14/15, no PCI INTx
    write16(pci::kStatus, kPciStatusAtReset);
    write16(kIdeTimingPrimary, kIdeTimingDecodeEnable);
    write16(kIdeTimingSecondary, kIdeTimingDecodeEnable);
}

PiixIde::~PiixIde() {
    if (legacyBus_)
        for (auto& ch : channels_) legacyBus_->detach(&ch->ata);
}

// ---- legacy decode and config registers ---------------------------------------------------

void PiixIde::attachLegacyPorts(IoBus& bus) {
    legacyBus_ = &bus;
    updateLegacyDecode();
}

uint16_t PiixIde::ideTiming(unsigned index) const {
    return read16(index == 0 ? kIdeTimingPrimary : kIdeTimingSecondary);
}

void PiixIde::updateLegacyDecode() {
    if (!legacyBus_) return;
    for (unsigned i = 0; i < 2; ++i) {
        Channel& ch = *channels_[i];
        const bool enable = ideTiming(i) & kIdeTimingDecodeEnable;
        if (enable == ch.legacyMapped) continue;
        if (enable) ch.ata.attachTo(*legacyBus_);
        else legacyBus_->detach(&ch.ata);
        ch.legacyMapped = enable;
    }
}

uint32_t PiixIde::extendedConfigRead(uint8_t offset, unsigned size) const {
    uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const unsigned at = offset + i;
        if (at >= kIdeTimingPrimary && at <= kSlaveIdeTiming) value |= static_cast<uint32_t>(config_[at]) << (8 * i);
    }
    return value;
}

void PiixIde::extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size; ++i) {
        const unsigned at = offset + i;
        const auto byte = static_cast<uint8_t>(value >> (8 * i));
        switch (at) {
        case kIdeTimingPrimary:
        case kIdeTimingSecondary:
        case kSlaveIdeTiming: config_[at] = byte; break;
        case kIdeTimingPrimary + 1:
        case kIdeTimingSecondary + 1: config_[at] = byte & kIdeTimingHighWritable; break;
        default: break;  // other device-specific registers are not implemented: read 0
        }
    }
    updateLegacyDecode();
}

// ---- bus-master registers (BAR4) ----------------------------------------------------------

uint32_t PiixIde::barIoRead(int bar, uint32_t offset, unsigned size) {
    if (bar != kBusMasterBar) return PciFunction::barIoRead(bar, offset, size);
    uint32_t value = 0;
    for (unsigned i = 0; i < size; ++i) {
        const uint32_t at = offset + i;
        if (at >= kBusMasterBarSize) break;
        const unsigned index = at / kBmChannelStride;
        runDma(index);  // a transfer held back by a cleared bus-master enable may start now
        value |= static_cast<uint32_t>(readBusMasterByte(index, at % kBmChannelStride)) << (8 * i);
    }
    return value;
}

void PiixIde::barIoWrite(int bar, uint32_t offset, unsigned size, uint32_t value) {
    if (bar != kBusMasterBar) return;
    for (unsigned i = 0; i < size; ++i) {
        const uint32_t at = offset + i;
        if (at >= kBusMasterBarSize) break;
        writeBusMasterByte(at / kBmChannelStride, at % kBmChannelStride, static_cast<uint8_t>(value >> (8 * i)));
    }
}

uint8_t PiixIde::readBusMasterByte(unsigned index, uint32_t reg) {
    const BusMasterRegisters& bm = channels_[index]->bm;
    switch (reg) {
    case kBmCommand: return bm.command;
    case kBmStatus: return bm.status;
    case kBmPrdAddress:
    case kBmPrdAddress + 1:
    case kBmPrdAddress + 2:
    case kBmPrdAddress + 3: return static_cast<uint8_t>(bm.prdAddress >> (8 * (reg - kBmPrdAddress)));
    default: return 0;  // reserved bytes 1 and 3
    }
}

void PiixIde::writeBusMasterByte(unsigned index, uint32_t reg, uint8_t value) {
    BusMasterRegisters& bm = channels_[index]->bm;
    switch (reg) {
    case kBmCommand: writeBusMasterCommand(index, value); break;
    case kBmStatus:
        bm.status = static_cast<uint8_t>((bm.status & ~(value & kBmStatusWriteToClear) & ~kBmStatusReadWrite) |
                                         (value & kBmStatusReadWrite));
        runDma(index);
        break;
    case kBmPrdAddress:
    case kBmPrdAddress + 1:
    case kBmPrdAddress + 2:
    case kBmPrdAddress + 3: {
        const unsigned shift = 8 * (reg - kBmPrdAddress);
        bm.prdAddress = (bm.prdAddress & ~(0xFFu << shift)) | static_cast<uint32_t>(value) << shift;
        bm.prdAddress &= ~3u;  // bits 1:0 are reserved: the table is dword aligned
        break;
    }
    default: break;
    }
}

void PiixIde::writeBusMasterCommand(unsigned index, uint8_t value) {
    Channel& ch = *channels_[index];
    const uint8_t old = ch.bm.command;
    value &= kBmCommandWritable;
    if (ch.bm.status & kBmStatusActive) {
        // The direction must not change while the bus master is active: keep the old one.
        value = static_cast<uint8_t>((value & ~kBmCommandWriteToMemory) | (old & kBmCommandWriteToMemory));
    }
    ch.bm.command = value;
    const bool start = value & kBmCommandStart;
    const bool wasStarted = old & kBmCommandStart;
    if (start && !wasStarted) {
        ch.bm.status |= kBmStatusActive;
        ch.prdCursor = ch.bm.prdAddress;
        runDma(index);
    } else if (!start && wasStarted) {
        // Stopping aborts the bus-master side; a still-pending ATA command stays pending (the
        // driver resets the device), as on the PIIX.
        ch.bm.status &= static_cast<uint8_t>(~kBmStatusActive);
    }
}

// ---- the DMA engine -----------------------------------------------------------------------

bool PiixIde::readPrdTable(uint32_t table, uint64_t bytes, std::vector<PrdSegment>& segments, bool& endsAtEot) {
    segments.clear();
    endsAtEot = false;
    uint64_t covered = 0;
    uint64_t entry = table;
    while (covered < bytes) {
        if (segments.size() >= kMaxPrdEntries) {
            spdlog::debug("{}: PRD table at {:#x} has no end within 64 KiB", name(), table);
            return false;
        }
        uint8_t raw[8];
        if (!memory_.read(entry, raw, sizeof raw)) {
            spdlog::debug("{}: PRD entry at {:#x} is outside RAM", name(), entry);
            return false;
        }
        const uint32_t address = le32(raw) & ~1u;
        const uint32_t control = le32(raw + 4);
        const uint32_t length = (control & 0xFFFE) ? (control & 0xFFFE) : 0x10000;
        segments.push_back({address, length});
        covered += length;
        entry += 8;
        if (control & kPrdEndOfTable) {
            endsAtEot = true;
            break;
        }
    }
    return true;
}

bool PiixIde::copyAlongPrds(const std::vector<PrdSegment>& segments, std::size_t& segment, uint32_t& offset,
                            uint8_t* buffer, uint64_t len, bool toGuest) {
    while (len > 0) {
        if (segment >= segments.size()) return false;
        const PrdSegment& s = segments[segment];
        const uint64_t n = std::min<uint64_t>(len, s.length - offset);
        const uint64_t gpa = uint64_t{s.address} + offset;
        const bool ok = toGuest ? memory_.write(gpa, buffer, n) : memory_.read(gpa, buffer, n);
        if (!ok) {
            spdlog::debug("{}: DMA buffer {:#x}+{:#x} is outside RAM", name(), gpa, n);
            return false;
        }
        buffer += n;
        len -= n;
        offset += static_cast<uint32_t>(n);
        if (offset == s.length) {
            ++segment;
            offset = 0;
        }
    }
    return true;
}

void PiixIde::failDma(unsigned index) {
    Channel& ch = *channels_[index];
    ch.bm.status = static_cast<uint8_t>((ch.bm.status | kBmStatusError) & ~kBmStatusActive);
    ch.ata.finishDma(DmaOutcome::BusError);  // ERR + ABRT and INTRQ: the driver sees the failure
}

void PiixIde::runDma(unsigned index) {
    Channel& ch = *channels_[index];
    if (!(ch.bm.command & kBmCommandStart) || !(ch.bm.status & kBmStatusActive)) return;
    const std::optional<AtaDmaRequest> request = ch.ata.pendingDma();
    if (!request) return;
    if (!busMasterEnabled()) {
        spdlog::debug("{}: DMA pending but PCI bus mastering is disabled", name());
        return;
    }
    const bool toMemory = ch.bm.command & kBmCommandWriteToMemory;
    if (toMemory != request->toMemory) {
        spdlog::debug("{}: bus-master direction ({}) contradicts the ATA command ({})", name(),
                      toMemory ? "to memory" : "from memory", request->toMemory ? "read" : "write");
        failDma(index);
        return;
    }

    const uint64_t bytes = uint64_t{request->sectors} * DiskImage::kSectorSize;
    std::vector<PrdSegment> segments;
    bool endsAtEot = false;
    if (!readPrdTable(ch.prdCursor, bytes, segments, endsAtEot)) {
        failDma(index);
        return;
    }
    uint64_t covered = 0;
    for (const PrdSegment& s : segments) covered += s.length;
    if (covered < bytes) {
        spdlog::debug("{}: PRDs describe {} bytes, the command moves {}", name(), covered, bytes);
        failDma(index);
        return;
    }

    dmaBuffer_.resize(std::size_t{kDmaChunkSectors} * DiskImage::kSectorSize);
    std::size_t segment = 0;
    uint32_t offset = 0;
    for (uint32_t first = 0; first < request->sectors; first += kDmaChunkSectors) {
        const uint32_t n = std::min(kDmaChunkSectors, request->sectors - first);
        const uint64_t len = uint64_t{n} * DiskImage::kSectorSize;
        if (toMemory) {
            if (ch.ata.transferDma(first, n, dmaBuffer_.data()) != DiskStatus::Ok) {
                ch.bm.status &= static_cast<uint8_t>(~kBmStatusActive);
                ch.ata.finishDma(DmaOutcome::MediaError);
                return;
            }
            if (!copyAlongPrds(segments, segment, offset, dmaBuffer_.data(), len, true)) {
                failDma(index);
                return;
            }
        } else {
            if (!copyAlongPrds(segments, segment, offset, dmaBuffer_.data(), len, false)) {
                failDma(index);
                return;
            }
            if (ch.ata.transferDma(first, n, dmaBuffer_.data()) != DiskStatus::Ok) {
                ch.bm.status &= static_cast<uint8_t>(~kBmStatusActive);
                ch.ata.finishDma(DmaOutcome::MediaError);
                return;
            }
        }
    }
    // The PRD table is exhausted only if the transfer ended exactly with the EOT entry; a
    // longer table leaves the bus master active (SFF-8038i: interrupt=1, active=1 is normal).
    if (endsAtEot && covered == bytes) ch.bm.status &= static_cast<uint8_t>(~kBmStatusActive);
    ch.ata.finishDma(DmaOutcome::Completed);
}

}  // namespace hvlab::devices
