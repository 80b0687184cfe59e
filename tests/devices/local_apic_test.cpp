// The xAPIC local APIC as a guest OS sees it (Intel SDM vol. 3, chapter 10).
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "devices/local_apic.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::lapic;

namespace {

// An 8259 pair as the APIC sees it through LINT0: INTR and an INTA cycle.
struct FakePic final : InterruptSource {
    bool intr = false;
    uint8_t vector = 0x08;
    int acks = 0;
    bool intrAsserted() const override { return intr; }
    std::optional<uint8_t> acknowledge() override {
        ++acks;
        if (!intr) return uint8_t{0x0F};  // the 8259's spurious IRQ 7
        intr = false;
        return vector;
    }
};

constexpr uint32_t isrRegister(uint8_t v) { return kIsr + 0x10u * (v / 32u); }
constexpr uint32_t irrRegister(uint8_t v) { return kIrr + 0x10u * (v / 32u); }
constexpr uint32_t tmrRegister(uint8_t v) { return kTmr + 0x10u * (v / 32u); }
constexpr uint32_t bitOf(uint8_t v) { return 1u << (v % 32u); }

constexpr uint32_t kModeFixed = 0x000;
constexpr uint32_t kModeNmi = 0x400;
constexpr uint32_t kModeInit = 0x500;
constexpr uint32_t kModeStartUp = 0x600;
constexpr uint32_t kModeExtInt = 0x700;
constexpr uint32_t kShorthandSelf = 1u << kIcrShorthandShift;
constexpr uint32_t kShorthandAllExcludingSelf = 3u << kIcrShorthandShift;

struct ApicFixture {
    ManualClock clock;
    FakePic pic;
    LocalApic apic{0, true, clock, &pic};
    std::vector<uint8_t> eois;
    std::vector<Ipi> ipis;
    int intrSignals = 0;

    ApicFixture() {
        apic.setEoiBroadcast([this](uint8_t v) { eois.push_back(v); });
        apic.setIpiSender([this](const Ipi& ipi) { ipis.push_back(ipi); });
        apic.setIntrChangedCallback([this] { ++intrSignals; });
    }
    uint32_t rd(uint32_t offset) { return static_cast<uint32_t>(apic.mmioRead(offset, 4)); }
    void wr(uint32_t offset, uint32_t value) { apic.mmioWrite(offset, 4, value); }
    void enable(uint8_t spurious = 0xFF) { wr(kSvr, kSvrSoftwareEnable | spurious); }
    uint8_t take() {
        auto v = apic.acknowledge();
        REQUIRE(v.has_value());
        return *v;
    }
    uint32_t esrAfterLatch() {
        wr(kEsr, 0);
        return rd(kEsr);
    }
};

}  // namespace

TEST_CASE("LAPIC power-up state follows the SDM, with the BSP in virtual-wire mode", "[lapic]") {
    ManualClock clock;
    LocalApic bsp(0, true, clock);
    LocalApic ap(3, false, clock);
    CHECK(bsp.name() == "lapic0");
    CHECK(bsp.apicBaseMsr() == 0xFEE00900);  // enabled, BSP
    CHECK(ap.apicBaseMsr() == 0xFEE00800);
    CHECK(ap.mmioRead(kId, 4) == 0x03000000);
    CHECK(ap.mmioRead(kVersion, 4) == 0x00050014);
    for (uint32_t reg : {kTpr, kApr, kPpr, kRrd, kLdr, kEsr, kIcrLow, kIcrHigh, kTimerInitialCount,
                         kTimerCurrentCount, kTimerDivide})
        CHECK(ap.mmioRead(reg, 4) == 0);
    CHECK(ap.mmioRead(kDfr, 4) == 0xFFFFFFFF);
    CHECK(ap.mmioRead(kSvr, 4) == 0xFF);  // software-disabled, spurious vector 0xFF
    for (uint32_t i = 0; i < 8; ++i) {
        CHECK(ap.mmioRead(kIsr + 0x10 * i, 4) == 0);
        CHECK(ap.mmioRead(kTmr + 0x10 * i, 4) == 0);
        CHECK(ap.mmioRead(kIrr + 0x10 * i, 4) == 0);
    }
    for (uint32_t reg : {kLvtTimer, kLvtThermal, kLvtPerf, kLvtLint0, kLvtLint1, kLvtError})
        CHECK(ap.mmioRead(reg, 4) == kLvtMasked);
    CHECK(bsp.mmioRead(kLvtLint0, 4) == 0x700);  // ExtINT, unmasked
    CHECK(bsp.mmioRead(kLvtLint1, 4) == kLvtMasked);
    CHECK_FALSE(bsp.softwareEnabled());
    CHECK(bsp.globallyEnabled());
}

