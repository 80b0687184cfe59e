#include "devices/pci_function.hpp"

#include <algorithm>
#include <stdexcept>

namespace hvlab::devices {

namespace {
// The read-only low bits of a BAR register.
uint32_t flagBits(BarKind kind) {
    switch (kind) {
    case BarKind::Io: return 0x1;
    case BarKind::Memory64: return 0xC;  // 64-bit (type 10b), prefetchable
    default: return 0x0;
    }
}
}  // namespace

PciFunction::PciFunction(uint16_t vendor, uint16_t device, uint8_t classCode, uint8_t subclass, uint8_t progIf,
                         uint8_t revision) {
    write16(pci::kVendorId, vendor);
    write16(pci::kDeviceId, device);
    config_[pci::kRevision] = revision;
    config_[pci::kProgIf] = progIf;
    config_[pci::kSubclass] = subclass;
    config_[pci::kClass] = classCode;
    config_[pci::kHeaderType] = 0x00;
}

void PciFunction::defineBar(int index, BarKind kind, uint32_t size) {
    if (index < 0 || index > 5) throw std::invalid_argument("PCI BAR index out of range");
    if (kind != BarKind::None && (size & (size - 1)) != 0)
        throw std::invalid_argument("PCI BAR size must be a power of two");
    if (kind == BarKind::Io && size < 4) throw std::invalid_argument("PCI I/O BAR must be at least 4 bytes");
    if (isMemoryBar(kind) && size < 16) throw std::invalid_argument("PCI memory BAR must be at least 16 bytes");
    if (kind == BarKind::Memory64 && index == 5) throw std::invalid_argument("a 64-bit BAR needs two BAR registers");
    bars_[index] = {kind, size};
    write32(static_cast<uint8_t>(pci::kBar0 + 4 * index), flagBits(kind));
    if (kind == BarKind::Memory64) {
        bars_[index + 1] = {};
        write32(static_cast<uint8_t>(pci::kBar0 + 4 * index + 4), 0);
    }
}

uint8_t PciFunction::addCapability(uint8_t id, const uint8_t* body, size_t bodySize) {
    const size_t offset = (capabilityEnd_ + 3u) & ~3u;  // capabilities are dword aligned
    if (offset + 2 + bodySize > config_.size()) throw std::length_error("PCI config space has no room for the capability");
    const auto at = static_cast<uint8_t>(offset);
    config_[at] = id;
    config_[at + 1u] = 0;
    for (size_t i = 0; i < bodySize; ++i) config_[offset + 2 + i] = body[i];
    if (lastCapability_ == 0) config_[pci::kCapabilitiesPointer] = at;
    else config_[lastCapability_ + 1u] = at;
    lastCapability_ = at;
    capabilityEnd_ = static_cast<uint8_t>(std::min<size_t>(offset + 2 + bodySize, 0xFF));
    config_[pci::kStatus] |= pci::kStatusCapabilities;
    return at;
}

void PciFunction::setInterruptPin(uint8_t pin) { config_[pci::kInterruptPin] = pin; }

void PciFunction::setSubsystem(uint16_t vendor, uint16_t id) {
    write16(pci::kSubsystemVendorId, vendor);
    write16(pci::kSubsystemId, id);
}

uint32_t PciFunction::read32(uint8_t offset) const {
    return config_[offset] | config_[offset + 1] << 8 | config_[offset + 2] << 16 |
           static_cast<uint32_t>(config_[offset + 3]) << 24;
}

void PciFunction::write32(uint8_t offset, uint32_t v) {
    for (int i = 0; i < 4; ++i) config_[offset + i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t PciFunction::configRead(uint8_t offset, unsigned size) const {
    if (offset >= 0x40) return extendedConfigRead(offset, size);
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 0x40; ++i) v |= static_cast<uint32_t>(config_[offset + i]) << (8 * i);
    return v;
}

void PciFunction::configWrite(uint8_t offset, unsigned size, uint32_t value) {
    if (offset >= 0x40) {
        extendedConfigWrite(offset, size, value);
        return;
    }
    // BARs are written as whole dwords by every real driver; sub-dword writes merge first.
    if (offset >= pci::kBar0 && offset < pci::kBar0 + 24) {
        uint8_t base = offset & ~3;
        uint32_t old = read32(base);
        unsigned shift = (offset & 3) * 8;
        uint32_t mask = size >= 4 ? ~0u : (((1u << (size * 8)) - 1) << shift);
        uint32_t merged = (old & ~mask) | ((value << shift) & mask);
        int index = (base - pci::kBar0) / 4;
        const BarInfo& info = bars_[index];
        uint32_t stored = 0;
        if (info.kind == BarKind::Io) stored = (merged & ~(info.size - 1) & 0xFFFF) | 1u;
        else if (isMemoryBar(info.kind)) stored = (merged & ~(info.size - 1) & ~0xFu) | flagBits(info.kind);
        else if (isUpperHalfOf64(index)) stored = merged;  // sizes below 4 GiB: every upper bit is writable
        write32(base, stored);
    } else {
        for (unsigned i = 0; i < size && offset + i < 0x40; ++i)
            writeHeaderByte(static_cast<uint8_t>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
    }
    if (onConfigChanged_) onConfigChanged_(*this);
}

void PciFunction::writeHeaderByte(uint8_t offset, uint8_t value) {
    switch (offset) {
    case pci::kCommand:  // I/O, memory, bus master, (special cycles etc. read 0)
        config_[offset] = value & 0x07;
        break;
    case pci::kCommand + 1:  // interrupt disable (bit 10)
        config_[offset] = value & 0x04;
        updateIrqPin();
        break;
    case pci::kStatus + 1:  // bits 15-11 and 8 (error bits) are write-1-to-clear; DEVSEL timing is read-only
        config_[offset] &= static_cast<uint8_t>(~(value & 0xF9));
        break;
    case pci::kInterruptLine:
    case 0x0C:  // cache line size
    case 0x0D:  // latency timer
        config_[offset] = value;
        break;
    default:  // IDs, class, header type, subsystem, pin, expansion ROM (absent): read-only
        break;
    }
}

uint64_t PciFunction::barAddress(int index) const {
    uint32_t raw = read32(static_cast<uint8_t>(pci::kBar0 + 4 * index));
    if (bars_[index].kind == BarKind::Io) return raw & ~3u;
    uint64_t address = raw & ~0xFu;
    if (bars_[index].kind == BarKind::Memory64)
        address |= static_cast<uint64_t>(read32(static_cast<uint8_t>(pci::kBar0 + 4 * index + 4))) << 32;
    return address;
}

bool PciFunction::decodeEnabled(int index) const {
    const BarInfo& info = bars_[index];
    if (info.kind == BarKind::None || barAddress(index) == 0) return false;
    uint16_t bit = info.kind == BarKind::Io ? pci::kCommandIo : pci::kCommandMemory;
    return (command() & bit) != 0;
}

void PciFunction::setIrq(bool asserted) {
    irqRequested_ = asserted;
    updateIrqPin();
}

void PciFunction::updateIrqPin() {
    if (irqRequested_) config_[pci::kStatus] |= pci::kStatusInterrupt;
    else config_[pci::kStatus] &= static_cast<uint8_t>(~pci::kStatusInterrupt);
    bool drive = irqRequested_ && !(command() & pci::kCommandIntxDisable);
    if (drive != irqDriven_) {
        irqDriven_ = drive;
        if (irq_) irq_->setLevel(drive);
    }
}

uint32_t PciFunction::barIoRead(int, uint32_t, unsigned size) { return size >= 4 ? ~0u : (1u << (size * 8)) - 1; }
void PciFunction::barIoWrite(int, uint32_t, unsigned, uint32_t) {}
uint64_t PciFunction::barMmioRead(int, uint64_t, unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }
void PciFunction::barMmioWrite(int, uint64_t, unsigned, uint64_t) {}
uint32_t PciFunction::extendedConfigRead(uint8_t offset, unsigned size) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < capabilityEnd_; ++i)
        v |= static_cast<uint32_t>(config_[offset + i]) << (8 * i);
    return v;
}
void PciFunction::extendedConfigWrite(uint8_t, unsigned, uint32_t) {}

}  // namespace hvlab::devices
