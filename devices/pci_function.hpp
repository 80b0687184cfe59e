// One PCI function as the PCI bus sees it: a 256-byte type-0 configuration space with the
// standard header, up to six BARs (I/O, 32-bit memory, or 64-bit prefetchable memory taking two
// BAR registers), a read-only capability list, and an interrupt pin. Devices (IDE, e1000, virtio) derive
// from it, describe their IDs and BARs in the constructor, and implement the BAR accesses.
//
// The bus (devices/pci_bus) owns the mapping: when the guest writes a BAR or the command
// register, the bus asks barAddress()/decodeEnabled() and moves the range on the IoBus/MmioBus.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "devices/bus.hpp"

namespace hvlab::devices {

namespace pci {
inline constexpr uint8_t kVendorId = 0x00;
inline constexpr uint8_t kDeviceId = 0x02;
inline constexpr uint8_t kCommand = 0x04;
inline constexpr uint8_t kStatus = 0x06;
inline constexpr uint8_t kRevision = 0x08;
inline constexpr uint8_t kProgIf = 0x09;
inline constexpr uint8_t kSubclass = 0x0A;
inline constexpr uint8_t kClass = 0x0B;
inline constexpr uint8_t kHeaderType = 0x0E;
inline constexpr uint8_t kBar0 = 0x10;
inline constexpr uint8_t kSubsystemVendorId = 0x2C;
inline constexpr uint8_t kSubsystemId = 0x2E;
inline constexpr uint8_t kCapabilitiesPointer = 0x34;
inline constexpr uint8_t kInterruptLine = 0x3C;
inline constexpr uint8_t kInterruptPin = 0x3D;

inline constexpr uint16_t kCommandIo = 0x0001;
inline constexpr uint16_t kCommandMemory = 0x0002;
inline constexpr uint16_t kCommandBusMaster = 0x0004;
inline constexpr uint16_t kCommandIntxDisable = 0x0400;
inline constexpr uint16_t kStatusInterrupt = 0x0008;
inline constexpr uint16_t kStatusCapabilities = 0x0010;
inline constexpr uint8_t kCapabilityVendor = 0x09;  // vendor-specific capability ID
inline constexpr uint8_t kFirstCapability = 0x40;   // capabilities live in 0x40..0xFF
}  // namespace pci

// Memory64 is a 64-bit prefetchable memory BAR (type 10b, bit 3 set, as QEMU's virtio BAR 4): it
// takes BAR registers `index` and `index + 1`; the upper register has kind None.
enum class BarKind : uint8_t { None, Io, Memory32, Memory64 };

struct BarInfo {
    BarKind kind = BarKind::None;
    uint32_t size = 0;  // a power of two: >= 4 for I/O, >= 16 for memory
};

inline bool isMemoryBar(BarKind kind) { return kind == BarKind::Memory32 || kind == BarKind::Memory64; }

class PciFunction {
public:
    virtual ~PciFunction() = default;

    // Configuration space accesses (offset < 256, naturally aligned, size 1, 2 or 4).
    uint32_t configRead(uint8_t offset, unsigned size) const;
    void configWrite(uint8_t offset, unsigned size, uint32_t value);

    // BAR accesses routed by the bus; `offset` is relative to the BAR's base.
    virtual uint32_t barIoRead(int bar, uint32_t offset, unsigned size);
    virtual void barIoWrite(int bar, uint32_t offset, unsigned size, uint32_t value);
    virtual uint64_t barMmioRead(int bar, uint64_t offset, unsigned size);
    virtual void barMmioWrite(int bar, uint64_t offset, unsigned size, uint64_t value);

    virtual std::string name() const = 0;

    const BarInfo& bar(int index) const { return bars_[index]; }
    // The base address the guest programmed (I/O or memory), without the flag bits; for a
    // 64-bit BAR both registers.
    uint64_t barAddress(int index) const;
    // Whether the bus should decode this BAR now (command register I/O or memory enable set,
    // and the BAR programmed to something other than 0).
    bool decodeEnabled(int index) const;
    bool busMasterEnabled() const { return command() & pci::kCommandBusMaster; }
    uint16_t command() const { return read16(pci::kCommand); }

    // The board wires INTx here (via the interrupt pin in config space); may stay null.
    void connectIrq(IrqLine* line) { irq_ = line; }
    // Drives INTx (level triggered, honours Command.InterruptDisable; Status.Interrupt follows).
    void setIrq(bool asserted);

    // Called by the bus after configWrite() so it can remap BARs. Set once by the bus.
    void setConfigChangedHook(std::function<void(PciFunction&)> hook) { onConfigChanged_ = std::move(hook); }

protected:
    PciFunction(uint16_t vendor, uint16_t device, uint8_t classCode, uint8_t subclass, uint8_t progIf,
                uint8_t revision = 0);
    // Declares BAR `index` (call in the constructor).
    void defineBar(int index, BarKind kind, uint32_t size);
    void setInterruptPin(uint8_t pin);  // 1 = INTA# .. 4 = INTD#, 0 = none
    void setSubsystem(uint16_t vendor, uint16_t id);
    // Appends a capability (ID, next pointer, then `body`) to the list in config space and returns
    // its offset; throws std::length_error when config space is full (a device bug). The bytes are
    // read-only for the guest unless extendedConfigWrite() handles them.
    uint8_t addCapability(uint8_t id, const uint8_t* body, size_t bodySize);
    // Device-specific config registers beyond the header (0x40..0xFF): override to intercept.
    // The default read returns the capability bytes (and 0 beyond them), the default write ignores.
    virtual uint32_t extendedConfigRead(uint8_t offset, unsigned size) const;
    virtual void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value);

    uint16_t read16(uint8_t offset) const { return static_cast<uint16_t>(config_[offset] | config_[offset + 1] << 8); }
    void write16(uint8_t offset, uint16_t v) { config_[offset] = v & 0xFF; config_[offset + 1] = v >> 8; }
    uint32_t read32(uint8_t offset) const;
    void write32(uint8_t offset, uint32_t v);
    std::array<uint8_t, 256> config_{};

private:
    void writeHeaderByte(uint8_t offset, uint8_t value);
    void updateIrqPin();
    bool isUpperHalfOf64(int index) const { return index > 0 && bars_[index - 1].kind == BarKind::Memory64; }
    std::array<BarInfo, 6> bars_{};
    uint8_t capabilityEnd_ = pci::kFirstCapability;  // first free byte after the capabilities
    uint8_t lastCapability_ = 0;                       // offset of the last one (0: none yet)
    IrqLine* irq_ = nullptr;
    bool irqRequested_ = false;
    bool irqDriven_ = false;
    std::function<void(PciFunction&)> onConfigChanged_;
};

}  // namespace hvlab::devices
