// The PIIX4 power-management function: PCI identity, the PM block on the I/O bus (PMBA and
// PMIOSE), the ACPI PM timer against a ManualClock, TMR_STS and the SCI, S5 power-off and the
// power button. Guest accesses go through the IoBus, as the VMM routes them.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "devices/pci_bus.hpp"
#include "devices/piix4_pm.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::piix4pm;

namespace {

constexpr uint16_t kBase = 0x600;  // where hvlab's BIOS puts the block (PM_IO_BASE)

class FixedPorts final : public PortDevice {
public:
    uint32_t ioRead(uint16_t, unsigned) override { return 0x5A; }
    void ioWrite(uint16_t, unsigned, uint32_t) override {}
    std::string name() const override { return "fixed-ports"; }
};

struct PmFixture {
    ManualClock clock;
    IoBus io;
    LatchedIrqLine sci;
    Piix4Pm pm{clock, io, &sci};
    std::vector<std::string> powerOffs;

    PmFixture() {
        pm.onPowerOff([this](std::string why) { powerOffs.push_back(std::move(why)); });
    }
    // What hvlab's BIOS does (firmware/bios/pci.asm pm_setup), minus SCI_EN.
    void enableAt(uint16_t base) {
        pm.configWrite(kPmBase, 4, base | 1u);
        pm.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
    }
    uint32_t in(uint32_t offset, unsigned size) { return io.read(static_cast<uint16_t>(kBase + offset), size); }
    void out(uint32_t offset, unsigned size, uint32_t value) {
        io.write(static_cast<uint16_t>(kBase + offset), size, value);
    }
    // Moves time to `ns` and lets the device catch up, as the VMM does at every exit.
    void at(uint64_t ns) {
        clock.set(ns);
        pm.advanceTo(ns);
    }
};

}  // namespace

TEST_CASE("PIIX4 PM config space identity", "[piix4]") {
    PmFixture f;
    PciFunction& fn = f.pm;
    CHECK(fn.configRead(pci::kVendorId, 2) == 0x8086);
    CHECK(fn.configRead(pci::kDeviceId, 2) == 0x7113);
    CHECK(fn.configRead(pci::kRevision, 1) == 0x03);
    CHECK(fn.configRead(pci::kRevision, 4) == 0x06800003);  // class 06, subclass 80, prog-if 00
    CHECK(fn.configRead(pci::kStatus, 2) == 0x0280);
    CHECK(fn.configRead(pci::kHeaderType, 1) == 0x00);
    CHECK(fn.configRead(pci::kInterruptPin, 1) == 1);
    CHECK(fn.configRead(kPmBase, 4) == 0x00000001);  // I/O space indicator, no base
    CHECK(fn.configRead(kPmRegMisc, 1) == 0);
    for (int bar = 0; bar < 6; ++bar) CHECK(fn.bar(bar).kind == BarKind::None);

    SECTION("identity registers are read-only, the interrupt line is not") {
        fn.configWrite(pci::kVendorId, 4, 0xFFFFFFFF);
        fn.configWrite(pci::kInterruptPin, 1, 4);
        fn.configWrite(pci::kInterruptLine, 1, 9);  // what the BIOS writes: the SCI's IRQ
        CHECK(fn.configRead(pci::kVendorId, 4) == 0x71138086);
        CHECK(fn.configRead(pci::kInterruptPin, 1) == 1);
        CHECK(fn.configRead(pci::kInterruptLine, 1) == 9);
    }
    SECTION("other device-specific registers read 0 and ignore writes") {
        for (unsigned offset = 0x44; offset < 0x100; offset += 4) {
            if (offset == kPmRegMisc) continue;
            fn.configWrite(static_cast<uint8_t>(offset), 4, 0xFFFFFFFF);
            CHECK(fn.configRead(static_cast<uint8_t>(offset), 4) == 0);
        }
        fn.configWrite(kPmRegMisc, 4, 0xFFFFFFFF);
        CHECK(fn.configRead(kPmRegMisc, 4) == kPmIoSpaceEnable);  // bits 7:1 and 81h-83h reserved
    }
}

