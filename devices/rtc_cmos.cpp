#include "devices/rtc_cmos.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace rtc;

namespace {

constexpr int64_t kSignedNsPerSecond = static_cast<int64_t>(kNsPerSecond);
constexpr uint64_t kTimeBaseHz = 32'768;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t kDividerReleaseToUpdateNs = 500'000'000;  // first update 500 ms after reset ends
constexpr uint8_t kInterruptBits = kCPeriodic | kCAlarm | kCUpdate;  // same positions as PIE/AIE/UIE
constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

// The clock registers in the order encodeClock()/decodeClock() use.
enum ClockSlot { kSlotSeconds, kSlotMinutes, kSlotHours, kSlotDayOfWeek, kSlotDay, kSlotMonth, kSlotYear, kSlotCentury };
constexpr std::array<uint8_t, 8> kClockIndex = {kSeconds, kMinutes, kHours, kDayOfWeek,
                                                kDayOfMonth, kMonth, kYear, kCentury};

int clockSlot(uint8_t index) {
    const auto* it = std::find(kClockIndex.begin(), kClockIndex.end(), index);
    return it == kClockIndex.end() ? -1 : static_cast<int>(it - kClockIndex.begin());
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct CivilTime {
    int year;
    unsigned month, day, hour, minute, second;
    unsigned weekday;  // 0 = Sunday
};

CivilTime civilFromUnix(int64_t seconds) {
    using namespace std::chrono;
    const int64_t days = floorDiv(seconds, kSecondsPerDay);
    const auto secondOfDay = static_cast<unsigned>(seconds - days * kSecondsPerDay);
    const sys_days date{std::chrono::days{days}};
    const year_month_day ymd{date};
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, weekday{date}.c_encoding()};
}

unsigned daysInMonth(int year, unsigned month) {
    using namespace std::chrono;
    return static_cast<unsigned>(year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}.day());
}

int64_t unixFromCivil(const CivilTime& t) {
    using namespace std::chrono;
    const sys_days date{year_month_day{std::chrono::year{t.year}, std::chrono::month{t.month}, std::chrono::day{t.day}}};
    return date.time_since_epoch().count() * kSecondsPerDay + t.hour * 3600 + t.minute * 60 + t.second;
}

unsigned clampTo(unsigned value, unsigned low, unsigned high) { return std::clamp(value, low, high); }

// 32.768 kHz cycles in `ns`, and the first ns at which `cycles` have elapsed (no overflow).
uint64_t cyclesIn(uint64_t ns) { return ticksAt(ns, kTimeBaseHz); }
uint64_t nsForCycles(uint64_t cycles) { return nsAtTick(cycles, kTimeBaseHz); }

}  // namespace

RtcCmos::RtcCmos(const Clock& clock, IrqLine* irq8, int64_t startUnixSeconds)
    : clock_(clock), irq_(irq8), baseSeconds_(startUnixSeconds) {
    const uint64_t now = clock_.nowNs();
    baseNs_ = now;
    originNs_ = static_cast<int64_t>(now);
    lastNs_ = now;
    cmos_[kRegA] = kADivider32kHz | 0x06;  // 32.768 kHz time base, 1024 Hz periodic rate
    cmos_[kRegB] = kB24Hour;               // BCD, 24-hour, no interrupts
    cmos_[kRegD] = kDValidRam;
}

// ---- time model ---------------------------------------------------------------------------

bool RtcCmos::dividerRunning() const { return (cmos_[kRegA] & kADivider) <= kADivider32kHz; }

bool RtcCmos::clockTicking() const { return dividerRunning() && !(cmos_[kRegB] & kBSet); }

int64_t RtcCmos::updatesThrough(uint64_t ns) const {
    return floorDiv(static_cast<int64_t>(ns) - originNs_, kSignedNsPerSecond);
}

int64_t RtcCmos::currentSeconds(uint64_t nowNs) const {
    if (!clockTicking() || nowNs <= baseNs_) return baseSeconds_;
    return baseSeconds_ + updatesThrough(nowNs) - updatesThrough(baseNs_);
}

