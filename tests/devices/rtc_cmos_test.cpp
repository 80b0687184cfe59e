// The MC146818A RTC and PC CMOS map: clock encodings, setting the time, UIP, the three
// interrupt sources and register C, NMI mask bit, memory-size fields and checksum.
#include <catch2/catch.hpp>

#include "devices/rtc_cmos.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::rtc;

namespace {

constexpr int64_t kFriday20240315_134530 = 1710510330;  // 2024-03-15 13:45:30 UTC, a Friday
constexpr int64_t kFriday19991231_235958 = 946684798;   // 1999-12-31 23:59:58 UTC, a Friday
constexpr uint64_t kMs = 1'000'000, kSecond = 1'000'000'000;

struct RtcFixture {
    explicit RtcFixture(int64_t start = kFriday20240315_134530) : rtc(clock, &irq, start) {}
    ManualClock clock;
    LatchedIrqLine irq;
    RtcCmos rtc;

    uint8_t rd(uint8_t index) {
        rtc.ioWrite(kIndexPort, 1, index);
        return static_cast<uint8_t>(rtc.ioRead(kDataPort, 1));
    }
    void wr(uint8_t index, uint8_t value) {
        rtc.ioWrite(kIndexPort, 1, index);
        rtc.ioWrite(kDataPort, 1, value);
    }
    void at(uint64_t ns) {
        clock.set(ns);
        rtc.advanceTo(ns);
    }
    // Runs the clock from deadline to deadline up to `endNs`, reading register C at each
    // interrupt as a handler would. Returns the number of interrupts with `flag` set.
    int countInterrupts(uint64_t endNs, uint8_t flag) {
        int count = 0;
        for (;;) {
            const uint64_t deadline = rtc.nextDeadlineNs();
            if (deadline == kNoDeadline || deadline > endNs) break;
            at(deadline);
            if (irq.level() && (rd(kRegC) & flag)) ++count;
        }
        return count;
    }
};

struct RtcAtCenturyEnd : RtcFixture {
    RtcAtCenturyEnd() : RtcFixture(kFriday19991231_235958) {}
};

}  // namespace

TEST_CASE_METHOD(RtcFixture, "RTC reads the start time in BCD, 24-hour mode after reset", "[rtc]") {
    CHECK(rd(kRegA) == 0x26);
    CHECK(rd(kRegB) == kB24Hour);
    CHECK(rd(kRegD) == kDValidRam);
    CHECK(rd(kSeconds) == 0x30);
    CHECK(rd(kMinutes) == 0x45);
    CHECK(rd(kHours) == 0x13);
    CHECK(rd(kDayOfWeek) == 6);
    CHECK(rd(kDayOfMonth) == 0x15);
    CHECK(rd(kMonth) == 0x03);
    CHECK(rd(kYear) == 0x24);
    CHECK(rd(kCentury) == 0x20);
    CHECK(rtc.state().unixSeconds == kFriday20240315_134530);
    CHECK(rtc.name() == "rtc-cmos");
}

TEST_CASE_METHOD(RtcFixture, "RTC binary and 12-hour encodings follow register B", "[rtc]") {
    wr(kRegB, kBBinary | kB24Hour);
    CHECK(rd(kSeconds) == 30);
    CHECK(rd(kMinutes) == 45);
    CHECK(rd(kHours) == 13);
    CHECK(rd(kYear) == 24);
    CHECK(rd(kCentury) == 20);
    wr(kRegB, kBBinary);  // 12-hour binary: 1 PM
    CHECK(rd(kHours) == (kHourPm | 1));
    wr(kRegB, 0);  // 12-hour BCD
    CHECK(rd(kHours) == 0x81);
}

TEST_CASE("RTC 12-hour mode shows midnight and noon as 12", "[rtc]") {
    ManualClock clock;
    RtcCmos midnight{clock, nullptr, 1710460800 + 30 * 60};  // 2024-03-15 00:30
    RtcCmos noon{clock, nullptr, 1710460800 + 12 * 3600 + 30 * 60};
    for (RtcCmos* r : {&midnight, &noon}) {
        r->ioWrite(kIndexPort, 1, kRegB);
        r->ioWrite(kDataPort, 1, 0x00);
        r->ioWrite(kIndexPort, 1, kHours);
    }
    CHECK(midnight.ioRead(kDataPort, 1) == 0x12);
    CHECK(noon.ioRead(kDataPort, 1) == 0x92);
}

