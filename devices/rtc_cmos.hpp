// The Motorola MC146818A real-time clock with the PC/AT CMOS memory map (ports 0x70-0x71, IRQ 8).
//
// Wiring: io.attach(0x70, 2, &rtc); IRQ 8 via the IrqLine; timed devices: &rtc.
//   Port 0x70 (write-only, reads 0xFF): bits 0-6 select one of 128 bytes, bit 7 disables NMI
//   (remembered, see nmiDisabled()). Port 0x71: the selected byte.
//
// What is modelled, following the MC146818A datasheet:
//  - the clock: seconds, minutes, hours, day of week, day of month, month, year (0x00-0x09) and
//    the century byte of the PC map (0x32); BCD or binary (register B DM) and 12-hour (bit 7 =
//    PM) or 24-hour encodings; the day of week is its own counter (1 = Sunday by default; a value
//    the guest writes is kept and advances at midnight);
//  - the time runs from the start time given to the constructor (Unix seconds: the VMM passes
//    a fixed value for deterministic runs, or the host time) plus Clock time, one update per
//    second of the divider chain;
//  - register A: UIP (set during the 244 us before each update), DV (000-010 run; 11x holds the
//    divider in reset, and the first update comes 500 ms after it is released), RS rate select;
//  - register B: SET (stops updates; the guest writes the clock, which restarts from the written
//    values when SET is cleared; setting SET clears UIE), PIE, AIE, UIE, SQWE (stored), DM,
//    24/12, DSE (stored, no daylight-saving switching);
//  - register C: IRQF, PF, AF, UF; the flags are set whether or not enabled, IRQF = enabled
//    flags; reading C clears it and drops IRQ 8. Register D: VRT = 1;
//  - interrupts: periodic at the RS rate of the 32.768 kHz time base (RS 1 and 2 give 256 and
//    128 Hz), update-ended once per second, alarm when seconds/minutes/hours match the alarm
//    bytes, a byte of 0xC0-0xFF being "don't care". IRQ 8 follows IRQF: it rises when an enabled
//    flag sets and falls when register C is read;
//  - writes to clock registers while SET = 0 take effect at once (the sub-second phase is kept).
//  - NVRAM 0x0E-0x7F; helpers fill the PC/QEMU memory-size fields and the standard checksum.
//
// Time is computed from the Clock, not stepped. Deadlines are reported only when an interrupt
// could fire (enabled, IRQ 8 not already high); flags that are not enabled are brought up to
// date lazily at the next access. Periodic ticks that occur while PF is still set are coalesced
// (one flag, one IRQ) and counted in coalescedPeriodicTicks().
//
// Simplifications: invalid clock values written by the guest are clamped into range when the
// clock restarts (the chip would count on from them); the update cycle itself takes no time
// (registers change at the end of the UIP window); no square-wave output, no 256-byte PIIX bank.
//
// Threading: not thread-safe; all calls belong to the thread that runs the devices.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "devices/bus.hpp"
#include "devices/clock.hpp"

namespace hvlab::devices {

namespace rtc {
inline constexpr uint16_t kIndexPort = 0x70;
inline constexpr uint16_t kDataPort = 0x71;
inline constexpr uint8_t kNmiDisable = 0x80;

inline constexpr uint8_t kSeconds = 0x00;
inline constexpr uint8_t kSecondsAlarm = 0x01;
inline constexpr uint8_t kMinutes = 0x02;
inline constexpr uint8_t kMinutesAlarm = 0x03;
inline constexpr uint8_t kHours = 0x04;
inline constexpr uint8_t kHoursAlarm = 0x05;
inline constexpr uint8_t kDayOfWeek = 0x06;
inline constexpr uint8_t kDayOfMonth = 0x07;
inline constexpr uint8_t kMonth = 0x08;
inline constexpr uint8_t kYear = 0x09;
inline constexpr uint8_t kRegA = 0x0A;
inline constexpr uint8_t kRegB = 0x0B;
inline constexpr uint8_t kRegC = 0x0C;
inline constexpr uint8_t kRegD = 0x0D;
inline constexpr uint8_t kCentury = 0x32;

inline constexpr uint8_t kAUpdateInProgress = 0x80;
inline constexpr uint8_t kADivider = 0x70;
inline constexpr uint8_t kADivider32kHz = 0x20;
inline constexpr uint8_t kADividerReset = 0x60;  // 11x
inline constexpr uint8_t kARate = 0x0F;

inline constexpr uint8_t kBSet = 0x80;
inline constexpr uint8_t kBPeriodicIe = 0x40;
inline constexpr uint8_t kBAlarmIe = 0x20;
inline constexpr uint8_t kBUpdateIe = 0x10;
inline constexpr uint8_t kBSquareWave = 0x08;
inline constexpr uint8_t kBBinary = 0x04;
inline constexpr uint8_t kB24Hour = 0x02;
inline constexpr uint8_t kBDaylightSaving = 0x01;

inline constexpr uint8_t kCIrqf = 0x80;
inline constexpr uint8_t kCPeriodic = 0x40;
inline constexpr uint8_t kCAlarm = 0x20;
inline constexpr uint8_t kCUpdate = 0x10;

inline constexpr uint8_t kDValidRam = 0x80;
inline constexpr uint8_t kHourPm = 0x80;
inline constexpr uint8_t kAlarmDontCare = 0xC0;

inline constexpr uint64_t kUipWindowNs = 244'000;

// The PC/QEMU CMOS layout the VMM fills in.
inline constexpr uint8_t kFloppyTypes = 0x10;
inline constexpr uint8_t kDiskTypes = 0x12;
inline constexpr uint8_t kEquipment = 0x14;
inline constexpr uint8_t kBaseMemoryLow = 0x15;      // KiB, 0x15/0x16
inline constexpr uint8_t kExtendedMemoryLow = 0x17;  // KiB above 1 MiB, 0x17/0x18
inline constexpr uint8_t kChecksumHigh = 0x2E;       // sum of 0x10-0x2D, big-endian at 0x2E/0x2F
inline constexpr uint8_t kChecksumLow = 0x2F;
inline constexpr uint8_t kExtendedMemory2Low = 0x30; // copy of 0x17/0x18
inline constexpr uint8_t kMemoryAbove16MLow = 0x34;  // 64 KiB units, 0x34/0x35
inline constexpr uint8_t kMemoryAbove4G = 0x5B;      // 64 KiB units, 0x5B-0x5D
inline constexpr uint8_t kCpuCountMinusOne = 0x5F;
}  // namespace rtc

// A side-effect-free snapshot for the debugger.
struct RtcState {
    uint8_t index = 0;
    bool nmiDisabled = false;
    uint8_t regA = 0;  // with UIP as a read would show it
    uint8_t regB = 0;
    uint8_t regC = 0;  // pending flags (what a read would return, without clearing)
    bool irqLevel = false;
    int64_t unixSeconds = 0;  // the clock as Unix seconds (frozen while SET = 1)
    uint64_t coalescedPeriodicTicks = 0;
};

class RtcCmos final : public PortDevice, public TimedDevice {
public:
    // `irq8` may be nullptr. `startUnixSeconds` is what the clock reads at the Clock's time of
    // construction (normally 0); the first update comes 1 s later.
    RtcCmos(const Clock& clock, IrqLine* irq8, int64_t startUnixSeconds);