void RtcCmos::rebase(uint64_t nowNs) {
    baseSeconds_ = currentSeconds(nowNs);
    baseNs_ = nowNs;
}

uint64_t RtcCmos::periodCycles() const {
    const unsigned rs = cmos_[kRegA] & kARate;
    if (rs == 0) return 0;
    if (rs <= 2) return 64u << rs;  // RS 1 and 2 repeat RS 8 and 9 (256 and 128 Hz)
    return 1u << (rs - 1);
}

int64_t RtcCmos::periodicThrough(uint64_t ns) const {
    const int64_t sinceOrigin = static_cast<int64_t>(ns) - originNs_;
    const uint64_t period = periodCycles();
    if (sinceOrigin < 0 || period == 0) return -1;
    return static_cast<int64_t>(cyclesIn(static_cast<uint64_t>(sinceOrigin)) / period);
}

bool RtcCmos::updateInProgress(uint64_t nowNs) const {
    // UIP is high during the 244 us before each update (never while SET or the divider stops it).
    if (!clockTicking()) return false;
    return nextUpdateNs(nowNs) - nowNs <= kUipWindowNs;
}

uint64_t RtcCmos::nextUpdateNs(uint64_t afterNs) const {
    return static_cast<uint64_t>(originNs_ + (updatesThrough(afterNs) + 1) * kSignedNsPerSecond);
}

uint64_t RtcCmos::nextPeriodicNs(uint64_t afterNs) const {
    const auto next = static_cast<uint64_t>(periodicThrough(afterNs) + 1);
    return static_cast<uint64_t>(originNs_ + static_cast<int64_t>(nsForCycles(next * periodCycles())));
}

// ---- register encodings ---------------------------------------------------------------------

std::array<uint8_t, 8> RtcCmos::encodeClock(int64_t unixSeconds) const {
    const bool binary = cmos_[kRegB] & kBBinary;
    const bool hours24 = cmos_[kRegB] & kB24Hour;
    auto encode = [binary](unsigned v) { return static_cast<uint8_t>(binary ? v : (v / 10) << 4 | (v % 10)); };
    const CivilTime t = civilFromUnix(unixSeconds);
    std::array<uint8_t, 8> regs{};
    regs[kSlotSeconds] = encode(t.second);
    regs[kSlotMinutes] = encode(t.minute);
    if (hours24) {
        regs[kSlotHours] = encode(t.hour);
    } else {
        const unsigned h12 = t.hour % 12 == 0 ? 12 : t.hour % 12;
        regs[kSlotHours] = static_cast<uint8_t>(encode(h12) | (t.hour >= 12 ? kHourPm : 0));
    }
    regs[kSlotDayOfWeek] = encode((t.weekday + static_cast<unsigned>(dayOfWeekOffset_)) % 7 + 1);
    regs[kSlotDay] = encode(t.day);
    regs[kSlotMonth] = encode(t.month);
    const unsigned year = static_cast<unsigned>(std::max(t.year, 0));
    regs[kSlotYear] = encode(year % 100);
    regs[kSlotCentury] = encode(year / 100 % 100);
    return regs;
}

void RtcCmos::decodeClock(const std::array<uint8_t, 8>& regs) {
    const bool binary = cmos_[kRegB] & kBBinary;
    const bool hours24 = cmos_[kRegB] & kB24Hour;
    auto decode = [binary](uint8_t v) -> unsigned { return binary ? v : (v >> 4) * 10u + (v & 0xF); };
    CivilTime t{};
    t.second = clampTo(decode(regs[kSlotSeconds]), 0, 59);
    t.minute = clampTo(decode(regs[kSlotMinutes]), 0, 59);
    if (hours24) {
        t.hour = clampTo(decode(regs[kSlotHours]), 0, 23);
    } else {
        const unsigned h12 = clampTo(decode(regs[kSlotHours] & static_cast<uint8_t>(~kHourPm)), 1, 12);
        t.hour = h12 % 12 + ((regs[kSlotHours] & kHourPm) ? 12 : 0);
    }
    t.year = static_cast<int>(clampTo(decode(regs[kSlotCentury]), 0, 99) * 100 + clampTo(decode(regs[kSlotYear]), 0, 99));
    t.month = clampTo(decode(regs[kSlotMonth]), 1, 12);
    t.day = clampTo(decode(regs[kSlotDay]), 1, daysInMonth(t.year, t.month));
    const unsigned written = decode(regs[kSlotDayOfWeek]);
    if (written < 1 || written > 7)
        spdlog::debug("rtc: day of week {} written, clamped", written);
    baseSeconds_ = unixFromCivil(t);
    const unsigned weekday = civilFromUnix(baseSeconds_).weekday;
    dayOfWeekOffset_ = static_cast<int>((clampTo(written, 1, 7) - 1 + 7 - weekday) % 7);
}

