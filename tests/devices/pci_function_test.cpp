#include <catch2/catch.hpp>

#include "devices/pci_function.hpp"

using namespace hvlab::devices;

namespace {
class TestFunction final : public PciFunction {
public:
    TestFunction() : PciFunction(0x8086, 0x100E, 0x02, 0x00, 0x00, 3) {
        defineBar(0, BarKind::Memory32, 0x20000);
        defineBar(1, BarKind::Io, 0x40);
        setInterruptPin(1);
    }
    std::string name() const override { return "test"; }
};
}  // namespace

TEST_CASE("PCI function: header identity is read-only", "[pci]") {
    TestFunction f;
    CHECK(f.configRead(pci::kVendorId, 4) == 0x100E8086u);
    CHECK(f.configRead(pci::kRevision, 4) == 0x02000003u);
    f.configWrite(pci::kVendorId, 4, 0);
    CHECK(f.configRead(pci::kVendorId, 2) == 0x8086u);
    CHECK(f.configRead(pci::kInterruptPin, 1) == 1u);
}

TEST_CASE("PCI function: BAR sizing and programming", "[pci]") {
    TestFunction f;
    CHECK(f.configRead(pci::kBar0 + 4, 4) == 1u);  // I/O space indicator
    f.configWrite(pci::kBar0, 4, 0xFFFFFFFF);
    CHECK(f.configRead(pci::kBar0, 4) == 0xFFFE0000u);  // 128 KiB memory BAR
    f.configWrite(pci::kBar0 + 4, 4, 0xFFFFFFFF);
    CHECK(f.configRead(pci::kBar0 + 4, 4) == 0x0000FFC1u);  // 64-port I/O BAR
    CHECK(f.configRead(pci::kBar0 + 8, 4) == 0u);  // BAR2 absent
    f.configWrite(pci::kBar0, 4, 0xFEB00000);
    f.configWrite(pci::kBar0 + 4, 4, 0xC000);
    CHECK(f.barAddress(0) == 0xFEB00000u);
    CHECK(f.barAddress(1) == 0xC000u);
    CHECK_FALSE(f.decodeEnabled(0));
    f.configWrite(pci::kCommand, 2, pci::kCommandMemory);
    CHECK(f.decodeEnabled(0));
    CHECK_FALSE(f.decodeEnabled(1));
    f.configWrite(pci::kCommand, 2, pci::kCommandIo | pci::kCommandMemory | pci::kCommandBusMaster);
    CHECK(f.decodeEnabled(1));
    CHECK(f.busMasterEnabled());
}

TEST_CASE("PCI function: INTx follows requests and Interrupt Disable", "[pci]") {
    TestFunction f;
    LatchedIrqLine line;
    f.connectIrq(&line);
    f.setIrq(true);
    CHECK(line.level());
    CHECK((f.configRead(pci::kStatus, 2) & pci::kStatusInterrupt) != 0);
    f.configWrite(pci::kCommand, 2, pci::kCommandIntxDisable);
    CHECK_FALSE(line.level());
    CHECK((f.configRead(pci::kStatus, 2) & pci::kStatusInterrupt) != 0);  // status still shows the request
    f.configWrite(pci::kCommand, 2, 0);
    CHECK(line.level());
    f.setIrq(false);
    CHECK_FALSE(line.level());
}

TEST_CASE("PCI function: the config-changed hook sees every write", "[pci]") {
    TestFunction f;
    int calls = 0;
    f.setConfigChangedHook([&](PciFunction&) { ++calls; });
    f.configWrite(pci::kBar0, 4, 0x1000);
    f.configWrite(pci::kCommand, 2, 3);
    CHECK(calls == 2);
}

TEST_CASE("PCI function: status error bits clear by writing 1, DEVSEL timing stays", "[pci]") {
    class Timed final : public PciFunction {
    public:
        Timed() : PciFunction(0x8086, 0x7010, 0x01, 0x01, 0x80) { write16(pci::kStatus, 0x8280); }  // DEVSEL medium + an error bit
        std::string name() const override { return "timed"; }
    };
    Timed f;
    f.configWrite(pci::kStatus, 2, 0xFFFF);
    CHECK(f.configRead(pci::kStatus, 2) == 0x0280u);
}