TEST_CASE_METHOD(ApicFixture, "LAPIC decodes only aligned 32-bit accesses; reserved registers set ESR bit 7",
                 "[lapic]") {
    wr(kTpr, 0x20);
    CHECK(apic.mmioRead(kTpr, 1) == 0);
    CHECK(apic.mmioRead(kTpr + 4, 4) == 0);
    apic.mmioWrite(kTpr, 2, 0x40);
    apic.mmioWrite(kTpr + 8, 4, 0x40);
    CHECK(rd(kTpr) == 0x20);

    CHECK(rd(0x2F0) == 0);  // LVT CMCI does not exist with max LVT 5
    CHECK(rd(kEsr) == 0);   // not latched yet
    CHECK(esrAfterLatch() == kEsrIllegalRegister);
    CHECK(esrAfterLatch() == 0);  // the latch write also cleared the collected errors
    wr(0x400, 1);
    CHECK(esrAfterLatch() == kEsrIllegalRegister);

    // Read-only registers ignore writes.
    wr(kVersion, 0);
    wr(kPpr, 0xFF);
    wr(kIrr, 0xFFFFFFFF);
    CHECK(rd(kVersion) == kVersionValue);
    CHECK(rd(kPpr) == 0x20);
    CHECK(rd(kIrr) == 0);
    CHECK(esrAfterLatch() == 0);
    // DFR bits 0-27 always read as ones; LDR keeps bits 24-31; TPR 8 bits.
    wr(kDfr, 0);
    CHECK(rd(kDfr) == kDfrCluster);
    wr(kLdr, 0xFFFFFFFF);
    CHECK(rd(kLdr) == 0xFF000000);
    wr(kTpr, 0x1FF);
    CHECK(rd(kTpr) == 0xFF);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC PPR is TPR or the class of the highest in-service vector", "[lapic]") {
    enable();
    wr(kTpr, 0x35);
    CHECK(rd(kPpr) == 0x35);
    apic.acceptInterrupt(0x51, false);
    CHECK(take() == 0x51);
    CHECK(rd(kPpr) == 0x50);  // ISR class 5 above TPR class 3
    wr(kTpr, 0x5A);
    CHECK(rd(kPpr) == 0x5A);  // same class: TPR wins
    wr(kTpr, 0x62);
    CHECK(rd(kPpr) == 0x62);
    CHECK(apic.ppr() == 0x62);
    wr(kTpr, 0);
    wr(kEoi, 0);
    CHECK(rd(kPpr) == 0);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC delivers the highest class above PPR first", "[lapic]") {
    enable();
    for (uint8_t v : {0x31, 0x85, 0x42, 0x86}) apic.acceptInterrupt(v, false);
    CHECK(rd(irrRegister(0x31)) == bitOf(0x31));
    CHECK(rd(irrRegister(0x85)) == (bitOf(0x85) | bitOf(0x86)));
    CHECK(apic.intrAsserted());
    CHECK(take() == 0x86);
    // 0x85 is in the same priority class as the vector in service: held until EOI.
    CHECK_FALSE(apic.intrAsserted());
    wr(kEoi, 0);
    CHECK(apic.intrAsserted());
    CHECK(take() == 0x85);
    wr(kEoi, 0);
    // TPR blocks classes at or below its own.
    wr(kTpr, 0x40);
    CHECK_FALSE(apic.intrAsserted());
    wr(kTpr, 0x3F);
    CHECK(take() == 0x42);
    CHECK_FALSE(apic.intrAsserted());  // 0x31: class 3, not above PPR 0x40
    wr(kEoi, 0);
    wr(kTpr, 0);
    CHECK(take() == 0x31);
    CHECK(apic.irr().none());
}

