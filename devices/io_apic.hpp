// An Intel 82093AA I/O APIC: 24 interrupt input pins, each routed by a 64-bit redirection entry
// to the local APICs as an APIC bus message. Registers are reached indirectly through IOREGSEL
// (offset 0x00) and IOWIN (offset 0x10) in its MMIO window (0xFEC00000 on a PC).
//
// What is modelled, following the 82093AA datasheet:
//  - IOAPICID (index 0x00, bits 24-27), IOAPICVER (0x01, reads 0x00170011: 24 entries, version
//    0x11), IOAPICARB (0x02, read-only, loaded from the ID when the ID is written), and the
//    redirection table at 0x10-0x3F (low dword at 0x10 + 2n, high dword at 0x11 + 2n) with
//    vector, delivery mode, destination mode, delivery status (read-only), polarity, remote IRR
//    (read-only), trigger mode, mask and destination (bits 56-63);
//  - edge inputs: a rising edge (after polarity) on an unmasked pin delivers once; edges on a
//    masked pin are lost;
//  - level inputs: while the line is asserted and remote IRR is clear, the entry delivers and sets
//    remote IRR; endOfInterrupt(vector) (the local APIC's EOI broadcast) clears remote IRR of every
//    level entry with that vector and delivers again if the line is still asserted; unmasking an
//    entry whose line is asserted delivers it;
//  - reset: every entry masked, ID 0 (or the ID given to the constructor).
//
// Simplified: delivery is instantaneous, so delivery status always reads 0 (idle). The trigger
// mode only applies to fixed and lowest-priority entries (the datasheet requires edge for the
// others). Switching an entry to edge clears its remote IRR (as KVM does, for guests that
// reprogram an entry while an interrupt is in service). The destination is 8 bits wide (xAPIC
// systems), not the 4 bits of the original APIC bus. Only dword accesses to IOWIN do anything;
// IOREGSEL accepts any width. The input level is the electrical level: polarity "active low"
// inverts it, so a board that drives its lines as asserted/deasserted describes them to the guest
// as active high (as QEMU's ACPI tables do).
//
// Wiring: map the window at ioapic::kDefaultBase (size ioapic::kMmioSize), connect the message
// sink to routeApicMessage() over the vCPUs' LocalApics, the LocalApics' EOI broadcast to
// endOfInterrupt(), and the board's IRQ sources to input(pin). Not thread-safe: the VMM
// serialises all calls; the sink runs synchronously.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "devices/bus.hpp"
#include "devices/local_apic.hpp"

namespace hvlab::devices {

namespace ioapic {
inline constexpr uint64_t kDefaultBase = 0xFEC00000;
inline constexpr uint64_t kMmioSize = 0x20;
inline constexpr uint64_t kIoRegSel = 0x00;
inline constexpr uint64_t kIoWin = 0x10;

inline constexpr uint8_t kRegId = 0x00;
inline constexpr uint8_t kRegVersion = 0x01;
inline constexpr uint8_t kRegArbitration = 0x02;
inline constexpr uint8_t kRegRedirectionBase = 0x10;  // entry n: low 0x10 + 2n, high 0x11 + 2n

inline constexpr int kPinCount = 24;
inline constexpr uint32_t kVersionValue = 0x00170011;

// Redirection entry bits.
inline constexpr uint64_t kVectorMask = 0xFF;
inline constexpr unsigned kDeliveryModeShift = 8;
inline constexpr uint64_t kLogicalDestination = 1u << 11;
inline constexpr uint64_t kDeliveryStatus = 1u << 12;
inline constexpr uint64_t kActiveLow = 1u << 13;
inline constexpr uint64_t kRemoteIrr = 1u << 14;
inline constexpr uint64_t kLevelTriggered = 1u << 15;
inline constexpr uint64_t kMasked = 1u << 16;
inline constexpr unsigned kDestinationShift = 56;
}  // namespace ioapic

class IoApic final : public MmioDevice {
public:
    using MessageSink = std::function<void(const ApicMessage&)>;

    explicit IoApic(MessageSink sink = {}, uint8_t id = 0);
    IoApic(const IoApic&) = delete;  // the input pins point back at their IoApic
    IoApic& operator=(const IoApic&) = delete;

    void connect(MessageSink sink) { sink_ = std::move(sink); }

    uint64_t mmioRead(uint64_t offset, unsigned size) override;
    void mmioWrite(uint64_t offset, unsigned size, uint64_t value) override;
    std::string name() const override { return "ioapic"; }

    // The input pin `pin` (0-23) for a device or the board. Throws std::out_of_range otherwise.
    IrqLine& input(int pin);

    // The local APICs' EOI broadcast for a level-triggered vector.
    void endOfInterrupt(uint8_t vector);

    void reset();

    // Read-only views for the debugger and tests.
    uint8_t id() const { return id_; }
    uint8_t selectedRegister() const { return ioregsel_; }
    uint64_t redirectionEntry(int pin) const { return redirection_.at(static_cast<std::size_t>(pin)); }
    bool pinLevel(int pin) const { return levels_.at(static_cast<std::size_t>(pin)); }

private:
    class Pin final : public IrqLine {
    public:
        void setLevel(bool level) override { owner->setPinLevel(index, level); }
        IoApic* owner = nullptr;
        int index = 0;
    };

    uint32_t readRegister(uint8_t index) const;
    void writeRegister(uint8_t index, uint32_t value);
    void setPinLevel(int pin, bool level);
    bool asserted(int pin) const;
    void evaluateLevel(int pin);
    void deliver(int pin);

    MessageSink sink_;
    const uint8_t resetId_;
    uint8_t id_ = 0;
    uint8_t arbitrationId_ = 0;
    uint8_t ioregsel_ = 0;
    std::array<uint64_t, ioapic::kPinCount> redirection_{};
    std::array<bool, ioapic::kPinCount> levels_{};
    std::array<Pin, ioapic::kPinCount> pins_{};
};

}  // namespace hvlab::devices
