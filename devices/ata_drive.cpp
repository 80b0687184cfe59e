#include "devices/ata_drive.hpp"

#include <algorithm>
#include <string_view>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace ata;

namespace {

constexpr uint8_t kStatusReady = kStatusDrdy | kStatusDsc;
constexpr uint16_t kDefaultHeads = 16;
constexpr uint16_t kDefaultSectorsPerTrack = 63;
constexpr uint16_t kMaxDefaultCylinders = 16383;
constexpr uint64_t kMaxChsCapacity = 16514064;  // 16383 * 16 * 63, ATA-6 6.2.1
constexpr std::string_view kModel = "hvlab HARDDISK";
constexpr std::string_view kFirmware = "1.0";

// ATA strings: two characters per word, the first in the high byte, padded with spaces.
void putString(std::array<uint16_t, 256>& words, std::size_t first, std::size_t chars, std::string_view text) {
    for (std::size_t i = 0; i < chars; i += 2) {
        const auto at = [&](std::size_t k) -> uint16_t { return k < text.size() ? static_cast<uint8_t>(text[k]) : ' '; };
        words[first + i / 2] = static_cast<uint16_t>(at(i) << 8 | at(i + 1));
    }
}

}  // namespace

AtaDrive::AtaDrive(unsigned unit, std::string serial) : unit_(unit & 1), serial_(std::move(serial)) {}

void AtaDrive::insert(std::unique_ptr<DiskImage> image) {
    image_ = std::move(image);
    phase_ = Phase::Idle;
    dma_.reset();
    status_ = kStatusReady;
}

// ---- registers ----------------------------------------------------------------------------

void AtaDrive::writeRegister(uint16_t reg, uint8_t value) {
    switch (reg) {
    case kRegFeatures: features_.write(value); break;
    case kRegSectorCount: sectorCount_.write(value); break;
    case kRegLbaLow: lbaLow_.write(value); break;
    case kRegLbaMid: lbaMid_.write(value); break;
    case kRegLbaHigh: lbaHigh_.write(value); break;
    case kRegDevice: device_ = value; break;
    default: break;
    }
}

uint8_t AtaDrive::readRegister(uint16_t reg, bool hob) const {
    const auto pick = [hob](const HobRegister& r) { return hob ? r.previous : r.current; };
    switch (reg) {
    case kRegError: return error_;
    case kRegSectorCount: return pick(sectorCount_);
    case kRegLbaLow: return pick(lbaLow_);
    case kRegLbaMid: return pick(lbaMid_);
    case kRegLbaHigh: return pick(lbaHigh_);
    case kRegDevice: return device_;
    case kRegStatus: return status_;
    default: return 0;
    }
}

// ---- command dispatch ---------------------------------------------------------------------

void AtaDrive::executeCommand(uint8_t command) {
    if (!present() || phase_ == Phase::Reset) return;
    // The host must not write a command while BSY or DRQ is set (ATA-6 5.2.9 / 9.x protocols);
    // a command written during a data phase is ignored, as QEMU does. SRST recovers.
    if (status_ & (kStatusBsy | kStatusDrq)) {
        spdlog::debug("ata{}: command {:#04x} written while DRQ is set: ignored", unit_, command);
        return;
    }
    intrq_ = false;  // writing the Command register negates INTRQ
    error_ = 0;
    executeOnMedium(command);
}

