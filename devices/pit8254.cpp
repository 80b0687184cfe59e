#include "devices/pit8254.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace pit;

namespace {


// 4-digit BCD, the way the 8254 counts in BCD mode. Nibbles above 9 (a guest writing garbage)
// are weighted as they are; the counter still counts down from the result.
uint32_t fromBcd(uint16_t raw) {
    return (raw >> 12 & 0xF) * 1000u + (raw >> 8 & 0xF) * 100u + (raw >> 4 & 0xF) * 10u + (raw & 0xF);
}

uint16_t toBcd(uint32_t value) {
    return static_cast<uint16_t>((value / 1000 % 10) << 12 | (value / 100 % 10) << 8 | (value / 10 % 10) << 4 |
                                 (value % 10));
}

}  // namespace

uint64_t pit::ticksAt(uint64_t ns) { return devices::ticksAt(ns, kInputHz); }

uint64_t pit::nsAtTick(uint64_t tick) { return devices::nsAtTick(tick, kInputHz); }

// ---- one counter ------------------------------------------------------------------------------

void PitCounter::reset() {
    const uint64_t now = now_;
    *this = PitCounter{};
    now_ = now;
    writeControl(kRwLsbMsb);  // mode 0, LSB then MSB, binary
}

uint8_t PitCounter::mode() const {
    const uint8_t m = controlMode_ & 7;
    return (m & 2) ? (m & 3) : m;  // 6 and 7 are 2 and 3
}

uint32_t PitCounter::initialCount() const {
    if (bcd_) {
        const uint32_t n = fromBcd(countRegister_);
        return n ? n : 10000;
    }
    return countRegister_ ? countRegister_ : 65536;
}

uint64_t PitCounter::elapsed() const { return (suspended_ ? suspendedAt_ : now_) - start_; }

void PitCounter::syncTo(uint64_t tick) {
    if (tick <= now_) return;
    if (loadAt_ && *loadAt_ <= tick) {
        now_ = *loadAt_;
        loadAt_.reset();
        applyLoad(loadKind_);
    }
    now_ = tick;
}

void PitCounter::applyLoad(LoadKind kind) {
    // A half-cycle reload (mode 3) continues the waveform: the new phase starts with the level
    // the old one just switched to. Evaluate it before the old phase is replaced.
    const bool levelNow = kind == LoadKind::HalfCycle ? output() : true;
    nullCount_ = false;
    length_ = initialCount();
    start_ = now_;
    suspended_ = false;
    switch (mode()) {
    case 0:
    case 4:
        phase_ = Phase::OneShot;
        if (!gate_) {
            suspended_ = true;
            suspendedAt_ = now_;
        }
        break;
    case 1:
    case 5: phase_ = Phase::OneShot; break;
    default:  // 2, 3
        if (!gate_) {
            frozenValue_ = static_cast<uint16_t>(length_ % modulus());
            if (bcd_) frozenValue_ = toBcd(frozenValue_);
            phase_ = Phase::Idle;
            idleOut_ = true;
        } else {
            phase_ = Phase::Periodic;
            startHigh_ = levelNow;
        }
        break;
    }
}

void PitCounter::stopWithOutput(bool out) {
    frozenValue_ = value();
    phase_ = Phase::Idle;
    suspended_ = false;
    idleOut_ = out;
}

bool PitCounter::periodicOut(uint64_t position) const {
    if (mode() == 2) return length_ < 2 || position != length_ - 1;
    const uint32_t high = (length_ + 1) / 2, low = length_ / 2;
    if (low == 0) return true;
    return startHigh_ ? position < high : position >= low;
}

bool PitCounter::output() const {
    switch (phase_) {
    case Phase::Idle: return idleOut_;
    case Phase::OneShot: {
        const uint64_t e = elapsed();
        const uint8_t m = mode();
        return (m == 0 || m == 1) ? e >= length_ : e != length_;
    }
    case Phase::Periodic: return periodicOut(cyclePosition());
    }
    return true;
}

