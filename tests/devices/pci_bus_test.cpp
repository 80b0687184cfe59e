#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "devices/i440fx.hpp"
#include "devices/pci_bus.hpp"

using namespace hvlab::devices;

namespace {

// A function with one memory BAR (4 KiB) and one I/O BAR (32 ports) that records BAR accesses.
class RecordingFunction final : public PciFunction {
public:
    explicit RecordingFunction(uint8_t pin = 1) : PciFunction(0x1234, 0x5678, 0x02, 0x00, 0x00, 1) {
        defineBar(0, BarKind::Memory32, 0x1000);
        defineBar(1, BarKind::Io, 0x20);
        setInterruptPin(pin);
    }
    std::string name() const override { return "recorder"; }
    uint32_t barIoRead(int bar, uint32_t offset, unsigned) override {
        lastBar = bar;
        lastOffset = offset;
        return 0xAB;
    }
    uint64_t barMmioRead(int bar, uint64_t offset, unsigned) override {
        lastBar = bar;
        lastOffset = offset;
        return 0xCAFE;
    }
    void barMmioWrite(int bar, uint64_t offset, unsigned, uint64_t value) override {
        lastBar = bar;
        lastOffset = offset;
        lastValue = value;
    }
    int lastBar = -1;
    uint64_t lastOffset = 0;
    uint64_t lastValue = 0;
};

class DummyPorts final : public PortDevice {
public:
    uint32_t ioRead(uint16_t, unsigned) override { return 0x5A; }
    void ioWrite(uint16_t, unsigned, uint32_t) override {}
    std::string name() const override { return "dummy"; }
};

struct Board {
    IoBus io;
    MmioBus mmio;
    PciBus bus{io, mmio};
    I440fxHostBridge host;
    Piix3IsaBridge isa;
    Board() {
        bus.attachTo(io);
        bus.add(0, 0, host);
        bus.add(1, 0, isa);
    }
    uint32_t read(int dev, int fn, uint8_t offset, unsigned size) {
        io.write(pci_config::kAddressPort, 4, pci_config::address(dev, fn, offset));
        return io.read(static_cast<uint16_t>(pci_config::kDataPort + (offset & 3)), size);
    }
    void write(int dev, int fn, uint8_t offset, unsigned size, uint32_t value) {
        io.write(pci_config::kAddressPort, 4, pci_config::address(dev, fn, offset));
        io.write(static_cast<uint16_t>(pci_config::kDataPort + (offset & 3)), size, value);
    }
};

}  // namespace

TEST_CASE("PCI bus: configuration mechanism #1 with byte, word and dword accesses", "[pci-bus][chipset]") {
    Board b;
    CHECK(b.read(0, 0, 0x00, 4) == 0x12378086u);  // i440FX
    CHECK(b.read(0, 0, 0x00, 1) == 0x86u);
    CHECK(b.read(0, 0, 0x01, 1) == 0x80u);
    CHECK(b.read(0, 0, 0x02, 1) == 0x37u);
    CHECK(b.read(0, 0, 0x03, 1) == 0x12u);
    CHECK(b.read(0, 0, 0x02, 2) == 0x1237u);     // word at 0xCFE
    CHECK(b.read(0, 0, 0x08, 4) == 0x06000002u);  // class 06 00 00, revision 2
    CHECK(b.read(1, 0, 0x00, 4) == 0x70008086u);  // PIIX3
    CHECK(b.read(1, 0, 0x0A, 2) == 0x0601u);      // ISA bridge
    CHECK(b.read(1, 0, 0x0E, 1) == 0x80u);        // multi-function

    // Writes at a byte lane reach the right offset.
    b.write(1, 0, 0x3C, 1, 0x0B);
    CHECK(b.read(1, 0, 0x3C, 1) == 0x0Bu);
    CHECK(b.read(1, 0, 0x3C, 4) == 0x0000000Bu);
}