void AtaDrive::executeOnMedium(uint8_t command) {
    switch (command) {
    case cmd::kIdentifyDevice: startIdentify(); return;
    case cmd::kReadSectors:
    case cmd::kReadSectorsNoRetry: startPio(command, false, false, false); return;
    case cmd::kReadSectorsExt: startPio(command, false, true, false); return;
    case cmd::kReadMultiple: startPio(command, false, false, true); return;
    case cmd::kReadMultipleExt: startPio(command, false, true, true); return;
    case cmd::kWriteSectors:
    case cmd::kWriteSectorsNoRetry: startPio(command, true, false, false); return;
    case cmd::kWriteSectorsExt: startPio(command, true, true, false); return;
    case cmd::kWriteMultiple: startPio(command, true, false, true); return;
    case cmd::kWriteMultipleExt: startPio(command, true, true, true); return;
    case cmd::kReadDma:
    case cmd::kReadDmaNoRetry: startDma(false, false); return;
    case cmd::kReadDmaExt: startDma(false, true); return;
    case cmd::kWriteDma:
    case cmd::kWriteDmaNoRetry: startDma(true, false); return;
    case cmd::kWriteDmaExt: startDma(true, true); return;
    case cmd::kReadVerify:
    case cmd::kReadVerifyNoRetry: readVerify(false); return;
    case cmd::kReadVerifyExt: readVerify(true); return;
    case cmd::kSetFeatures: setFeatures(); return;
    case cmd::kSetMultipleMode: setMultipleMode(); return;
    case cmd::kInitializeDeviceParameters: initializeDeviceParameters(); return;
    case cmd::kFlushCache:
    case cmd::kFlushCacheExt: flushCache(); return;
    case cmd::kStandbyImmediate:
    case cmd::kIdleImmediate:
    case cmd::kStandby:
    case cmd::kIdle: complete(); return;  // the timer value is accepted; the device stays active
    case cmd::kCheckPowerMode:
        sectorCount_.current = 0xFF;  // FFh = active or idle
        complete();
        return;
    default: break;
    }
    if ((command & 0xF0) == cmd::kRecalibrate) {  // 10h-1Fh: the heads are always "at track 0"
        complete();
        return;
    }
    // NOP always aborts (ATA-6 8.18); DEVICE RESET is for PACKET devices only; the rest is unknown.
    if (command != cmd::kNop) spdlog::debug("ata{}: unsupported command {:#04x}: aborted", unit_, command);
    abortCommand();
}

void AtaDrive::complete(uint8_t extraStatus) {
    phase_ = Phase::Idle;
    status_ = kStatusReady | extraStatus;
    raiseInterrupt();
}

void AtaDrive::abortCommand(uint8_t error) {
    phase_ = Phase::Idle;
    dma_.reset();
    error_ = error;
    status_ = kStatusDrdy | kStatusErr;
    raiseInterrupt();
}

// ---- addressing ---------------------------------------------------------------------------

uint16_t AtaDrive::defaultCylinders() const {
    const uint64_t c = sectorCount() / (kDefaultHeads * kDefaultSectorsPerTrack);
    return static_cast<uint16_t>(std::clamp<uint64_t>(c, 1, kMaxDefaultCylinders));
}

uint16_t AtaDrive::currentCylinders() const {
    const uint64_t perCylinder = uint64_t{settings_.heads} * settings_.sectorsPerTrack;
    const uint64_t c = std::min(sectorCount(), kMaxChsCapacity) / perCylinder;
    return static_cast<uint16_t>(std::clamp<uint64_t>(c, 1, 0xFFFF));
}

std::optional<uint64_t> AtaDrive::commandLba(Addressing mode) {
    switch (mode) {
    case Addressing::Lba48:
        return uint64_t{lbaLow_.current} | uint64_t{lbaMid_.current} << 8 | uint64_t{lbaHigh_.current} << 16 |
               uint64_t{lbaLow_.previous} << 24 | uint64_t{lbaMid_.previous} << 32 |
               uint64_t{lbaHigh_.previous} << 40;
    case Addressing::Lba28:
        return uint64_t{lbaLow_.current} | uint64_t{lbaMid_.current} << 8 | uint64_t{lbaHigh_.current} << 16 |
               uint64_t{static_cast<uint8_t>(device_ & kDeviceHeadMask)} << 24;
    case Addressing::Chs: break;
    }
    const uint32_t cylinder = lbaMid_.current | lbaHigh_.current << 8;
    const uint32_t head = device_ & kDeviceHeadMask;
    const uint32_t sector = lbaLow_.current;
    if (sector == 0 || sector > settings_.sectorsPerTrack || head >= settings_.heads || cylinder >= currentCylinders())
        return std::nullopt;
    return (uint64_t{cylinder} * settings_.heads + head) * settings_.sectorsPerTrack + sector - 1;
}

uint32_t AtaDrive::commandCount(Addressing mode) const {
    if (mode == Addressing::Lba48) {
        const uint32_t count = sectorCount_.current | sectorCount_.previous << 8;
        return count == 0 ? 65536 : count;
    }
    return sectorCount_.current == 0 ? 256 : sectorCount_.current;
}

