// The local APIC of one vCPU in xAPIC mode (Intel SDM vol. 3, chapter 10): the 4 KiB register
// page at the APIC base (0xFEE00000 by default), the APIC_BASE MSR, interrupt acceptance and
// priority, EOI, the LVT (timer, thermal, performance counter, LINT0, LINT1, error), the timer,
// the error status register and inter-processor interrupts through the ICR.
//
// What is modelled:
//  - registers: ID, version 0x00050014 (version 0x14, 6 LVT entries), TPR, APR (reads 0), PPR,
//    EOI, RRD (reads 0), LDR, DFR, SVR, ISR/TMR/IRR (256 bits each), ESR (a write latches the
//    errors collected since the last write; reads return the latch), ICR, the six LVTs, timer
//    initial/current count and divide configuration. Only 32-bit accesses to 16-byte aligned
//    offsets do anything; other widths or alignments read 0 and are ignored. Reserved offsets
//    (including CMCI at 0x2F0: max LVT is 5) set ESR "illegal register address".
//  - power-up state as in the SDM (all LVTs masked, SVR 0xFF, DFR all ones), except that the
//    BSP's LINT0 is 0x700 (ExtINT, unmasked) as QEMU does, so the 8259 reaches the CPU in
//    virtual-wire mode before an OS programs the APIC.
//  - software disable (SVR bit 8 = 0): all LVTs get masked and LVT writes keep the mask bit; fixed
//    interrupts are not accepted (as KVM does), NMI/INIT/SIPI still are; IRR/ISR are held.
//  - global disable (APIC_BASE bit 11 = 0): the registers return to their power-up state, nothing
//    is accepted or delivered, the register page does not decode (reads all ones), the 8259 passes
//    straight through to INTR and LINT1 acts as the NMI pin.
//  - priority: PPR from TPR and the highest ISR vector; the highest IRR vector is deliverable when
//    its class (vector >> 4) is above the PPR class. Vectors 0-15 are refused with ESR "receive
//    illegal vector" (or "send illegal vector" from the ICR). A new ESR bit fires the error LVT.
//  - INTR: a deliverable fixed interrupt, or the 8259 (the `extint` source) when LINT0 is ExtINT
//    and unmasked or an ExtINT message arrived. acknowledge() moves IRR -> ISR, or runs the 8259's
//    INTA; it returns the SVR spurious vector when the interrupt went away in between.
//  - EOI clears the highest ISR bit; for a level-triggered vector (TMR set) the EOI is broadcast
//    through a callback (to the IOAPIC's remote IRR) and level LINT inputs are re-armed.
//  - timer: one-shot and periodic, divide by 1..128, counting at kBusFrequencyHz (1 GHz, so one
//    tick every `divisor` ns); the current count is computed from the Clock at each read. A
//    periodic timer that missed several periods fires once (IRR holds one bit per vector anyway).
//  - LINT0/LINT1 with fixed (edge or level, with remote IRR), NMI, INIT and ExtINT delivery and
//    the polarity bit; NMI/INIT/SIPI arrivals become pending flags the VMM takes.
//  - ICR: shorthands, physical and logical (flat and cluster) destinations, fixed, lowest priority
//    (delivered as fixed to one target: the sender if it is one, else the first match), NMI, INIT,
//    SIPI; the delivery status bit always reads 0 (idle), delivery being instantaneous.
//
// Simplified or missing: x2APIC, TSC-deadline timer mode (CPUID does not advertise them), CMCI,
// thermal and performance counter events (their LVTs are plain storage), SMI (ignored), focus
// processor checking and real lowest-priority arbitration, APR, the INIT level de-assert IPI
// (dropped: Pentium 4 and later only use it to synchronise arbitration IDs), send/receive accept
// and checksum errors. The trigger mode of non-INIT IPIs is ignored, as the SDM says.
//
// Wiring: one LocalApic per vCPU. The VMM maps the page at mmioBase() while globallyEnabled(),
// remaps when setApicBaseMsr() returns true, calls advanceTo()/nextDeadlineNs() with the other
// timed devices, polls intrAsserted()/acknowledge() and takePendingNmi()/Init()/Startup(), and
// connects the callbacks: EOI broadcast -> IoApic::endOfInterrupt, IPI sender -> routeIpi() over
// the other vCPUs' APICs. Not thread-safe: the VMM serialises all calls (callbacks run
// synchronously, and may re-enter this APIC, e.g. an EOI re-delivering a level interrupt).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "devices/bus.hpp"
#include "devices/clock.hpp"
#include "devices/interrupt_source.hpp"