uint16_t PitCounter::value() const {
    const uint32_t mod = modulus();
    uint32_t v = 0;
    switch (phase_) {
    case Phase::Idle: return frozenValue_;
    case Phase::OneShot:
        // Counts down through 0 and wraps, OUT unaffected (datasheet: the counter keeps counting).
        v = static_cast<uint32_t>((length_ % mod + mod - elapsed() % mod) % mod);
        break;
    case Phase::Periodic: {
        const uint64_t cp = cyclePosition();
        if (mode() == 2) {
            v = static_cast<uint32_t>((length_ - cp) % mod);
        } else {
            // Mode 3 counts by two within each half-cycle; odd counts load N-1.
            const uint32_t high = (length_ + 1) / 2, low = length_ / 2;
            const uint32_t first = startHigh_ ? high : low;
            const uint64_t half = cp < first ? cp : cp - first;
            const uint32_t loaded = (length_ & 1) ? length_ - 1 : length_;
            v = static_cast<uint32_t>((loaded + 2 * mod - 2 * half % mod) % mod);
        }
        break;
    }
    }
    return bcd_ ? toBcd(v) : static_cast<uint16_t>(v);
}

std::optional<uint64_t> PitCounter::phaseNextChange() const {
    switch (phase_) {
    case Phase::Idle: return std::nullopt;
    case Phase::OneShot: {
        if (suspended_) return std::nullopt;
        const uint64_t e = elapsed();
        const uint8_t m = mode();
        if (e < length_) return start_ + length_;
        if ((m == 4 || m == 5) && e == length_) return start_ + length_ + 1;  // end of the strobe
        return std::nullopt;
    }
    case Phase::Periodic: {
        const uint64_t cp = cyclePosition();
        const uint64_t cycleStart = now_ - cp;
        if (mode() == 2) {
            if (length_ < 2) return std::nullopt;
            return cp < length_ - 1 ? cycleStart + length_ - 1 : cycleStart + length_;
        }
        const uint32_t low = length_ / 2;
        if (low == 0) return std::nullopt;
        const uint32_t first = startHigh_ ? (length_ + 1) / 2 : low;
        return cp < first ? cycleStart + first : cycleStart + length_;
    }
    }
    return std::nullopt;
}

uint64_t PitCounter::nextHalfCycleBoundary() const {
    // Mode 2 reloads at the end of the cycle; mode 3 at the end of the current half-cycle.
    const uint64_t cycleEnd = now_ - cyclePosition() + length_;
    if (mode() == 2) return cycleEnd;
    return phaseNextChange().value_or(cycleEnd);
}

std::optional<uint64_t> PitCounter::nextEvent() const {
    const std::optional<uint64_t> change = phaseNextChange();
    if (!loadAt_) return change;
    return change ? std::min(*change, *loadAt_) : *loadAt_;
}

std::optional<uint64_t> PitCounter::nextRise() const {
    // Step a copy through its next few events: a pending load, then at most a fall and a rise.
    PitCounter copy = *this;
    bool out = copy.output();
    for (int step = 0; step < 6; ++step) {
        const std::optional<uint64_t> event = copy.nextEvent();
        if (!event) return std::nullopt;
        copy.syncTo(*event);
        const bool now = copy.output();
        if (now && !out) return event;
        out = now;
    }
    return std::nullopt;
}

bool PitCounter::periodicSteady() const {
    return phase_ == Phase::Periodic && !loadAt_ && phaseNextChange().has_value();
}

uint64_t PitCounter::risesUpTo(uint64_t tick) const {
    if (!periodicSteady() || tick <= now_) return 0;
    // Rising edges sit at start_ + firstRise + k * length_ (k >= 0).
    const uint64_t firstRise = (mode() == 2 || startHigh_) ? length_ : length_ / 2;
    auto risesThrough = [&](uint64_t t) -> uint64_t {
        const uint64_t first = start_ + firstRise;
        return t < first ? 0 : (t - first) / length_ + 1;
    };
    return risesThrough(tick) - risesThrough(now_);
}

void PitCounter::writeControl(uint8_t controlWord) {
    // "When a Control Word is written to a Counter, all Control Logic is immediately reset and
    // OUT goes to a known initial state": low in mode 0, high otherwise.
    const uint16_t current = value();
    access_ = controlWord >> 4 & 3;
    controlMode_ = controlWord >> 1 & 7;
    bcd_ = controlWord & kBcd;
    writeMsbNext_ = false;
    readMsbNext_ = false;
    latchedCount_.reset();
    latchedStatus_.reset();
    nullCount_ = true;
    hasCount_ = false;
    loadAt_.reset();
    phase_ = Phase::Idle;
    suspended_ = false;
    frozenValue_ = current;
    idleOut_ = mode() != 0;
}