TEST_CASE_METHOD(RtcAtCenturyEnd, "RTC counts seconds from the Clock across midnight and the century", "[rtc]") {
    CHECK(rd(kSeconds) == 0x58);
    at(999 * kMs);
    CHECK(rd(kSeconds) == 0x58);
    at(1 * kSecond);
    CHECK(rd(kSeconds) == 0x59);
    at(2 * kSecond + 500 * kMs);
    CHECK(rd(kSeconds) == 0x00);
    CHECK(rd(kMinutes) == 0x00);
    CHECK(rd(kHours) == 0x00);
    CHECK(rd(kDayOfWeek) == 7);  // Saturday
    CHECK(rd(kDayOfMonth) == 0x01);
    CHECK(rd(kMonth) == 0x01);
    CHECK(rd(kYear) == 0x00);
    CHECK(rd(kCentury) == 0x20);
    at(2 * kSecond + 86400 * kSecond);
    CHECK(rd(kDayOfWeek) == 1);  // Sunday 2000-01-02
    CHECK(rd(kDayOfMonth) == 0x02);
}

TEST_CASE_METHOD(RtcFixture, "RTC UIP is set during the 244 us before each update", "[rtc]") {
    at(500 * kMs);
    CHECK_FALSE(rd(kRegA) & kAUpdateInProgress);
    at(kSecond - kUipWindowNs - 1);
    CHECK_FALSE(rd(kRegA) & kAUpdateInProgress);
    at(kSecond - kUipWindowNs);
    CHECK(rd(kRegA) & kAUpdateInProgress);
    CHECK(rd(kSeconds) == 0x30);  // the update has not happened yet
    at(kSecond);
    CHECK_FALSE(rd(kRegA) & kAUpdateInProgress);
    CHECK(rd(kSeconds) == 0x31);
    wr(kRegA, 0xA6);  // bit 7 is read-only
    CHECK(rd(kRegA) == 0x26);
}

TEST_CASE_METHOD(RtcFixture, "RTC guest sets the clock with SET, then it runs from the new time", "[rtc]") {
    wr(kRegB, kB24Hour | kBUpdateIe);
    wr(kRegB, kBSet | kB24Hour | kBUpdateIe);
    CHECK(rd(kRegB) == (kBSet | kB24Hour));  // SET clears UIE
    wr(kSeconds, 0x00);
    wr(kMinutes, 0x00);
    wr(kHours, 0x09);
    wr(kDayOfWeek, 0x07);
    wr(kDayOfMonth, 0x01);
    wr(kMonth, 0x01);
    wr(kYear, 0x00);
    wr(kCentury, 0x20);
    at(5 * kSecond);  // no updates while SET
    CHECK(rd(kSeconds) == 0x00);
    CHECK(rd(kHours) == 0x09);
    CHECK_FALSE(rd(kRegA) & kAUpdateInProgress);
    CHECK((rd(kRegC) & kCUpdate) == 0);
    wr(kRegB, kB24Hour);
    CHECK(rd(kHours) == 0x09);
    CHECK(rd(kDayOfWeek) == 7);
    at(6 * kSecond);
    CHECK(rd(kSeconds) == 0x01);
    CHECK(rtc.state().unixSeconds == 946717201);  // 2000-01-01 09:00:01
}

TEST_CASE_METHOD(RtcFixture, "RTC set in binary 12-hour mode; invalid values are clamped", "[rtc]") {
    wr(kRegB, kBSet | kBBinary);  // the guest writes every field in the new format
    wr(kHours, kHourPm | 11);      // 11 PM
    wr(kMinutes, 99);              // invalid: clamped to 59
    wr(kSeconds, 7);
    wr(kDayOfMonth, 31);
    wr(kMonth, 2);  // February 31st: clamped to the 29th (2024 is a leap year)
    wr(kYear, 24);
    wr(kCentury, 20);
    wr(kRegB, kBBinary);  // SET cleared: the clock restarts from the values as written
    wr(kRegB, kBBinary | kB24Hour);
    CHECK(rd(kHours) == 23);
    CHECK(rd(kMinutes) == 59);
    CHECK(rd(kSeconds) == 7);
    CHECK(rd(kDayOfMonth) == 29);
    CHECK(rd(kMonth) == 2);
}

TEST_CASE_METHOD(RtcFixture, "RTC a clock register written while running takes effect at once", "[rtc]") {
    at(300 * kMs);
    wr(kMinutes, 0x10);
    CHECK(rd(kMinutes) == 0x10);
    CHECK(rd(kSeconds) == 0x30);
    at(kSecond);  // the divider phase is kept: the next update still comes at 1 s
    CHECK(rd(kSeconds) == 0x31);
    CHECK(rd(kMinutes) == 0x10);
}