TEST_CASE("PCI bus: CONFIG_ADDRESS is dword-only, byte accesses are something else", "[pci-bus][chipset]") {
    Board b;
    b.io.write(0xCF8, 4, 0xFFFFFFFF);
    CHECK(b.io.read(0xCF8, 4) == 0x80FFFFFCu);  // reserved bits 30:24 and 1:0 read 0
    b.io.write(0xCF8, 4, 0x80000000);
    CHECK(b.io.read(0xCF8, 4) == 0x80000000u);
    b.io.write(0xCFB, 1, 0x01);  // a type-2 probe must not touch the address register
    b.io.write(0xCF8, 1, 0x00);
    b.io.write(0xCFA, 1, 0x00);
    CHECK(b.io.read(0xCF8, 4) == 0x80000000u);
    CHECK(b.io.read(0xCF8, 1) == 0xFFu);
    CHECK(b.io.read(0xCFA, 1) == 0xFFu);
    CHECK(b.io.read(0xCF8, 2) == 0xFFFFu);
}

TEST_CASE("PCI bus: absent functions, other buses and a clear enable bit master-abort", "[pci-bus][chipset]") {
    Board b;
    CHECK(b.read(5, 0, 0x00, 4) == 0xFFFFFFFFu);
    CHECK(b.read(0, 1, 0x00, 2) == 0xFFFFu);
    CHECK(b.read(1, 7, 0x00, 1) == 0xFFu);
    b.io.write(0xCF8, 4, pci_config::kEnable | 1u << 16);  // bus 1, device 0
    CHECK(b.io.read(0xCFC, 4) == 0xFFFFFFFFu);
    b.io.write(0xCF8, 4, 0x00000000);  // enable bit clear
    CHECK(b.io.read(0xCFC, 4) == 0xFFFFFFFFu);
    b.io.write(0xCFC, 4, 0);  // ignored, no crash
    // A word at lane 3 would cross the dword: master abort.
    b.io.write(0xCF8, 4, pci_config::address(0, 0, 0));
    CHECK(b.io.read(0xCFF, 2) == 0xFFFFu);
    CHECK(b.io.read(0xCFE, 4) == 0xFFFFFFFFu);
}

TEST_CASE("PCI bus: add() refuses bad and occupied slots", "[pci-bus][chipset]") {
    Board b;
    RecordingFunction f;
    CHECK_THROWS_AS(b.bus.add(0, 0, f), std::invalid_argument);
    CHECK_THROWS_AS(b.bus.add(32, 0, f), std::invalid_argument);
    CHECK_THROWS_AS(b.bus.add(3, 8, f), std::invalid_argument);
    b.bus.add(3, 0, f);
    CHECK(b.bus.functionAt(3, 0) == &f);
    CHECK(b.bus.functionAt(4, 0) == nullptr);
}

