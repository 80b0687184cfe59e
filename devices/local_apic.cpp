#include "devices/local_apic.hpp"

#include <bit>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace lapic;

namespace {

constexpr uint32_t kAllOnes = 0xFFFFFFFF;
constexpr uint8_t kFirstLegalVector = 16;  // 0-15 are reserved for exceptions (SDM 10.5.2)

constexpr uint32_t kSvrWritable = kSvrVectorMask | kSvrSoftwareEnable | kSvrFocusDisable;
constexpr uint32_t kIcrLowWritable = 0x000CCFFF;  // vector, mode, dest mode, level, trigger, shorthand
constexpr uint32_t kIcrHighWritable = 0xFF000000;
constexpr uint32_t kLdrWritable = 0xFF000000;
constexpr uint32_t kDfrWritable = 0xF0000000;
constexpr uint32_t kDfrReservedOnes = 0x0FFFFFFF;
constexpr uint32_t kDivideWritable = 0x0B;  // bits 0, 1 and 3
constexpr uint32_t kLvtPowerUp = kLvtMasked;
constexpr uint32_t kLint0VirtualWire = 0x700;  // ExtINT, unmasked, edge, active high

// Bits software may change in each LVT entry (SDM figure 10-8). The timer has no delivery mode,
// and no TSC-deadline bit since CPUID does not offer it; LINT1 is edge only.
constexpr std::array<uint32_t, kLvtCount> kLvtWritable = {
    0x000300FF,  // timer: vector, mask, periodic
    0x000107FF,  // thermal: vector, delivery mode, mask
    0x000107FF,  // performance counter
    0x0001A7FF,  // LINT0: vector, delivery mode, polarity, trigger, mask
    0x000127FF,  // LINT1: vector, delivery mode, polarity, mask
    0x000100FF,  // error: vector, mask
};

constexpr ApicDeliveryMode deliveryModeOf(uint32_t word) {
    return static_cast<ApicDeliveryMode>((word >> kDeliveryModeShift) & 7);
}

constexpr std::size_t index(LvtEntry entry) { return static_cast<std::size_t>(entry); }

constexpr LvtEntry lintEntry(int pin) { return pin == 0 ? LvtEntry::Lint0 : LvtEntry::Lint1; }

// The LVT entry a register offset names, if it is one.
std::optional<LvtEntry> lvtAt(uint32_t offset) {
    if (offset < kLvtTimer || offset > kLvtError) return std::nullopt;
    return static_cast<LvtEntry>((offset - kLvtTimer) >> 4);
}

}  // namespace

// ---- VectorSet -----------------------------------------------------------------------------

int LocalApic::VectorSet::highest() const {
    for (int i = 7; i >= 0; --i)
        if (words_[i]) return i * 32 + 31 - std::countl_zero(words_[i]);
    return -1;
}

std::bitset<256> LocalApic::VectorSet::bits() const {
    std::bitset<256> out;
    for (unsigned v = 0; v < 256; ++v) out[v] = test(static_cast<uint8_t>(v));
    return out;
}

// ---- construction and reset ----------------------------------------------------------------

LocalApic::LocalApic(uint8_t apicId, bool bsp, const Clock& clock, InterruptSource* extint)
    : clock_(clock), extint_(extint), id_(apicId), bsp_(bsp) {
    reset();
}

std::string LocalApic::name() const { return fmt::format("lapic{}", id_); }

void LocalApic::reset() {
    base_ = kDefaultBase;
    globalEnable_ = true;
    resetRegisters(true);
}

void LocalApic::resetForInit() { resetRegisters(false); }