void PitCounter::writeCount(uint8_t byte) {
    switch (access_) {
    case 1:
        countRegister_ = byte;
        break;
    case 2:
        countRegister_ = static_cast<uint16_t>(byte << 8);
        break;
    default:
        if (!writeMsbNext_) {
            writeLsb_ = byte;
            writeMsbNext_ = true;
            if (mode() == 0) {  // the first byte of a mode 0 count stops counting, OUT low at once
                loadAt_.reset();
                stopWithOutput(false);
            }
            return;
        }
        countRegister_ = static_cast<uint16_t>(writeLsb_ | byte << 8);
        writeMsbNext_ = false;
        break;
    }
    countWritten();
}

void PitCounter::countWritten() {
    nullCount_ = true;
    hasCount_ = true;
    switch (mode()) {
    case 0:
        stopWithOutput(false);
        loadAt_ = now_ + 1;  // loaded on the next CLK pulse
        loadKind_ = LoadKind::Fresh;
        break;
    case 4:
        loadAt_ = now_ + 1;
        loadKind_ = LoadKind::Fresh;
        break;
    case 1:
    case 5: break;  // waits for a GATE trigger
    default:        // 2, 3
        if (phase_ == Phase::Periodic) {
            // Takes effect at the end of the current cycle (2) or half-cycle (3), unless a
            // trigger loads it sooner.
            const uint64_t boundary = nextHalfCycleBoundary();
            if (!loadAt_ || *loadAt_ > boundary) {
                loadAt_ = boundary;
                loadKind_ = mode() == 3 ? LoadKind::HalfCycle : LoadKind::Fresh;
            }
        } else if (gate_ && !loadAt_) {
            loadAt_ = now_ + 1;
            loadKind_ = LoadKind::Fresh;
        }
        break;
    }
}

uint8_t PitCounter::readLiveByte() {
    const uint16_t v = value();
    switch (access_) {
    case 1: return static_cast<uint8_t>(v);
    case 2: return static_cast<uint8_t>(v >> 8);
    default:
        readMsbNext_ = !readMsbNext_;
        return static_cast<uint8_t>(readMsbNext_ ? v : v >> 8);
    }
}

uint8_t PitCounter::read() {
    if (latchedStatus_) {
        const uint8_t status = *latchedStatus_;
        latchedStatus_.reset();
        return status;
    }
    if (!latchedCount_) return readLiveByte();
    const uint16_t v = *latchedCount_;
    switch (access_) {
    case 1: latchedCount_.reset(); return static_cast<uint8_t>(v);
    case 2: latchedCount_.reset(); return static_cast<uint8_t>(v >> 8);
    default:
        readMsbNext_ = !readMsbNext_;
        if (readMsbNext_) return static_cast<uint8_t>(v);
        latchedCount_.reset();  // the latch holds until the whole count was read
        return static_cast<uint8_t>(v >> 8);
    }
}

void PitCounter::latchCount() {
    if (!latchedCount_) latchedCount_ = value();  // further latches are ignored until it is read
}

void PitCounter::latchStatus() {
    if (latchedStatus_) return;
    latchedStatus_ = static_cast<uint8_t>((output() ? kStatusOutput : 0) | (nullCount_ ? kStatusNullCount : 0) |
                                          access_ << 4 | controlMode_ << 1 | (bcd_ ? kBcd : 0));
}

void PitCounter::setGate(bool level) {
    if (level == gate_) return;
    gate_ = level;
    const uint8_t m = mode();
    if (level) {
        if ((m == 0 || m == 4) && phase_ == Phase::OneShot && suspended_) {
            start_ += now_ - suspendedAt_;  // counting resumes where it stopped
            suspended_ = false;
        } else if (m != 0 && m != 4 && hasCount_) {
            loadAt_ = now_ + 1;  // a trigger: (re)load on the next CLK pulse
            loadKind_ = LoadKind::Fresh;
        }
        return;
    }
    if ((m == 0 || m == 4) && phase_ == Phase::OneShot && !suspended_) {
        suspended_ = true;
        suspendedAt_ = now_;
    } else if (m == 2 || m == 3) {
        if (phase_ == Phase::Periodic) stopWithOutput(true);  // OUT high at once, counting stops
        loadAt_.reset();  // the next trigger loads the count register
    }
}

