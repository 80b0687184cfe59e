// One ATA hard disk (ATA/ATAPI-6, PIO and DMA data transfer) behind an ATA channel: its copy
// of the command block registers, its status/error registers, its interrupt request (INTRQ)
// and its command set. The channel (ata_channel.hpp) owns the ports, broadcasts register
// writes to both devices, routes reads and commands to the selected one, and drives the IRQ.
//
// Modelled:
//  - the register file, with the 48-bit "previous content" (HOB) copy of Features, Sector
//    Count and LBA Low/Mid/High;
//  - CHS (through the current geometry, 16 heads x 63 sectors by default), LBA28 and LBA48
//    addressing; sector count 0 means 256 (28-bit commands) or 65536 (48-bit commands);
//  - the PIO data-in/data-out protocols DRQ block by block (1 sector, or the multiple count for
//    READ/WRITE MULTIPLE) with INTRQ per data-in block and after every data-out block;
//  - DMA commands: the drive validates the command and then waits (status DRDY|DSC|DRQ) for the
//    bus master to move the data (transferDma/finishDma);
//  - IDENTIFY DEVICE, SET FEATURES, SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS, READ VERIFY,
//    FLUSH CACHE, power management (always "active"), RECALIBRATE, EXECUTE DEVICE DIAGNOSTIC and
//    the software-reset signature. Settings revert to their defaults on software reset unless
//    SET FEATURES 66h was given (ATA-6 8.37).
//
// Simplified: every command completes instantly (BSY is never seen between a command write and
// the next register read); after a data transfer the LBA registers hold the last sector
// transferred and Sector Count the sectors left (0), as classic drives report; READ VERIFY
// checks the address range only; the write cache setting is reported but data always goes to
// the image at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/disk_image.hpp"