bool AtaDrive::validateRange(Addressing mode, uint64_t& lba, uint32_t& count) {
    const std::optional<uint64_t> start = commandLba(mode);
    count = commandCount(mode);
    // 28-bit and CHS commands reach the capacity of words 60-61 at most.
    const uint64_t limit = mode == Addressing::Lba48 ? sectorCount() : std::min(sectorCount(), kLba28MaxSectors);
    if (!start || *start > limit || count > limit - *start) {
        spdlog::debug("ata{}: sectors {}+{} are outside the {}-sector disk: IDNF", unit_, start.value_or(~0ull), count,
                      limit);
        abortCommand(kErrorIdnf);
        return false;
    }
    lba = *start;
    return true;
}

// After a transfer, the task file holds the address of the last sector moved and the count of
// sectors not moved, in the addressing mode of the command.
void AtaDrive::storeProgress(Addressing mode, uint64_t lastLba, uint32_t remaining) {
    switch (mode) {
    case Addressing::Lba48:
        lbaLow_ = {static_cast<uint8_t>(lastLba), static_cast<uint8_t>(lastLba >> 24)};
        lbaMid_ = {static_cast<uint8_t>(lastLba >> 8), static_cast<uint8_t>(lastLba >> 32)};
        lbaHigh_ = {static_cast<uint8_t>(lastLba >> 16), static_cast<uint8_t>(lastLba >> 40)};
        sectorCount_ = {static_cast<uint8_t>(remaining), static_cast<uint8_t>(remaining >> 8)};
        return;
    case Addressing::Lba28:
        lbaLow_.current = static_cast<uint8_t>(lastLba);
        lbaMid_.current = static_cast<uint8_t>(lastLba >> 8);
        lbaHigh_.current = static_cast<uint8_t>(lastLba >> 16);
        device_ = static_cast<uint8_t>((device_ & ~kDeviceHeadMask) | ((lastLba >> 24) & kDeviceHeadMask));
        break;
    case Addressing::Chs: {
        const uint64_t spt = settings_.sectorsPerTrack;
        const uint64_t cylinder = lastLba / (spt * settings_.heads);
        lbaLow_.current = static_cast<uint8_t>(lastLba % spt + 1);
        lbaMid_.current = static_cast<uint8_t>(cylinder);
        lbaHigh_.current = static_cast<uint8_t>(cylinder >> 8);
        device_ = static_cast<uint8_t>((device_ & ~kDeviceHeadMask) | ((lastLba / spt) % settings_.heads));
        break;
    }
    }
    sectorCount_.current = static_cast<uint8_t>(remaining);
}

// ---- PIO data transfers -------------------------------------------------------------------

void AtaDrive::startPio(uint8_t command, bool write, bool ext, bool multiple) {
    if (multiple && settings_.multipleSectors == 0) {
        spdlog::debug("ata{}: {:#04x} with multiple mode disabled: aborted", unit_, command);
        abortCommand();
        return;
    }
    if (write && image_->readOnly()) {
        spdlog::debug("ata{}: write command {:#04x} to a read-only image: aborted", unit_, command);
        abortCommand();
        return;
    }
    const Addressing mode = ext ? Addressing::Lba48 : (device_ & kDeviceLba) ? Addressing::Lba28 : Addressing::Chs;
    uint64_t lba = 0;
    uint32_t count = 0;
    if (!validateRange(mode, lba, count)) return;
    transfer_ = {mode, lba, count, multiple ? settings_.multipleSectors : 1u, 0, write, false};
    if (write) beginWriteBlock();  // the first data-out block is requested without an interrupt
    else loadReadBlock();
}

void AtaDrive::loadReadBlock() {
    const uint32_t n = std::min(transfer_.blockSectors, transfer_.remaining);
    buffer_.resize(std::size_t{n} * DiskImage::kSectorSize);
    if (image_->read(transfer_.lba, n, buffer_.data()) != DiskStatus::Ok) {
        storeProgress(transfer_.addressing, transfer_.lba, transfer_.remaining);
        abortCommand(kErrorUnc);
        return;
    }
    transfer_.blockCount = n;
    bufferPos_ = 0;
    phase_ = Phase::PioIn;
    status_ = kStatusReady | kStatusDrq;
    raiseInterrupt();  // one interrupt per DRQ data block
}