PitChannelState PitCounter::snapshot() const {
    PitChannelState s;
    s.mode = mode();
    s.accessMode = access_;
    s.bcd = bcd_;
    s.countRegister = countRegister_;
    s.count = value();
    s.output = output();
    s.gate = gate_;
    s.nullCount = nullCount_;
    s.counting = phase_ != Phase::Idle && !suspended_;
    s.latchedCount = latchedCount_;
    s.latchedStatus = latchedStatus_;
    return s;
}

// ---- the chip ---------------------------------------------------------------------------------

Pit8254::Pit8254(const Clock& clock, IrqLine* irq0) : clock_(clock), irq0_(irq0) {
    const uint64_t now = ticksAt(clock_.nowNs());
    for (PitCounter& c : counters_) {
        c.syncTo(now);
        c.reset();
    }
    irqLevel_ = counters_[0].output();
}

void Pit8254::driveIrq() {
    const bool level = counters_[0].output();
    if (level == irqLevel_) return;
    irqLevel_ = level;
    if (irq0_) irq0_->setLevel(level);
}

void Pit8254::advanceTo(uint64_t nowNs) {
    const uint64_t target = ticksAt(nowNs);
    PitCounter& c0 = counters_[0];
    if (target > c0.syncedTick()) {
        unsigned rises = 0;
        while (const std::optional<uint64_t> event = c0.nextEvent()) {
            if (*event > target) break;
            if (rises >= kMaxCatchUpEdges && c0.periodicSteady()) {
                missedTicks_ += c0.risesUpTo(target);
                break;
            }
            c0.syncTo(*event);
            if (c0.output() && !irqLevel_) ++rises;
            driveIrq();
        }
        c0.syncTo(target);
        driveIrq();
    }
    counters_[1].syncTo(target);
    counters_[2].syncTo(target);
}

uint64_t Pit8254::nextDeadlineNs() const {
    const std::optional<uint64_t> rise = counters_[0].nextRise();
    return rise ? nsAtTick(*rise) : kNoDeadline;
}

PitCounter& Pit8254::synced(int channel) {
    catchUp();
    return counters_[channel];
}

void Pit8254::setGate(int channel, bool level) {
    if (channel < 0 || channel > 2) return;
    synced(channel).setGate(level);
    driveIrq();
}

bool Pit8254::output(int channel) {
    if (channel < 0 || channel > 2) return false;
    return synced(channel).output();
}

PitChannelState Pit8254::channelState(int channel) const {
    if (channel < 0 || channel > 2) return {};
    PitCounter copy = counters_[channel];
    copy.syncTo(ticksAt(clock_.nowNs()));
    return copy.snapshot();
}

uint32_t Pit8254::ioRead(uint16_t port, unsigned size) {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
        value |= static_cast<uint32_t>(readByte(static_cast<uint16_t>(port + i))) << (8 * i);
    return value;
}

void Pit8254::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i)
        writeByte(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Pit8254::readByte(uint16_t port) {
    if (port >= kChannel0 && port < kControl) return synced(port - kChannel0).read();
    return 0xFF;  // the control register is write-only (A1A0 = 11 reads are a no-op)
}

void Pit8254::writeByte(uint16_t port, uint8_t value) {
    if (port >= kChannel0 && port < kControl) {
        synced(port - kChannel0).writeCount(value);
        driveIrq();
    } else if (port == kControl) {
        writeControl(value);
        driveIrq();
    }
}

void Pit8254::writeControl(uint8_t value) {
    const int select = value >> 6;
    if ((value & kSelectReadBack) == kSelectReadBack) {
        readBack(value);
        return;
    }
    PitCounter& counter = synced(select);
    if ((value & kRwLsbMsb) == kRwLatch) counter.latchCount();
    else counter.writeControl(value);
}

void Pit8254::readBack(uint8_t value) {
    if (value & 1) spdlog::debug("pit8254: read-back command with reserved bit 0 set: {:#04x}", value);
    for (int channel = 0; channel < 3; ++channel) {
        if (!(value & (2 << channel))) continue;
        PitCounter& counter = synced(channel);
        if (!(value & kReadBackNoCount)) counter.latchCount();
        if (!(value & kReadBackNoStatus)) counter.latchStatus();
    }
}

}  // namespace hvlab::devices