// SDM 10.4.7.1: IRR, ISR, TMR, ICR, LDR, TPR, timer counts and divide register 0; DFR all ones;
// LVT entries masked; SVR 0xFF. The APIC ID is kept (it is the hardware ID).
void LocalApic::resetRegisters(bool powerUp) {
    tpr_ = 0;
    ldr_ = 0;
    dfr_ = kDfrFlat;
    svr_ = 0xFF;
    irr_.reset();
    isr_.reset();
    tmr_.reset();
    esrPending_ = esrLatched_ = 0;
    icrLow_ = icrHigh_ = 0;
    lvt_.fill(kLvtPowerUp);
    // Virtual-wire mode out of power-up on the BSP, as QEMU does (not after an INIT).
    if (powerUp && bsp_) lvt_[index(LvtEntry::Lint0)] = kLint0VirtualWire;
    timerInitial_ = timerDivide_ = countAtRef_ = 0;
    refNs_ = 0;
    timerActive_ = false;
    nextFireNs_ = kNoDeadline;
    pendingNmi_ = pendingInit_ = extIntRequested_ = false;
    pendingStartup_.reset();
}

// ---- APIC_BASE MSR -------------------------------------------------------------------------

uint64_t LocalApic::apicBaseMsr() const {
    return base_ | (bsp_ ? kApicBaseBsp : 0) | (globalEnable_ ? kApicBaseGlobalEnable : 0);
}

bool LocalApic::setApicBaseMsr(uint64_t value) {
    const uint64_t newBase = value & kApicBaseAddressMask;
    const bool enable = value & kApicBaseGlobalEnable;
    const bool changed = newBase != base_ || enable != globalEnable_;
    base_ = newBase;
    if (enable != globalEnable_) {
        // SDM 10.4.3: a global disable may return the APIC to its power-up state; hvlab always
        // does, so a later re-enable starts clean (and in virtual-wire mode on the BSP).
        resetRegisters(true);
        globalEnable_ = enable;
        spdlog::debug("{}: globally {}", name(), enable ? "enabled" : "disabled");
        signalIfPending();  // the 8259 may now reach INTR directly
    }
    return changed;
}

// ---- register page -------------------------------------------------------------------------

uint64_t LocalApic::mmioRead(uint64_t offset, unsigned size) {
    if (!globalEnable_) return kAllOnes;  // the page does not decode
    if (size != 4 || (offset & 0xF)) {
        spdlog::debug("{}: {}-byte read at {:#x} ignored (32-bit aligned accesses only)", name(), size, offset);
        return 0;
    }
    syncTimer();
    return readRegister(static_cast<uint32_t>(offset & 0xFF0));
}

void LocalApic::mmioWrite(uint64_t offset, unsigned size, uint64_t value) {
    if (!globalEnable_) return;
    if (size != 4 || (offset & 0xF)) {
        spdlog::debug("{}: {}-byte write at {:#x} ignored (32-bit aligned accesses only)", name(), size, offset);
        return;
    }
    syncTimer();
    writeRegister(static_cast<uint32_t>(offset & 0xFF0), static_cast<uint32_t>(value));
}

uint32_t LocalApic::readRegister(uint32_t offset) {
    if (offset >= kIsr && offset < kIsr + 0x80) return isr_.word((offset - kIsr) >> 4);
    if (offset >= kTmr && offset < kTmr + 0x80) return tmr_.word((offset - kTmr) >> 4);
    if (offset >= kIrr && offset < kIrr + 0x80) return irr_.word((offset - kIrr) >> 4);
    if (auto entry = lvtAt(offset)) return lvt(*entry);
    switch (offset) {
    case kId: return uint32_t{id_} << 24;
    case kVersion: return kVersionValue;
    case kTpr: return tpr_;
    case kApr: return 0;
    case kPpr: return ppr();
    case kEoi: return 0;  // write-only
    case kRrd: return 0;
    case kLdr: return ldr_;
    case kDfr: return dfr_;
    case kSvr: return svr_;
    case kEsr: return esrLatched_;
    case kIcrLow: return icrLow_;  // delivery status 0: the last IPI is already delivered
    case kIcrHigh: return icrHigh_;
    case kTimerInitialCount: return timerInitial_;
    case kTimerCurrentCount: return currentCountAt(clock_.nowNs());
    case kTimerDivide: return timerDivide_;
    default:
        spdlog::debug("{}: read of reserved register {:#x}", name(), offset);
        reportError(kEsrIllegalRegister);
        return 0;
    }
}

