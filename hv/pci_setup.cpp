#include "hv/pci_setup.hpp"

#include <array>

#include <spdlog/spdlog.h>

namespace hvlab::hv {

namespace {

constexpr uint16_t kConfigAddress = 0xcf8, kConfigData = 0xcfc;
constexpr uint32_t kIoStart = 0xc000, kIoEnd = 0x10000;
constexpr uint32_t kMemStart = 0xe0000000u, kMemEnd = 0xfec00000u;  // up to the I/O APIC
constexpr std::array<uint8_t, 4> kPirqIrqs{kPciIrqA, kPciIrqA, kPciIrqB, kPciIrqB};
constexpr uint16_t kPmIoBase = 0x600;
constexpr uint32_t kPiix4PmId = 0x71138086;  // device << 16 | vendor

// Configuration space of one function on bus 0, as the BIOS reaches it.
class ConfigSpace {
public:
    ConfigSpace(devices::IoBus& io, unsigned device, unsigned function)
        : io_(io), address_(0x80000000u | device << 11 | function << 8) {}
    uint32_t read(uint8_t reg, unsigned size) {
        io_.write(kConfigAddress, 4, address_ | (reg & 0xfc));
        return io_.read(static_cast<uint16_t>(kConfigData + (reg & 3)), size);
    }
    void write(uint8_t reg, unsigned size, uint32_t value) {
        io_.write(kConfigAddress, 4, address_ | (reg & 0xfc));
        io_.write(static_cast<uint16_t>(kConfigData + (reg & 3)), size, value);
    }

private:
    devices::IoBus& io_;
    uint32_t address_;
};

uint32_t alignUp(uint32_t value, uint32_t align) { return (value + align - 1) & ~(align - 1); }

// Sizes BAR `reg` and gives it an address; returns the next register (past a 64-bit BAR's upper half).
uint8_t setupBar(ConfigSpace& cfg, uint8_t reg, uint32_t& ioNext, uint32_t& memNext) {
    const uint32_t original = cfg.read(reg, 4);
    cfg.write(reg, 4, 0xffffffffu);
    const uint32_t mask = cfg.read(reg, 4);
    cfg.write(reg, 4, original);
    if (mask == 0) return static_cast<uint8_t>(reg + 4);  // the device has no BAR here (it reads back 0)
    if (mask & 1) {
        const uint32_t size = (~(mask & 0xfffcu) + 1) & 0xffffu;
        if (size == 0) return static_cast<uint8_t>(reg + 4);
        const uint32_t at = alignUp(ioNext, size);
        if (at + size > kIoEnd) {
            spdlog::warn("PCI setup: no room for an I/O BAR of {} bytes", size);
        } else {
            cfg.write(reg, 4, at);
            ioNext = at + size;
        }
        return static_cast<uint8_t>(reg + 4);
    }
    const bool is64 = ((mask >> 1) & 3) == 2;
    const uint32_t size = ~(mask & 0xfffffff0u) + 1;
    if (size != 0) {
        const uint64_t at = alignUp(memNext, size);
        if (at + size > kMemEnd) {
            spdlog::warn("PCI setup: no room for a memory BAR of {} bytes", size);
        } else {
            cfg.write(reg, 4, static_cast<uint32_t>(at));
            memNext = static_cast<uint32_t>(at + size);
        }
    }
    if (is64) {
        cfg.write(static_cast<uint8_t>(reg + 4), 4, 0);  // below 4 GiB
        return static_cast<uint8_t>(reg + 8);
    }
    return static_cast<uint8_t>(reg + 4);
}

}  // namespace

PciSetupResult configurePciLikeFirmware(devices::IoBus& io) {
    PciSetupResult result;
    uint32_t ioNext = kIoStart, memNext = kMemStart;
    for (unsigned device = 0; device < 32; ++device) {
        for (unsigned function = 0; function < 8; ++function) {
            ConfigSpace cfg(io, device, function);
            const uint32_t id = cfg.read(0x00, 4);
            if ((id & 0xffff) == 0xffff) {
                if (function == 0) break;
                continue;
            }
            ++result.functions;
            const uint32_t classCode = cfg.read(0x08, 4) >> 8;  // class, subclass, prog-if
            const uint16_t classSub = static_cast<uint16_t>(classCode >> 8);
            if (classSub == 0x0601 && (id & 0xffff) == 0x8086)  // the PIIX ISA bridge: PIRQA-D
                for (uint8_t k = 0; k < 4; ++k) cfg.write(static_cast<uint8_t>(0x60 + k), 1, kPirqIrqs[k]);
            if (id == kPiix4PmId) {
                cfg.write(0x40, 4, kPmIoBase | 1u);           // PMBA
                cfg.write(0x80, 1, cfg.read(0x80, 1) | 1u);  // PMIOSE: the block decodes
                io.write(kPmIoBase + 4, 2, io.read(kPmIoBase + 4, 2) | 1u);  // SCI_EN: ACPI mode
                result.powerManagement = true;
            }
            // Decoding off while the BARs move (not on the host bridge, which decodes RAM).
            if (classSub != 0x0600) cfg.write(0x04, 2, cfg.read(0x04, 2) & 0xfffcu);
            const uint8_t headerType = static_cast<uint8_t>(cfg.read(0x0e, 1) & 0x7f);
            const uint8_t barsEnd = headerType == 0 ? 0x10 + 6 * 4 : headerType == 1 ? 0x10 + 2 * 4 : 0x10;
            for (uint8_t reg = 0x10; reg < barsEnd;) reg = setupBar(cfg, reg, ioNext, memNext);
            cfg.write(0x04, 2, cfg.read(0x04, 2) | 0x7u);
            if (id == kPiix4PmId) {
                cfg.write(0x3c, 1, kPmSciIrq);
            } else if (const uint32_t pin = cfg.read(0x3d, 1); pin >= 1 && pin <= 4) {
                cfg.write(0x3c, 1, kPirqIrqs[(pin - 1 + device - 1) & 3]);
            }
            if (function == 0 && !(cfg.read(0x0e, 1) & 0x80)) break;  // single-function device
        }
    }
    return result;
}

}  // namespace hvlab::hv
