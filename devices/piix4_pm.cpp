#include "devices/piix4_pm.hpp"

#include <algorithm>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace piix4pm;

namespace {

constexpr uint16_t kPciStatusAtReset = 0x0280;  // fast back-to-back capable, medium DEVSEL

constexpr uint16_t kStatusWriteToClear = kTimerStatus | kPowerButtonStatus | kWakeStatus;
constexpr uint16_t kEnableWritable = kTimerEnable | kGlobalEnable | kPowerButtonEnable | kRtcEnable;
// PM1_CNT bits that read back (GBL_RLS and SLP_EN are write-only).
constexpr uint16_t kControlReadWrite = kSciEnable | kBusMasterReload | kSleepTypeMask;

constexpr uint8_t lowByte(uint16_t v) { return static_cast<uint8_t>(v); }
constexpr uint8_t highByte(uint16_t v) { return static_cast<uint8_t>(v >> 8); }

// Replaces the low (`high` false) or high byte of `reg` with `value`.
uint16_t withByte(uint16_t reg, bool high, uint8_t value) {
    return high ? static_cast<uint16_t>((reg & 0x00FF) | value << 8) : static_cast<uint16_t>((reg & 0xFF00) | value);
}

}  // namespace

uint64_t piix4pm::timerTicksAt(uint64_t ns) { return ticksAt(ns, kTimerHz); }

uint64_t piix4pm::nsAtTimerTick(uint64_t tick) { return nsAtTick(tick, kTimerHz); }

Piix4Pm::Piix4Pm(const Clock& clock, IoBus& io, IrqLine* sci)
    : PciFunction(kVendorIntel, kDeviceId, 0x06, 0x80, 0x00, kRevision), clock_(clock), io_(io), sci_(sci) {
    write16(pci::kStatus, kPciStatusAtReset);
    setInterruptPin(1);
    write32(kPmBase, kPmBaseIoIndicator);
    timerTicksSynced_ = timerTicksAt(clock_.nowNs());
}

Piix4Pm::~Piix4Pm() {
    if (mappedAt_) io_.detach(this);
}

// ---- configuration space ----------------------------------------------------------------------

uint32_t Piix4Pm::extendedConfigRead(uint8_t offset, unsigned size) const {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && offset + i < 256; ++i) {
        const unsigned at = offset + i;
        if ((at >= kPmBase && at < kPmBase + 4u) || at == kPmRegMisc)
            value |= static_cast<uint32_t>(config_[at]) << (8 * i);
    }
    return value;
}

void Piix4Pm::extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) {
    bool touched = false;
    for (unsigned i = 0; i < size && offset + i < 256; ++i) {
        const unsigned at = offset + i;
        const auto byte = static_cast<uint8_t>(value >> (8 * i));
        switch (at) {
        case kPmBase: config_[at] = static_cast<uint8_t>((byte & lowByte(kPmBaseMask)) | kPmBaseIoIndicator); break;
        case kPmBase + 1: config_[at] = byte; break;
        case kPmRegMisc: config_[at] = byte & kPmIoSpaceEnable; break;
        default: continue;  // PMBA bits 31:16 are reserved; other registers are not implemented
        }
        touched = true;
    }
    if (touched) updateMapping();
}

uint16_t Piix4Pm::pmBaseAddress() const { return static_cast<uint16_t>(read16(kPmBase) & kPmBaseMask); }

void Piix4Pm::updateMapping() {
    std::optional<uint16_t> wanted;
    if ((config_[kPmRegMisc] & kPmIoSpaceEnable) && pmBaseAddress() != 0) wanted = pmBaseAddress();
    if (wanted == mappedAt_) return;
    if (mappedAt_) {
        io_.detach(this);
        mappedAt_.reset();
    }
    conflict_ = false;
    if (!wanted) return;
    try {
        io_.attach(*wanted, kBlockSize, this);
        mappedAt_ = wanted;
    } catch (const std::invalid_argument& e) {
        // The guest put the block on top of another device: leave it unmapped until the next
        // PMBA/PMREGMISC write.
        conflict_ = true;
        spdlog::debug("{}: PM block at {:#x} left unmapped (address conflict): {}", name(), *wanted, e.what());
    }
}

// ---- the PM timer and TMR_STS -----------------------------------------------------------------

bool Piix4Pm::timerToggledBy(uint64_t ticks) const {
    return ticks > timerTicksSynced_ && (ticks >> kTimerStatusBit) != (timerTicksSynced_ >> kTimerStatusBit);
}

void Piix4Pm::syncTimer(uint64_t ticks) {
    if (ticks <= timerTicksSynced_) return;
    if (timerToggledBy(ticks)) status_ |= kTimerStatus;
    timerTicksSynced_ = ticks;
    updateSci();
}

uint32_t Piix4Pm::timerValue() const {
    return static_cast<uint32_t>(timerTicksAt(clock_.nowNs()) & kTimerMask);
}

void Piix4Pm::advanceTo(uint64_t nowNs) { syncTimer(timerTicksAt(nowNs)); }

uint64_t Piix4Pm::nextDeadlineNs() const {
    // Only a TMR_STS that would raise the SCI needs the VMM's attention at the toggle; otherwise
    // the status is computed at the next access.
    const bool couldRaiseSci = (enable_ & kTimerEnable) && (control_ & kSciEnable) && !(status_ & kTimerStatus);
    if (!couldRaiseSci) return kNoDeadline;
    const uint64_t nextToggle = ((timerTicksSynced_ >> kTimerStatusBit) + 1) << kTimerStatusBit;
    return nsAtTimerTick(nextToggle);
}