std::array<uint8_t, 8> RtcCmos::rawClock() const {
    std::array<uint8_t, 8> regs{};
    for (size_t i = 0; i < regs.size(); ++i) regs[i] = cmos_[kClockIndex[i]];
    return regs;
}

void RtcCmos::storeRawClock(const std::array<uint8_t, 8>& regs) {
    for (size_t i = 0; i < regs.size(); ++i) cmos_[kClockIndex[i]] = regs[i];
}

bool RtcCmos::alarmMatches(int64_t unixSeconds) const {
    const bool binary = cmos_[kRegB] & kBBinary;
    const bool hours24 = cmos_[kRegB] & kB24Hour;
    auto decode = [binary](uint8_t v) -> int64_t { return binary ? v : (v >> 4) * 10 + (v & 0xF); };
    auto dontCare = [](uint8_t v) { return (v & kAlarmDontCare) == kAlarmDontCare; };
    const int64_t secondOfDay = unixSeconds - floorDiv(unixSeconds, kSecondsPerDay) * kSecondsPerDay;
    const uint8_t s = cmos_[kSecondsAlarm], m = cmos_[kMinutesAlarm], h = cmos_[kHoursAlarm];
    if (!dontCare(s) && decode(s) != secondOfDay % 60) return false;
    if (!dontCare(m) && decode(m) != secondOfDay / 60 % 60) return false;
    if (dontCare(h)) return true;
    const int64_t hour = hours24 ? decode(h) : decode(h & static_cast<uint8_t>(~kHourPm)) % 12 + ((h & kHourPm) ? 12 : 0);
    return hour == secondOfDay / 3600;
}

// ---- flags and IRQ 8 ------------------------------------------------------------------------

void RtcCmos::syncFlags(uint64_t nowNs) {
    if (nowNs <= lastNs_) return;
    if (dividerRunning()) {
        if (periodCycles() != 0) {
            const int64_t ticks = periodicThrough(nowNs) - periodicThrough(lastNs_);
            if (ticks > 0) {
                // Ticks while PF is still pending cannot be told apart by the guest: coalesce.
                coalescedPeriodic_ += static_cast<uint64_t>((flags_ & kCPeriodic) ? ticks : ticks - 1);
                flags_ |= kCPeriodic;
            }
        }
        if (clockTicking()) {
            const int64_t updates = updatesThrough(nowNs) - updatesThrough(lastNs_);
            if (updates > 0) {
                flags_ |= kCUpdate;
                // The alarm compares h:m:s only, so one day of updates covers every match.
                const int64_t before = currentSeconds(lastNs_);
                for (int64_t i = 1; i <= std::min(updates, kSecondsPerDay) && !(flags_ & kCAlarm); ++i)
                    if (alarmMatches(before + i)) flags_ |= kCAlarm;
            }
        }
    }
    lastNs_ = nowNs;
    updateIrq();
}

uint8_t RtcCmos::pendingFlags() const {
    const bool irqf = flags_ & cmos_[kRegB] & kInterruptBits;
    return static_cast<uint8_t>(flags_ | (irqf ? kCIrqf : 0));
}

