// The 8254 PIT against the datasheet's waveforms, at exact input-clock ticks of a ManualClock.
// A count written at tick T is loaded at tick T+1 ("on the next CLK pulse").
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "devices/pit8254.hpp"
#include "devices/port61.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::pit;

namespace {

// Records every level the PIT drives on IRQ 0, with the tick it happened at.
class RecordingLine final : public IrqLine {
public:
    explicit RecordingLine(const ManualClock& clock) : clock_(clock) {}
    void setLevel(bool asserted) override {
        level = asserted;
        edges.push_back({ticksAt(clock_.nowNs()), asserted});
    }
    struct Edge {
        uint64_t tick;
        bool level;
        bool operator==(const Edge&) const = default;
    };
    bool level = false;
    std::vector<Edge> edges;

private:
    const ManualClock& clock_;
};

struct PitFixture {
    ManualClock clock;
    RecordingLine irq{clock};
    Pit8254 pit{clock, &irq};

    void out(uint16_t port, uint8_t v) { pit.ioWrite(port, 1, v); }
    uint8_t in(uint16_t port) { return static_cast<uint8_t>(pit.ioRead(port, 1)); }
    // Moves time to the start of `tick` and lets the PIT catch up, as the VMM would.
    void at(uint64_t tick) {
        clock.set(nsAtTick(tick));
        pit.advanceTo(clock.nowNs());
    }
    void program(int channel, uint8_t controlLowBits, uint16_t count) {
        out(kControl, static_cast<uint8_t>(channel << 6 | kRwLsbMsb | controlLowBits));
        out(static_cast<uint16_t>(kChannel0 + channel), static_cast<uint8_t>(count));
        out(static_cast<uint16_t>(kChannel0 + channel), static_cast<uint8_t>(count >> 8));
    }
    uint16_t readCount(int channel) {
        const uint16_t port = static_cast<uint16_t>(kChannel0 + channel);
        const uint8_t lsb = in(port);
        return static_cast<uint16_t>(lsb | in(port) << 8);
    }
    uint16_t latchAndRead(int channel) {
        out(kControl, static_cast<uint8_t>(channel << 6));
        return readCount(channel);
    }
};

constexpr uint8_t kMode0 = 0x00, kMode1 = 0x02, kMode2 = 0x04, kMode3 = 0x06, kMode4 = 0x08, kMode5 = 0x0A;

}  // namespace