TEST_CASE("PCI bus: BAR sizing and windows that follow the BAR and the command register", "[pci-bus][chipset]") {
    Board b;
    RecordingFunction f;
    b.bus.add(3, 0, f);
    std::vector<PciMmioMapChange> changes;
    b.bus.onMmioMapChanged([&](const PciMmioMapChange& c) { changes.push_back(c); });

    // Sizing as firmware does: write all-ones, read back the size mask.
    b.write(3, 0, 0x10, 4, 0xFFFFFFFF);
    b.write(3, 0, 0x14, 4, 0xFFFFFFFF);
    CHECK(b.read(3, 0, 0x10, 4) == 0xFFFFF000u);  // 4 KiB memory
    CHECK(b.read(3, 0, 0x14, 4) == 0x0000FFE1u);  // 32 ports in the 64K space, I/O indicator
    CHECK(b.io.deviceAt(0xFFE0) == nullptr);       // decoding is still off

    b.write(3, 0, 0x10, 4, 0xFEBF0000);
    b.write(3, 0, 0x14, 4, 0xC000);
    CHECK(b.mmio.find(0xFEBF0000) == nullptr);
    b.write(3, 0, 0x04, 2, pci::kCommandIo | pci::kCommandMemory);

    // I/O window: absolute port -> BAR 1, offset 4.
    CHECK(b.io.read(0xC004, 1) == 0xABu);
    CHECK(f.lastBar == 1);
    CHECK(f.lastOffset == 4u);
    CHECK(b.io.deviceAt(0xC01F) != nullptr);
    CHECK(b.io.deviceAt(0xC020) == nullptr);
    // MMIO window: offset inside BAR 0.
    uint64_t v = 0;
    CHECK(b.mmio.read(0xFEBF0010, 4, v));
    CHECK(v == 0xCAFEu);
    CHECK(f.lastBar == 0);
    CHECK(f.lastOffset == 0x10u);
    CHECK(b.mmio.write(0xFEBF0FFC, 4, 0x1234));
    CHECK(f.lastValue == 0x1234u);
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].oldBase.has_value());
    CHECK(changes[0].newBase == std::optional<uint64_t>(0xFEBF0000));
    CHECK(changes[0].size == 0x1000u);
    CHECK(changes[0].bar == 0);

    // Rewriting the BARs moves the windows.
    b.write(3, 0, 0x14, 4, 0xD000);
    b.write(3, 0, 0x10, 4, 0xFEBE0000);
    CHECK(b.io.deviceAt(0xC000) == nullptr);
    CHECK(b.io.deviceAt(0xD000) != nullptr);
    CHECK(b.mmio.find(0xFEBF0000) == nullptr);
    CHECK(b.mmio.find(0xFEBE0800) != nullptr);
    REQUIRE(changes.size() == 2);
    CHECK(changes[1].oldBase == std::optional<uint64_t>(0xFEBF0000));
    CHECK(changes[1].newBase == std::optional<uint64_t>(0xFEBE0000));

    // Clearing the decode enables removes them.
    b.write(3, 0, 0x04, 2, pci::kCommandMemory);
    CHECK(b.io.deviceAt(0xD000) == nullptr);
    CHECK(b.io.read(0xD000, 1) == 0xFFu);
    CHECK(b.mmio.find(0xFEBE0000) != nullptr);
    b.write(3, 0, 0x04, 2, 0);
    CHECK(b.mmio.find(0xFEBE0000) == nullptr);
    REQUIRE(changes.size() == 3);
    CHECK(changes[2].oldBase == std::optional<uint64_t>(0xFEBE0000));
    CHECK_FALSE(changes[2].newBase.has_value());
}

TEST_CASE("PCI bus: a BAR on top of another device is refused, not fatal", "[pci-bus][chipset]") {
    Board b;
    DummyPorts keyboard;
    b.io.attach(0x60, 1, &keyboard);
    RecordingFunction f;
    RecordingFunction g;
    b.bus.add(3, 0, f);
    b.bus.add(4, 0, g);

    b.write(3, 0, 0x14, 4, 0x60);  // 0x60-0x7F overlaps the "keyboard"
    b.write(3, 0, 0x04, 2, pci::kCommandIo);
    CHECK(b.io.deviceAt(0x60) == &keyboard);
    CHECK(b.io.deviceAt(0x70) == nullptr);
    auto view = b.bus.functions();
    REQUIRE(view.size() == 4);
    CHECK(view[2].device == 3);
    REQUIRE(view[2].bars.size() == 2);
    CHECK(view[2].bars[1].decoding);
    CHECK_FALSE(view[2].bars[1].mapped);
    CHECK(view[2].bars[1].conflict);

    // Over the configuration ports themselves: refused as well.
    b.write(3, 0, 0x14, 4, 0xCE0);
    CHECK(b.io.deviceAt(0xCE0) == nullptr);
    CHECK(b.read(0, 0, 0, 4) == 0x12378086u);  // config mechanism still works

    // Moving it somewhere free maps it.
    b.write(3, 0, 0x14, 4, 0xE000);
    CHECK(b.io.deviceAt(0xE000) != nullptr);
    // A second function asking for the same window is refused; the first keeps it.
    b.write(4, 0, 0x14, 4, 0xE000);
    b.write(4, 0, 0x04, 2, pci::kCommandIo);
    CHECK(b.io.read(0xE000, 1) == 0xABu);
    CHECK(g.lastBar == -1);
    CHECK(f.lastBar == 1);

    // The board can veto MMIO windows (e.g. on RAM).
    std::vector<PciMmioMapChange> changes;
    b.bus.onMmioMapChanged([&](const PciMmioMapChange& c) { changes.push_back(c); });
    b.bus.setMmioRangeCheck([](uint64_t base, uint64_t) { return base >= 0xC0000000; });
    b.write(3, 0, 0x10, 4, 0x00100000);
    b.write(3, 0, 0x04, 2, pci::kCommandIo | pci::kCommandMemory);
    CHECK(b.mmio.find(0x00100000) == nullptr);
    CHECK(changes.empty());
    b.write(3, 0, 0x10, 4, 0xE0000000);
    CHECK(b.mmio.find(0xE0000000) != nullptr);
    CHECK(changes.size() == 1);
}