TEST_CASE_METHOD(RtcFixture, "RTC periodic interrupt at the RS rate", "[rtc]") {
    wr(kRegB, kB24Hour | kBPeriodicIe);
    CHECK(rtc.nextDeadlineNs() == 976'563);  // 1024 Hz: 976.5625 us
    CHECK(countInterrupts(kSecond, kCPeriodic) == 1024);
    wr(kRegA, kADivider32kHz | 0x0F);  // 2 Hz
    CHECK(countInterrupts(3 * kSecond, kCPeriodic) == 4);
    wr(kRegA, kADivider32kHz | 0x03);  // 8192 Hz
    CHECK(countInterrupts(3 * kSecond + 10 * kMs, kCPeriodic) == 81);  // 81.92 periods
    wr(kRegA, kADivider32kHz);  // RS = 0: off
    CHECK(rtc.nextDeadlineNs() == kNoDeadline);
}

TEST_CASE_METHOD(RtcFixture, "RTC update-ended interrupt once per second", "[rtc]") {
    wr(kRegB, kB24Hour | kBUpdateIe);
    CHECK(rtc.nextDeadlineNs() == kSecond);
    CHECK(countInterrupts(10 * kSecond, kCUpdate) == 10);
    CHECK(rd(kSeconds) == 0x40);
}

TEST_CASE_METHOD(RtcFixture, "RTC alarm: exact time and don't-care fields", "[rtc]") {
    wr(kSecondsAlarm, 0x35);
    wr(kMinutesAlarm, 0x45);
    wr(kHoursAlarm, 0x13);
    wr(kRegB, kB24Hour | kBAlarmIe);
    at(4 * kSecond);
    CHECK_FALSE(irq.level());
    at(5 * kSecond);
    CHECK(irq.level());
    CHECK(rd(kRegC) == (kCIrqf | kCPeriodic | kCAlarm | kCUpdate));  // PF too: flags set without enables
    CHECK_FALSE(irq.level());

    // Once a minute: hours and minutes "don't care", seconds 00 -> next at 13:46:00.
    wr(kHoursAlarm, 0xC0);
    wr(kMinutesAlarm, 0xFF);
    wr(kSecondsAlarm, 0x00);
    CHECK(countInterrupts(30 * kSecond - 1, kCAlarm) == 0);
    CHECK(countInterrupts(30 * kSecond, kCAlarm) == 1);
    CHECK(countInterrupts(150 * kSecond, kCAlarm) == 2);
}

TEST_CASE_METHOD(RtcFixture, "RTC register C: flags set without enables, reading clears them", "[rtc]") {
    at(1500 * kMs);
    CHECK(rd(kRegC) == (kCPeriodic | kCUpdate));  // no IRQF: nothing enabled
    CHECK(rd(kRegC) == 0);
    CHECK(irq.transitions() == 0);
    at(2500 * kMs);
    wr(kRegB, kB24Hour | kBUpdateIe);  // enabling a pending flag raises IRQ 8 at once
    CHECK(irq.level());
    CHECK(rtc.irqLevel());
    CHECK(rd(kRegC) == (kCIrqf | kCPeriodic | kCUpdate));
    CHECK_FALSE(irq.level());
    wr(kRegC, 0xFF);  // read-only
    wr(kRegD, 0x00);
    CHECK(rd(kRegC) == 0);
    CHECK(rd(kRegD) == kDValidRam);
}

TEST_CASE_METHOD(RtcFixture, "RTC coalesces periodic ticks while PF is pending", "[rtc]") {
    wr(kRegA, kADivider32kHz | 0x0F);  // 2 Hz
    wr(kRegB, kB24Hour | kBPeriodicIe);
    at(5 * kSecond);  // ten periods, no handler ran
    CHECK(irq.level());
    CHECK(irq.transitions() == 1);
    CHECK(rtc.coalescedPeriodicTicks() == 9);
    CHECK(rtc.nextDeadlineNs() == kNoDeadline);  // nothing can change until C is read
    CHECK(rd(kRegC) & kCPeriodic);
    CHECK(rtc.nextDeadlineNs() == 5 * kSecond + 500 * kMs);
}

TEST_CASE_METHOD(RtcFixture, "RTC divider reset stops the clock; first update 500 ms after release", "[rtc]") {
    at(300 * kMs);
    wr(kRegA, 0x76);  // divider in reset
    at(5 * kSecond);
    CHECK(rd(kSeconds) == 0x30);
    CHECK_FALSE(rd(kRegA) & kAUpdateInProgress);
    wr(kRegA, 0x26);
    at(5 * kSecond + 499 * kMs);
    CHECK(rd(kSeconds) == 0x30);
    at(5 * kSecond + 500 * kMs);
    CHECK(rd(kSeconds) == 0x31);
}

TEST_CASE_METHOD(RtcFixture, "RTC index port: NMI disable bit, 7-bit index, NVRAM", "[rtc]") {
    rtc.ioWrite(kIndexPort, 1, kNmiDisable | 0x0F);
    CHECK(rtc.nmiDisabled());
    CHECK(rtc.state().index == 0x0F);
    CHECK(rtc.state().nmiDisabled);
    rtc.ioWrite(kDataPort, 1, 0x5A);
    CHECK(rtc.ioRead(kDataPort, 1) == 0x5A);
    CHECK(rtc.ioRead(kIndexPort, 1) == 0xFF);  // write-only
    rtc.ioWrite(kIndexPort, 1, 0x0F);
    CHECK_FALSE(rtc.nmiDisabled());
    // A word write to 0x70 selects the index and writes the data port.
    rtc.ioWrite(kIndexPort, 2, 0xA57F);
    CHECK(rtc.byte(0x7F) == 0xA5);
    CHECK(rd(0x7F) == 0xA5);
    CHECK(rd(0x40) == 0x00);
}

TEST_CASE_METHOD(RtcFixture, "RTC CMOS memory size fields for 128 MiB, 3 GiB and 8 GiB", "[rtc]") {
    auto word = [&](uint8_t index) { return rd(index) | rd(static_cast<uint8_t>(index + 1)) << 8; };
    auto high = [&] {
        return word(kMemoryAbove4G) | rd(static_cast<uint8_t>(kMemoryAbove4G + 2)) << 16;
    };

    rtc.setMemorySize(128ull << 20);
    CHECK(word(kBaseMemoryLow) == 640);
    CHECK(word(kExtendedMemoryLow) == 0xFFFF);  // 127 MiB in KiB does not fit: capped
    CHECK(word(kExtendedMemory2Low) == 0xFFFF);
    CHECK(word(kMemoryAbove16MLow) == (128 - 16) * 16);
    CHECK(high() == 0);

    rtc.setMemorySize(3ull << 30);
    CHECK(word(kMemoryAbove16MLow) == 0xBF00);  // (3072 - 16) MiB in 64 KiB units
    CHECK(high() == 0);

    rtc.setMemorySize(8ull << 30);  // 3 GiB below 4 GiB, 5 GiB above
    CHECK(word(kMemoryAbove16MLow) == 0xBF00);
    CHECK(high() == 0x014000);

    rtc.setMemoryLayout(15ull << 20, 0);
    CHECK(word(kExtendedMemoryLow) == 14 * 1024);
    CHECK(word(kMemoryAbove16MLow) == 0);

    rtc.setMemorySize(512ull << 10);  // below 1 MiB
    CHECK(word(kExtendedMemoryLow) == 0);
}

TEST_CASE_METHOD(RtcFixture, "RTC checksum at 0x2E/0x2F covers 0x10-0x2D", "[rtc]") {
    rtc.setMemorySize(64ull << 20);
    rtc.setByte(kFloppyTypes, 0x00);
    rtc.setByte(kDiskTypes, 0xF0);
    rtc.setByte(kEquipment, 0x06);
    rtc.setByte(kCpuCountMinusOne, 3);
    unsigned sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; ++i) sum += rd(i);
    CHECK(sum == 0x80 + 0x02 + 0x00 + 0xFC + 0xF0 + 0x06);  // 640 KiB, 63 MiB = 0xFC00 KiB, types
    CHECK(rd(kChecksumHigh) == (sum >> 8));
    CHECK(rd(kChecksumLow) == (sum & 0xFF));
    CHECK(rd(kCpuCountMinusOne) == 3);
    rtc.setByte(kRegB, kBBinary | kB24Hour);  // clock registers go through the register logic
    CHECK(rd(kSeconds) == 30);
}

TEST_CASE_METHOD(RtcFixture, "RTC survives arbitrary guest writes", "[rtc]") {
    for (unsigned v = 0; v < 512; ++v) {
        wr(static_cast<uint8_t>(v % 0x0E), static_cast<uint8_t>(v * 37));
        wr(kCentury, static_cast<uint8_t>(v * 13));
        at(v * 7 * kMs);
        (void)rd(static_cast<uint8_t>((v * 5) % 0x0E));
        (void)rtc.nextDeadlineNs();
    }
    wr(kRegB, kB24Hour);
    wr(kRegA, 0x26);
    const uint8_t seconds = rd(kSeconds);
    CHECK((seconds >> 4) <= 5);
    CHECK((seconds & 0xF) <= 9);
}