void RtcCmos::updateIrq() {
    const bool level = flags_ & cmos_[kRegB] & kInterruptBits;
    if (level == irqLevel_) return;
    irqLevel_ = level;
    if (irq_) irq_->setLevel(level);
}

void RtcCmos::advanceTo(uint64_t nowNs) { syncFlags(nowNs); }

uint64_t RtcCmos::nextDeadlineNs() const {
    // With IRQ 8 high nothing can change the line until the guest reads register C (an exit).
    if (irqLevel_ || !dividerRunning()) return kNoDeadline;
    uint64_t deadline = kNoDeadline;
    const uint8_t b = cmos_[kRegB];
    if ((b & kBPeriodicIe) && periodCycles() != 0) deadline = std::min(deadline, nextPeriodicNs(lastNs_));
    if ((b & (kBUpdateIe | kBAlarmIe)) && clockTicking()) deadline = std::min(deadline, nextUpdateNs(lastNs_));
    return deadline;
}

// ---- port access ------------------------------------------------------------------------------

uint32_t RtcCmos::ioRead(uint16_t port, unsigned size) {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
        value |= static_cast<uint32_t>(readByte(static_cast<uint16_t>(port + i))) << (8 * i);
    return value;
}

void RtcCmos::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i)
        writeByte(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t RtcCmos::readByte(uint16_t port) {
    if (port != kDataPort) return 0xFF;  // the index port is write-only
    syncFlags(clock_.nowNs());
    return readRegister(index_);
}

void RtcCmos::writeByte(uint16_t port, uint8_t value) {
    if (port == kIndexPort) {
        index_ = value & 0x7F;
        nmiDisabled_ = value & kNmiDisable;
    } else if (port == kDataPort) {
        syncFlags(clock_.nowNs());
        writeRegister(index_, value);
        updateIrq();
    }
}

uint8_t RtcCmos::readRegister(uint8_t index) {
    const uint64_t now = clock_.nowNs();
    switch (index) {
    case kRegA: return static_cast<uint8_t>(cmos_[kRegA] | (updateInProgress(now) ? kAUpdateInProgress : 0));
    case kRegC: {
        const uint8_t value = pendingFlags();
        flags_ = 0;
        updateIrq();
        return value;
    }
    case kRegD: return kDValidRam;
    default: break;
    }
    const int slot = clockSlot(index);
    if (slot < 0 || (cmos_[kRegB] & kBSet)) return cmos_[index];
    return encodeClock(currentSeconds(now))[static_cast<size_t>(slot)];
}

void RtcCmos::writeRegister(uint8_t index, uint8_t value) {
    switch (index) {
    case kRegA: writeRegA(value); return;
    case kRegB: writeRegB(value); return;
    case kRegC:
    case kRegD: return;  // read-only
    default: break;
    }
    if (clockSlot(index) >= 0) writeClockRegister(index, value);
    else cmos_[index] = value;
}

void RtcCmos::writeRegA(uint8_t value) {
    const uint64_t now = clock_.nowNs();
    const bool wasRunning = dividerRunning();
    rebase(now);
    cmos_[kRegA] = value & static_cast<uint8_t>(~kAUpdateInProgress);
    if (!wasRunning && dividerRunning())
        originNs_ = static_cast<int64_t>(now) + kDividerReleaseToUpdateNs - kSignedNsPerSecond;
    if ((cmos_[kRegA] & kADivider) != kADivider32kHz && dividerRunning())
        spdlog::debug("rtc: divider {:#x} selected; the PC's crystal is 32.768 kHz, timing unchanged",
                      cmos_[kRegA] & kADivider);
}

void RtcCmos::writeRegB(uint8_t value) {
    const uint64_t now = clock_.nowNs();
    const bool setBefore = cmos_[kRegB] & kBSet;
    const bool setAfter = value & kBSet;
    if (setAfter) value &= static_cast<uint8_t>(~kBUpdateIe);  // SET going high clears UIE
    if (!setBefore && setAfter) {
        // Freeze: the clock registers hold the time in the format they had until now.
        rebase(now);
        storeRawClock(encodeClock(baseSeconds_));
    }
    cmos_[kRegB] = value;
    if (setBefore && !setAfter) {
        // The clock restarts from what the guest wrote, read in the format now selected.
        decodeClock(rawClock());
        baseNs_ = now;
    }
}

void RtcCmos::writeClockRegister(uint8_t index, uint8_t value) {
    if (cmos_[kRegB] & kBSet) {
        cmos_[index] = value;
        return;
    }
    const uint64_t now = clock_.nowNs();
    std::array<uint8_t, 8> regs = encodeClock(currentSeconds(now));
    regs[static_cast<size_t>(clockSlot(index))] = value;
    decodeClock(regs);
    baseNs_ = now;
}

// ---- CMOS configuration -------------------------------------------------------------------------

void RtcCmos::setByte(uint8_t index, uint8_t value) {
    index &= 0x7F;
    if (index <= kRegD || index == kCentury) {
        syncFlags(clock_.nowNs());
        writeRegister(index, value);
        updateIrq();
        return;
    }
    cmos_[index] = value;
    if (index >= kFloppyTypes && index < kChecksumHigh) updateChecksum();
}

void RtcCmos::updateChecksum() {
    unsigned sum = 0;
    for (uint8_t i = kFloppyTypes; i < kChecksumHigh; ++i) sum += cmos_[i];
    cmos_[kChecksumHigh] = static_cast<uint8_t>(sum >> 8);
    cmos_[kChecksumLow] = static_cast<uint8_t>(sum);
}

void RtcCmos::setMemorySize(uint64_t ramBytes) {
    // QEMU's i440fx: RAM stays below 4 GiB up to 3.5 GiB; from 3.5 GiB on, the board keeps
    // 3 GiB below 4 GiB (gigabyte-aligned PCI hole) and maps the rest above 4 GiB.
    constexpr uint64_t kLowMemLimit = 0xE000'0000, kAlignedLowMem = 3 * kGiB;
    const uint64_t below = ramBytes >= kLowMemLimit ? kAlignedLowMem : ramBytes;
    setMemoryLayout(below, ramBytes - below);
}

void RtcCmos::setMemoryLayout(uint64_t belowFourGiB, uint64_t aboveFourGiB) {
    auto put16 = [this](uint8_t index, uint64_t value) {
        const auto v = static_cast<uint16_t>(std::min<uint64_t>(value, 0xFFFF));
        cmos_[index] = static_cast<uint8_t>(v);
        cmos_[index + 1] = static_cast<uint8_t>(v >> 8);
    };
    put16(kBaseMemoryLow, 640);
    const uint64_t extendedKiB = belowFourGiB > kMiB ? (belowFourGiB - kMiB) / kKiB : 0;
    put16(kExtendedMemoryLow, extendedKiB);
    put16(kExtendedMemory2Low, extendedKiB);
    put16(kMemoryAbove16MLow, belowFourGiB > 16 * kMiB ? (belowFourGiB - 16 * kMiB) / (64 * kKiB) : 0);
    const uint64_t high = std::min<uint64_t>(aboveFourGiB / (64 * kKiB), 0xFF'FFFF);
    cmos_[kMemoryAbove4G] = static_cast<uint8_t>(high);
    cmos_[kMemoryAbove4G + 1] = static_cast<uint8_t>(high >> 8);
    cmos_[kMemoryAbove4G + 2] = static_cast<uint8_t>(high >> 16);
    updateChecksum();
}

RtcState RtcCmos::state() const {
    const uint64_t now = clock_.nowNs();
    RtcState s;
    s.index = index_;
    s.nmiDisabled = nmiDisabled_;
    s.regA = static_cast<uint8_t>(cmos_[kRegA] | (updateInProgress(now) ? kAUpdateInProgress : 0));
    s.regB = cmos_[kRegB];
    s.regC = pendingFlags();
    s.irqLevel = irqLevel_;
    s.unixSeconds = currentSeconds(now);
    s.coalescedPeriodicTicks = coalescedPeriodic_;
    return s;
}

}  // namespace hvlab::devices