void AtaDrive::beginWriteBlock() {
    const uint32_t n = std::min(transfer_.blockSectors, transfer_.remaining);
    buffer_.assign(std::size_t{n} * DiskImage::kSectorSize, 0);
    transfer_.blockCount = n;
    bufferPos_ = 0;
    phase_ = Phase::PioOut;
    status_ = kStatusReady | kStatusDrq;
}

void AtaDrive::startIdentify() {
    const std::array<uint16_t, 256> words = identifyData();
    buffer_.resize(512);
    for (std::size_t i = 0; i < words.size(); ++i) {
        buffer_[2 * i] = static_cast<uint8_t>(words[i]);
        buffer_[2 * i + 1] = static_cast<uint8_t>(words[i] >> 8);
    }
    transfer_ = {};
    transfer_.identify = true;
    bufferPos_ = 0;
    phase_ = Phase::PioIn;
    status_ = kStatusReady | kStatusDrq;
    raiseInterrupt();
}

uint16_t AtaDrive::readData() {
    if (phase_ != Phase::PioIn) return 0;
    const uint16_t word = static_cast<uint16_t>(buffer_[bufferPos_] | buffer_[bufferPos_ + 1] << 8);
    bufferPos_ += 2;
    if (bufferPos_ >= buffer_.size()) finishDataBlock();
    return word;
}

void AtaDrive::writeData(uint16_t word) {
    if (phase_ != Phase::PioOut) return;
    buffer_[bufferPos_] = static_cast<uint8_t>(word);
    buffer_[bufferPos_ + 1] = static_cast<uint8_t>(word >> 8);
    bufferPos_ += 2;
    if (bufferPos_ >= buffer_.size()) finishDataBlock();
}

// The host has moved the whole DRQ block: commit it (writes), then the next block or the end.
void AtaDrive::finishDataBlock() {
    if (transfer_.identify) {
        phase_ = Phase::Idle;
        status_ = kStatusReady;  // data-in ends without an interrupt after the last block
        return;
    }
    const uint32_t n = transfer_.blockCount;
    if (transfer_.write) {
        if (DiskStatus s = image_->write(transfer_.lba, n, buffer_.data()); s != DiskStatus::Ok) {
            spdlog::debug("ata{}: write of sector {} failed: {}", unit_, transfer_.lba, toString(s));
            storeProgress(transfer_.addressing, transfer_.lba, transfer_.remaining);
            abortCommand();
            return;
        }
    }
    transfer_.lba += n;
    transfer_.remaining -= n;
    storeProgress(transfer_.addressing, transfer_.lba - 1, transfer_.remaining);
    if (transfer_.remaining == 0) {
        phase_ = Phase::Idle;
        status_ = kStatusReady;
        if (transfer_.write) raiseInterrupt();  // data-out: the completion interrupt
        return;
    }
    if (transfer_.write) {
        beginWriteBlock();
        raiseInterrupt();  // data-out: "ready for the next block"
    } else {
        loadReadBlock();
    }
}

// ---- DMA ----------------------------------------------------------------------------------

void AtaDrive::startDma(bool write, bool ext) {
    if (write && image_->readOnly()) {
        spdlog::debug("ata{}: DMA write to a read-only image: aborted", unit_);
        abortCommand();
        return;
    }
    const Addressing mode = ext ? Addressing::Lba48 : (device_ & kDeviceLba) ? Addressing::Lba28 : Addressing::Chs;
    uint64_t lba = 0;
    uint32_t count = 0;
    if (!validateRange(mode, lba, count)) return;
    dma_ = AtaDmaRequest{!write, lba, count};
    dmaAddressing_ = mode;
    phase_ = Phase::Dma;
    status_ = kStatusReady | kStatusDrq;  // DMARQ pending; the bus master moves the data
}

std::optional<AtaDmaRequest> AtaDrive::pendingDma() const {
    return phase_ == Phase::Dma ? dma_ : std::nullopt;
}

DiskStatus AtaDrive::transferDma(uint32_t first, uint32_t count, uint8_t* buffer) {
    if (phase_ != Phase::Dma || !dma_ || first > dma_->sectors || count > dma_->sectors - first)
        return DiskStatus::OutOfRange;
    return dma_->toMemory ? image_->read(dma_->lba + first, count, buffer)
                          : image_->write(dma_->lba + first, count, buffer);
}

