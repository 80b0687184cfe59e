#include "devices/io_apic.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace ioapic;

namespace {

constexpr uint8_t kLastRedirectionRegister = kRegRedirectionBase + 2 * kPinCount - 1;  // 0x3F
// Low dword: vector, delivery mode, destination mode, polarity, trigger mode, mask.
// Delivery status (bit 12) and remote IRR (bit 14) are read-only; bits 17-55 are reserved.
constexpr uint64_t kLowWritable = 0x1AFFF;
constexpr uint64_t kHighWritable = 0xFF000000;

constexpr uint8_t deliveryModeOf(uint64_t entry) { return (entry >> kDeliveryModeShift) & 7; }

// The trigger mode applies to fixed and lowest-priority entries only.
constexpr bool isLevelEntry(uint64_t entry) {
    return (entry & kLevelTriggered) && deliveryModeOf(entry) <= 1;
}

}  // namespace

IoApic::IoApic(MessageSink sink, uint8_t id) : sink_(std::move(sink)), resetId_(id & 0x0F) {
    for (int pin = 0; pin < kPinCount; ++pin) {
        pins_[static_cast<std::size_t>(pin)].owner = this;
        pins_[static_cast<std::size_t>(pin)].index = pin;
    }
    reset();
}

void IoApic::reset() {
    id_ = arbitrationId_ = resetId_;
    ioregsel_ = 0;
    redirection_.fill(kMasked);  // the datasheet: entries come out of reset masked
}

IrqLine& IoApic::input(int pin) {
    if (pin < 0 || pin >= kPinCount) throw std::out_of_range("IOAPIC has pins 0-23 only");
    return pins_[static_cast<std::size_t>(pin)];
}

// ---- register window -----------------------------------------------------------------------

uint64_t IoApic::mmioRead(uint64_t offset, unsigned size) {
    if (offset == kIoRegSel) return ioregsel_;
    if (offset == kIoWin && size == 4) return readRegister(ioregsel_);
    spdlog::debug("ioapic: {}-byte read at {:#x} ignored", size, offset);
    return 0;
}

void IoApic::mmioWrite(uint64_t offset, unsigned size, uint64_t value) {
    if (offset == kIoRegSel) {
        ioregsel_ = static_cast<uint8_t>(value);
        return;
    }
    if (offset == kIoWin && size == 4) {
        writeRegister(ioregsel_, static_cast<uint32_t>(value));
        return;
    }
    spdlog::debug("ioapic: {}-byte write of {:#x} at {:#x} ignored", size, value, offset);
}

uint32_t IoApic::readRegister(uint8_t index) const {
    switch (index) {
    case kRegId: return uint32_t{id_} << 24;
    case kRegVersion: return kVersionValue;
    case kRegArbitration: return uint32_t{arbitrationId_} << 24;
    default: break;
    }
    if (index < kRegRedirectionBase || index > kLastRedirectionRegister) return 0;  // reserved
    const uint64_t entry = redirection_[(index - kRegRedirectionBase) / 2u];
    return static_cast<uint32_t>((index & 1) ? entry >> 32 : entry);
}

void IoApic::writeRegister(uint8_t index, uint32_t value) {
    if (index == kRegId) {
        id_ = arbitrationId_ = (value >> 24) & 0x0F;
        return;
    }
    if (index < kRegRedirectionBase || index > kLastRedirectionRegister) {
        spdlog::debug("ioapic: write of {:#x} to read-only or reserved register {:#x}", value, index);
        return;
    }
    const int pin = (index - kRegRedirectionBase) / 2;
    uint64_t& entry = redirection_[static_cast<std::size_t>(pin)];
    if (index & 1) {
        entry = (entry & ~(kHighWritable << 32)) | ((uint64_t{value} & kHighWritable) << 32);
        return;
    }
    entry = (entry & ~kLowWritable) | (value & kLowWritable);
    if (!isLevelEntry(entry)) entry &= ~kRemoteIrr;
    evaluateLevel(pin);  // an unmasked (or reprogrammed) level entry with its line up delivers
}

// ---- pins and delivery ---------------------------------------------------------------------

bool IoApic::asserted(int pin) const {
    const auto i = static_cast<std::size_t>(pin);
    return levels_[i] != ((redirection_[i] & kActiveLow) != 0);
}

void IoApic::setPinLevel(int pin, bool level) {
    const bool was = asserted(pin);
    levels_[static_cast<std::size_t>(pin)] = level;
    const uint64_t entry = redirection_[static_cast<std::size_t>(pin)];
    if (entry & kMasked) return;  // edges are lost; a level is looked at again on unmask
    if (isLevelEntry(entry)) evaluateLevel(pin);
    else if (!was && asserted(pin)) deliver(pin);
}

void IoApic::evaluateLevel(int pin) {
    uint64_t& entry = redirection_[static_cast<std::size_t>(pin)];
    if (!isLevelEntry(entry) || (entry & (kMasked | kRemoteIrr)) || !asserted(pin)) return;
    entry |= kRemoteIrr;  // set before delivery: the sink may EOI re-entrantly
    deliver(pin);
}

void IoApic::endOfInterrupt(uint8_t vector) {
    for (int pin = 0; pin < kPinCount; ++pin) {
        uint64_t& entry = redirection_[static_cast<std::size_t>(pin)];
        if (!(entry & kRemoteIrr) || (entry & kVectorMask) != vector) continue;
        entry &= ~kRemoteIrr;
        evaluateLevel(pin);
    }
}

void IoApic::deliver(int pin) {
    const uint64_t entry = redirection_[static_cast<std::size_t>(pin)];
    const uint8_t mode = deliveryModeOf(entry);
    if (mode == 3 || mode == 6) {
        spdlog::debug("ioapic: pin {} has reserved delivery mode {}; not delivered", pin, mode);
        return;
    }
    ApicMessage message;
    message.vector = static_cast<uint8_t>(entry & kVectorMask);
    message.mode = static_cast<ApicDeliveryMode>(mode);
    message.logicalDestination = entry & kLogicalDestination;
    message.destination = static_cast<uint8_t>(entry >> kDestinationShift);
    message.levelTriggered = isLevelEntry(entry);
    if (sink_) sink_(message);
}

}  // namespace hvlab::devices