TEST_CASE("PCI bus: functions() lists slots in order with their BARs", "[pci-bus][chipset]") {
    Board b;
    RecordingFunction f;
    b.bus.add(3, 0, f);
    b.write(3, 0, 0x14, 4, 0xC100);
    b.write(3, 0, 0x04, 2, pci::kCommandIo);
    auto view = b.bus.functions();
    REQUIRE(view.size() == 3);
    CHECK(view[0].name == "i440fx");
    CHECK(view[0].bars.empty());
    CHECK(view[1].name == "piix3-isa");
    CHECK(view[2].vendorId == 0x1234);
    CHECK(view[2].deviceId == 0x5678);
    CHECK(view[2].classCode == 0x02);
    REQUIRE(view[2].bars.size() == 2);
    CHECK(view[2].bars[0].kind == BarKind::Memory32);
    CHECK_FALSE(view[2].bars[0].mapped);
    CHECK(view[2].bars[1].kind == BarKind::Io);
    CHECK(view[2].bars[1].address == 0xC100u);
    CHECK(view[2].bars[1].size == 0x20u);
    CHECK(view[2].bars[1].mapped);
}

TEST_CASE("PCI bus: the PIIX3 reset control register at 0xCF9", "[pci-bus][chipset]") {
    Board b;
    int resets = 0;
    bool lastHard = false;
    b.bus.onReset([&](bool hard) {
        ++resets;
        lastHard = hard;
    });
    b.io.write(0xCF9, 1, 0x02);  // SRST only: stored, no reset
    CHECK(b.io.read(0xCF9, 1) == 0x02u);
    CHECK(resets == 0);
    b.io.write(0xCF9, 1, 0x06);
    CHECK(resets == 1);
    CHECK(lastHard);
    b.io.write(0xCF9, 1, 0x04);
    CHECK(resets == 2);
    CHECK_FALSE(lastHard);
    b.io.write(0xCF8, 4, 0x80000000);  // the dword register is unaffected
    CHECK(b.io.read(0xCF8, 4) == 0x80000000u);
}

TEST_CASE("i440FX: PAM and SMRAM registers", "[i440fx][chipset]") {
    Board b;
    std::vector<std::pair<uint8_t, uint8_t>> changes;
    b.host.onPamChanged([&](uint8_t reg, uint8_t value) { changes.emplace_back(reg, value); });
    b.write(0, 0, 0x59, 1, 0xFF);
    CHECK(b.read(0, 0, 0x59, 1) == 0x30u);  // PAM0: only the BIOS segment
    b.write(0, 0, 0x5C, 4, 0xFFFFFFFF);      // PAM3..PAM6 in one dword
    CHECK(b.read(0, 0, 0x5C, 4) == 0x33333333u);
    CHECK(b.host.pam(6) == 0x33);
    CHECK(b.read(0, 0, 0x50, 4) == 0u);     // other registers read 0
    REQUIRE(changes.size() == 5);
    CHECK(changes[0] == std::make_pair(uint8_t{0x59}, uint8_t{0x30}));

    CHECK(b.read(0, 0, 0x72, 1) == 0x02u);  // C_BASE_SEG = 010
    b.write(0, 0, 0x72, 1, 0x4F);
    CHECK(b.read(0, 0, 0x72, 1) == 0x4Au);  // D_OPEN | G_SMRAME | base
    b.write(0, 0, 0x72, 1, 0x58);           // lock while asking to open: D_OPEN is cleared
    CHECK(b.host.smram() == 0x1A);
    b.write(0, 0, 0x72, 1, 0x40);           // locked: D_OPEN, D_LCK, G_SMRAME stay
    CHECK(b.host.smram() == 0x1A);
    b.write(0, 0, 0x72, 1, 0x20);           // D_CLS is still writable
    CHECK(b.host.smram() == 0x3A);
}

