#include "devices/ata_channel.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace ata;

namespace {
std::string serialFor(uint16_t commandBase, unsigned unit) { return fmt::format("HVLAB{:04X}{}", commandBase, unit); }
}  // namespace

AtaChannel::AtaChannel(uint16_t commandBase, uint16_t controlPort, IrqLine* irq)
    : commandBase_(commandBase),
      controlPort_(controlPort),
      irq_(irq),
      drives_{AtaDrive(0, serialFor(commandBase, 0)), AtaDrive(1, serialFor(commandBase, 1))} {}

std::string AtaChannel::name() const { return fmt::format("ata@{:#x}", commandBase_); }

void AtaChannel::attachDisk(unsigned unit, std::unique_ptr<DiskImage> image) {
    drives_[unit & 1].insert(std::move(image));
    drives_[0].setPeerPresent(drives_[1].present());
    drives_[1].setPeerPresent(drives_[0].present());
    updateIrq();
}

void AtaChannel::attachTo(IoBus& bus) {
    bus.attach(commandBase_, kCommandPortCount, this);
    bus.attach(controlPort_, 1, this);
}

// ---- port access --------------------------------------------------------------------------

uint32_t AtaChannel::ioRead(uint16_t port, unsigned size) {
    uint32_t value = 0;
    if (port == controlPort_) {
        // One port: the byte lanes above it (0x3F7, the floppy's) are not ours.
        value = alternateStatus() | (size > 1 ? (size >= 4 ? 0xFFFFFF00u : 0xFF00u) : 0u);
    } else if (port == commandBase_ + kRegData) {
        value = readDataPort(size);
    } else {
        const uint16_t reg = static_cast<uint16_t>(port - commandBase_);
        for (unsigned i = 0; i < size && i < 4; ++i) {
            const uint32_t byte = reg + i < kCommandPortCount ? readCommandRegister(static_cast<uint16_t>(reg + i)) : 0xFFu;
            value |= byte << (8 * i);
        }
    }
    updateIrq();
    return value;
}

void AtaChannel::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    if (port == controlPort_) {
        writeDeviceControl(static_cast<uint8_t>(value));
    } else if (port == commandBase_ + kRegData) {
        writeDataPort(size, value);
    } else {
        const uint16_t reg = static_cast<uint16_t>(port - commandBase_);
        for (unsigned i = 0; i < size && i < 4 && reg + i < kCommandPortCount; ++i)
            writeCommandRegister(static_cast<uint16_t>(reg + i), static_cast<uint8_t>(value >> (8 * i)));
    }
    updateIrq();
}

uint8_t AtaChannel::readCommandRegister(uint16_t reg) {
    if (!anyPresent()) return 0;
    const bool hob = deviceControl_ & kControlHob;
    AtaDrive& device = selected();
    if (!device.present()) {
        // The present device answers for the absent one, except Status, which reads 00h.
        return reg == kRegStatus ? 0 : drives_[selectedUnit() ^ 1].readRegister(reg, hob);
    }
    if (reg == kRegStatus) {
        device.clearInterrupt();  // reading Status acknowledges INTRQ
        return device.status();
    }
    return device.readRegister(reg, hob);
}

void AtaChannel::writeCommandRegister(uint16_t reg, uint8_t value) {
    deviceControl_ &= static_cast<uint8_t>(~kControlHob);  // any command block write clears HOB
    if (reg == kRegCommand) {
        executeCommand(value);
        return;
    }
    drives_[0].writeRegister(reg, value);
    drives_[1].writeRegister(reg, value);
}

uint8_t AtaChannel::alternateStatus() const {
    const AtaDrive& device = selected();
    return device.present() ? device.status() : 0;
}

uint32_t AtaChannel::readDataPort(unsigned size) {
    AtaDrive& device = selected();
    if (!device.present()) return 0;
    if (size >= 4) {
        const uint32_t low = device.readData();
        return low | static_cast<uint32_t>(device.readData()) << 16;
    }
    const uint16_t word = device.readData();
    return size == 1 ? word & 0xFFu : word;
}