namespace hvlab::devices {

// Register offsets within the page and register bits, for the device, its tests and the debugger.
namespace lapic {
inline constexpr uint64_t kDefaultBase = 0xFEE00000;
inline constexpr uint64_t kMmioSize = 0x1000;
inline constexpr uint64_t kBusFrequencyHz = 1'000'000'000;  // timer input before the divider

inline constexpr uint32_t kId = 0x020;
inline constexpr uint32_t kVersion = 0x030;
inline constexpr uint32_t kTpr = 0x080;
inline constexpr uint32_t kApr = 0x090;
inline constexpr uint32_t kPpr = 0x0A0;
inline constexpr uint32_t kEoi = 0x0B0;
inline constexpr uint32_t kRrd = 0x0C0;
inline constexpr uint32_t kLdr = 0x0D0;
inline constexpr uint32_t kDfr = 0x0E0;
inline constexpr uint32_t kSvr = 0x0F0;
inline constexpr uint32_t kIsr = 0x100;  // 8 registers, 0x10 apart: vectors 32*i .. 32*i+31
inline constexpr uint32_t kTmr = 0x180;
inline constexpr uint32_t kIrr = 0x200;
inline constexpr uint32_t kEsr = 0x280;
inline constexpr uint32_t kIcrLow = 0x300;
inline constexpr uint32_t kIcrHigh = 0x310;
inline constexpr uint32_t kLvtTimer = 0x320;
inline constexpr uint32_t kLvtThermal = 0x330;
inline constexpr uint32_t kLvtPerf = 0x340;
inline constexpr uint32_t kLvtLint0 = 0x350;
inline constexpr uint32_t kLvtLint1 = 0x360;
inline constexpr uint32_t kLvtError = 0x370;
inline constexpr uint32_t kTimerInitialCount = 0x380;
inline constexpr uint32_t kTimerCurrentCount = 0x390;
inline constexpr uint32_t kTimerDivide = 0x3E0;

inline constexpr uint32_t kVersionValue = 0x00050014;

inline constexpr uint32_t kSvrVectorMask = 0xFF;
inline constexpr uint32_t kSvrSoftwareEnable = 1u << 8;
inline constexpr uint32_t kSvrFocusDisable = 1u << 9;

// LVT and ICR share the low-word layout.
inline constexpr uint32_t kVectorMask = 0xFF;
inline constexpr unsigned kDeliveryModeShift = 8;
inline constexpr uint32_t kLogicalDestination = 1u << 11;  // ICR only
inline constexpr uint32_t kDeliveryStatus = 1u << 12;
inline constexpr uint32_t kActiveLow = 1u << 13;           // LINT polarity
inline constexpr uint32_t kRemoteIrr = 1u << 14;           // LINT, read-only
inline constexpr uint32_t kIcrLevelAssert = 1u << 14;      // ICR
inline constexpr uint32_t kLevelTriggered = 1u << 15;
inline constexpr uint32_t kLvtMasked = 1u << 16;
inline constexpr uint32_t kLvtTimerPeriodic = 1u << 17;
inline constexpr unsigned kIcrShorthandShift = 18;
inline constexpr unsigned kIcrDestinationShift = 24;  // in ICR high

inline constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
inline constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;
inline constexpr uint32_t kEsrIllegalRegister = 1u << 7;

inline constexpr uint32_t kDfrFlat = 0xFFFFFFFF;
inline constexpr uint32_t kDfrCluster = 0x0FFFFFFF;

inline constexpr uint64_t kApicBaseBsp = 1u << 8;
inline constexpr uint64_t kApicBaseGlobalEnable = 1u << 11;
inline constexpr uint64_t kApicBaseAddressMask = 0x000000FFFFFFF000;  // 40 physical address bits
}  // namespace lapic

// Delivery modes of LVT entries, ICR, IOAPIC redirection entries and APIC bus messages.
// Values 3 and 6 (LVT) / 3 (ICR) are reserved and may appear as raw values.
enum class ApicDeliveryMode : uint8_t {
    Fixed = 0,
    LowestPriority = 1,
    Smi = 2,
    Nmi = 4,
    Init = 5,
    StartUp = 6,
    ExtInt = 7,
};

enum class DestinationShorthand : uint8_t { None = 0, Self = 1, AllIncludingSelf = 2, AllExcludingSelf = 3 };

// An interrupt message on the (virtual) APIC bus: from the IOAPIC, or the payload of an IPI.
struct ApicMessage {
    uint8_t vector = 0;
    ApicDeliveryMode mode = ApicDeliveryMode::Fixed;
    bool logicalDestination = false;
    uint8_t destination = 0;  // APIC ID (physical) or message destination address (logical)
    bool levelTriggered = false;
    bool operator==(const ApicMessage&) const = default;
};

// An inter-processor interrupt as sent by a write to ICR low.
struct Ipi {
    ApicMessage message;
    DestinationShorthand shorthand = DestinationShorthand::None;
    uint8_t sourceApicId = 0;
    bool operator==(const Ipi&) const = default;
};

enum class LvtEntry : uint8_t { Timer, Thermal, PerfCounter, Lint0, Lint1, Error };
inline constexpr std::size_t kLvtCount = 6;

// The timer as the debugger shows it.
struct ApicTimerState {
    uint32_t initialCount = 0;
    uint32_t currentCount = 0;
    unsigned divisor = 2;
    bool periodic = false;
    bool masked = true;
    uint8_t vector = 0;
    uint64_t nextFireNs = kNoDeadline;  // internal schedule, also while masked
};

class LocalApic final : public MmioDevice, public InterruptSource, public TimedDevice {
public:
    using EoiBroadcast = std::function<void(uint8_t vector)>;
    using IpiSender = std::function<void(const Ipi&)>;