void LocalApic::writeRegister(uint32_t offset, uint32_t value) {
    if (auto entry = lvtAt(offset)) {
        writeLvt(*entry, value);
        return;
    }
    // The read-only registers (version, APR, PPR, RRD, ISR, TMR, IRR, current count) ignore writes.
    const bool readOnly = offset == kVersion || offset == kApr || offset == kPpr || offset == kRrd ||
                          (offset >= kIsr && offset < kIrr + 0x80) || offset == kTimerCurrentCount;
    if (readOnly) return;
    switch (offset) {
    case kId: id_ = static_cast<uint8_t>(value >> 24); break;
    case kTpr: setTpr(static_cast<uint8_t>(value)); break;
    case kEoi: endOfInterrupt(); break;
    case kLdr: ldr_ = value & kLdrWritable; break;
    case kDfr: dfr_ = (value & kDfrWritable) | kDfrReservedOnes; break;
    case kSvr: writeSvr(value); break;
    case kEsr: writeEsr(); break;
    case kIcrLow:
        icrLow_ = value & kIcrLowWritable;
        sendIpi();
        break;
    case kIcrHigh: icrHigh_ = value & kIcrHighWritable; break;
    case kTimerInitialCount: startTimer(value); break;
    case kTimerDivide:
        anchorTimer();  // the count so far ran at the old rate
        timerDivide_ = value & kDivideWritable;
        scheduleTimer();
        break;
    default:
        spdlog::debug("{}: write of {:#x} to reserved register {:#x}", name(), value, offset);
        reportError(kEsrIllegalRegister);
        break;
    }
}

void LocalApic::writeSvr(uint32_t value) {
    svr_ = value & kSvrWritable;
    // SDM 10.4.7.2: software disable sets the mask bit of every LVT entry.
    if (!softwareEnabled())
        for (uint32_t& entry : lvt_) entry |= kLvtMasked;
    signalIfPending();
}

void LocalApic::writeLvt(LvtEntry entry, uint32_t value) {
    const std::size_t i = index(entry);
    const uint32_t old = lvt_[i];
    uint32_t next = value & kLvtWritable[i];
    if (!softwareEnabled()) next |= kLvtMasked;  // the mask cannot be cleared while disabled
    // Remote IRR (LINT, read-only) survives while the entry stays a fixed level input.
    const bool levelFixed = (next & kLevelTriggered) && deliveryModeOf(next) == ApicDeliveryMode::Fixed;
    if (levelFixed) next |= old & kRemoteIrr;
    if (entry == LvtEntry::Timer) anchorTimer();  // a mode change keeps the count so far
    lvt_[i] = next;
    if (entry == LvtEntry::Timer) scheduleTimer();
    if (entry == LvtEntry::Lint0) evaluateLevelLint(0);
    if (entry == LvtEntry::Lint1) evaluateLevelLint(1);
    signalIfPending();
}

// ESR write-then-read: the write moves the errors collected so far into the readable register.
void LocalApic::writeEsr() {
    esrLatched_ = esrPending_;
    esrPending_ = 0;
}

void LocalApic::reportError(uint32_t esrBits) {
    esrPending_ |= esrBits;
    const uint32_t errorLvt = lvt(LvtEntry::Error);
    if (deliveringError_ || (errorLvt & kLvtMasked)) return;
    deliveringError_ = true;  // an illegal error vector sets ESR again but fires nothing more
    acceptInterrupt(static_cast<uint8_t>(errorLvt & kVectorMask), false);
    deliveringError_ = false;
}