TEST_CASE_METHOD(ApicFixture, "LAPIC EOI ends the highest in-service vector of a nested set", "[lapic]") {
    enable();
    apic.acceptInterrupt(0x40, false);
    CHECK(take() == 0x40);
    apic.acceptInterrupt(0x90, false);  // a higher class interrupts the handler of 0x40
    CHECK(apic.intrAsserted());
    CHECK(take() == 0x90);
    CHECK(rd(isrRegister(0x40)) == bitOf(0x40));
    CHECK(rd(isrRegister(0x90)) == bitOf(0x90));
    wr(kEoi, 0);
    CHECK(rd(isrRegister(0x90)) == 0);
    CHECK(rd(isrRegister(0x40)) == bitOf(0x40));
    CHECK(rd(kPpr) == 0x40);
    wr(kEoi, 0);
    CHECK(apic.isr().none());
    wr(kEoi, 0);  // nothing in service: ignored
    CHECK(eois.empty());  // edge-triggered: no broadcast
}

TEST_CASE_METHOD(ApicFixture, "LAPIC broadcasts the EOI of a level-triggered vector", "[lapic]") {
    enable();
    apic.acceptInterrupt(0x61, true);
    CHECK(rd(tmrRegister(0x61)) == bitOf(0x61));
    CHECK(take() == 0x61);
    wr(kEoi, 0);
    CHECK(eois == std::vector<uint8_t>{0x61});
    // An edge interrupt accepted on the same vector clears TMR: its EOI is not broadcast.
    apic.acceptInterrupt(0x61, false);
    CHECK(rd(tmrRegister(0x61)) == 0);
    CHECK(take() == 0x61);
    wr(kEoi, 0);
    CHECK(eois.size() == 1);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC returns the spurious vector when the interrupt went away before INTA",
                 "[lapic]") {
    enable(0xEF);
    wr(kLvtLint0, kLvtMasked);  // keep the 8259 out of the way
    CHECK_FALSE(apic.acknowledge().has_value());  // nothing pending at all
    apic.acceptInterrupt(0x50, false);
    CHECK(apic.intrAsserted());
    wr(kTpr, 0x60);  // raised between the INTR check and INTA
    CHECK(apic.acknowledge() == std::optional<uint8_t>{0xEF});
    CHECK(apic.isr().none());  // a spurious vector is not put in service...
    CHECK(apic.irr().test(0x50));  // ...and the interrupt stays pending
    wr(kTpr, 0);
    CHECK(take() == 0x50);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC passes the 8259 through LINT0 in ExtINT mode", "[lapic]") {
    // Power-up BSP: virtual wire, even though the APIC is software-disabled.
    CHECK_FALSE(apic.intrAsserted());
    pic.intr = true;
    pic.vector = 0x08;
    CHECK(apic.intrAsserted());
    CHECK(take() == 0x08);
    CHECK(pic.acks == 1);
    CHECK(apic.isr().none());  // ExtINT bypasses IRR/ISR

    // Fixed interrupts are taken before the 8259.
    enable();
    apic.acceptInterrupt(0x70, false);
    pic.intr = true;
    CHECK(take() == 0x70);
    CHECK(take() == 0x08);

    // Masked LINT0: the 8259 does not reach INTR.
    wr(kEoi, 0);
    wr(kLvtLint0, kLvtMasked | kModeExtInt);
    pic.intr = true;
    CHECK_FALSE(apic.intrAsserted());
    wr(kLvtLint0, kModeExtInt);
    CHECK(apic.intrAsserted());

    // An AP comes out of reset with LINT0 masked.
    LocalApic ap(1, false, clock, &pic);
    CHECK_FALSE(ap.intrAsserted());
    // Globally disabled: the 8259 is wired straight to INTR.
    CHECK(ap.setApicBaseMsr(kDefaultBase));
    CHECK_FALSE(ap.globallyEnabled());
    CHECK(ap.intrAsserted());
    CHECK(ap.acknowledge() == std::optional<uint8_t>{0x08});
}

