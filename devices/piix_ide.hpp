// The IDE function of the Intel 82371SB (PIIX3): PCI 8086:7010, class 01 01 80 (mass storage,
// IDE, both channels in legacy compatibility mode, bus-master capable), with the two legacy
// ATA channels and SFF-8038i bus-master DMA in BAR4.
//
// Modelled (82371SB datasheet, SFF-8038i):
//  - the legacy channels: primary 0x1F0-0x1F7/0x3F6 on IRQ 14, secondary 0x170-0x177/0x376 on
//    IRQ 15 (ISA interrupts, so the PCI interrupt pin is 0). attachLegacyPorts() maps them and
//    follows the IDE Decode Enable bit (IDETIM bit 15, set at reset) of each channel;
//  - BAR4, 16 I/O ports: per channel (primary at +0, secondary at +8) the command register
//    (bit 0 start/stop, bit 3 direction: 1 = write to memory, i.e. READ DMA), the status
//    register (bit 0 active, bit 1 error and bit 2 interrupt -- write 1 to clear -- bits 5/6
//    drive 0/1 DMA capable, read/write) and the PRD table address (dword aligned);
//  - the DMA engine: when START rises (0 -> 1) the channel goes active and the PRD pointer is
//    latched; when a DMA command is pending on the selected drive and the channel is active,
//    the engine walks the PRD table (8-byte entries: physical address with bit 0 ignored; byte
//    count bits 15:1, 0 = 64 KiB; bit 31 = end of table) through GuestMemory and moves all the
//    data at once. The interrupt bit is set on every rising edge of the channel's INTRQ (PIO
//    too, as on the PIIX). A transfer that ends exactly at the EOT entry clears active; PRDs
//    longer than the transfer leave active set (both are normal completions, SFF-8038i);
//  - errors: a PRD table or buffer outside RAM, a table longer than 64 KiB (8192 entries), PRDs
//    shorter than the transfer, or a direction bit that contradicts the ATA command set the
//    error bit, clear active and abort the ATA command (ERR, ABRT, INTRQ). PRDs are checked
//    before any data moves, so a short table moves nothing;
//  - bus mastering needs Command.BME (PCI config 04h bit 2): while it is clear the transfer
//    stays pending; the engine looks again on every BAR4 access and START;
//  - config 40h-43h (IDETIM primary/secondary, decode enable set at reset) and 44h (SIDETIM)
//    read/write; the timings themselves have no effect.
//
// Simplified: transfers are instantaneous; the PCI I/O enable bit does not gate the legacy ports
// (only IDETIM decode enable does); no Ultra DMA (the PIIX3 has none; drives still report it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "devices/ata_channel.hpp"
#include "devices/bus.hpp"
#include "devices/guest_memory.hpp"
#include "devices/pci_function.hpp"

namespace hvlab::devices {

namespace piix {
inline constexpr uint16_t kVendorIntel = 0x8086;
inline constexpr uint16_t kDevicePiix3Ide = 0x7010;
inline constexpr uint8_t kProgIfLegacyBusMaster = 0x80;
inline constexpr int kBusMasterBar = 4;
inline constexpr uint32_t kBusMasterBarSize = 16;

// Bus-master register offsets within a channel's 8 bytes of BAR4.
inline constexpr uint32_t kBmCommand = 0;
inline constexpr uint32_t kBmStatus = 2;
inline constexpr uint32_t kBmPrdAddress = 4;
inline constexpr uint32_t kBmChannelStride = 8;

inline constexpr uint8_t kBmCommandStart = 0x01;
inline constexpr uint8_t kBmCommandWriteToMemory = 0x08;
inline constexpr uint8_t kBmStatusActive = 0x01;
inline constexpr uint8_t kBmStatusError = 0x02;
inline constexpr uint8_t kBmStatusInterrupt = 0x04;
inline constexpr uint8_t kBmStatusDrive0Dma = 0x20;
inline constexpr uint8_t kBmStatusDrive1Dma = 0x40;

inline constexpr uint32_t kPrdEndOfTable = 0x80000000;
inline constexpr uint32_t kMaxPrdEntries = 8192;  // the table must fit in 64 KiB

// Device-specific configuration registers.
inline constexpr uint8_t kIdeTimingPrimary = 0x40;    // IDETIM, 16 bits
inline constexpr uint8_t kIdeTimingSecondary = 0x42;  // IDETIM, 16 bits
inline constexpr uint8_t kSlaveIdeTiming = 0x44;      // SIDETIM, 8 bits
inline constexpr uint16_t kIdeTimingDecodeEnable = 0x8000;
}  // namespace piix

// The bus-master registers of one channel (a snapshot for the debugger and tests).
struct BusMasterRegisters {
    uint8_t command = 0;
    uint8_t status = 0;
    uint32_t prdAddress = 0;
};

class PiixIde final : public PciFunction {
public:
    // `memory` is what the bus master reads and writes; the IRQ lines are ISA IRQ 14 and 15
    // (either may be nullptr).
    PiixIde(GuestMemory& memory, IrqLine* primaryIrq, IrqLine* secondaryIrq);
    ~PiixIde() override;