    // `extint` is the 8259 pair that LINT0 (ExtINT) reaches; it may be nullptr or set later.
    LocalApic(uint8_t apicId, bool bsp, const Clock& clock, InterruptSource* extint = nullptr);

    void setExtIntSource(InterruptSource* extint) { extint_ = extint; }
    void setEoiBroadcast(EoiBroadcast callback) { eoiBroadcast_ = std::move(callback); }
    void setIpiSender(IpiSender callback) { ipiSender_ = std::move(callback); }
    void setIntrChangedCallback(IntrChangedCallback callback) { intrChanged_ = std::move(callback); }

    // MmioDevice: `offset` within the 4 KiB page.
    uint64_t mmioRead(uint64_t offset, unsigned size) override;
    void mmioWrite(uint64_t offset, unsigned size, uint64_t value) override;
    std::string name() const override;  // "lapic0"

    // InterruptSource: the vCPU's INTR pin and INTA cycle.
    bool intrAsserted() const override;
    std::optional<uint8_t> acknowledge() override;

    // TimedDevice: the APIC timer. No deadline is reported while the timer LVT is masked.
    void advanceTo(uint64_t nowNs) override;
    uint64_t nextDeadlineNs() const override;

    // The IA32_APIC_BASE MSR (0x1B). The BSP flag is read-only; bit 10 (x2APIC) and reserved bits
    // are ignored. Returns true when the register page moved or was enabled/disabled globally, so
    // the VMM must remap it (at mmioBase() if globallyEnabled()).
    uint64_t apicBaseMsr() const;
    bool setApicBaseMsr(uint64_t value);
    uint64_t mmioBase() const { return base_; }
    bool globallyEnabled() const { return globalEnable_; }
    bool softwareEnabled() const { return svr_ & lapic::kSvrSoftwareEnable; }

    // Interrupt acceptance into IRR (TMR set for level, cleared for edge).
    void acceptInterrupt(uint8_t vector, bool levelTriggered);
    // A message addressed to this APIC (already matched): fixed/lowest priority go to IRR, NMI,
    // INIT, SIPI and ExtINT become pending requests, SMI is ignored.
    void receive(const ApicMessage& message);
    // Whether a physical/logical destination (0xFF = broadcast) addresses this APIC.
    bool matchesDestination(uint8_t destination, bool logical) const;

    // The LINT0/LINT1 pins (pin 0 or 1) as the board drives them: the electrical level, to which
    // the LVT polarity bit applies.
    void setLint(int pin, bool level);

    // Requests the VMM collects and clears.
    bool takePendingNmi();
    bool takePendingInit();
    std::optional<uint8_t> takePendingStartup();  // the SIPI vector (start at vector << 12)

    // Power-up reset (all registers, APIC_BASE back to enabled at the default base) and the INIT
    // reset, which keeps the APIC ID and APIC_BASE (SDM 10.4.7.3).
    void reset();
    void resetForInit();

    // MOV CR8 and the debugger.
    uint8_t tpr() const { return tpr_; }
    void setTpr(uint8_t value);
    uint8_t ppr() const;