TEST_CASE("PIIX4 PM: PMBA and PMIOSE map the block on the I/O bus", "[piix4]") {
    PmFixture f;
    PciFunction& fn = f.pm;

    SECTION("PMBA keeps bits 15:6, bit 0 reads 1") {
        fn.configWrite(kPmBase, 4, 0xFFFFFFFF);
        CHECK(fn.configRead(kPmBase, 4) == 0x0000FFC1);
        fn.configWrite(kPmBase, 4, 0);
        CHECK(fn.configRead(kPmBase, 4) == 0x00000001);
        fn.configWrite(kPmBase + 1, 1, 0x06);  // byte writes merge
        fn.configWrite(kPmBase, 1, 0x7F);
        CHECK(fn.configRead(kPmBase, 2) == 0x0641);
    }
    SECTION("nothing is decoded until PMIOSE is set") {
        fn.configWrite(kPmBase, 4, kBase | 1u);
        CHECK(f.io.deviceAt(kBase) == nullptr);
        fn.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
        CHECK(f.io.deviceAt(kBase) == &f.pm);
        CHECK(f.io.deviceAt(kBase + 63) == &f.pm);
        CHECK(f.io.deviceAt(kBase + 64) == nullptr);
        CHECK(f.pm.state().mappedAt == kBase);
        fn.configWrite(kPmRegMisc, 1, 0);
        CHECK(f.io.deviceAt(kBase) == nullptr);
        CHECK_FALSE(f.pm.state().mappedAt.has_value());
    }
    SECTION("moving PMBA moves the block") {
        f.enableAt(kBase);
        fn.configWrite(kPmBase, 4, 0xB000 | 1u);
        CHECK(f.io.deviceAt(kBase) == nullptr);
        CHECK(f.io.deviceAt(0xB000) == &f.pm);
        CHECK(f.io.deviceAt(0xB03F) == &f.pm);
        f.io.write(0xB002, 2, kTimerEnable);
        CHECK(f.io.read(0xB002, 2) == kTimerEnable);
        CHECK(f.io.ranges().size() == 1);
    }
    SECTION("a base of 0 is not decoded; the top of the I/O space is") {
        fn.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
        CHECK(f.io.ranges().empty());
        fn.configWrite(kPmBase, 4, 0xFFC1);
        CHECK(f.io.deviceAt(0xFFFF) == &f.pm);
    }
    SECTION("a base over another device is refused without harm and retried") {
        FixedPorts other;
        f.io.attach(0x720, 4, &other);
        f.enableAt(kBase);
        REQUIRE_NOTHROW(fn.configWrite(kPmBase, 4, 0x700 | 1u));  // 0x700-0x73F covers 0x720
        CHECK(f.io.deviceAt(0x720) == &other);
        CHECK(f.io.deviceAt(0x700) == nullptr);
        CHECK(f.io.deviceAt(kBase) == nullptr);
        CHECK(f.pm.state().conflict);
        f.io.detach(&other);
        fn.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);  // the next write tries again
        CHECK(f.io.deviceAt(0x700) == &f.pm);
        CHECK_FALSE(f.pm.state().conflict);
    }
    SECTION("the block leaves the bus with the function") {
        IoBus io;
        {
            Piix4Pm pm(f.clock, io, nullptr);
            pm.configWrite(kPmBase, 4, kBase | 1u);
            pm.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
            CHECK(io.deviceAt(kBase) == &pm);
        }
        CHECK(io.ranges().empty());
    }
}

TEST_CASE("PIIX4 PM: the BIOS sequence through configuration mechanism #1", "[piix4]") {
    // firmware/bios/pci.asm pm_setup on 00:01.3: PMBA = 0x601 (dword), PMREGMISC |= 1 (byte
    // read-modify-write), then SCI_EN in PM1_CNT with a word read-modify-write -- all before the
    // BIOS turns on the command register's I/O enable.
    PmFixture f;
    MmioBus mmio;
    PciBus bus(f.io, mmio);
    bus.attachTo(f.io);
    bus.add(1, 3, f.pm);
    f.io.write(0xCF8, 4, pci_config::address(1, 3, 0x00));
    CHECK(f.io.read(0xCFC, 4) == 0x71138086);
    f.io.write(0xCF8, 4, pci_config::address(1, 3, kPmBase));
    f.io.write(0xCFC, 4, 0x601);
    f.io.write(0xCF8, 4, pci_config::address(1, 3, kPmRegMisc));
    const uint32_t misc = f.io.read(0xCFC, 1);
    f.io.write(0xCFC, 1, misc | 1);
    f.io.write(kBase + 4, 2, f.io.read(kBase + 4, 2) | kSciEnable);
    CHECK(f.pm.configRead(pci::kCommand, 2) == 0);
    CHECK(f.in(kPm1Control, 2) == kSciEnable);
}