    AtaChannel& channel(unsigned index) { return channels_[index & 1]->ata; }
    // Maps both legacy channels on `bus` now and whenever their decode enable bit changes.
    void attachLegacyPorts(IoBus& bus);

    uint32_t barIoRead(int bar, uint32_t offset, unsigned size) override;
    void barIoWrite(int bar, uint32_t offset, unsigned size, uint32_t value) override;
    std::string name() const override { return "piix3-ide"; }

    BusMasterRegisters busMaster(unsigned index) const { return channels_[index & 1]->bm; }

protected:
    uint32_t extendedConfigRead(uint8_t offset, unsigned size) const override;
    void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) override;

private:
    // Watches a channel's INTRQ on its way to the IRQ line: each rising edge sets the
    // bus-master interrupt bit (82371SB, BMISX bit 2).
    class InterruptTap final : public IrqLine {
    public:
        InterruptTap(uint8_t& bmStatus, IrqLine* out) : bmStatus_(bmStatus), out_(out) {}
        void setLevel(bool asserted) override;

    private:
        uint8_t& bmStatus_;
        IrqLine* out_;
        bool level_ = false;
    };

    struct Channel {
        Channel(IrqLine* irq, uint16_t commandBase, uint16_t controlPort)
            : tap(bm.status, irq), ata(commandBase, controlPort, &tap) {}
        BusMasterRegisters bm;
        uint32_t prdCursor = 0;  // the table address latched when START rose
        InterruptTap tap;
        AtaChannel ata;
        bool legacyMapped = false;
    };

    struct PrdSegment {
        uint32_t address;
        uint32_t length;
    };

    uint8_t readBusMasterByte(unsigned index, uint32_t reg);
    void writeBusMasterByte(unsigned index, uint32_t reg, uint8_t value);
    void writeBusMasterCommand(unsigned index, uint8_t value);

    void runDma(unsigned index);
    // Reads the PRD table until it covers `bytes` or ends; false if the table is not in RAM or
    // too long. `endsAtEot`: the last entry used carries EOT.
    bool readPrdTable(uint32_t table, uint64_t bytes, std::vector<PrdSegment>& segments, bool& endsAtEot);
    // Moves `len` bytes between `buffer` and guest memory along the segments, continuing from
    // (segment, offset).
    bool copyAlongPrds(const std::vector<PrdSegment>& segments, std::size_t& segment, uint32_t& offset,
                       uint8_t* buffer, uint64_t len, bool toGuest);
    void failDma(unsigned index);

    uint16_t ideTiming(unsigned index) const;
    void updateLegacyDecode();

    GuestMemory& memory_;
    std::array<std::unique_ptr<Channel>, 2> channels_;
    IoBus* legacyBus_ = nullptr;
    std::vector<uint8_t> dmaBuffer_;
};

}  // namespace hvlab::devices