void AtaDrive::finishDma(DmaOutcome outcome) {
    if (phase_ != Phase::Dma || !dma_) return;
    const AtaDmaRequest request = *dma_;
    switch (outcome) {
    case DmaOutcome::Completed:
        dma_.reset();
        storeProgress(dmaAddressing_, request.lba + request.sectors - 1, 0);
        complete();
        break;
    case DmaOutcome::BusError: abortCommand(kErrorAbrt); break;
    case DmaOutcome::MediaError: abortCommand(request.toMemory ? kErrorUnc : kErrorAbrt); break;
    }
}

// ---- non-data commands --------------------------------------------------------------------

void AtaDrive::readVerify(bool ext) {
    const Addressing mode = ext ? Addressing::Lba48 : (device_ & kDeviceLba) ? Addressing::Lba28 : Addressing::Chs;
    uint64_t lba = 0;
    uint32_t count = 0;
    if (!validateRange(mode, lba, count)) return;
    storeProgress(mode, lba + count - 1, 0);
    complete();
}

void AtaDrive::setFeatures() {
    switch (features_.current) {
    case feature::kEnableWriteCache: settings_.writeCache = true; break;
    case feature::kDisableWriteCache: settings_.writeCache = false; break;
    case feature::kEnableReadLookAhead: settings_.readLookAhead = true; break;
    case feature::kDisableReadLookAhead: settings_.readLookAhead = false; break;
    case feature::kDisableRevertToDefaults: settings_.revertOnReset = false; break;
    case feature::kEnableRevertToDefaults: settings_.revertOnReset = true; break;
    case feature::kSetTransferMode: {
        // Sector Count: 00000 000/001 PIO default, 00001 nnn PIO mode n, 00100 nnn multiword
        // DMA mode n, 01000 nnn Ultra DMA mode n (ATA-6 table 44).
        const uint8_t type = sectorCount_.current >> 3;
        const uint8_t mode = sectorCount_.current & 7;
        if (type == 0 && mode <= 1) break;
        if (type == 1 && mode <= 4) break;  // PIO flow control modes 0-4 (word 64: 3 and 4)
        if (type == 4 && mode <= 2) {
            settings_.multiwordDmaSelected = static_cast<uint8_t>(1u << mode);
            settings_.ultraDmaSelected = 0;
            break;
        }
        if (type == 8 && mode <= 5) {
            settings_.ultraDmaSelected = static_cast<uint8_t>(1u << mode);
            settings_.multiwordDmaSelected = 0;
            break;
        }
        spdlog::debug("ata{}: SET FEATURES transfer mode {:#04x} unsupported", unit_, sectorCount_.current);
        abortCommand();
        return;
    }
    default:
        spdlog::debug("ata{}: SET FEATURES {:#04x} unsupported", unit_, features_.current);
        abortCommand();
        return;
    }
    complete();
}

void AtaDrive::setMultipleMode() {
    const uint8_t n = sectorCount_.current;
    // 0 disables; 1, 2, 4, 8, 16 are supported block sizes; anything else aborts and disables.
    if (n <= kMaxMultipleSectors && (n & (n - 1)) == 0) {
        settings_.multipleSectors = n;
        complete();
    } else {
        settings_.multipleSectors = 0;
        abortCommand();
    }
}

void AtaDrive::initializeDeviceParameters() {
    const uint8_t sectors = sectorCount_.current;
    if (sectors == 0) {
        abortCommand();
        return;
    }
    settings_.sectorsPerTrack = sectors;
    settings_.heads = static_cast<uint16_t>((device_ & kDeviceHeadMask) + 1);
    complete();
}

void AtaDrive::flushCache() {
    if (image_->flush() != DiskStatus::Ok) {
        abortCommand();
        return;
    }
    complete();
}

// ---- reset and diagnostics ----------------------------------------------------------------

void AtaDrive::setSignature() {
    // ATA-6 9.12: Sector Count 01h, LBA Low 01h, LBA Mid 00h, LBA High 00h, Device 00h.
    sectorCount_ = {1, 0};
    lbaLow_ = {1, 0};
    lbaMid_ = {0, 0};
    lbaHigh_ = {0, 0};
    device_ = 0;
}

void AtaDrive::beginSoftReset() {
    phase_ = Phase::Reset;
    dma_.reset();
    intrq_ = false;
    status_ = kStatusBsy;
}