TEST_CASE("PIT tick conversion is exact and monotonic", "[pit]") {
    CHECK(ticksAt(0) == 0);
    CHECK(ticksAt(1'000'000'000) == kInputHz);
    CHECK(ticksAt(838) == 0);  // one tick is 838.095 ns
    CHECK(ticksAt(839) == 1);
    CHECK(nsAtTick(1) == 839);
    CHECK(nsAtTick(kInputHz) == 1'000'000'000);
    for (uint64_t t : {1ull, 2ull, 12345ull, 1193181ull, 1193183ull, 987654321ull, 0x10'0000'0000ull}) {
        CHECK(ticksAt(nsAtTick(t)) == t);
        CHECK(ticksAt(nsAtTick(t) - 1) == t - 1);
    }
}

TEST_CASE_METHOD(PitFixture, "PIT mode 2: period N, OUT low for one clock before each reload", "[pit]") {
    program(0, kMode2, 100);
    CHECK(irq.level);  // the control word set OUT high
    CHECK(pit.nextDeadlineNs() == nsAtTick(101));
    at(1);
    CHECK(readCount(0) == 100);
    at(50);
    CHECK(readCount(0) == 51);
    at(99);
    CHECK(irq.level);
    at(100);
    CHECK_FALSE(irq.level);
    CHECK(readCount(0) == 1);
    at(101);
    CHECK(irq.level);
    CHECK(readCount(0) == 100);
    CHECK(pit.nextDeadlineNs() == nsAtTick(201));
    for (uint64_t period = 2; period <= 5; ++period) {
        at(period * 100);
        at(period * 100 + 1);
    }
    const std::vector<RecordingLine::Edge> expected = {
        {0, true}, {100, false}, {101, true}, {200, false}, {201, true}, {300, false}, {301, true},
        {400, false}, {401, true}, {500, false}, {501, true}};
    CHECK(irq.edges == expected);

    // Falling behind by five periods: four are replayed edge by edge, the fifth is counted.
    at(1001);
    CHECK(irq.edges.size() == expected.size() + 8);
    CHECK(irq.level);
    CHECK(pit.missedTicks() == 1);
}

TEST_CASE_METHOD(PitFixture, "PIT mode 2 at 1 kHz, advanced at every deadline, misses nothing", "[pit]") {
    program(0, kMode2, 1193);  // Linux's LATCH for HZ=1000
    for (;;) {
        const uint64_t deadline = pit.nextDeadlineNs();
        REQUIRE(deadline != kNoDeadline);
        if (deadline > 1'000'000'000) break;
        clock.set(deadline);
        pit.advanceTo(deadline);  // replays the one-clock low pulse, then the rise
    }
    const auto rises = std::count_if(irq.edges.begin(), irq.edges.end(),
                                     [](const RecordingLine::Edge& e) { return e.level && e.tick > 0; });
    CHECK(rises == 1000);  // ticks 1194 + k * 1193 up to one second (tick 1193182)
    CHECK(pit.missedTicks() == 0);
}

TEST_CASE_METHOD(PitFixture, "PIT mode 3: square wave with even and odd counts", "[pit]") {
    SECTION("even count 10: high 5 clocks, low 5, counting down by two") {
        program(0, kMode3, 10);
        at(1);
        CHECK(readCount(0) == 10);
        at(2);
        CHECK(readCount(0) == 8);
        at(5);
        CHECK(readCount(0) == 2);
        CHECK(irq.level);
        at(6);
        CHECK_FALSE(irq.level);
        CHECK(readCount(0) == 10);
        at(11);
        CHECK(irq.level);
        at(16);
        CHECK_FALSE(irq.level);
        CHECK(pit.output(0) == false);
    }
    SECTION("odd count 11: N-1 loaded, high (N+1)/2 = 6 clocks, low (N-1)/2 = 5") {
        program(0, kMode3, 11);
        at(1);
        CHECK(readCount(0) == 10);
        at(6);
        CHECK(readCount(0) == 0);
        CHECK(irq.level);
        at(7);
        CHECK_FALSE(irq.level);
        CHECK(readCount(0) == 10);
        at(11);
        CHECK(readCount(0) == 2);
        at(12);
        CHECK(irq.level);
        at(18);
        CHECK_FALSE(irq.level);
        at(23);
        CHECK(irq.level);
    }
    SECTION("the BIOS's 18.2 Hz: count 0 is 65536") {
        out(kControl, 0x36);
        out(kChannel0, 0);
        out(kChannel0, 0);
        CHECK(pit.nextDeadlineNs() == nsAtTick(1 + 65536));
        at(1 + 32768);
        CHECK_FALSE(irq.level);
        at(1 + 65536);
        CHECK(irq.level);
        CHECK(pit.channelState(0).mode == 3);
    }
}

TEST_CASE_METHOD(PitFixture, "PIT mode 3: a new count takes effect at the end of the half-cycle", "[pit]") {
    program(0, kMode3, 100);  // high 1..50, low 51..100
    at(20);
    out(kChannel0, 40);
    out(kChannel0, 0);
    CHECK(pit.channelState(0).nullCount);
    at(50);
    CHECK(irq.level);
    at(51);
    CHECK_FALSE(irq.level);  // the low half now uses the new count: 20 clocks
    CHECK_FALSE(pit.channelState(0).nullCount);
    CHECK(readCount(0) == 40);
    at(70);
    CHECK_FALSE(irq.level);
    at(71);
    CHECK(irq.level);
    at(91);
    CHECK_FALSE(irq.level);
}

TEST_CASE_METHOD(PitFixture, "PIT mode 2: a new count waits for the end of the cycle", "[pit]") {
    program(0, kMode2, 100);
    at(30);
    program(0, kMode2, 10);  // a control word restarts the channel
    at(31);
    CHECK(readCount(0) == 10);
    at(42);
    out(kChannel0, 50);
    out(kChannel0, 0);
    at(50);
    CHECK(readCount(0) == 1);  // the old cycle runs out: 10 clocks from tick 41
    at(51);
    CHECK(readCount(0) == 50);
    at(100);
    CHECK_FALSE(irq.level);
    at(101);
    CHECK(irq.level);
}

TEST_CASE_METHOD(PitFixture, "PIT mode 0: one-shot interrupt on terminal count", "[pit]") {
    program(0, kMode0, 1000);
    CHECK_FALSE(irq.level);
    CHECK(pit.nextDeadlineNs() == nsAtTick(1001));
    at(1000);
    CHECK_FALSE(irq.level);
    CHECK(readCount(0) == 1);
    at(1001);
    CHECK(irq.level);
    CHECK(readCount(0) == 0);
    at(1002);
    CHECK(readCount(0) == 0xFFFF);  // keeps counting, OUT stays high
    CHECK(pit.nextDeadlineNs() == kNoDeadline);
    at(200000);
    CHECK(irq.level);

    // Rewriting the count: the first byte stops counting and drops OUT at once.
    out(kChannel0, 0x10);
    CHECK_FALSE(irq.level);
    const uint16_t frozen = readCount(0);
    at(200050);
    CHECK(readCount(0) == frozen);
    out(kChannel0, 0x00);  // count 0x0010, loaded at the next clock
    at(200051);
    CHECK(readCount(0) == 0x10);
    at(200066);
    CHECK_FALSE(irq.level);
    at(200067);  // N + 1 clocks after the write
    CHECK(irq.level);
    CHECK(irq.edges.size() == 3);  // rise at 1001, fall at the rewrite, rise at 200067
}

TEST_CASE_METHOD(PitFixture, "PIT counter latch holds the value while counting goes on", "[pit]") {
    program(0, kMode2, 1000);
    at(101);
    out(kControl, 0x00);  // latch channel 0
    at(500);
    out(kControl, 0x00);  // ignored: the first latch is still unread
    CHECK(in(kChannel0) == static_cast<uint8_t>(900));
    at(600);
    CHECK(in(kChannel0) == (900 >> 8));
    CHECK(readCount(0) == 401);  // the latch is released: live again
    CHECK_FALSE(pit.channelState(0).latchedCount.has_value());
}

TEST_CASE_METHOD(PitFixture, "PIT LSB-only and MSB-only access modes", "[pit]") {
    out(kControl, kRwLsb | kMode2);
    out(kChannel0, 200);
    at(51);
    CHECK(in(kChannel0) == 150);
    CHECK(in(kChannel0) == 150);  // no flip-flop in LSB mode
    out(kControl, kRwMsb | kMode2);
    out(kChannel0, 0x02);  // count 0x0200
    at(52 + 0x100);
    CHECK(in(kChannel0) == 0x01);
    CHECK(pit.channelState(0).countRegister == 0x200);
}

TEST_CASE_METHOD(PitFixture, "PIT read-back command: status and count latches", "[pit]") {
    out(kControl, 0x34);
    CHECK(pit.channelState(0).nullCount);
    out(kControl, 0xE2);  // read-back: status only, channel 0
    CHECK(in(kChannel0) == (kStatusOutput | kStatusNullCount | 0x34));
    out(kChannel0, 0x00);
    out(kChannel0, 0x10);  // count 0x1000
    at(1);
    at(0x101);
    out(kControl, 0xC2);  // count and status of channel 0
    at(0x300);
    CHECK(in(kChannel0) == (kStatusOutput | 0x34));  // status first, NULL COUNT clear after load
    CHECK(in(kChannel0) == 0x00);                    // then the count latched at tick 0x101: 0xF00
    CHECK(in(kChannel0) == 0x0F);
    // Read-back of several counters at once, count only.
    program(2, kMode0 | kBcd, 0x0500);
    at(0x310);
    out(kControl, 0xDC);  // count only, channels 1 and 2
    CHECK(readCount(2) == 0x0485);  // BCD: 500 - 15
    CHECK(pit.channelState(2).bcd);
}

TEST_CASE_METHOD(PitFixture, "PIT BCD counting: decades and count 0 meaning 10000", "[pit]") {
    program(0, kMode2 | kBcd, 0x0100);
    at(51);
    CHECK(readCount(0) == 0x0050);
    at(100);
    CHECK_FALSE(irq.level);
    at(101);
    CHECK(irq.level);
    program(0, kMode2 | kBcd, 0x0000);  // written at tick 101
    at(102);
    CHECK(readCount(0) == 0x0000);
    at(103);
    CHECK(readCount(0) == 0x9999);
    CHECK(pit.nextDeadlineNs() == nsAtTick(102 + 10000));
}

TEST_CASE_METHOD(PitFixture, "PIT mode 4: software triggered strobe", "[pit]") {
    program(0, kMode4, 10);
    CHECK(irq.level);
    at(10);
    CHECK(irq.level);
    at(11);
    CHECK_FALSE(irq.level);
    at(12);
    CHECK(irq.level);
    at(100);
    CHECK(irq.level);
    CHECK(pit.nextDeadlineNs() == kNoDeadline);
}

TEST_CASE_METHOD(PitFixture, "PIT channel 2 through port 0x61: GATE, OUT2, refresh toggle", "[pit][port61]") {
    Port61 port61{clock, pit};
    auto read61 = [&] { return static_cast<uint8_t>(port61.ioRead(port61::kPort, 1)); };

    SECTION("Linux's PIT calibration loop: mode 0 on channel 2, poll OUT2") {
        port61.ioWrite(port61::kPort, 1, (read61() & ~0x02) | 0x01);
        out(kControl, 0xB0);
        out(0x42, 0xE8);
        out(0x42, 0x03);  // 1000
        CHECK((read61() & port61::kTimer2Out) == 0);
        at(1000);
        CHECK((read61() & port61::kTimer2Out) == 0);
        at(1001);
        CHECK(read61() & port61::kTimer2Out);
        CHECK(irq.edges.empty());  // channel 0 untouched
    }
    SECTION("mode 3 on channel 2 runs only while GATE is high") {
        program(2, kMode3, 4);
        at(10);
        CHECK(pit.output(2));
        CHECK_FALSE(pit.channelState(2).counting);
        port61.ioWrite(port61::kPort, 1, 0x03);  // GATE on, speaker on: trigger, load at tick 11
        CHECK(port61.control() == 0x03);
        at(12);
        CHECK(read61() & port61::kTimer2Out);
        CHECK(port61.speakerOn());
        at(13);
        CHECK_FALSE(read61() & port61::kTimer2Out);
        at(15);
        CHECK(read61() & port61::kTimer2Out);
        at(17);
        port61.ioWrite(port61::kPort, 1, 0x00);  // GATE low: OUT high at once, counting stops
        CHECK(read61() & port61::kTimer2Out);
        const uint16_t frozen = readCount(2);
        at(100);
        CHECK(readCount(2) == frozen);
        CHECK_FALSE(port61.speakerOn());
    }
    SECTION("refresh toggle flips every 15.085 us; NMI status bits read 0") {
        port61.ioWrite(port61::kPort, 1, 0xFC);
        CHECK((read61() & 0xDF) == 0x0C);  // bits 2-3 stored, 6-7 read 0, toggle low at t=0
        clock.set(15'084);
        CHECK_FALSE(read61() & port61::kRefreshToggle);
        clock.set(15'085);
        CHECK(read61() & port61::kRefreshToggle);
        clock.set(30'170);
        CHECK_FALSE(read61() & port61::kRefreshToggle);
        CHECK((port61.ioRead(port61::kPort, 2) & 0xFF00) == 0xFF00);
    }
}

TEST_CASE_METHOD(PitFixture, "PIT modes 1 and 5: GATE-triggered one-shot and strobe", "[pit]") {
    pit.setGate(2, false);
    program(2, kMode1, 5);
    at(10);
    CHECK(pit.output(2));  // waits for a trigger
    pit.setGate(2, true);  // trigger at tick 10: loaded at 11, OUT low
    at(11);
    CHECK_FALSE(pit.output(2));
    at(15);
    CHECK_FALSE(pit.output(2));
    at(16);
    CHECK(pit.output(2));
    // Retrigger while counting restarts the full count.
    pit.setGate(2, false);
    at(20);
    pit.setGate(2, true);
    at(23);
    pit.setGate(2, false);
    pit.setGate(2, true);  // retrigger at 23: low until 24 + 5
    at(28);
    CHECK_FALSE(pit.output(2));
    at(29);
    CHECK(pit.output(2));

    program(2, kMode5, 3);
    pit.setGate(2, false);
    at(40);
    pit.setGate(2, true);  // loaded at 41, strobe at 44
    at(43);
    CHECK(pit.output(2));
    at(44);
    CHECK_FALSE(pit.output(2));
    at(45);
    CHECK(pit.output(2));
}

TEST_CASE_METHOD(PitFixture, "PIT mode 0 GATE low suspends counting", "[pit]") {
    pit.setGate(2, true);
    program(2, kMode0, 100);
    at(51);
    CHECK(readCount(2) == 50);
    pit.setGate(2, false);
    at(500);
    CHECK(readCount(2) == 50);
    CHECK_FALSE(pit.output(2));
    pit.setGate(2, true);
    at(549);
    CHECK_FALSE(pit.output(2));
    at(550);
    CHECK(pit.output(2));
}

TEST_CASE_METHOD(PitFixture, "PIT catching up many periods coalesces and counts missed ticks", "[pit]") {
    program(0, kMode2, 2);  // 596591 interrupts per second
    at(1);
    at(kInputHz + 1);       // one second in one step
    CHECK(irq.edges.size() < 16);
    CHECK(pit.missedTicks() == kInputHz / 2 - Pit8254::kMaxCatchUpEdges);
    CHECK(irq.level == pit.output(0));
    CHECK(pit.nextDeadlineNs() > clock.nowNs());
}

TEST_CASE_METHOD(PitFixture, "PIT survives arbitrary guest writes", "[pit]") {
    for (unsigned v = 0; v < 256; ++v) {
        out(kControl, static_cast<uint8_t>(v));
        out(static_cast<uint16_t>(kChannel0 + v % 3), static_cast<uint8_t>(v * 37));
        out(static_cast<uint16_t>(kChannel0 + v % 3), static_cast<uint8_t>(v * 11));
        pit.setGate(2, v & 1);
        at(v * 3 + 1);
        (void)in(static_cast<uint16_t>(kChannel0 + (v + 1) % 3));
        (void)pit.nextDeadlineNs();
    }
    CHECK(in(kControl) == 0xFF);
    out(kControl, 0xFF);  // read-back with every bit: latches everything
    CHECK(pit.name() == "pit8254");
}
