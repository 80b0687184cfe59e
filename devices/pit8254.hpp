// The Intel 8254 programmable interval timer of a PC (ports 0x40-0x43), clocked at 1.193182 MHz.
//
// Wiring: channel 0 OUT drives IRQ 0 (the level follows OUT exactly, so an edge-triggered PIC sees
// its rising edges); channel 1 (DRAM refresh on old PCs) is unconnected; channel 2 drives the
// speaker and is read back through port 0x61 (devices/port61), whose bit 0 is channel 2's GATE.
// Channels 0 and 1 have GATE tied high.
//   io.attach(0x40, 4, &pit); timed devices: &pit.
//
// What is modelled, following the 8254 datasheet:
//  - control words: counter select, RW (latch / LSB / MSB / LSB then MSB), modes 0-5 (6 and 7
//    alias 2 and 3), binary or BCD counting; the read and write flip-flops (independent, so
//    reads and writes may interleave); the counter latch command; the read-back command (count
//    and/or status latch for several counters; status = OUTPUT, NULL COUNT, RW, mode, BCD);
//  - an initial count of 0 is the largest count (65536 binary, 10000 BCD);
//  - each mode's OUT waveform and counting element (CE) value, including mode 3's decrement by
//    two (odd counts: N-1 loaded, OUT high for (N+1)/2 and low for (N-1)/2 clocks), the
//    "loaded on the next CLK pulse" delay after a count write or a GATE trigger, and when a new
//    count takes effect: mode 0 and 4 at once (mode 0: the first byte of a two-byte count stops
//    counting and sets OUT low), modes 2 and 3 at the end of the current period / half-cycle or
//    at a GATE trigger, modes 1 and 5 at the next trigger;
//  - GATE: modes 0 and 4 suspend counting while low; modes 2 and 3 stop and force OUT high while
//    low and reload on a rising edge; modes 1 and 5 trigger on a rising edge.
//
// Time: the counter state is computed from the Clock (ticks = ns * 1193182 / 1e9), not stepped,
// so reads are exact at any moment and a long pause costs nothing. advanceTo() replays channel
// 0's OUT transitions in order onto the IRQ line; nextDeadlineNs() is channel 0's next rising
// edge (falling edges are applied at the next advanceTo(), which the VMM makes at every exit, so
// nothing can observe the difference). When a periodic mode fell many periods behind, only the
// first kMaxCatchUpEdges rising edges are replayed; the rest are counted in missedTicks() and
// skipped (the PIC could not have told them apart anyway: its IRR holds one request).
//
// Simplifications: a count of 1 in modes 2 and 3 (illegal per the datasheet) keeps OUT high.
// The CE value right after a control word (before a count is loaded) keeps its previous value.
// Reset state (undefined on the chip): every channel as after control word "mode 0, LSB then
// MSB, binary" with no count written (OUT low, NULL COUNT set).
//
// Threading: not thread-safe; all calls belong to the thread that runs the devices.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "devices/bus.hpp"
#include "devices/clock.hpp"

namespace hvlab::devices {

namespace pit {
inline constexpr uint16_t kChannel0 = 0x40;
inline constexpr uint16_t kControl = 0x43;
inline constexpr uint64_t kInputHz = 1193182;

// Control word fields.
inline constexpr uint8_t kSelectReadBack = 0xC0;
inline constexpr uint8_t kRwLatch = 0x00;
inline constexpr uint8_t kRwLsb = 0x10;
inline constexpr uint8_t kRwMsb = 0x20;
inline constexpr uint8_t kRwLsbMsb = 0x30;
inline constexpr uint8_t kBcd = 0x01;
// Read-back command: bits 5/4 are active low.
inline constexpr uint8_t kReadBackNoCount = 0x20;
inline constexpr uint8_t kReadBackNoStatus = 0x10;
// Status byte.
inline constexpr uint8_t kStatusOutput = 0x80;
inline constexpr uint8_t kStatusNullCount = 0x40;

// PIT input clock ticks that have occurred at or before `ns`, and the first ns of tick `tick`.
uint64_t ticksAt(uint64_t ns);
uint64_t nsAtTick(uint64_t tick);
}  // namespace pit

// A side-effect-free snapshot of one channel, for the debugger.
struct PitChannelState {
    uint8_t mode = 0;           // effective mode 0-5
    uint8_t accessMode = 3;     // RW bits: 1 LSB, 2 MSB, 3 LSB then MSB
    bool bcd = false;
    uint16_t countRegister = 0; // the last count written (raw)
    uint16_t count = 0;         // the counting element now (raw, BCD-encoded in BCD mode)
    bool output = false;
    bool gate = true;
    bool nullCount = true;
    bool counting = false;      // a count is loaded and the CE is running
    std::optional<uint16_t> latchedCount;
    std::optional<uint8_t> latchedStatus;
};

// One counter of the 8254. Its time is in PIT ticks; the caller syncs it to "now" before any
// access (syncTo), so everything between two accesses is computed, not stepped.
class PitCounter {
public:
    void reset();
    // Applies every internal event (count loads) due at or before `tick`. Never goes back.
    void syncTo(uint64_t tick);
    uint64_t syncedTick() const { return now_; }