namespace hvlab::devices {

namespace ata {
// Command block register offsets from the command block base (0x1F0 / 0x170).
inline constexpr uint16_t kRegData = 0;
inline constexpr uint16_t kRegError = 1;      // read
inline constexpr uint16_t kRegFeatures = 1;   // write
inline constexpr uint16_t kRegSectorCount = 2;
inline constexpr uint16_t kRegLbaLow = 3;     // Sector Number in CHS mode
inline constexpr uint16_t kRegLbaMid = 4;     // Cylinder Low
inline constexpr uint16_t kRegLbaHigh = 5;    // Cylinder High
inline constexpr uint16_t kRegDevice = 6;     // Device/Head
inline constexpr uint16_t kRegStatus = 7;     // read
inline constexpr uint16_t kRegCommand = 7;    // write

inline constexpr uint8_t kStatusErr = 0x01;
inline constexpr uint8_t kStatusDrq = 0x08;
inline constexpr uint8_t kStatusDsc = 0x10;   // device seek complete (command dependent in ATA-6)
inline constexpr uint8_t kStatusDf = 0x20;
inline constexpr uint8_t kStatusDrdy = 0x40;
inline constexpr uint8_t kStatusBsy = 0x80;

inline constexpr uint8_t kErrorAbrt = 0x04;
inline constexpr uint8_t kErrorIdnf = 0x10;
inline constexpr uint8_t kErrorUnc = 0x40;

inline constexpr uint8_t kDeviceHeadMask = 0x0F;  // head (CHS) or LBA bits 27:24 (LBA28)
inline constexpr uint8_t kDeviceDev = 0x10;       // 0 = device 0 (master), 1 = device 1 (slave)
inline constexpr uint8_t kDeviceLba = 0x40;

inline constexpr uint8_t kControlNien = 0x02;
inline constexpr uint8_t kControlSrst = 0x04;
inline constexpr uint8_t kControlHob = 0x80;

// Diagnostic codes (error register after EXECUTE DEVICE DIAGNOSTIC and reset), ATA-6 table 27.
inline constexpr uint8_t kDiagPassed = 0x01;
inline constexpr uint8_t kDiagFailed = 0x02;         // a device's own failure code
inline constexpr uint8_t kDiagDevice1Failed = 0x80;  // or-ed into device 0's code

namespace cmd {
inline constexpr uint8_t kNop = 0x00;
inline constexpr uint8_t kDeviceReset = 0x08;
inline constexpr uint8_t kRecalibrate = 0x10;  // 0x10-0x1F
inline constexpr uint8_t kReadSectors = 0x20;
inline constexpr uint8_t kReadSectorsNoRetry = 0x21;
inline constexpr uint8_t kReadSectorsExt = 0x24;
inline constexpr uint8_t kReadDmaExt = 0x25;
inline constexpr uint8_t kReadMultipleExt = 0x29;
inline constexpr uint8_t kWriteSectors = 0x30;
inline constexpr uint8_t kWriteSectorsNoRetry = 0x31;
inline constexpr uint8_t kWriteSectorsExt = 0x34;
inline constexpr uint8_t kWriteDmaExt = 0x35;
inline constexpr uint8_t kWriteMultipleExt = 0x39;
inline constexpr uint8_t kReadVerify = 0x40;
inline constexpr uint8_t kReadVerifyNoRetry = 0x41;
inline constexpr uint8_t kReadVerifyExt = 0x42;
inline constexpr uint8_t kExecuteDiagnostic = 0x90;
inline constexpr uint8_t kInitializeDeviceParameters = 0x91;
inline constexpr uint8_t kReadMultiple = 0xC4;
inline constexpr uint8_t kWriteMultiple = 0xC5;
inline constexpr uint8_t kSetMultipleMode = 0xC6;
inline constexpr uint8_t kReadDma = 0xC8;
inline constexpr uint8_t kReadDmaNoRetry = 0xC9;
inline constexpr uint8_t kWriteDma = 0xCA;
inline constexpr uint8_t kWriteDmaNoRetry = 0xCB;
inline constexpr uint8_t kStandbyImmediate = 0xE0;
inline constexpr uint8_t kIdleImmediate = 0xE1;
inline constexpr uint8_t kStandby = 0xE2;
inline constexpr uint8_t kIdle = 0xE3;
inline constexpr uint8_t kCheckPowerMode = 0xE5;
inline constexpr uint8_t kFlushCache = 0xE7;
inline constexpr uint8_t kFlushCacheExt = 0xEA;
inline constexpr uint8_t kIdentifyDevice = 0xEC;
inline constexpr uint8_t kSetFeatures = 0xEF;
}  // namespace cmd

// SET FEATURES subcommands (Features register) this drive accepts.
namespace feature {
inline constexpr uint8_t kEnableWriteCache = 0x02;
inline constexpr uint8_t kSetTransferMode = 0x03;
inline constexpr uint8_t kDisableReadLookAhead = 0x55;
inline constexpr uint8_t kDisableRevertToDefaults = 0x66;
inline constexpr uint8_t kDisableWriteCache = 0x82;
inline constexpr uint8_t kEnableReadLookAhead = 0xAA;
inline constexpr uint8_t kEnableRevertToDefaults = 0xCC;
}  // namespace feature

inline constexpr uint16_t kMaxMultipleSectors = 16;  // IDENTIFY word 47
inline constexpr uint64_t kLba28MaxSectors = 0x0FFFFFFF;
}  // namespace ata

// A DMA command waiting for the bus master.
struct AtaDmaRequest {
    bool toMemory = false;  // READ DMA: device -> memory
    uint64_t lba = 0;
    uint32_t sectors = 0;
};

enum class DmaOutcome : uint8_t {
    Completed,   // all data moved
    BusError,    // the bus master failed (PRD table/buffer outside RAM, PRDs too short)
    MediaError,  // the disk image failed during the transfer
};

class AtaDrive {
public:
    // `unit` 0 = device 0 (master), 1 = device 1 (slave). `serial`: up to 20 characters.
    AtaDrive(unsigned unit, std::string serial);

    // Attaches (or with nullptr detaches) the medium. Without one the device is absent.
    void insert(std::unique_ptr<DiskImage> image);
    // Takes the medium out (the device becomes absent): the board keeps images across a reset.
    std::unique_ptr<DiskImage> eject() {
        auto image = std::move(image_);
        insert(nullptr);
        return image;
    }
    bool present() const { return image_ != nullptr; }
    DiskImage* image() const { return image_.get(); }
    unsigned unit() const { return unit_; }

    // ---- register interface, used by the channel --------------------------------------
    // Command block register writes (kRegFeatures..kRegDevice); both devices latch them.
    void writeRegister(uint16_t reg, uint8_t value);
    // Reads of kRegError..kRegDevice; `hob` reads the previous content (Device Control HOB).
    uint8_t readRegister(uint16_t reg, bool hob) const;
    uint8_t status() const { return status_; }
    uint8_t deviceRegister() const { return device_; }
    // A write to the Command register addressed to this (selected, present) device.
    void executeCommand(uint8_t command);
    // PIO data port, one 16-bit word at a time. Outside a DRQ data phase reads return 0 and
    // writes are ignored.
    uint16_t readData();
    void writeData(uint16_t word);

    // INTRQ as this device would drive it (the channel gates it with selection and nIEN).
    bool interruptPending() const { return intrq_; }
    void clearInterrupt() { intrq_ = false; }

