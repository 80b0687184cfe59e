// The 82093AA I/O APIC: indirect register access, redirection entries, edge and level inputs.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "devices/io_apic.hpp"
#include "devices/local_apic.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::ioapic;

namespace {

constexpr uint8_t lowRegister(int pin) { return static_cast<uint8_t>(kRegRedirectionBase + 2 * pin); }

struct IoApicFixture {
    std::vector<ApicMessage> messages;
    IoApic ioapic{[this](const ApicMessage& m) { messages.push_back(m); }};

    uint32_t rd(uint8_t index) {
        ioapic.mmioWrite(kIoRegSel, 4, index);
        return static_cast<uint32_t>(ioapic.mmioRead(kIoWin, 4));
    }
    void wr(uint8_t index, uint32_t value) {
        ioapic.mmioWrite(kIoRegSel, 4, index);
        ioapic.mmioWrite(kIoWin, 4, value);
    }
    void program(int pin, uint32_t low, uint8_t destination = 0) {
        wr(static_cast<uint8_t>(lowRegister(pin) + 1), uint32_t{destination} << 24);
        wr(lowRegister(pin), low);
    }
};

constexpr uint32_t kLevel = static_cast<uint32_t>(kLevelTriggered);
constexpr uint32_t kMask = static_cast<uint32_t>(kMasked);
constexpr uint32_t kLow = static_cast<uint32_t>(kActiveLow);
constexpr uint32_t kRemote = static_cast<uint32_t>(kRemoteIrr);

}  // namespace

TEST_CASE_METHOD(IoApicFixture, "IOAPIC identification registers and reset state", "[ioapic]") {
    CHECK(ioapic.name() == "ioapic");
    CHECK(rd(kRegVersion) == 0x00170011);
    CHECK(rd(kRegId) == 0);
    wr(kRegId, 0xFFFFFFFF);
    CHECK(rd(kRegId) == 0x0F000000);  // bits 24-27 only
    CHECK(rd(kRegArbitration) == 0x0F000000);  // loaded from the ID
    wr(kRegArbitration, 0);
    wr(kRegVersion, 0);
    CHECK(rd(kRegArbitration) == 0x0F000000);
    CHECK(rd(kRegVersion) == 0x00170011);
    CHECK(rd(0x40) == 0);  // beyond the table: reserved
    CHECK(ioapic.mmioRead(kIoRegSel, 4) == 0x40);
    for (int pin = 0; pin < kPinCount; ++pin) {
        CHECK(rd(lowRegister(pin)) == kMask);
        CHECK(rd(static_cast<uint8_t>(lowRegister(pin) + 1)) == 0);
    }
    // Reserved bits, delivery status and remote IRR are not writable.
    wr(lowRegister(5), 0xFFFFFFFF);
    CHECK(rd(lowRegister(5)) == 0x0001AFFF);
    wr(static_cast<uint8_t>(lowRegister(5) + 1), 0xFFFFFFFF);
    CHECK(rd(static_cast<uint8_t>(lowRegister(5) + 1)) == 0xFF000000);
    CHECK(ioapic.redirectionEntry(5) == 0xFF0000000001AFFFull);
    // Non-dword IOWIN accesses do nothing.
    ioapic.mmioWrite(kIoWin, 1, 0);
    CHECK(ioapic.mmioRead(kIoWin, 2) == 0);
    CHECK(ioapic.redirectionEntry(5) == 0xFF0000000001AFFFull);

    ioapic.reset();
    CHECK(rd(lowRegister(5)) == kMask);
    CHECK(rd(kRegId) == 0);
    CHECK_THROWS_AS(ioapic.input(24), std::out_of_range);
    CHECK_THROWS_AS(ioapic.input(-1), std::out_of_range);
}

TEST_CASE_METHOD(IoApicFixture, "IOAPIC edge input delivers once per rising edge", "[ioapic]") {
    program(4, 0x34 | (1u << 11), 0x03);  // fixed, logical destination 0x03
    IrqLine& line = ioapic.input(4);
    line.setLevel(true);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0] == ApicMessage{0x34, ApicDeliveryMode::Fixed, true, 0x03, false});
    line.setLevel(true);
    CHECK(messages.size() == 1);
    line.setLevel(false);
    CHECK(messages.size() == 1);
    line.setLevel(true);
    CHECK(messages.size() == 2);
    line.setLevel(false);

    // Masked: the edge is lost, unmasking does not bring it back.
    program(4, kMask | 0x34);
    line.setLevel(true);
    program(4, 0x34);
    CHECK(messages.size() == 2);
    line.setLevel(false);
    // Other delivery modes keep their message fields; NMI is an edge even with the level bit.
    program(4, kLevel | 0x400);  // NMI
    line.setLevel(true);
    REQUIRE(messages.size() == 3);
    CHECK(messages[2].mode == ApicDeliveryMode::Nmi);
    CHECK_FALSE(messages[2].levelTriggered);
    CHECK((rd(lowRegister(4)) & kRemote) == 0);
    line.setLevel(false);
    // Reserved delivery mode 3: nothing is sent.
    program(4, 0x300 | 0x34);
    line.setLevel(true);
    CHECK(messages.size() == 3);
}