// ---- priority, acceptance, INTA, EOI -------------------------------------------------------

void LocalApic::setTpr(uint8_t value) {
    tpr_ = value;
    signalIfPending();  // lowering TPR can unblock a pending vector
}

// SDM 10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0.
uint8_t LocalApic::ppr() const {
    const int isrv = isr_.highest();
    const uint8_t isrClass = isrv < 0 ? 0 : static_cast<uint8_t>(isrv & 0xF0);
    return (tpr_ & 0xF0) >= isrClass ? tpr_ : isrClass;
}

bool LocalApic::fixedDeliverable() const {
    if (!globalEnable_ || !softwareEnabled()) return false;
    const int irrv = irr_.highest();
    return irrv >= 0 && (irrv >> 4) > (ppr() >> 4);
}

bool LocalApic::extIntRouted() const {
    if (!globalEnable_) return true;  // no APIC: the 8259's INTR is the CPU's INTR
    const uint32_t lint0 = lvt(LvtEntry::Lint0);
    return !(lint0 & kLvtMasked) && deliveryModeOf(lint0) == ApicDeliveryMode::ExtInt;
}

bool LocalApic::intrAsserted() const {
    if (fixedDeliverable()) return true;
    return (extIntRouted() || extIntRequested_) && extint_ && extint_->intrAsserted();
}

std::optional<uint8_t> LocalApic::acknowledge() {
    if (fixedDeliverable()) {
        const auto vector = static_cast<uint8_t>(irr_.highest());
        irr_.clear(vector);
        isr_.set(vector);
        return vector;
    }
    const bool viaExtInt = (extIntRouted() || extIntRequested_) && extint_;
    if (viaExtInt && extint_->intrAsserted()) {
        extIntRequested_ = false;
        return extint_->acknowledge();
    }
    // SDM 10.9: the interrupt was masked (TPR raised, APIC disabled) between INTR and INTA.
    if (globalEnable_ && irr_.highest() >= 0) return spuriousVector();
    if (viaExtInt) {
        extIntRequested_ = false;
        return extint_->acknowledge();  // the 8259's own spurious IRQ 7, or nothing
    }
    return std::nullopt;
}

void LocalApic::acceptInterrupt(uint8_t vector, bool levelTriggered) {
    if (!globalEnable_) return;
    if (vector < kFirstLegalVector) {
        spdlog::debug("{}: illegal vector {} received", name(), vector);
        reportError(kEsrReceiveIllegalVector);
        return;
    }
    if (!softwareEnabled()) {
        spdlog::debug("{}: vector {:#x} dropped, APIC software-disabled", name(), vector);
        return;
    }
    irr_.set(vector);
    if (levelTriggered) tmr_.set(vector);
    else tmr_.clear(vector);
    signalIfPending();
}

void LocalApic::endOfInterrupt() {
    const int highest = isr_.highest();
    if (highest < 0) return;  // EOI with nothing in service: ignored
    const auto vector = static_cast<uint8_t>(highest);
    isr_.clear(vector);
    if (tmr_.test(vector)) {
        // Level-triggered: tell the sources (IOAPIC remote IRR, LINT remote IRR).
        rearmLevelLints(vector);
        if (eoiBroadcast_) eoiBroadcast_(vector);
    }
    signalIfPending();
}

void LocalApic::signalIfPending() {
    if (!intrChanged_) return;
    if (pendingNmi_ || pendingInit_ || pendingStartup_ || intrAsserted()) intrChanged_();
}

// ---- messages and IPIs ---------------------------------------------------------------------

bool LocalApic::matchesDestination(uint8_t destination, bool logical) const {
    if (destination == 0xFF) return true;  // broadcast, in both destination modes
    if (!logical) return destination == id_;
    const auto logicalId = static_cast<uint8_t>(ldr_ >> 24);
    if ((dfr_ >> 28) == 0)  // cluster model: high nibble cluster, low nibble member bitmap
        return (destination >> 4) == (logicalId >> 4) && (destination & logicalId & 0x0F);
    return (destination & logicalId) != 0;  // flat model: a bitmap of up to 8 APICs
}