    // Software reset (Device Control SRST) and EXECUTE DEVICE DIAGNOSTIC. Both end with the
    // ATA signature in the registers and `diagnosticCode` in the Error register (ATA-6 9.12).
    void beginSoftReset();
    void endSoftReset(uint8_t diagnosticCode);
    void completeDiagnostic(uint8_t diagnosticCode, bool interrupt);
    // Whether the device passes its self-test (always, unless a test injects a failure).
    bool diagnosticPassed() const { return !diagnosticFailure_; }
    void setDiagnosticFailure(bool fails) { diagnosticFailure_ = fails; }
    // For IDENTIFY word 93: whether the other device on the cable is present.
    void setPeerPresent(bool present) { peerPresent_ = present; }

    // ---- DMA, used by the bus master (through the channel) ------------------------------
    std::optional<AtaDmaRequest> pendingDma() const;
    // Moves sectors [first, first + count) of the pending request (relative to its start)
    // between the image and `buffer` (count * 512 bytes).
    DiskStatus transferDma(uint32_t first, uint32_t count, uint8_t* buffer);
    // Ends the DMA command: status, error, task file and INTRQ as the outcome says.
    void finishDma(DmaOutcome outcome);

    // The 256-word IDENTIFY DEVICE block as it would be sent now.
    std::array<uint16_t, 256> identifyData() const;

private:
    enum class Phase : uint8_t { Idle, PioIn, PioOut, Dma, Reset };
    enum class Addressing : uint8_t { Chs, Lba28, Lba48 };

    // A register with the previous content kept for 48-bit commands (a two-byte FIFO).
    struct HobRegister {
        uint8_t current = 0;
        uint8_t previous = 0;
        void write(uint8_t v) { previous = current; current = v; }
    };

    // The data transfer of the command in progress.
    struct Transfer {
        Addressing addressing = Addressing::Lba28;
        uint64_t lba = 0;          // next sector to move
        uint32_t remaining = 0;    // sectors left, including the current block
        uint32_t blockSectors = 1; // sectors per DRQ block
        uint32_t blockCount = 0;   // sectors in the current block
        bool write = false;
        bool identify = false;     // IDENTIFY data, not sectors
    };

    struct Settings {
        uint8_t multipleSectors = 0;  // 0 = READ/WRITE MULTIPLE disabled (power-on default)
        uint16_t heads = 16;
        uint16_t sectorsPerTrack = 63;
        bool writeCache = true;
        bool readLookAhead = true;
        bool revertOnReset = true;
        uint8_t multiwordDmaSelected = 0x04;  // one-hot, bits 2:0 (mode 2 by default)
        uint8_t ultraDmaSelected = 0;         // one-hot, bits 5:0
    };

    void executeOnMedium(uint8_t command);
    void startPio(uint8_t command, bool write, bool ext, bool multiple);
    void startDma(bool write, bool ext);
    void readVerify(bool ext);
    void setFeatures();
    void setMultipleMode();
    void initializeDeviceParameters();
    void flushCache();
    void startIdentify();

    // Decodes the command's address and count; on failure finishes the command with IDNF.
    std::optional<uint64_t> commandLba(Addressing mode);
    uint32_t commandCount(Addressing mode) const;
    bool validateRange(Addressing mode, uint64_t& lba, uint32_t& count);
    void storeProgress(Addressing mode, uint64_t lastLba, uint32_t remaining);

    void loadReadBlock();
    void beginWriteBlock();
    void finishDataBlock();

    void complete(uint8_t extraStatus = 0);
    void abortCommand(uint8_t error = ata::kErrorAbrt);
    void raiseInterrupt() { intrq_ = true; }
    void setSignature();

    uint64_t sectorCount() const { return image_ ? image_->sectorCount() : 0; }
    uint16_t defaultCylinders() const;
    uint16_t currentCylinders() const;

    const unsigned unit_;
    const std::string serial_;
    std::unique_ptr<DiskImage> image_;

    HobRegister features_, sectorCount_, lbaLow_, lbaMid_, lbaHigh_;
    uint8_t device_ = 0;
    uint8_t error_ = ata::kDiagPassed;
    uint8_t status_ = ata::kStatusDrdy | ata::kStatusDsc;
    bool intrq_ = false;

    Phase phase_ = Phase::Idle;
    Transfer transfer_;
    std::vector<uint8_t> buffer_;  // one DRQ block
    std::size_t bufferPos_ = 0;
    std::optional<AtaDmaRequest> dma_;
    Addressing dmaAddressing_ = Addressing::Lba28;

    Settings settings_;
    bool peerPresent_ = false;
    bool diagnosticFailure_ = false;
};

}  // namespace hvlab::devices