void AtaChannel::writeDataPort(unsigned size, uint32_t value) {
    AtaDrive& device = selected();
    if (!device.present()) return;
    device.writeData(static_cast<uint16_t>(size == 1 ? value & 0xFF : value));
    if (size >= 4) device.writeData(static_cast<uint16_t>(value >> 16));
}

// ---- commands, reset, diagnostics ---------------------------------------------------------

void AtaChannel::executeCommand(uint8_t command) {
    if (deviceControl_ & kControlSrst) return;  // both devices are BSY in reset
    if (command == cmd::kExecuteDiagnostic) {
        executeDeviceDiagnostic();
        return;
    }
    AtaDrive& device = selected();
    if (!device.present()) {
        spdlog::debug("{}: command {:#04x} to absent device {}: ignored", name(), command, selectedUnit());
        return;
    }
    device.executeCommand(command);
    if (device.pendingDma() && dmaRequested_) dmaRequested_();
}

// ATA-6 9.12 and table 27: each device reports 01h (passed) or a failure code; device 0 adds
// 80h when a present device 1 failed.
std::array<uint8_t, 2> AtaChannel::diagnosticCodes() const {
    const uint8_t own0 = drives_[0].diagnosticPassed() ? kDiagPassed : kDiagFailed;
    const uint8_t own1 = drives_[1].diagnosticPassed() ? kDiagPassed : kDiagFailed;
    const bool device1Failed = drives_[1].present() && !drives_[1].diagnosticPassed();
    return {static_cast<uint8_t>(own0 | (device1Failed ? kDiagDevice1Failed : 0)), own1};
}

void AtaChannel::executeDeviceDiagnostic() {
    // Accepted by both devices whatever the DEV bit says; device 0 reports for the pair and
    // interrupts. Afterwards DEV = 0 (the signature's Device register is 00h).
    if (!anyPresent()) return;
    const std::array<uint8_t, 2> codes = diagnosticCodes();
    const bool device0Present = drives_[0].present();
    drives_[0].completeDiagnostic(codes[0], device0Present);
    drives_[1].completeDiagnostic(codes[1], !device0Present);
}

void AtaChannel::writeDeviceControl(uint8_t value) {
    const bool wasReset = deviceControl_ & kControlSrst;
    deviceControl_ = value & (kControlNien | kControlSrst | kControlHob);
    const bool reset = deviceControl_ & kControlSrst;
    if (reset && !wasReset) {
        drives_[0].beginSoftReset();
        drives_[1].beginSoftReset();
    } else if (!reset && wasReset) {
        const std::array<uint8_t, 2> codes = diagnosticCodes();
        drives_[0].endSoftReset(codes[0]);
        drives_[1].endSoftReset(codes[1]);
    }
}

void AtaChannel::updateIrq() {
    const AtaDrive& device = selected();
    const bool level = device.present() && device.interruptPending() && !(deviceControl_ & kControlNien);
    if (level == irqLevel_) return;
    irqLevel_ = level;
    if (irq_) irq_->setLevel(level);
}

// ---- bus-master side ----------------------------------------------------------------------

std::optional<AtaDmaRequest> AtaChannel::pendingDma() const {
    const AtaDrive& device = selected();
    return device.present() ? device.pendingDma() : std::nullopt;
}

DiskStatus AtaChannel::transferDma(uint32_t first, uint32_t count, uint8_t* buffer) {
    AtaDrive& device = selected();
    return device.present() ? device.transferDma(first, count, buffer) : DiskStatus::OutOfRange;
}

void AtaChannel::finishDma(DmaOutcome outcome) {
    AtaDrive& device = selected();
    if (device.present()) device.finishDma(outcome);
    updateIrq();
}

}  // namespace hvlab::devices