TEST_CASE_METHOD(IoApicFixture, "IOAPIC level input: remote IRR until EOI, then again while asserted", "[ioapic]") {
    program(9, kLevel | 0x39, 1);
    IrqLine& line = ioapic.input(9);
    line.setLevel(true);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0] == ApicMessage{0x39, ApicDeliveryMode::Fixed, false, 1, true});
    CHECK(rd(lowRegister(9)) & kRemote);
    line.setLevel(true);
    line.setLevel(false);
    line.setLevel(true);
    CHECK(messages.size() == 1);  // remote IRR holds further deliveries
    ioapic.endOfInterrupt(0x38);  // another vector: no effect
    CHECK(messages.size() == 1);
    ioapic.endOfInterrupt(0x39);
    CHECK(messages.size() == 2);  // still asserted: delivered again
    CHECK(rd(lowRegister(9)) & kRemote);
    line.setLevel(false);
    ioapic.endOfInterrupt(0x39);
    CHECK(messages.size() == 2);
    CHECK((rd(lowRegister(9)) & kRemote) == 0);

    // Switching the entry to edge clears a stuck remote IRR.
    line.setLevel(true);
    CHECK(messages.size() == 3);
    program(9, 0x39, 1);
    CHECK((rd(lowRegister(9)) & kRemote) == 0);
}

TEST_CASE_METHOD(IoApicFixture, "IOAPIC unmasking a pending level interrupt delivers it", "[ioapic]") {
    program(10, kMask | kLevel | 0x3A);
    ioapic.input(10).setLevel(true);
    CHECK(messages.empty());
    CHECK(ioapic.pinLevel(10));
    program(10, kLevel | 0x3A);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].vector == 0x3A);
    // Masking does not clear remote IRR; the EOI while masked only clears it.
    program(10, kMask | kLevel | 0x3A);
    ioapic.endOfInterrupt(0x3A);
    CHECK(messages.size() == 1);
    program(10, kLevel | 0x3A);
    CHECK(messages.size() == 2);
}

TEST_CASE_METHOD(IoApicFixture, "IOAPIC polarity: active-low inputs", "[ioapic]") {
    // Level, active low: a low line is asserted, so unmasking delivers.
    program(16, kLow | kLevel | 0x50);
    REQUIRE(messages.size() == 1);
    ioapic.input(16).setLevel(true);  // deasserted
    ioapic.endOfInterrupt(0x50);
    CHECK(messages.size() == 1);
    ioapic.input(16).setLevel(false);  // asserted again
    CHECK(messages.size() == 2);

    // Edge, active low: the falling edge is the one that counts.
    program(17, kLow | 0x51);
    ioapic.input(17).setLevel(true);
    CHECK(messages.size() == 2);
    ioapic.input(17).setLevel(false);
    REQUIRE(messages.size() == 3);
    CHECK(messages[2].vector == 0x51);
}

TEST_CASE("IOAPIC level interrupt through the local APIC: EOI broadcast clears remote IRR", "[ioapic][lapic]") {
    ManualClock clock;
    LocalApic apic(0, true, clock);
    const std::vector<LocalApic*> apics{&apic};
    IoApic ioapic([&](const ApicMessage& m) { routeApicMessage(m, apics); });
    apic.setEoiBroadcast([&](uint8_t vector) { ioapic.endOfInterrupt(vector); });
    apic.mmioWrite(lapic::kSvr, 4, lapic::kSvrSoftwareEnable | 0xFF);

    auto rd = [&](uint8_t index) {
        ioapic.mmioWrite(kIoRegSel, 4, index);
        return static_cast<uint32_t>(ioapic.mmioRead(kIoWin, 4));
    };
    auto wr = [&](uint8_t index, uint32_t value) {
        ioapic.mmioWrite(kIoRegSel, 4, index);
        ioapic.mmioWrite(kIoWin, 4, value);
    };
    wr(lowRegister(11) + 1, 0x00000000);
    wr(lowRegister(11), kLevel | 0x6B);
    wr(lowRegister(1), 0x31);  // an edge pin for comparison

    ioapic.input(11).setLevel(true);
    CHECK(apic.irr().test(0x6B));
    CHECK(apic.tmr().test(0x6B));
    CHECK(apic.acknowledge() == std::optional<uint8_t>{0x6B});
    apic.mmioWrite(lapic::kEoi, 4, 0);  // line still up: re-delivered at once
    CHECK(apic.irr().test(0x6B));
    CHECK(rd(lowRegister(11)) & kRemote);
    CHECK(apic.acknowledge() == std::optional<uint8_t>{0x6B});
    ioapic.input(11).setLevel(false);  // the driver quietened the device
    apic.mmioWrite(lapic::kEoi, 4, 0);
    CHECK((rd(lowRegister(11)) & kRemote) == 0);
    CHECK(apic.irr().none());

    ioapic.input(1).setLevel(true);
    CHECK(apic.irr().test(0x31));
    CHECK_FALSE(apic.tmr().test(0x31));
}