// ---- SCI and events ---------------------------------------------------------------------------

void Piix4Pm::updateSci() {
    const bool level = (control_ & kSciEnable) && (status_ & enable_) != 0;
    if (level == sciLevel_) return;
    sciLevel_ = level;
    if (sci_) sci_->setLevel(level);
}

void Piix4Pm::pressPowerButton() {
    syncToClock();
    status_ |= kPowerButtonStatus;
    updateSci();
}

bool Piix4Pm::requestSleep() {
    const auto type = static_cast<uint8_t>((control_ & kSleepTypeMask) >> kSleepTypeShift);
    if (type != kSleepTypeSoftOff) {
        spdlog::warn("{}: the guest asked for sleep type {} (PM1_CNT.SLP_TYP); only S5 soft-off (type {}) is "
                     "supported, ignored",
                     name(), type, kSleepTypeSoftOff);
        return true;
    }
    if (!powerOff_) {
        spdlog::warn("{}: the guest entered S5 soft-off but nothing is wired to power the machine off", name());
        return true;
    }
    powerOff_("ACPI power-off: the guest entered S5 soft-off (PM1_CNT SLP_TYP=0, SLP_EN=1)");
    return false;
}

// ---- the PM I/O block -------------------------------------------------------------------------

uint8_t Piix4Pm::readRegisterByte(uint32_t offset) const {
    switch (offset) {
    case kPm1Status: return lowByte(status_);
    case kPm1Status + 1: return highByte(status_);
    case kPm1Enable: return lowByte(enable_);
    case kPm1Enable + 1: return highByte(enable_);
    case kPm1Control: return lowByte(control_);
    case kPm1Control + 1: return highByte(control_);
    case kPmTimer:
    case kPmTimer + 1:
    case kPmTimer + 2:
    case kPmTimer + 3: return static_cast<uint8_t>(timerValue() >> (8 * (offset - kPmTimer)));
    default: return 0;  // GPSTS, PCNTRL, P_LVLx, GLBSTS, ...: not modelled
    }
}

bool Piix4Pm::writeRegisterByte(uint32_t offset, uint8_t value) {
    switch (offset) {
    case kPm1Status:
    case kPm1Status + 1: {
        const bool high = offset != kPm1Status;
        const uint8_t clear = value & (high ? highByte(kStatusWriteToClear) : lowByte(kStatusWriteToClear));
        const uint8_t current = high ? highByte(status_) : lowByte(status_);
        status_ = withByte(status_, high, static_cast<uint8_t>(current & ~clear));
        break;
    }
    case kPm1Enable:
    case kPm1Enable + 1: {
        const bool high = offset != kPm1Enable;
        enable_ = withByte(enable_, high, value & (high ? highByte(kEnableWritable) : lowByte(kEnableWritable)));
        break;
    }
    case kPm1Control:
        if (value & kGlobalRelease)
            spdlog::debug("{}: GBL_RLS written; there is no SMI handler to release the global lock to", name());
        control_ = withByte(control_, false, value & lowByte(kControlReadWrite));
        break;
    case kPm1Control + 1:
        control_ = withByte(control_, true, value & highByte(kControlReadWrite));
        if (value & highByte(kSleepEnable)) {
            updateSci();
            return requestSleep();
        }
        break;
    default: return true;  // the timer is read-only; other offsets are not modelled
    }
    updateSci();
    return true;
}

uint32_t Piix4Pm::ioRead(uint16_t port, unsigned size) {
    syncToClock();
    const uint32_t first = mappedAt_ ? static_cast<uint32_t>(port - *mappedAt_) : kBlockSize;
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i) {
        const uint32_t at = first + i;
        const uint8_t byte = at < kBlockSize ? readRegisterByte(at) : 0xFF;
        value |= static_cast<uint32_t>(byte) << (8 * i);
    }
    return value;
}

void Piix4Pm::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    if (!mappedAt_) return;
    syncToClock();
    const uint32_t first = static_cast<uint32_t>(port - *mappedAt_);
    for (unsigned i = 0; i < size && i < 4; ++i) {
        const uint32_t at = first + i;
        if (at >= kBlockSize) break;
        if (!writeRegisterByte(at, static_cast<uint8_t>(value >> (8 * i)))) return;  // powered off
    }
}

// ---- debugger view ----------------------------------------------------------------------------

Piix4PmState Piix4Pm::state() const {
    Piix4PmState s;
    s.pmBase = read32(kPmBase);
    s.ioSpaceEnabled = config_[kPmRegMisc] & kPmIoSpaceEnable;
    s.mappedAt = mappedAt_;
    s.conflict = conflict_;
    const uint64_t now = std::max(timerTicksSynced_, timerTicksAt(clock_.nowNs()));
    s.pm1Status = timerToggledBy(now) ? static_cast<uint16_t>(status_ | kTimerStatus) : status_;
    s.pm1Enable = enable_;
    s.pm1Control = control_;
    s.timer = static_cast<uint32_t>(now & kTimerMask);
    s.sci = sciLevel_;
    return s;
}

}  // namespace hvlab::devices