TEST_CASE("PIIX3: PIRQ route registers and the slot swizzle", "[i440fx][chipset]") {
    Board b;
    CHECK(b.read(1, 0, 0x60, 4) == 0x80808080u);
    for (int pirq = 0; pirq < 4; ++pirq) CHECK(b.isa.pirqToIsaIrq(pirq) == -1);
    b.write(1, 0, 0x60, 1, 0x0B);
    CHECK(b.isa.pirqToIsaIrq(0) == 11);
    b.write(1, 0, 0x61, 1, 0xFF);
    CHECK(b.read(1, 0, 0x61, 1) == 0x8Fu);  // bits 6:4 reserved
    CHECK(b.isa.pirqToIsaIrq(1) == -1);
    b.write(1, 0, 0x62, 1, 0x0D);  // IRQ 13 is a reserved encoding
    CHECK(b.isa.pirqToIsaIrq(2) == -1);
    b.write(1, 0, 0x62, 1, 0x02);
    CHECK(b.isa.pirqToIsaIrq(2) == -1);
    b.write(1, 0, 0x63, 1, 0x05);
    CHECK(b.isa.pirqToIsaIrq(3) == 5);
    CHECK(b.isa.pirqToIsaIrq(4) == -1);

    // Device d, pin p (1 = INTA#) -> PIRQ (d + p - 2) mod 4, as QEMU's i440fx board.
    CHECK(i440fx::pirqFor(1, 1) == 0);
    CHECK(i440fx::pirqFor(3, 1) == 2);
    CHECK(i440fx::pirqFor(3, 2) == 3);
    CHECK(i440fx::pirqFor(4, 1) == 3);
    CHECK(i440fx::pirqFor(5, 1) == 0);
    CHECK(i440fx::pirqFor(0, 1) == 3);
    CHECK(i440fx::pirqFor(2, 4) == 0);
}

TEST_CASE("PCI IRQ router: shared level-triggered lines follow the PIRQ routes", "[i440fx][chipset]") {
    Board b;
    std::array<LatchedIrqLine, 16> lines;
    std::array<IrqLine*, 16> isa{};
    for (size_t i = 0; i < 16; ++i) isa[i] = &lines[i];
    PciIrqRouter router(b.isa, isa);
    RecordingFunction nic;   // device 3 INTA# -> PIRQC
    RecordingFunction disk;  // device 7 INTA# -> PIRQC as well: a shared line
    RecordingFunction other(2);  // device 4 INTB# -> PIRQA
    b.bus.add(3, 0, nic);
    b.bus.add(7, 0, disk);
    b.bus.add(4, 0, other);
    router.connect(nic, 3);
    router.connect(disk, 7);
    router.connect(other, 4);

    nic.setIrq(true);  // not routed yet: no ISA line moves
    CHECK(router.pirqLevel(2));
    for (auto& l : lines) CHECK_FALSE(l.level());

    b.write(1, 0, 0x62, 1, 11);  // PIRQC -> IRQ 11
    CHECK(lines[11].level());
    disk.setIrq(true);
    CHECK(lines[11].level());
    nic.setIrq(false);
    CHECK(lines[11].level());  // the disk still holds the shared line
    disk.setIrq(false);
    CHECK_FALSE(lines[11].level());
    CHECK(lines[11].transitions() == 2);

    // Re-routing moves an asserted level.
    nic.setIrq(true);
    b.write(1, 0, 0x62, 1, 10);
    CHECK_FALSE(lines[11].level());
    CHECK(lines[10].level());
    // Two PIRQs on one ISA line share it too.
    b.write(1, 0, 0x60, 1, 10);  // PIRQA -> IRQ 10
    other.setIrq(true);
    nic.setIrq(false);
    CHECK(lines[10].level());
    other.setIrq(false);
    CHECK_FALSE(lines[10].level());
    // Disabling the route drops the line.
    nic.setIrq(true);
    CHECK(lines[10].level());
    b.write(1, 0, 0x62, 1, 0x80);
    CHECK_FALSE(lines[10].level());
    CHECK(router.isaLevel(10) == false);
    // Interrupt Disable in the command register masks the source.
    b.write(1, 0, 0x62, 1, 9);
    CHECK(lines[9].level());
    b.write(3, 0, 0x04, 2, pci::kCommandIntxDisable);
    CHECK_FALSE(lines[9].level());
}