TEST_CASE_METHOD(ApicFixture, "LAPIC forces LVT masks while software-disabled", "[lapic]") {
    wr(kLvtTimer, 0x20);
    CHECK(rd(kLvtTimer) == (kLvtMasked | 0x20));
    wr(kLvtLint1, kModeNmi);
    CHECK(rd(kLvtLint1) == (kLvtMasked | kModeNmi));
    enable();
    wr(kLvtTimer, 0x20);
    wr(kLvtError, 0xFE);
    CHECK(rd(kLvtTimer) == 0x20);
    CHECK(rd(kLvtError) == 0xFE);
    // Clearing SVR bit 8 masks every entry at once.
    wr(kSvr, 0xFF);
    CHECK(rd(kLvtTimer) == (kLvtMasked | 0x20));
    CHECK(rd(kLvtError) == (kLvtMasked | 0xFE));
    CHECK(rd(kLvtLint0) == (kLvtMasked | kModeExtInt));
    // Fixed interrupts are not accepted while software-disabled.
    apic.acceptInterrupt(0x44, false);
    CHECK(apic.irr().none());
    // The SVR keeps only its vector, enable and focus bits.
    wr(kSvr, 0xFFFFFFFF);
    CHECK(rd(kSvr) == 0x3FF);
    // LVT reserved bits and the read-only delivery status are not writable.
    wr(kLvtTimer, 0xFFFFFFFF);
    CHECK(rd(kLvtTimer) == 0x000300FF);
    wr(kLvtError, 0xFFFFFFFF);
    CHECK(rd(kLvtError) == 0x000100FF);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC ESR collects illegal vectors and fires the error LVT", "[lapic]") {
    enable();
    apic.acceptInterrupt(5, false);
    CHECK(apic.irr().none());
    CHECK(rd(kEsr) == 0);
    CHECK(esrAfterLatch() == kEsrReceiveIllegalVector);
    CHECK(esrAfterLatch() == 0);

    wr(kLvtError, 0xFE);
    wr(kIcrLow, kShorthandSelf | 0x03);  // an IPI with vector 3 is not sent
    CHECK(apic.irr().test(0xFE));         // the error LVT fired
    CHECK_FALSE(apic.irr().test(0x03));
    CHECK(esrAfterLatch() == kEsrSendIllegalVector);

    // An illegal error vector only records the error; it does not loop.
    wr(kLvtError, 0x02);
    apic.acceptInterrupt(1, false);
    CHECK(esrAfterLatch() == kEsrReceiveIllegalVector);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC one-shot timer counts down at 1 GHz / divider", "[lapic]") {
    enable();
    wr(kTimerDivide, 0x0B);  // divide by 1
    wr(kLvtTimer, 0x30);
    clock.set(5000);
    wr(kTimerInitialCount, 1000);
    CHECK(rd(kTimerInitialCount) == 1000);
    CHECK(rd(kTimerCurrentCount) == 1000);
    CHECK(apic.nextDeadlineNs() == 6000);
    clock.set(5250);
    CHECK(rd(kTimerCurrentCount) == 750);
    apic.advanceTo(5999);
    CHECK(apic.irr().none());
    clock.set(6000);
    apic.advanceTo(6000);
    CHECK(apic.irr().test(0x30));
    CHECK(rd(kTimerCurrentCount) == 0);
    CHECK(apic.nextDeadlineNs() == kNoDeadline);
    CHECK(take() == 0x30);
    wr(kEoi, 0);
    clock.set(20000);
    apic.advanceTo(20000);
    CHECK(apic.irr().none());  // one shot only

    // Divide by 16: one tick every 16 ns.
    wr(kTimerDivide, 0x03);
    wr(kTimerInitialCount, 100);
    clock.set(20160);
    CHECK(rd(kTimerCurrentCount) == 90);
    clock.set(21599);
    CHECK(rd(kTimerCurrentCount) == 1);
    CHECK(apic.nextDeadlineNs() == 21600);
    // Writing 0 stops the timer.
    wr(kTimerInitialCount, 0);
    CHECK(rd(kTimerCurrentCount) == 0);
    CHECK(apic.nextDeadlineNs() == kNoDeadline);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC periodic timer reloads and merges missed periods", "[lapic]") {
    enable();
    wr(kLvtTimer, kLvtTimerPeriodic | 0x31);
    wr(kTimerInitialCount, 100);  // divide by 2 after reset: 200 ns per period
    CHECK(apic.timerState().divisor == 2);
    clock.set(50);
    CHECK(rd(kTimerCurrentCount) == 75);
    const int signalsBefore = intrSignals;
    clock.set(200);
    apic.advanceTo(200);
    CHECK(apic.irr().test(0x31));
    CHECK(intrSignals == signalsBefore + 1);  // the VMM is told INTR may have risen
    CHECK(rd(kTimerCurrentCount) == 100);
    CHECK(apic.nextDeadlineNs() == 400);
    clock.set(250);
    CHECK(rd(kTimerCurrentCount) == 75);
    CHECK(take() == 0x31);
    wr(kEoi, 0);
    clock.set(400);
    apic.advanceTo(400);
    CHECK(apic.irr().test(0x31));
    CHECK(take() == 0x31);
    wr(kEoi, 0);
    // A long gap: one interrupt, and the period grid is kept.
    clock.set(10050);
    apic.advanceTo(10050);
    CHECK(take() == 0x31);
    CHECK_FALSE(apic.intrAsserted());
    CHECK(apic.nextDeadlineNs() == 10200);
    CHECK(rd(kTimerCurrentCount) == 75);
    wr(kEoi, 0);

    // Masked: it keeps counting but reports no deadline and raises nothing.
    wr(kLvtTimer, kLvtMasked | kLvtTimerPeriodic | 0x31);
    CHECK(apic.nextDeadlineNs() == kNoDeadline);
    clock.set(10300);
    apic.advanceTo(10300);
    CHECK(apic.irr().none());
    CHECK(rd(kTimerCurrentCount) == 50);
    CHECK(apic.timerState().nextFireNs == 10400);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC timer divide configuration", "[lapic]") {
    enable();
    const std::pair<uint32_t, unsigned> table[] = {{0x0, 2},  {0x1, 4},  {0x2, 8},  {0x3, 16},
                                                   {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1}};
    for (auto [dcr, divisor] : table) {
        wr(kTimerDivide, dcr | 0xFFFFFFF4);  // only bits 0, 1 and 3 exist
        CHECK(rd(kTimerDivide) == dcr);
        CHECK(apic.timerState().divisor == divisor);
        wr(kTimerInitialCount, 1000);
        CHECK(apic.timerState().nextFireNs == clock.nowNs() + 1000ull * divisor);
        clock.advance(divisor * 10);
        CHECK(rd(kTimerCurrentCount) == 990);
    }
    // Changing the divider mid-count keeps the count and changes the rate.
    wr(kTimerDivide, 0xB);
    wr(kTimerInitialCount, 1000);
    clock.advance(400);
    wr(kTimerDivide, 0x0);  // now divide by 2
    CHECK(rd(kTimerCurrentCount) == 600);
    clock.advance(400);
    CHECK(rd(kTimerCurrentCount) == 400);
    CHECK(apic.timerState().nextFireNs == clock.nowNs() + 800);
    CHECK(apic.nextDeadlineNs() == kNoDeadline);  // the timer LVT is still masked
    // Rewriting the LVT mid-tick loses no time: divide by 128, 100 ns into the first tick.
    wr(kTimerDivide, 0xA);
    wr(kTimerInitialCount, 10);
    const uint64_t start = clock.nowNs();
    clock.advance(100);
    wr(kLvtTimer, kLvtMasked | 0x33);
    CHECK(apic.timerState().nextFireNs == start + 1280);
    clock.advance(200);  // 300 ns: 2 ticks
    CHECK(rd(kTimerCurrentCount) == 8);
    // A one-shot -> periodic switch keeps the count too (divide by 2 again).
    wr(kTimerDivide, 0x0);
    wr(kTimerInitialCount, 1000);
    clock.advance(400);
    wr(kLvtTimer, kLvtTimerPeriodic | 0x33);
    CHECK(rd(kTimerCurrentCount) == 800);
    CHECK(apic.nextDeadlineNs() == clock.nowNs() + 1600);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC LINT pins: NMI, fixed edge and level with remote IRR", "[lapic]") {
    enable();
    wr(kLvtLint1, kModeNmi);
    apic.setLint(1, true);
    CHECK(apic.takePendingNmi());
    CHECK_FALSE(apic.takePendingNmi());
    apic.setLint(1, true);  // no new edge
    CHECK_FALSE(apic.takePendingNmi());
    apic.setLint(1, false);
    apic.setLint(1, true);
    CHECK(apic.takePendingNmi());
    apic.setLint(1, false);
    wr(kLvtLint1, kLvtMasked | kModeNmi);
    apic.setLint(1, true);
    CHECK_FALSE(apic.takePendingNmi());
    apic.setLint(1, false);

    // LINT0 fixed, edge.
    wr(kLvtLint0, kModeFixed | 0x45);
    apic.setLint(0, true);
    CHECK(take() == 0x45);
    wr(kEoi, 0);
    apic.setLint(0, false);

    // LINT0 fixed, level, active low: delivered while low, once per EOI.
    wr(kLvtLint0, kLevelTriggered | kActiveLow | kLvtMasked | 0x46);
    apic.setLint(0, true);
    wr(kLvtLint0, kLevelTriggered | kActiveLow | 0x46);
    CHECK(apic.irr().none());
    apic.setLint(0, false);  // asserted
    CHECK(rd(kLvtLint0) & kRemoteIrr);
    CHECK(take() == 0x46);
    CHECK(apic.tmr().test(0x46));
    wr(kEoi, 0);
    CHECK(take() == 0x46);  // still asserted: delivered again after the EOI
    apic.setLint(0, true);
    wr(kEoi, 0);
    CHECK((rd(kLvtLint0) & kRemoteIrr) == 0);
    CHECK(apic.irr().none());

    // Globally disabled, LINT1 is the NMI pin.
    apic.setApicBaseMsr(kDefaultBase | kApicBaseBsp);
    apic.setLint(1, true);
    CHECK(apic.takePendingNmi());
}