TEST_CASE("PIIX4 PM timer conversion is exact", "[piix4]") {
    CHECK(timerTicksAt(0) == 0);
    CHECK(timerTicksAt(1'000'000'000) == kTimerHz);
    CHECK(timerTicksAt(1'000) == 3);  // 3.58 ticks
    std::mt19937_64 rng(7);
    for (int i = 0; i < 10000; ++i) {
        const uint64_t tick = i < 100 ? static_cast<uint64_t>(i) : rng() % (uint64_t{1} << 44);
        const uint64_t ns = nsAtTimerTick(tick);
        INFO("tick " << tick);
        CHECK(timerTicksAt(ns) == tick);
        if (ns > 0) CHECK(timerTicksAt(ns - 1) == tick - 1);
    }
}

TEST_CASE("PIIX4 PM timer runs at 3.579545 MHz from the clock", "[piix4]") {
    PmFixture f;
    f.enableAt(kBase);
    CHECK(f.in(kPmTimer, 4) == 0);
    f.clock.set(1'000'000'000);  // no advanceTo: reads compute from the clock
    CHECK(f.in(kPmTimer, 4) == 3579545);
    f.clock.advance(1'000'000);  // one more millisecond: 3579.545 ticks
    CHECK(f.in(kPmTimer, 4) == 3579545 + 3579);
    f.clock.set(nsAtTimerTick(0x1000000) - 1);  // the last tick before the 24-bit wrap
    CHECK(f.in(kPmTimer, 4) == 0xFFFFFF);
    f.clock.set(nsAtTimerTick(0x1000000 + 5));
    CHECK(f.in(kPmTimer, 4) == 5);

    SECTION("bits 31:24 read 0 and the timer ignores writes") {
        f.clock.set(nsAtTimerTick(0x7ABCDEF));
        f.out(kPmTimer, 4, 0);
        CHECK(f.in(kPmTimer, 4) == 0x0ABCDEF);
        CHECK(f.in(kPmTimer + 3, 1) == 0);
    }
    SECTION("byte and word reads see the same counter") {
        f.clock.set(nsAtTimerTick(0x2123456));
        CHECK(f.in(kPmTimer, 1) == 0x56);
        CHECK(f.in(kPmTimer + 1, 1) == 0x34);
        CHECK(f.in(kPmTimer + 2, 1) == 0x12);
        CHECK(f.in(kPmTimer + 1, 2) == 0x1234);
    }
    SECTION("a VM created later counts from its own zero") {
        ManualClock late;
        late.set(5'000'000'000);
        IoBus io;
        Piix4Pm pm(late, io, nullptr);
        pm.configWrite(kPmBase, 4, kBase | 1u);
        pm.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
        CHECK(io.read(kBase + kPmTimer, 4) == (5 * kTimerHz & kTimerMask));
        CHECK_FALSE(io.read(kBase, 2) & kTimerStatus);  // the toggles before creation do not count
    }
}

TEST_CASE("PIIX4 PM: TMR_STS at every bit-23 toggle, SCI while enabled", "[piix4]") {
    PmFixture f;
    f.enableAt(kBase);
    const uint64_t firstToggle = nsAtTimerTick(uint64_t{1} << kTimerStatusBit);  // about 2.34 s
    CHECK(firstToggle > 2'343'000'000);
    CHECK(firstToggle < 2'344'000'000);

    SECTION("no deadline unless TMR_EN and SCI_EN are set") {
        CHECK(f.pm.nextDeadlineNs() == kNoDeadline);
        f.out(kPm1Enable, 2, kTimerEnable);
        CHECK(f.pm.nextDeadlineNs() == kNoDeadline);  // SCI_EN clear: events would go to SMI
        f.out(kPm1Control, 2, kSciEnable);
        CHECK(f.pm.nextDeadlineNs() == firstToggle);
        f.out(kPm1Enable, 2, 0);
        CHECK(f.pm.nextDeadlineNs() == kNoDeadline);
    }
    SECTION("the deadline is exactly where bit 23 toggles; write 1 to clear drops the SCI") {
        f.out(kPm1Control, 2, kSciEnable);
        f.out(kPm1Enable, 2, kTimerEnable);
        f.at(firstToggle - 1);
        CHECK_FALSE(f.in(kPmTimer, 4) & 0x800000);
        CHECK(f.in(kPm1Status, 2) == 0);
        CHECK_FALSE(f.sci.level());
        f.at(firstToggle);
        CHECK(f.in(kPmTimer, 4) == 0x800000);
        CHECK(f.in(kPm1Status, 2) == kTimerStatus);
        CHECK(f.sci.level());
        CHECK(f.pm.nextDeadlineNs() == kNoDeadline);  // raised: nothing more until it is cleared

        f.out(kPm1Status, 2, 0xFFFF & ~kTimerStatus);  // writing 0 to TMR_STS leaves it
        CHECK(f.in(kPm1Status, 2) == kTimerStatus);
        CHECK(f.sci.level());
        f.out(kPm1Status, 2, kTimerStatus);
        CHECK(f.in(kPm1Status, 2) == 0);
        CHECK_FALSE(f.sci.level());
        // The next toggle (bit 23 back to 0 at 2^24 ticks) is the next deadline.
        CHECK(f.pm.nextDeadlineNs() == nsAtTimerTick(uint64_t{2} << kTimerStatusBit));
        f.at(f.pm.nextDeadlineNs());
        CHECK(f.in(kPmTimer, 4) == 0);
        CHECK(f.sci.level());
    }
    SECTION("TMR_STS latches with TMR_EN clear; enabling it raises the SCI at once") {
        f.out(kPm1Control, 2, kSciEnable);
        f.clock.set(firstToggle + 1000);  // no advanceTo: the status is computed at the access
        CHECK(f.in(kPm1Status, 2) == kTimerStatus);
        CHECK_FALSE(f.sci.level());
        f.out(kPm1Enable, 2, kTimerEnable);
        CHECK(f.sci.level());
        f.out(kPm1Control, 2, 0);  // SCI_EN off: the line drops, the status stays
        CHECK_FALSE(f.sci.level());
        CHECK(f.in(kPm1Status, 2) == kTimerStatus);
    }
    SECTION("several toggles while nobody looked leave one status bit") {
        f.out(kPm1Control, 2, kSciEnable);
        f.out(kPm1Enable, 2, kTimerEnable);
        f.at(nsAtTimerTick(uint64_t{7} << kTimerStatusBit) + 5);
        CHECK(f.in(kPm1Status, 2) == kTimerStatus);
        f.out(kPm1Status, 1, kTimerStatus);  // byte write to clear
        CHECK(f.in(kPm1Status, 2) == 0);
        CHECK_FALSE(f.sci.level());
        CHECK(f.sci.transitions() == 2);
    }
}

TEST_CASE("PIIX4 PM: S5 powers off, other sleep types are ignored", "[piix4]") {
    PmFixture f;
    f.enableAt(kBase);
    f.out(kPm1Control, 2, kSciEnable);
    constexpr auto sleepType = [](unsigned type) { return static_cast<uint16_t>(type << kSleepTypeShift); };

    SECTION("SLP_TYP without SLP_EN only stores the type; SLP_EN reads 0") {
        f.out(kPm1Control, 2, kSciEnable | sleepType(5));
        CHECK(f.in(kPm1Control, 2) == (kSciEnable | sleepType(5)));
        f.out(kPm1Control, 2, kSciEnable | sleepType(5) | kSleepEnable | kGlobalRelease);
        CHECK(f.in(kPm1Control, 2) == (kSciEnable | sleepType(5)));  // write-only bits read 0
        CHECK(f.powerOffs.empty());
    }
    SECTION("every non-S5 type is ignored") {
        for (unsigned type = 1; type < 8; ++type) f.out(kPm1Control, 2, kSciEnable | sleepType(type) | kSleepEnable);
        CHECK(f.powerOffs.empty());
    }
    SECTION("SLP_TYP 0 with SLP_EN calls the power-off callback once") {
        f.out(kPm1Control, 2, kSciEnable | kSleepEnable);
        REQUIRE(f.powerOffs.size() == 1);
        CHECK(f.powerOffs[0].find("S5") != std::string::npos);
    }
    SECTION("a byte write to the high half is enough (what a byte-wise OS does)") {
        f.out(kPm1Control + 1, 1, kSleepEnable >> 8);
        CHECK(f.powerOffs.size() == 1);
    }
    SECTION("a dword write spanning PM1_CNT and the reserved bytes after it") {
        f.out(kPm1Control, 4, 0xFFFF0000u | kSleepEnable | kSciEnable);
        CHECK(f.powerOffs.size() == 1);
    }
    SECTION("no callback wired: logged, no crash") {
        Piix4Pm pm(f.clock, f.io, nullptr);  // a second function, never mapped
        pm.configWrite(kPmBase, 4, 0xB001);
        pm.configWrite(kPmRegMisc, 1, kPmIoSpaceEnable);
        REQUIRE_NOTHROW(f.io.write(0xB004, 2, kSleepEnable));
        CHECK(f.powerOffs.empty());
    }
}

TEST_CASE("PIIX4 PM: the power button", "[piix4]") {
    PmFixture f;
    f.enableAt(kBase);

    SECTION("status without enables, SCI once PWRBTN_EN and SCI_EN are set") {
        f.pm.pressPowerButton();
        CHECK(f.in(kPm1Status, 2) == kPowerButtonStatus);
        CHECK_FALSE(f.sci.level());
        f.out(kPm1Enable, 2, kPowerButtonEnable);
        CHECK_FALSE(f.sci.level());
        f.out(kPm1Control, 2, kSciEnable);
        CHECK(f.sci.level());
        f.out(kPm1Status + 1, 1, kPowerButtonStatus >> 8);
        CHECK(f.in(kPm1Status, 2) == 0);
        CHECK_FALSE(f.sci.level());
    }
    SECTION("pressed while enabled: the SCI rises at once") {
        f.out(kPm1Control, 2, kSciEnable);
        f.out(kPm1Enable, 2, kPowerButtonEnable | kTimerEnable);
        f.pm.pressPowerButton();
        CHECK(f.sci.level());
        CHECK(f.pm.state().pm1Status == kPowerButtonStatus);
        CHECK(f.pm.state().sci);
    }
    SECTION("an OS clearing all status bits at once (write 0xFFFF)") {
        f.pm.pressPowerButton();
        f.clock.set(nsAtTimerTick(uint64_t{1} << kTimerStatusBit));
        CHECK(f.in(kPm1Status, 2) == (kPowerButtonStatus | kTimerStatus));
        f.out(kPm1Status, 2, 0xFFFF);
        CHECK(f.in(kPm1Status, 2) == 0);
    }
}

TEST_CASE("PIIX4 PM: registers follow their widths and masks", "[piix4]") {
    PmFixture f;
    f.enableAt(kBase);
    f.out(kPm1Enable, 2, 0xFFFF);
    CHECK(f.in(kPm1Enable, 2) == (kTimerEnable | kGlobalEnable | kPowerButtonEnable | kRtcEnable));
    f.out(kPm1Control, 2, 0xFFFF & ~kSleepEnable);
    CHECK(f.in(kPm1Control, 2) == (kSciEnable | kBusMasterReload | kSleepTypeMask));
    f.out(kPm1Status, 2, 0xFFFF);
    CHECK(f.in(kPm1Status, 2) == 0);  // write 1 to clear never sets anything
    // A dword at 0 covers PM1_STS and PM1_EN, at 2 PM1_EN and PM1_CNT.
    CHECK(f.in(kPm1Status, 4) == 0x05210000u);
    CHECK(f.in(kPm1Enable, 4) == 0x1C030521u);
    for (uint32_t offset = 0x0C; offset < kBlockSize; ++offset) {
        f.out(offset, 1, 0xFF);
        CHECK(f.in(offset, 1) == 0);
    }
}

TEST_CASE("PIIX4 PM: random guest accesses never crash or escape the block", "[piix4]") {
    PmFixture f;
    FixedPorts neighbour;
    f.io.attach(kBase + kBlockSize, 4, &neighbour);
    f.enableAt(kBase);
    std::mt19937 rng(42);
    const unsigned sizes[] = {1, 2, 4};
    for (int i = 0; i < 20000; ++i) {
        const auto offset = static_cast<uint32_t>(rng() % kBlockSize);
        const unsigned size = sizes[rng() % 3];
        const uint32_t value = rng();
        f.clock.advance(rng() % 10'000'000);
        if (rng() % 2) {
            // Never S5: the fixture would record a power-off and go on.
            const bool sleeps = (offset <= 5 && offset + size > 5 && (value >> (8 * (5 - offset)) & 0x20));
            if (!sleeps) f.out(offset, size, value);
        } else {
            const uint32_t v = f.in(offset, size);
            if (offset + size > kBlockSize) {
                // Bytes past the block read as all-ones.
                const unsigned inside = kBlockSize - offset;
                CHECK(v >> (8 * inside) == (0xFFFFFFFFu >> (8 * (4 - size + inside))));
            }
        }
        if (rng() % 64 == 0) f.pm.configWrite(kPmBase, 4, rng());  // move the block around
        if (rng() % 64 == 0) f.pm.configWrite(kPmBase, 4, kBase | 1u);
        f.pm.advanceTo(f.clock.nowNs());
    }
    CHECK(f.powerOffs.empty());
    CHECK(f.io.deviceAt(kBase + kBlockSize) == &neighbour);
}