void LocalApic::receive(const ApicMessage& message) {
    if (!globalEnable_) return;
    switch (message.mode) {
    case ApicDeliveryMode::Fixed:
    case ApicDeliveryMode::LowestPriority: acceptInterrupt(message.vector, message.levelTriggered); return;
    case ApicDeliveryMode::Nmi: pendingNmi_ = true; break;
    case ApicDeliveryMode::Init: pendingInit_ = true; break;
    case ApicDeliveryMode::StartUp: pendingStartup_ = message.vector; break;
    case ApicDeliveryMode::ExtInt: extIntRequested_ = true; break;
    default:
        spdlog::debug("{}: message with delivery mode {} ignored", name(), static_cast<int>(message.mode));
        return;
    }
    signalIfPending();
}

void LocalApic::sendIpi() {
    const auto mode = deliveryModeOf(icrLow_);
    const auto shorthand = static_cast<DestinationShorthand>((icrLow_ >> kIcrShorthandShift) & 3);
    ApicMessage message;
    message.vector = static_cast<uint8_t>(icrLow_ & kVectorMask);
    message.mode = mode;
    message.logicalDestination = icrLow_ & kLogicalDestination;
    message.destination = static_cast<uint8_t>(icrHigh_ >> kIcrDestinationShift);
    // The trigger mode only matters for INIT (SDM 10.6.1); every other IPI is an edge.
    message.levelTriggered = mode == ApicDeliveryMode::Init && (icrLow_ & kLevelTriggered);

    if (mode == ApicDeliveryMode::Init && message.levelTriggered && !(icrLow_ & kIcrLevelAssert)) {
        spdlog::debug("{}: INIT level de-assert IPI dropped (arbitration ID sync only)", name());
        return;
    }
    const bool fixedLike = mode == ApicDeliveryMode::Fixed || mode == ApicDeliveryMode::LowestPriority;
    if (fixedLike && message.vector < kFirstLegalVector) {
        spdlog::debug("{}: IPI with illegal vector {} not sent", name(), message.vector);
        reportError(kEsrSendIllegalVector);
        return;
    }
    if (mode == ApicDeliveryMode::ExtInt || static_cast<uint8_t>(mode) == 3) {
        spdlog::debug("{}: IPI with reserved delivery mode {} not sent", name(), static_cast<int>(mode));
        return;
    }

    bool toSelf = false;
    bool toOthers = false;
    switch (shorthand) {
    case DestinationShorthand::None:
        toSelf = matchesDestination(message.destination, message.logicalDestination);
        toOthers = message.logicalDestination || message.destination != id_ || message.destination == 0xFF;
        break;
    case DestinationShorthand::Self: toSelf = true; break;
    case DestinationShorthand::AllIncludingSelf: toSelf = toOthers = true; break;
    case DestinationShorthand::AllExcludingSelf: toOthers = true; break;
    }
    if (mode == ApicDeliveryMode::LowestPriority && toSelf) toOthers = false;  // one target only

    if (toSelf) receive(message);
    if (toOthers && ipiSender_) ipiSender_(Ipi{message, shorthand, id_});
}

bool LocalApic::takePendingNmi() { return std::exchange(pendingNmi_, false); }
bool LocalApic::takePendingInit() { return std::exchange(pendingInit_, false); }
std::optional<uint8_t> LocalApic::takePendingStartup() { return std::exchange(pendingStartup_, std::nullopt); }

// ---- LINT pins -----------------------------------------------------------------------------

bool LocalApic::lintAsserted(int pin) const {
    const bool activeLow = lvt(lintEntry(pin)) & kActiveLow;
    return lintLevel_[static_cast<std::size_t>(pin)] != activeLow;
}