    void writeControl(uint8_t controlWord);
    void writeCount(uint8_t byte);
    uint8_t read();
    void latchCount();
    void latchStatus();
    void setGate(bool level);

    bool output() const;
    uint16_t value() const;  // the CE as a read would show it (raw)
    // The next tick after syncedTick() at which state changes (OUT or a count load), or none.
    std::optional<uint64_t> nextEvent() const;
    // The next tick after syncedTick() at which OUT rises, given no further guest input.
    std::optional<uint64_t> nextRise() const;
    // Steady periodic counting (modes 2/3, GATE high, nothing pending): rising edges of OUT in
    // (syncedTick(), tick] can be counted without stepping.
    bool periodicSteady() const;
    uint64_t risesUpTo(uint64_t tick) const;

    PitChannelState snapshot() const;

private:
    enum class Phase : uint8_t { Idle, OneShot, Periodic };
    enum class LoadKind : uint8_t { Fresh, HalfCycle };

    uint8_t mode() const;
    uint32_t modulus() const { return bcd_ ? 10000 : 65536; }
    uint32_t initialCount() const;  // the count register as N (0 -> the largest count)
    uint64_t elapsed() const;       // ticks since start_, frozen while suspended
    uint64_t cyclePosition() const { return (now_ - start_) % length_; }
    bool periodicOut(uint64_t position) const;
    std::optional<uint64_t> phaseNextChange() const;
    uint64_t nextHalfCycleBoundary() const;
    void applyLoad(LoadKind kind);
    void stopWithOutput(bool out);
    void countWritten();
    uint8_t readLiveByte();

    // Programming.
    uint8_t controlMode_ = 0;  // M2..M0 as written (status byte reports them)
    uint8_t access_ = 3;
    bool bcd_ = false;
    uint16_t countRegister_ = 0;
    bool nullCount_ = true;
    bool hasCount_ = false;  // a count was written since the last control word
    bool writeMsbNext_ = false;
    uint8_t writeLsb_ = 0;
    bool readMsbNext_ = false;
    std::optional<uint16_t> latchedCount_;
    std::optional<uint8_t> latchedStatus_;
    bool gate_ = true;

    // The counting element: a phase started at start_ with length_ (N of the loaded count).
    uint64_t now_ = 0;
    Phase phase_ = Phase::Idle;
    uint64_t start_ = 0;
    uint32_t length_ = 1;
    bool startHigh_ = true;   // mode 3: which half-cycle the phase began with
    bool suspended_ = false;  // modes 0/4 with GATE low
    uint64_t suspendedAt_ = 0;
    uint16_t frozenValue_ = 0;  // the CE while Idle
    bool idleOut_ = false;
    std::optional<uint64_t> loadAt_;
    LoadKind loadKind_ = LoadKind::Fresh;
};

class Pit8254 final : public PortDevice, public TimedDevice {
public:
    static constexpr unsigned kMaxCatchUpEdges = 4;

    // `irq0` (may be nullptr) is driven with channel 0's OUT.
    Pit8254(const Clock& clock, IrqLine* irq0);

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "pit8254"; }

    void advanceTo(uint64_t nowNs) override;
    uint64_t nextDeadlineNs() const override;

    // Board wiring: GATE inputs and OUT levels, evaluated at the Clock's now.
    void setGate(int channel, bool level);
    bool output(int channel);

    PitChannelState channelState(int channel) const;
    // Channel 0 rising edges skipped while catching up (see the header comment).
    uint64_t missedTicks() const { return missedTicks_; }

private:
    uint8_t readByte(uint16_t port);
    void writeByte(uint16_t port, uint8_t value);
    void writeControl(uint8_t value);
    void readBack(uint8_t value);
    PitCounter& synced(int channel);
    void catchUp() { advanceTo(clock_.nowNs()); }
    void driveIrq();

    const Clock& clock_;
    IrqLine* const irq0_;
    std::array<PitCounter, 3> counters_;
    bool irqLevel_ = false;
    uint64_t missedTicks_ = 0;
};

}  // namespace hvlab::devices
