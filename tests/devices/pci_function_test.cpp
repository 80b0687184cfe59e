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

namespace {
// A function with a 64-bit prefetchable BAR at 2/3 and two capabilities, as virtio-pci devices have.
class Bar64Function final : public PciFunction {
public:
    Bar64Function() : PciFunction(0x1AF4, 0x1042, 0x01, 0x00, 0x00, 1) {
        defineBar(2, BarKind::Memory64, 0x4000);
        const uint8_t first[] = {0x10, 0x01, 0x02};
        const uint8_t second[] = {0x04, 0x05};
        firstAt = addCapability(pci::kCapabilityVendor, first, sizeof first);
        secondAt = addCapability(0x11, second, sizeof second);
    }
    std::string name() const override { return "bar64"; }
    uint8_t firstAt = 0;
    uint8_t secondAt = 0;
};
}  // namespace

TEST_CASE("PCI function: a 64-bit BAR spans two registers", "[pci]") {
    Bar64Function f;
    CHECK(f.configRead(pci::kBar0 + 8, 4) == 0xCu);  // memory, 64-bit, prefetchable
    f.configWrite(pci::kBar0 + 8, 4, 0xFFFFFFFF);
    f.configWrite(pci::kBar0 + 12, 4, 0xFFFFFFFF);
    CHECK(f.configRead(pci::kBar0 + 8, 4) == 0xFFFFC00Cu);  // 16 KiB
    CHECK(f.configRead(pci::kBar0 + 12, 4) == 0xFFFFFFFFu);
    f.configWrite(pci::kBar0 + 8, 4, 0xE0004000);
    f.configWrite(pci::kBar0 + 12, 4, 0x1);
    CHECK(f.barAddress(2) == 0x1E0004000ull);
    CHECK(f.bar(3).kind == BarKind::None);
    f.configWrite(pci::kBar0 + 12, 4, 0);
    f.configWrite(pci::kCommand, 2, pci::kCommandMemory);
    CHECK(f.barAddress(2) == 0xE0004000ull);
    CHECK(f.decodeEnabled(2));
}

TEST_CASE("PCI function: the capability list is linked and read-only", "[pci]") {
    Bar64Function f;
    CHECK((f.configRead(pci::kStatus, 2) & pci::kStatusCapabilities) != 0);
    CHECK(f.configRead(pci::kCapabilitiesPointer, 1) == f.firstAt);
    CHECK(f.firstAt == 0x40);
    CHECK(f.secondAt == 0x48);  // dword aligned after 2 + 3 bytes
    CHECK(f.configRead(f.firstAt, 4) == (0x09u | 0x48u << 8 | 0x10u << 16 | 0x01u << 24));
    CHECK(f.configRead(f.secondAt, 4) == (0x11u | 0x00u << 8 | 0x04u << 16 | 0x05u << 24));
    f.configWrite(f.firstAt + 2, 1, 0xAA);
    CHECK(f.configRead(f.firstAt + 2, 1) == 0x10u);
    CHECK(f.configRead(0x80, 4) == 0u);  // beyond the list
}