    // Read-only views for the debugger and tests.
    uint8_t id() const { return id_; }
    bool isBsp() const { return bsp_; }
    std::bitset<256> irr() const { return irr_.bits(); }
    std::bitset<256> isr() const { return isr_.bits(); }
    std::bitset<256> tmr() const { return tmr_.bits(); }
    uint32_t lvt(LvtEntry entry) const { return lvt_[static_cast<std::size_t>(entry)]; }
    uint32_t svr() const { return svr_; }
    uint32_t ldr() const { return ldr_; }
    uint32_t dfr() const { return dfr_; }
    uint32_t errorStatus() const { return esrLatched_; }       // what a guest read returns
    uint32_t pendingErrors() const { return esrPending_; }     // collected, not yet latched
    uint64_t icr() const { return (uint64_t{icrHigh_} << 32) | icrLow_; }
    ApicTimerState timerState() const;
    bool hasPendingNmi() const { return pendingNmi_; }

private:
    // 256 interrupt vectors as eight 32-bit words, the layout of the ISR/TMR/IRR registers.
    class VectorSet {
    public:
        void set(uint8_t v) { words_[v >> 5] |= 1u << (v & 31); }
        void clear(uint8_t v) { words_[v >> 5] &= ~(1u << (v & 31)); }
        bool test(uint8_t v) const { return words_[v >> 5] & (1u << (v & 31)); }
        int highest() const;  // -1 when empty
        uint32_t word(unsigned i) const { return words_[i & 7]; }
        std::bitset<256> bits() const;
        void reset() { words_.fill(0); }

    private:
        std::array<uint32_t, 8> words_{};
    };

    uint32_t readRegister(uint32_t offset);
    void writeRegister(uint32_t offset, uint32_t value);
    void writeSvr(uint32_t value);
    void writeLvt(LvtEntry entry, uint32_t value);
    void writeEsr();
    void endOfInterrupt();
    void sendIpi();
    void reportError(uint32_t esrBits);
    void resetRegisters(bool powerUp);

    bool fixedDeliverable() const;
    bool extIntRouted() const;
    uint8_t spuriousVector() const { return static_cast<uint8_t>(svr_ & lapic::kSvrVectorMask); }
    void signalIfPending();

    bool lintAsserted(int pin) const;
    void evaluateLevelLint(int pin);
    void rearmLevelLints(uint8_t vector);

    // Timer.
    unsigned divideShift() const;
    bool timerPeriodic() const { return lvt(LvtEntry::Timer) & lapic::kLvtTimerPeriodic; }
    uint32_t currentCountAt(uint64_t nowNs) const;
    void syncTimer() { advanceTo(clock_.nowNs()); }
    void startTimer(uint32_t initialCount);
    void anchorTimer();    // re-bases on the count now, before a divider or mode change
    void scheduleTimer();  // the next expiry from the anchor and the current divider

    const Clock& clock_;
    InterruptSource* extint_;
    EoiBroadcast eoiBroadcast_;
    IpiSender ipiSender_;
    IntrChangedCallback intrChanged_;

    uint8_t id_;
    const bool bsp_;
    uint64_t base_ = lapic::kDefaultBase;
    bool globalEnable_ = true;

    uint8_t tpr_ = 0;
    uint32_t ldr_ = 0;
    uint32_t dfr_ = lapic::kDfrFlat;
    uint32_t svr_ = 0xFF;
    VectorSet irr_, isr_, tmr_;
    uint32_t esrPending_ = 0;
    uint32_t esrLatched_ = 0;
    bool deliveringError_ = false;  // keeps an illegal error-LVT vector from recursing
    uint32_t icrLow_ = 0;
    uint32_t icrHigh_ = 0;
    std::array<uint32_t, kLvtCount> lvt_{};
    std::array<bool, 2> lintLevel_{};

    // Timer: the count was `countAtRef_` at `refNs_`; it runs while `timerActive_`.
    uint32_t timerInitial_ = 0;
    uint32_t timerDivide_ = 0;
    uint32_t countAtRef_ = 0;
    uint64_t refNs_ = 0;
    bool timerActive_ = false;
    uint64_t nextFireNs_ = kNoDeadline;

    bool pendingNmi_ = false;
    bool pendingInit_ = false;
    std::optional<uint8_t> pendingStartup_;
    bool extIntRequested_ = false;  // an ExtINT message (IOAPIC virtual wire) awaits INTA
};

// Delivers an APIC bus message (from the IOAPIC) to every matching APIC; lowest priority goes to
// the first matching APIC that is enabled (else the first match). Null entries are skipped.
void routeApicMessage(const ApicMessage& message, const std::vector<LocalApic*>& apics);

// Delivers an IPI to its targets other than the sender (which took its own share already).
void routeIpi(const Ipi& ipi, const std::vector<LocalApic*>& apics);

}  // namespace hvlab::devices