void LocalApic::setLint(int pin, bool level) {
    if (pin != 0 && pin != 1) return;
    if (!globalEnable_) {
        // Without an APIC, LINT0 is INTR (the 8259 is asked directly) and LINT1 is NMI.
        const bool rising = level && !lintLevel_[static_cast<std::size_t>(pin)];
        lintLevel_[static_cast<std::size_t>(pin)] = level;
        if (pin == 1 && rising) {
            pendingNmi_ = true;
            signalIfPending();
        }
        return;
    }
    const bool was = lintAsserted(pin);
    lintLevel_[static_cast<std::size_t>(pin)] = level;
    const bool now = lintAsserted(pin);
    const uint32_t entry = lvt(lintEntry(pin));
    if (entry & kLvtMasked) return;  // edges on a masked input are lost; levels are re-evaluated on unmask
    const bool rising = now && !was;
    switch (deliveryModeOf(entry)) {
    case ApicDeliveryMode::Fixed:
        if (entry & kLevelTriggered) evaluateLevelLint(pin);
        else if (rising) acceptInterrupt(static_cast<uint8_t>(entry & kVectorMask), false);
        break;
    case ApicDeliveryMode::Nmi:  // NMI is always edge-sensitive
        if (rising) receive({.mode = ApicDeliveryMode::Nmi});
        break;
    case ApicDeliveryMode::Init:
        if (rising) receive({.mode = ApicDeliveryMode::Init});
        break;
    case ApicDeliveryMode::ExtInt:  // the 8259 is asked directly by intrAsserted()/acknowledge()
        if (rising) signalIfPending();
        break;
    default:
        if (rising) spdlog::debug("{}: LINT{} delivery mode {} ignored", name(), pin, static_cast<int>(deliveryModeOf(entry)));
        break;
    }
}

// A fixed, level-triggered LINT input delivers while asserted, once per EOI (remote IRR).
void LocalApic::evaluateLevelLint(int pin) {
    const LvtEntry e = lintEntry(pin);
    const uint32_t entry = lvt(e);
    const bool levelFixed = (entry & kLevelTriggered) && deliveryModeOf(entry) == ApicDeliveryMode::Fixed;
    if (!levelFixed || (entry & (kLvtMasked | kRemoteIrr)) || !lintAsserted(pin)) return;
    lvt_[index(e)] |= kRemoteIrr;
    acceptInterrupt(static_cast<uint8_t>(entry & kVectorMask), true);
}

void LocalApic::rearmLevelLints(uint8_t vector) {
    for (int pin = 0; pin < 2; ++pin) {
        uint32_t& entry = lvt_[index(lintEntry(pin))];
        if ((entry & kRemoteIrr) && (entry & kVectorMask) == vector) {
            entry &= ~kRemoteIrr;
            evaluateLevelLint(pin);
        }
    }
}

// ---- timer ---------------------------------------------------------------------------------

// Divide configuration (SDM figure 10-10): bits 3,1,0 = 111 divide by 1, else 2^(value + 1).
unsigned LocalApic::divideShift() const {
    const uint32_t code = (timerDivide_ & 3) | ((timerDivide_ >> 1) & 4);
    return code == 7 ? 0 : code + 1;
}

uint32_t LocalApic::currentCountAt(uint64_t nowNs) const {
    if (!timerActive_ || timerInitial_ == 0) return 0;
    const uint64_t ticks = nowNs > refNs_ ? (nowNs - refNs_) >> divideShift() : 0;
    if (ticks < countAtRef_) return static_cast<uint32_t>(countAtRef_ - ticks);
    if (!timerPeriodic()) return 0;
    // Each time the count reaches 0 it reloads from the initial count.
    return static_cast<uint32_t>(timerInitial_ - (ticks - countAtRef_) % timerInitial_);
}