TEST_CASE_METHOD(ApicFixture, "LAPIC self IPI goes straight to IRR", "[lapic]") {
    enable();
    wr(kIcrLow, kShorthandSelf | 0x55);
    CHECK(apic.irr().test(0x55));
    CHECK(rd(kIcrLow) == (kShorthandSelf | 0x55));  // delivery status 0: idle
    CHECK(ipis.empty());
    CHECK(intrSignals > 0);
    // Physical destination = own ID: also local only.
    wr(kIcrHigh, 0x00000000);
    wr(kIcrLow, 0x56);
    CHECK(apic.irr().test(0x56));
    CHECK(ipis.empty());
    CHECK(take() == 0x56);
    CHECK_FALSE(apic.intrAsserted());  // same priority class as 0x56, in service
    wr(kEoi, 0);
    CHECK(take() == 0x55);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC INIT and SIPI reach the IPI callback and the target APIC", "[lapic]") {
    enable();
    LocalApic ap1(1, false, clock);
    LocalApic ap2(2, false, clock);
    const std::vector<LocalApic*> apics{&apic, &ap1, &ap2};

    wr(kIcrHigh, 0x01000000);
    wr(kIcrLow, kLevelTriggered | kIcrLevelAssert | kModeInit);
    REQUIRE(ipis.size() == 1);
    Ipi expected{{0, ApicDeliveryMode::Init, false, 1, true}, DestinationShorthand::None, 0};
    CHECK(ipis[0] == expected);
    wr(kIcrLow, kLevelTriggered | kModeInit);  // INIT level de-assert: not sent
    CHECK(ipis.size() == 1);
    wr(kIcrLow, kModeStartUp | 0x9A);
    REQUIRE(ipis.size() == 2);
    expected = {{0x9A, ApicDeliveryMode::StartUp, false, 1, false}, DestinationShorthand::None, 0};
    CHECK(ipis[1] == expected);
    CHECK_FALSE(apic.takePendingInit());

    for (const Ipi& ipi : ipis) routeIpi(ipi, apics);
    CHECK(ap1.takePendingInit());
    CHECK(ap1.takePendingStartup() == std::optional<uint8_t>{0x9A});
    CHECK_FALSE(ap2.takePendingInit());
    CHECK_FALSE(ap2.takePendingStartup().has_value());

    // All excluding self: an NMI to everyone else.
    ipis.clear();
    wr(kIcrLow, kShorthandAllExcludingSelf | kModeNmi);
    REQUIRE(ipis.size() == 1);
    CHECK(ipis[0].shorthand == DestinationShorthand::AllExcludingSelf);
    CHECK(ipis[0].message.mode == ApicDeliveryMode::Nmi);
    routeIpi(ipis[0], apics);
    CHECK_FALSE(apic.takePendingNmi());
    CHECK(ap1.takePendingNmi());
    CHECK(ap2.takePendingNmi());

    // A fixed IPI to another APIC arrives in its IRR.
    ipis.clear();
    ap2.mmioWrite(kSvr, 4, kSvrSoftwareEnable | 0xFF);
    wr(kIcrHigh, 0x02000000);
    wr(kIcrLow, 0x77);
    REQUIRE(ipis.size() == 1);
    routeIpi(ipis[0], apics);
    CHECK(ap2.irr().test(0x77));
    CHECK(apic.irr().none());
}

