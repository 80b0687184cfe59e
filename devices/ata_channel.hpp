// One ATA channel (a cable with device 0 and device 1) as the host sees it: the command block
// (8 ports: data, error/features, sector count, LBA low/mid/high, device, status/command) and
// the control block (one port: alternate status / device control), and one interrupt line.
//
// Primary: command block 0x1F0-0x1F7, control 0x3F6, IRQ 14. Secondary: 0x170-0x177, 0x376,
// IRQ 15. (0x3F7/0x377 belong to the floppy controller and are not claimed.)
//
// Modelled (ATA/ATAPI-6):
//  - register writes go to both devices; the DEV bit of the Device register selects which one
//    answers reads and executes commands (EXECUTE DEVICE DIAGNOSTIC runs on both);
//  - an absent device: status and alternate status read 00h while it is selected, its other
//    registers are answered by the present device (device 0 responding for device 1, ATA-6
//    9.16.1), commands to it are ignored; with no device at all every register reads 00h
//    (as QEMU), so presence probes fail;
//  - Device Control: nIEN, SRST (both devices reset; BSY while SRST is held, then the
//    signature and DRDY), HOB (reads of the 48-bit registers return the previous content;
//    any command block write clears HOB);
//  - INTRQ: driven by the selected device, gated by nIEN; reading Status clears the pending
//    interrupt, reading Alternate Status does not. The line level follows INTRQ (the PIC sees
//    the edges, the ISA IRQ being edge-triggered);
//  - the data port takes 16-bit accesses and, as on the PIIX, 32-bit ones (two words); an 8-bit
//    access moves one word and keeps its low byte. A wider access to another port touches the
//    consecutive registers byte by byte.
//
// The bus-master side (PiixIde) sees the selected device's pending DMA command through
// pendingDma()/transferDma()/finishDma() and is told of new DMA commands by the handler.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "devices/ata_drive.hpp"
#include "devices/bus.hpp"
#include "devices/disk_image.hpp"

namespace hvlab::devices {

class AtaChannel final : public PortDevice {
public:
    static constexpr uint16_t kPrimaryCommandBase = 0x1F0;
    static constexpr uint16_t kPrimaryControlPort = 0x3F6;
    static constexpr uint8_t kPrimaryIrq = 14;
    static constexpr uint16_t kSecondaryCommandBase = 0x170;
    static constexpr uint16_t kSecondaryControlPort = 0x376;
    static constexpr uint8_t kSecondaryIrq = 15;
    static constexpr uint32_t kCommandPortCount = 8;

    // `irq` may be nullptr (no interrupt wired).
    AtaChannel(uint16_t commandBase, uint16_t controlPort, IrqLine* irq);

    // Puts a disk on device 0 (unit 0) or device 1 (unit 1); nullptr removes it.
    void attachDisk(unsigned unit, std::unique_ptr<DiskImage> image);
    AtaDrive& drive(unsigned unit) { return drives_[unit & 1]; }
    const AtaDrive& drive(unsigned unit) const { return drives_[unit & 1]; }
    unsigned selectedUnit() const { return (drives_[0].deviceRegister() & ata::kDeviceDev) ? 1 : 0; }

    // Claims the command block and the control port on `bus` (throws if taken); bus.detach(this)
    // releases both.
    void attachTo(IoBus& bus);

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override;  // "ata@0x1f0"

    uint16_t commandBase() const { return commandBase_; }
    uint16_t controlPort() const { return controlPort_; }
    uint8_t deviceControl() const { return deviceControl_; }
    bool irqLevel() const { return irqLevel_; }

    // ---- bus-master side ------------------------------------------------------------------
    // Called (synchronously, after the command register write) when the selected device has
    // accepted a DMA command.
    void setDmaRequestHandler(std::function<void()> handler) { dmaRequested_ = std::move(handler); }
    std::optional<AtaDmaRequest> pendingDma() const;
    DiskStatus transferDma(uint32_t first, uint32_t count, uint8_t* buffer);
    void finishDma(DmaOutcome outcome);

private:
    AtaDrive& selected() { return drives_[selectedUnit()]; }
    const AtaDrive& selected() const { return drives_[selectedUnit()]; }
    bool anyPresent() const { return drives_[0].present() || drives_[1].present(); }

    uint8_t readCommandRegister(uint16_t reg);
    void writeCommandRegister(uint16_t reg, uint8_t value);
    uint8_t alternateStatus() const;
    uint32_t readDataPort(unsigned size);
    void writeDataPort(unsigned size, uint32_t value);
    void writeDeviceControl(uint8_t value);
    void executeCommand(uint8_t command);
    void executeDeviceDiagnostic();
    std::array<uint8_t, 2> diagnosticCodes() const;
    void updateIrq();

    const uint16_t commandBase_;
    const uint16_t controlPort_;
    IrqLine* const irq_;
    std::array<AtaDrive, 2> drives_;
    uint8_t deviceControl_ = 0;
    bool irqLevel_ = false;
    std::function<void()> dmaRequested_;
};

}  // namespace hvlab::devices
