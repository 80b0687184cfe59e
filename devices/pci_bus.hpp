// PCI bus 0 behind a host bridge, reached through configuration mechanism #1 (PCI Local Bus
// Specification 3.0, 3.2.2.3.2), with BAR decoding onto the board's IoBus and MmioBus.
//
// What is modelled:
//  - CONFIG_ADDRESS at 0xCF8 (32-bit accesses only, as on real chipsets): enable bit 31,
//    bus 23:16, device 15:11, function 10:8, register 7:2; bits 30:24 and 1:0 read as 0.
//  - CONFIG_DATA at 0xCFC-0xCFF: byte, word and dword accesses; the byte lane of the port
//    selects the offset within the dword (a word at 0xCFE is config offset reg+2).
//  - Bus 0 only: other bus numbers, absent device/function numbers and a clear enable bit read
//    all-ones and ignore writes (master abort).
//  - The PIIX3 Reset Control register at 0xCF9 (byte accesses, 82371SB datasheet): writing bit 2
//    (RCPU) set asks for a system reset; bit 1 (SRST, hard/soft) is stored and reads back.
//  - BAR decoding: the bus installs itself as each function's config-changed hook. Whenever the
//    guest writes config space it compares every BAR's wanted window (programmed address while
//    the command register's I/O or memory enable is set) with the current one and moves it,
//    through small adapters that forward to PciFunction::barIo*/barMmio* with the BAR index and
//    the offset inside the BAR.
//  - A window that would overlap another device (or that the board's MMIO check refuses, e.g.
//    because it lies on RAM) is not mapped: an address conflict, logged at debug level. It is
//    retried when the guest programs the BAR or the command register again.
//
// Simplified: no bridges (a single bus), no type-1 headers, no expansion ROMs. 64-bit BARs decode
// wherever the guest puts them (the board's range check refuses RAM).
// Unaligned CONFIG_DATA accesses that would cross the dword are master aborts (all-ones).
//
// Threading: everything belongs to the thread that runs the guest (or to a paused VM).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/bus.hpp"
#include "devices/pci_function.hpp"

namespace hvlab::devices {

namespace pci_config {
inline constexpr uint16_t kAddressPort = 0xCF8;
inline constexpr uint16_t kResetControlPort = 0xCF9;
inline constexpr uint16_t kDataPort = 0xCFC;
inline constexpr uint32_t kEnable = 0x80000000u;
inline constexpr uint32_t kAddressWritable = 0x80FFFFFCu;  // enable, bus, device, function, register
inline constexpr uint8_t kResetCpu = 0x04;     // RCR.RCPU: a write with this bit set resets
inline constexpr uint8_t kSystemReset = 0x02;  // RCR.SRST: hard (1) or soft (0) reset

// CONFIG_ADDRESS for bus 0: the value a guest writes to 0xCF8.
constexpr uint32_t address(int device, int function, uint8_t offset) {
    return kEnable | static_cast<uint32_t>(device & 0x1F) << 11 | static_cast<uint32_t>(function & 7) << 8 |
           (offset & 0xFCu);
}
}  // namespace pci_config

// One BAR as the debugger sees it.
struct PciBarView {
    int index = 0;
    BarKind kind = BarKind::None;
    uint32_t size = 0;
    uint64_t address = 0;   // what the guest programmed (without flag bits)
    bool decoding = false;  // command register enables it and the address is non-zero
    bool mapped = false;    // actually on the IoBus/MmioBus
    bool conflict = false;  // decoding wanted but refused (overlap)
};

// One function on the bus, for the debugger.
struct PciFunctionView {
    int device = 0;
    int function = 0;
    const PciFunction* pci = nullptr;
    std::string name;
    uint16_t vendorId = 0;
    uint16_t deviceId = 0;
    uint8_t classCode = 0;
    uint8_t subclass = 0;
    uint16_t command = 0;
    std::vector<PciBarView> bars;  // only the BARs the function declares
};

// An MMIO window that moved: the VMM updates its physical map from this.
struct PciMmioMapChange {
    const PciFunction* function = nullptr;
    int bar = 0;
    uint64_t size = 0;
    std::optional<uint64_t> oldBase;  // nullopt: was not mapped
    std::optional<uint64_t> newBase;  // nullopt: no longer mapped
};

class PciBus final : public PortDevice {
public:
    static constexpr uint16_t kFirstPort = pci_config::kAddressPort;
    static constexpr uint32_t kPortCount = 8;  // 0xCF8-0xCFF
    static constexpr int kDevices = 32;
    static constexpr int kFunctions = 8;

    using MmioMapChanged = std::function<void(const PciMmioMapChange&)>;
    // Returns false to refuse an MMIO window [base, base+size) (e.g. it overlaps RAM or ROM).
    using MmioRangeCheck = std::function<bool(uint64_t base, uint64_t size)>;

    // The buses must outlive the PciBus. The bus does not attach itself: the board attaches it
    // at kFirstPort/kPortCount (or calls attachTo).
    PciBus(IoBus& io, MmioBus& mmio);
    ~PciBus() override;
    PciBus(const PciBus&) = delete;
    PciBus& operator=(const PciBus&) = delete;

    void attachTo(IoBus& io) { io.attach(kFirstPort, kPortCount, this); }

    // Puts `fn` at device (0-31) / function (0-7) of bus 0 and takes over its config-changed
    // hook. Throws std::invalid_argument for a bad or occupied slot (a board bug, not guest input).
    // `fn` must stay alive while the bus routes accesses to it.
    void add(int device, int function, PciFunction& fn);
    PciFunction* functionAt(int device, int function) const;

    void onMmioMapChanged(MmioMapChanged callback) { mmioMapChanged_ = std::move(callback); }
    void setMmioRangeCheck(MmioRangeCheck check) { mmioRangeCheck_ = std::move(check); }
    // Called when the guest writes RCR.RCPU (0xCF9 bit 2). `hard` is RCR.SRST.
    void onReset(std::function<void(bool hard)> callback) { reset_ = std::move(callback); }

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "pci-bus0"; }

    uint32_t configAddress() const { return configAddress_; }
    // Every function with its BARs, ordered by device and function (for the debugger).
    std::vector<PciFunctionView> functions() const;

private:
    class BarPortWindow;
    class BarMmioWindow;
    struct BarWindow {
        std::optional<uint64_t> wanted;  // the base the guest asks to decode
        bool mapped = false;
        std::unique_ptr<BarPortWindow> io;
        std::unique_ptr<BarMmioWindow> mmio;
    };
    struct Slot {
        PciFunction* function = nullptr;
        int device = 0;
        int number = 0;
        std::array<BarWindow, 6> bars;
    };

    Slot* selectedSlot() const;  // per CONFIG_ADDRESS; nullptr = master abort
    uint32_t configDataRead(unsigned lane, unsigned size) const;
    void configDataWrite(unsigned lane, unsigned size, uint32_t value);
    void remap(Slot& slot);
    void remapBar(Slot& slot, int index);
    void unmapBar(Slot& slot, int index);
    bool mapBar(Slot& slot, int index, uint64_t base);

    IoBus& io_;
    MmioBus& mmio_;
    uint32_t configAddress_ = 0;
    uint8_t resetControl_ = 0;
    std::array<std::unique_ptr<Slot>, kDevices * kFunctions> slots_;
    MmioMapChanged mmioMapChanged_;
    MmioRangeCheck mmioRangeCheck_;
    std::function<void(bool)> reset_;
};

}  // namespace hvlab::devices