void LocalApic::startTimer(uint32_t initialCount) {
    timerInitial_ = initialCount;  // writing 0 stops the timer
    countAtRef_ = initialCount;
    refNs_ = clock_.nowNs();
    timerActive_ = initialCount != 0;
    scheduleTimer();
}

// Moves the anchor to the last tick boundary, so that no fraction of a tick is lost. Register
// writes run advanceTo() first, so the timer has not expired between the anchor and now.
void LocalApic::anchorTimer() {
    if (!timerActive_) return;
    const uint64_t now = clock_.nowNs();
    const uint64_t ticks = now > refNs_ ? (now - refNs_) >> divideShift() : 0;
    if (ticks < countAtRef_) {
        refNs_ += ticks << divideShift();
        countAtRef_ -= static_cast<uint32_t>(ticks);
    } else {
        countAtRef_ = currentCountAt(now);
        refNs_ = now;
        timerActive_ = countAtRef_ != 0;
    }
}

void LocalApic::scheduleTimer() {
    nextFireNs_ = timerActive_ ? refNs_ + (uint64_t{countAtRef_} << divideShift()) : kNoDeadline;
}

void LocalApic::advanceTo(uint64_t nowNs) {
    if (nextFireNs_ == kNoDeadline || nextFireNs_ > nowNs) return;
    const uint64_t firedAt = nextFireNs_;
    if (timerPeriodic()) {
        // Reload; periods missed entirely since then are merged into this one interrupt.
        const uint64_t period = uint64_t{timerInitial_} << divideShift();
        refNs_ = firedAt + (nowNs - firedAt) / period * period;
        countAtRef_ = timerInitial_;
    } else {
        refNs_ = firedAt;
        countAtRef_ = 0;
        timerActive_ = false;
    }
    scheduleTimer();
    const uint32_t entry = lvt(LvtEntry::Timer);
    if (!(entry & kLvtMasked)) acceptInterrupt(static_cast<uint8_t>(entry & kVectorMask), false);
}

uint64_t LocalApic::nextDeadlineNs() const {
    return (lvt(LvtEntry::Timer) & kLvtMasked) ? kNoDeadline : nextFireNs_;
}

ApicTimerState LocalApic::timerState() const {
    const uint32_t entry = lvt(LvtEntry::Timer);
    return {timerInitial_, currentCountAt(clock_.nowNs()), 1u << divideShift(), timerPeriodic(),
            (entry & kLvtMasked) != 0, static_cast<uint8_t>(entry & kVectorMask), nextFireNs_};
}

// ---- routing -------------------------------------------------------------------------------

void routeApicMessage(const ApicMessage& message, const std::vector<LocalApic*>& apics) {
    LocalApic* firstMatch = nullptr;
    for (LocalApic* apic : apics) {
        if (!apic || !apic->matchesDestination(message.destination, message.logicalDestination)) continue;
        if (message.mode != ApicDeliveryMode::LowestPriority) {
            apic->receive(message);
            continue;
        }
        if (apic->globallyEnabled() && apic->softwareEnabled()) {
            apic->receive(message);
            return;
        }
        if (!firstMatch) firstMatch = apic;
    }
    if (firstMatch) firstMatch->receive(message);
}

void routeIpi(const Ipi& ipi, const std::vector<LocalApic*>& apics) {
    std::vector<LocalApic*> targets;
    for (LocalApic* apic : apics) {
        if (!apic || apic->id() == ipi.sourceApicId) continue;
        const bool addressed = ipi.shorthand == DestinationShorthand::None
                                   ? apic->matchesDestination(ipi.message.destination, ipi.message.logicalDestination)
                                   : ipi.shorthand != DestinationShorthand::Self;
        if (addressed) targets.push_back(apic);
    }
    ApicMessage message = ipi.message;
    message.destination = 0xFF;  // the targets are chosen: broadcast to exactly those
    routeApicMessage(message, targets);
}

}  // namespace hvlab::devices
