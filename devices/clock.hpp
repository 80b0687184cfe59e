// Time as devices see it. Devices never read host clocks themselves: the VMM gives them one
// Clock, virtual time derived from retired instructions on the interpreter (so a VS run is
// deterministic) or host monotonic time on KVM.
#pragma once

#include <cstdint>
#include <limits>

namespace hvlab::devices {

class Clock {
public:
    virtual ~Clock() = default;
    // Nanoseconds since the VM was created; never goes backwards.
    virtual uint64_t nowNs() const = 0;
};

// A clock the owner sets by hand: for unit tests and for the interpreter's virtual time.
class ManualClock final : public Clock {
public:
    uint64_t nowNs() const override { return now_; }
    void set(uint64_t ns) { now_ = ns; }
    void advance(uint64_t ns) { now_ += ns; }

private:
    uint64_t now_ = 0;
};

inline constexpr uint64_t kNoDeadline = std::numeric_limits<uint64_t>::max();
inline constexpr uint64_t kNsPerSecond = 1'000'000'000;

// The ticks of a counter running at `hz` that have elapsed at time `ns` (rounded down), split so
// that ns * hz cannot overflow 64 bits.
constexpr uint64_t ticksAt(uint64_t ns, uint64_t hz) {
    return ns / kNsPerSecond * hz + ns % kNsPerSecond * hz / kNsPerSecond;
}
// The first time (ns) at which a counter running at `hz` has counted `tick` ticks.
constexpr uint64_t nsAtTick(uint64_t tick, uint64_t hz) {
    return tick / hz * kNsPerSecond + (tick % hz * kNsPerSecond + hz - 1) / hz;
}

// A device whose state changes with time (timers, periodic interrupts). The VMM calls
// advanceTo() with the current time whenever the guest exits and before each entry, and
// makes the engine return no later than the earliest nextDeadlineNs() of all timed devices.
// Between calls, a device computes time-dependent register reads (a PIT count) from the Clock.
class TimedDevice {
public:
    virtual ~TimedDevice() = default;
    // Brings the device up to `nowNs`: fires every event due at or before it, in order.
    virtual void advanceTo(uint64_t nowNs) = 0;
    // When the next event is due (absolute ns), or kNoDeadline.
    virtual uint64_t nextDeadlineNs() const = 0;
};

}  // namespace hvlab::devices