TEST_CASE("LAPIC logical destinations: flat and cluster models", "[lapic]") {
    ManualClock clock;
    LocalApic a(0, true, clock), b(1, false, clock), c(2, false, clock);
    uint8_t logicalId = 1;
    for (LocalApic* apic : {&a, &b, &c}) {
        apic->mmioWrite(kSvr, 4, kSvrSoftwareEnable | 0xFF);
        apic->mmioWrite(kLdr, 4, uint32_t{logicalId} << 24);  // flat bitmaps 1, 2, 4
        logicalId <<= 1;
    }
    CHECK(b.matchesDestination(0x02, true));
    CHECK(b.matchesDestination(0x03, true));
    CHECK_FALSE(b.matchesDestination(0x05, true));
    CHECK(b.matchesDestination(0xFF, true));
    CHECK(b.matchesDestination(1, false));
    CHECK_FALSE(b.matchesDestination(2, false));

    const std::vector<LocalApic*> apics{&a, &b, &c};
    routeApicMessage({0x61, ApicDeliveryMode::Fixed, true, 0x05, false}, apics);
    CHECK(a.irr().test(0x61));
    CHECK_FALSE(b.irr().test(0x61));
    CHECK(c.irr().test(0x61));
    // Lowest priority: a single target.
    routeApicMessage({0x62, ApicDeliveryMode::LowestPriority, true, 0x06, false}, apics);
    CHECK(b.irr().test(0x62) + c.irr().test(0x62) == 1);
    CHECK_FALSE(a.irr().test(0x62));
    // Physical destination.
    routeApicMessage({0x63, ApicDeliveryMode::Fixed, false, 2, true}, apics);
    CHECK(c.irr().test(0x63));
    CHECK(c.tmr().test(0x63));
    CHECK_FALSE(a.irr().test(0x63));

    // Cluster model: high nibble cluster, low nibble member bitmap.
    b.mmioWrite(kDfr, 4, 0x0FFFFFFF);
    b.mmioWrite(kLdr, 4, 0x21000000);
    CHECK(b.matchesDestination(0x21, true));
    CHECK(b.matchesDestination(0x23, true));
    CHECK_FALSE(b.matchesDestination(0x22, true));
    CHECK_FALSE(b.matchesDestination(0x11, true));
}