    // Byte ports; a wider access is split into byte accesses of consecutive ports (a word write
    // to 0x70 selects the index and writes the data), other ports read 0xFF.
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "rtc-cmos"; }

    void advanceTo(uint64_t nowNs) override;
    uint64_t nextDeadlineNs() const override;

    // CMOS contents for the firmware. setMemorySize splits RAM like QEMU's i440fx board: all of
    // it below 4 GiB up to 3.5 GiB; from 3.5 GiB on, 3 GiB below and the rest above 4 GiB.
    // setMemoryLayout takes the split from the VMM. Both update the checksum.
    void setMemorySize(uint64_t ramBytes);
    void setMemoryLayout(uint64_t belowFourGiB, uint64_t aboveFourGiB);
    // Writes one CMOS byte (index & 0x7F) as the VMM's configuration (e.g. 0x10 floppy types,
    // 0x12 disk types, 0x14 equipment, 0x5F CPU count - 1); the checksum follows bytes
    // 0x10-0x2D. Clock registers (0x00-0x0D, 0x32) take the guest write path.
    void setByte(uint8_t index, uint8_t value);
    uint8_t byte(uint8_t index) const { return cmos_[index & 0x7F]; }  // raw storage

    bool nmiDisabled() const { return nmiDisabled_; }
    bool irqLevel() const { return irqLevel_; }
    uint64_t coalescedPeriodicTicks() const { return coalescedPeriodic_; }
    RtcState state() const;

private:
    uint8_t readByte(uint16_t port);
    void writeByte(uint16_t port, uint8_t value);
    uint8_t readRegister(uint8_t index);
    void writeRegister(uint8_t index, uint8_t value);
    void writeRegA(uint8_t value);
    void writeRegB(uint8_t value);
    void writeClockRegister(uint8_t index, uint8_t value);
    void updateChecksum();
    void syncFlags(uint64_t nowNs);
    void updateIrq();

    // Time model.
    bool dividerRunning() const;
    bool clockTicking() const;
    int64_t currentSeconds(uint64_t nowNs) const;
    void rebase(uint64_t nowNs);
    int64_t updatesThrough(uint64_t ns) const;   // divider-second boundaries since the origin
    int64_t periodicThrough(uint64_t ns) const;  // periodic ticks since the origin
    uint64_t periodCycles() const;               // periodic period in 32.768 kHz cycles, 0 = off
    uint64_t nextUpdateNs(uint64_t afterNs) const;
    bool updateInProgress(uint64_t nowNs) const;
    uint64_t nextPeriodicNs(uint64_t afterNs) const;
    bool alarmMatches(int64_t unixSeconds) const;
    uint8_t pendingFlags() const;

    // Encoding of the clock registers per register B.
    std::array<uint8_t, 8> encodeClock(int64_t unixSeconds) const;  // 0,2,4,6,7,8,9,0x32 order
    void decodeClock(const std::array<uint8_t, 8>& regs);           // sets base time and day of week
    std::array<uint8_t, 8> rawClock() const;
    void storeRawClock(const std::array<uint8_t, 8>& regs);

    const Clock& clock_;
    IrqLine* const irq_;
    std::array<uint8_t, 128> cmos_{};
    uint8_t index_ = 0;
    bool nmiDisabled_ = false;
    uint8_t flags_ = 0;  // PF | AF | UF
    bool irqLevel_ = false;

    int64_t baseSeconds_ = 0;  // the clock at baseNs_ (Unix seconds)
    uint64_t baseNs_ = 0;
    int64_t originNs_ = 0;     // divider phase: updates at originNs_ + k * 1 s
    int dayOfWeekOffset_ = 0;  // guest-set day of week minus the calendar's
    uint64_t lastNs_ = 0;      // flags are up to date through this time
    uint64_t coalescedPeriodic_ = 0;
};

}  // namespace hvlab::devices