void AtaDrive::endSoftReset(uint8_t diagnosticCode) {
    if (settings_.revertOnReset) settings_ = Settings{};
    setSignature();
    error_ = diagnosticCode;
    phase_ = Phase::Idle;
    status_ = kStatusReady;  // no interrupt after a software reset
}

void AtaDrive::completeDiagnostic(uint8_t diagnosticCode, bool interrupt) {
    dma_.reset();
    setSignature();
    error_ = diagnosticCode;
    phase_ = Phase::Idle;
    status_ = kStatusReady;
    intrq_ = interrupt;
}

// ---- IDENTIFY DEVICE ----------------------------------------------------------------------

std::array<uint16_t, 256> AtaDrive::identifyData() const {
    std::array<uint16_t, 256> w{};
    const uint64_t sectors = sectorCount();
    w[0] = 0x0040;  // ATA device, fixed
    w[1] = defaultCylinders();
    w[3] = kDefaultHeads;
    w[6] = kDefaultSectorsPerTrack;
    putString(w, 10, 20, serial_);
    putString(w, 23, 8, kFirmware);
    putString(w, 27, 40, kModel);
    w[47] = 0x8000 | kMaxMultipleSectors;
    w[49] = 0x0F00;  // IORDY supported (11) and can be disabled (10), LBA (9), DMA (8)
    w[50] = 0x4000;
    w[51] = 0x0200;  // PIO timing mode 2 (obsolete field)
    w[52] = 0x0200;
    w[53] = 0x0007;  // words 54-58, 64-70 and 88 are valid
    const uint16_t cylinders = currentCylinders();
    const uint32_t chsCapacity = uint32_t{cylinders} * settings_.heads * settings_.sectorsPerTrack;
    w[54] = cylinders;
    w[55] = settings_.heads;
    w[56] = settings_.sectorsPerTrack;
    w[57] = static_cast<uint16_t>(chsCapacity);
    w[58] = static_cast<uint16_t>(chsCapacity >> 16);
    w[59] = settings_.multipleSectors ? 0x0100 | settings_.multipleSectors : 0;
    const uint64_t lba28 = std::min(sectors, kLba28MaxSectors);
    w[60] = static_cast<uint16_t>(lba28);
    w[61] = static_cast<uint16_t>(lba28 >> 16);
    w[63] = static_cast<uint16_t>(0x0007 | settings_.multiwordDmaSelected << 8);  // MWDMA 0-2
    w[64] = 0x0003;  // PIO modes 3 and 4
    w[65] = w[66] = w[67] = w[68] = 120;  // cycle times, ns
    w[80] = 0x007E;  // ATA-1 .. ATA/ATAPI-6
    w[81] = 0x0000;  // minor version not reported
    w[82] = 0x4068;  // NOP (14), look-ahead (6), write cache (5), power management (3)
    w[83] = 0x7400;  // valid, FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
    w[84] = 0x4000;
    w[85] = static_cast<uint16_t>(0x4008 | (settings_.readLookAhead ? 0x0040 : 0) | (settings_.writeCache ? 0x0020 : 0));
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[88] = static_cast<uint16_t>(0x003F | settings_.ultraDmaSelected << 8);  // UDMA 0-5
    // Word 93, hardware reset result: device number by jumper, diagnostics passed, the other
    // device seen (PDIAG-/DASP-) or device 0 answering for an absent device 1. CBLID- (bit 13)
    // stays 0: a 40-conductor cable.
    if (unit_ == 0)
        w[93] = static_cast<uint16_t>(0x4000 | 0x0003 | (diagnosticPassed() ? 0x0008 : 0) | (peerPresent_ ? 0x0030 : 0x0040));
    else
        w[93] = static_cast<uint16_t>(0x4000 | 0x0300 | (diagnosticPassed() ? 0x0800 : 0));
    for (int i = 0; i < 4; ++i) w[100 + i] = static_cast<uint16_t>(sectors >> (16 * i));
    // Word 255: signature A5h and a checksum making all 512 bytes sum to 0 (mod 256).
    uint8_t sum = 0xA5;
    for (std::size_t i = 0; i < 255; ++i) sum = static_cast<uint8_t>(sum + (w[i] & 0xFF) + (w[i] >> 8));
    w[255] = static_cast<uint16_t>(0x00A5 | static_cast<uint8_t>(-sum) << 8);
    return w;
}

}  // namespace hvlab::devices