TEST_CASE_METHOD(ApicFixture, "LAPIC APIC_BASE MSR: relocation and global disable", "[lapic]") {
    enable();
    CHECK_FALSE(apic.setApicBaseMsr(0xFEE00000 | kApicBaseGlobalEnable));
    CHECK(apic.apicBaseMsr() == 0xFEE00900);  // the BSP flag is read-only
    CHECK(apic.setApicBaseMsr(0xFED00000 | kApicBaseGlobalEnable | 0x400 /* x2APIC: ignored */));
    CHECK(apic.mmioBase() == 0xFED00000);
    CHECK(apic.apicBaseMsr() == 0xFED00900);
    CHECK(apic.softwareEnabled());  // a relocation keeps the registers

    apic.acceptInterrupt(0x40, false);
    CHECK(apic.setApicBaseMsr(0xFED00000));
    CHECK_FALSE(apic.globallyEnabled());
    CHECK(apic.mmioRead(kVersion, 4) == 0xFFFFFFFF);  // the page does not decode
    apic.acceptInterrupt(0x41, false);
    CHECK_FALSE(apic.intrAsserted());  // nothing delivered, PIC idle
    CHECK(apic.setApicBaseMsr(0xFED00000 | kApicBaseGlobalEnable));
    CHECK(apic.irr().none());  // back in the power-up state
    CHECK(rd(kSvr) == 0xFF);
    CHECK(rd(kLvtLint0) == 0x700);
}

TEST_CASE_METHOD(ApicFixture, "LAPIC INIT reset keeps the ID and the base", "[lapic]") {
    enable();
    wr(kId, 0x07000000);
    wr(kTpr, 0x30);
    apic.acceptInterrupt(0x80, false);
    apic.setApicBaseMsr(0xFED00000 | kApicBaseGlobalEnable);
    apic.resetForInit();
    CHECK(apic.id() == 7);
    CHECK(apic.mmioBase() == 0xFED00000);
    CHECK(rd(kTpr) == 0);
    CHECK(apic.irr().none());
    CHECK(rd(kLvtLint0) == kLvtMasked);  // no virtual wire after INIT
}
