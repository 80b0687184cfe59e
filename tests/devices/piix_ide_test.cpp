// The PIIX3 IDE function: PCI identity, legacy decode, and SFF-8038i bus-master DMA through a
// PRD table in (fake) guest memory.
#include <catch2/catch.hpp>

#include "tests/devices/temp_disk_image.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "devices/piix_ide.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::ata;
using namespace hvlab::devices::piix;

namespace {

constexpr uint16_t kBase = AtaChannel::kPrimaryCommandBase;
constexpr uint64_t kRamSize = 1 << 20;
constexpr uint32_t kPrdTable = 0x1000;

using hvlab::test::patternByte;
using hvlab::test::TempImage;

// Guest RAM as a vector: accesses outside it fail whole, like PhysicalMapMemory.
struct VectorMemory final : GuestMemory {
    std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize, 0xCC);
    bool read(uint64_t gpa, void* out, uint64_t len) override {
        if (gpa > ram.size() || len > ram.size() - gpa) return false;
        std::memcpy(out, ram.data() + gpa, len);
        return true;
    }
    bool write(uint64_t gpa, const void* in, uint64_t len) override {
        if (gpa > ram.size() || len > ram.size() - gpa) return false;
        std::memcpy(ram.data() + gpa, in, len);
        return true;
    }
    void putPrd(unsigned index, uint32_t address, uint32_t bytes, bool last) {
        const uint32_t control = (bytes & 0xFFFF) | (last ? kPrdEndOfTable : 0);
        for (int i = 0; i < 4; ++i) {
            ram[kPrdTable + 8 * index + i] = static_cast<uint8_t>(address >> (8 * i));
            ram[kPrdTable + 8 * index + 4 + i] = static_cast<uint8_t>(control >> (8 * i));
        }
    }
};

struct EdgeCountingIrq final : IrqLine {
    bool level = false;
    int edges = 0;
    void setLevel(bool asserted) override {
        if (asserted && !level) ++edges;
        level = asserted;
    }
};

struct Piix {
    VectorMemory memory;
    EdgeCountingIrq irq14, irq15;
    PiixIde ide{memory, &irq14, &irq15};

    Piix() { ide.configWrite(pci::kCommand, 2, pci::kCommandIo | pci::kCommandBusMaster); }
    AtaChannel& primary() { return ide.channel(0); }
    uint8_t in(uint16_t reg) { return static_cast<uint8_t>(primary().ioRead(kBase + reg, 1)); }
    void out(uint16_t reg, uint8_t v) { primary().ioWrite(kBase + reg, 1, v); }
    uint8_t bmStatus() { return static_cast<uint8_t>(ide.barIoRead(kBusMasterBar, kBmStatus, 1)); }
    void bmCommand(uint8_t v) { ide.barIoWrite(kBusMasterBar, kBmCommand, 1, v); }
    void bmSetup(bool toMemory) {
        ide.barIoWrite(kBusMasterBar, kBmPrdAddress, 4, kPrdTable);
        ide.barIoWrite(kBusMasterBar, kBmStatus, 1, kBmStatusError | kBmStatusInterrupt);  // clear
        bmCommand(toMemory ? kBmCommandWriteToMemory : 0);
    }
    void ataCommand(uint8_t command, uint32_t lba, uint8_t count) {
        out(kRegSectorCount, count);
        out(kRegLbaLow, static_cast<uint8_t>(lba));
        out(kRegLbaMid, static_cast<uint8_t>(lba >> 8));
        out(kRegLbaHigh, static_cast<uint8_t>(lba >> 16));
        out(kRegDevice, 0xE0);
        out(kRegCommand, command);
    }
};

std::vector<uint8_t> expectedSectors(uint64_t lba, uint64_t count) {
    std::vector<uint8_t> v(count * 512);
    for (uint64_t i = 0; i < v.size(); ++i) v[i] = patternByte(lba * 512 + i);
    return v;
}

bool ramEquals(const VectorMemory& m, uint64_t gpa, const uint8_t* data, std::size_t len) {
    return std::memcmp(m.ram.data() + gpa, data, len) == 0;
}

constexpr uint8_t kReady = kStatusDrdy | kStatusDsc;
constexpr uint8_t kError = kStatusDrdy | kStatusErr;

}  // namespace

TEST_CASE("PIIX IDE: PCI identity, BAR4 and legacy timing registers", "[piix_ide]") {
    Piix p;
    CHECK(p.ide.configRead(pci::kVendorId, 4) == 0x70108086u);
    CHECK(p.ide.configRead(pci::kRevision, 4) >> 8 == 0x010180u);  // class 01, subclass 01, prog-if 80
    CHECK(p.ide.configRead(pci::kInterruptPin, 1) == 0u);
    for (int bar = 0; bar < 4; ++bar) CHECK(p.ide.configRead(static_cast<uint8_t>(pci::kBar0 + 4 * bar), 4) == 0u);
    p.ide.configWrite(pci::kBar0 + 16, 4, 0xFFFFFFFF);
    CHECK(p.ide.configRead(pci::kBar0 + 16, 4) == 0xFFF1u);  // 16 ports of I/O
    p.ide.configWrite(pci::kBar0 + 16, 4, 0xC000);
    CHECK(p.ide.barAddress(4) == 0xC000u);
    CHECK(p.ide.decodeEnabled(4));

    CHECK(p.ide.configRead(kIdeTimingPrimary, 4) == 0x80008000u);  // decode enabled at reset
    p.ide.configWrite(kIdeTimingPrimary, 2, 0xFFFF);
    CHECK(p.ide.configRead(kIdeTimingPrimary, 2) == 0xF3FFu);  // bits 11:10 reserved
    p.ide.configWrite(kSlaveIdeTiming, 1, 0x5A);
    CHECK(p.ide.configRead(kSlaveIdeTiming, 1) == 0x5Au);
    CHECK(p.ide.configRead(0x48, 4) == 0u);
}

TEST_CASE("PIIX IDE: legacy ports follow the IDE decode enable bits", "[piix_ide]") {
    IoBus bus;
    Piix p;
    p.ide.attachLegacyPorts(bus);
    CHECK(bus.deviceAt(0x1F0) == &p.ide.channel(0));
    CHECK(bus.deviceAt(0x1F7) == &p.ide.channel(0));
    CHECK(bus.deviceAt(0x3F6) == &p.ide.channel(0));
    CHECK(bus.deviceAt(0x3F7) == nullptr);
    CHECK(bus.deviceAt(0x170) == &p.ide.channel(1));
    CHECK(bus.deviceAt(0x376) == &p.ide.channel(1));
    p.ide.configWrite(kIdeTimingPrimary + 1, 1, 0x00);
    CHECK(bus.deviceAt(0x1F0) == nullptr);
    CHECK(bus.deviceAt(0x3F6) == nullptr);
    CHECK(bus.deviceAt(0x170) == &p.ide.channel(1));
    p.ide.configWrite(kIdeTimingPrimary, 2, 0x8000);
    CHECK(bus.deviceAt(0x1F3) == &p.ide.channel(0));
}

TEST_CASE("PIIX IDE: bus-master register semantics", "[piix_ide]") {
    Piix p;
    // PRD pointer: dword aligned.
    p.ide.barIoWrite(kBusMasterBar, kBmPrdAddress, 4, 0x12345677);
    CHECK(p.ide.barIoRead(kBusMasterBar, kBmPrdAddress, 4) == 0x12345674u);
    // Status: drive DMA-capable bits are read/write, active is read-only.
    p.ide.barIoWrite(kBusMasterBar, kBmStatus, 1, 0xFF);
    CHECK(p.bmStatus() == (kBmStatusDrive0Dma | kBmStatusDrive1Dma));
    // Command: only start and direction; START without a DMA command sets active.
    p.ide.barIoWrite(kBusMasterBar, kBmCommand, 1, 0xFF);
    CHECK(p.ide.barIoRead(kBusMasterBar, kBmCommand, 1) == 0x09u);
    CHECK((p.bmStatus() & kBmStatusActive) != 0);
    p.bmCommand(0);
    CHECK((p.bmStatus() & kBmStatusActive) == 0);
    // The secondary channel's registers are separate, at +8; a dword read spans command,
    // reserved, status, reserved.
    p.ide.barIoWrite(kBusMasterBar, kBmChannelStride + kBmStatus, 1, kBmStatusDrive0Dma);
    CHECK(p.ide.barIoRead(kBusMasterBar, kBmChannelStride, 4) == uint32_t{kBmStatusDrive0Dma} << 16);
    CHECK(p.ide.busMaster(1).status == kBmStatusDrive0Dma);
}

TEST_CASE("PIIX IDE: READ DMA scatters sectors along the PRD table", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    // 3 sectors: 1024 bytes at 0x10000, then 512 bytes at 0x20000 (EOT).
    p.memory.putPrd(0, 0x10000, 1024, false);
    p.memory.putPrd(1, 0x20000, 512, true);
    p.bmSetup(true);
    p.ataCommand(cmd::kReadDma, 7, 3);
    CHECK(p.in(kRegStatus) == (kReady | kStatusDrq));  // waiting for the bus master
    CHECK_FALSE(p.irq14.level);
    p.bmCommand(kBmCommandWriteToMemory | kBmCommandStart);

    const auto expected = expectedSectors(7, 3);
    CHECK(ramEquals(p.memory, 0x10000, expected.data(), 1024));
    CHECK(ramEquals(p.memory, 0x20000, expected.data() + 1024, 512));
    CHECK(p.memory.ram[0x20000 + 512] == 0xCC);  // nothing beyond the transfer
    CHECK(p.bmStatus() == kBmStatusInterrupt);  // PRD exhausted: active clear, no error
    CHECK(p.irq14.level);
    CHECK(p.in(kRegStatus) == kReady);
    CHECK_FALSE(p.irq14.level);
    CHECK(p.in(kRegLbaLow) == 9);  // last sector transferred
    p.bmCommand(kBmCommandWriteToMemory);
    p.ide.barIoWrite(kBusMasterBar, kBmStatus, 1, kBmStatusInterrupt);
    CHECK(p.bmStatus() == 0);
}

TEST_CASE("PIIX IDE: START before the command, and WRITE DMA EXT gathers from memory", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    for (uint32_t i = 0; i < 2048; ++i) p.memory.ram[0x30000 + i] = static_cast<uint8_t>(i * 3);
    // 4 sectors in three pieces of 1000, 48 and 1000 bytes (any even size is allowed).
    p.memory.putPrd(0, 0x30000, 1000, false);
    p.memory.putPrd(1, 0x30000 + 1000, 48, false);
    p.memory.putPrd(2, 0x30000 + 1048, 1000, true);
    p.bmSetup(false);
    p.bmCommand(kBmCommandStart);  // some drivers start the engine first
    CHECK((p.bmStatus() & kBmStatusActive) != 0);
    // WRITE DMA EXT at LBA 40, 4 sectors.
    p.out(kRegSectorCount, 0);
    p.out(kRegLbaLow, 0);
    p.out(kRegLbaMid, 0);
    p.out(kRegLbaHigh, 0);
    p.out(kRegSectorCount, 4);
    p.out(kRegLbaLow, 40);
    p.out(kRegLbaMid, 0);
    p.out(kRegLbaHigh, 0);
    p.out(kRegDevice, 0x40);
    p.out(kRegCommand, cmd::kWriteDmaExt);

    CHECK(p.bmStatus() == kBmStatusInterrupt);
    CHECK(p.in(kRegStatus) == kReady);
    const auto disk = file.contents();
    CHECK(std::memcmp(disk.data() + 40 * 512, p.memory.ram.data() + 0x30000, 2048) == 0);
    CHECK(disk[44 * 512] == patternByte(44 * 512));
}

TEST_CASE("PIIX IDE: PRDs longer than the transfer leave the engine active", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    p.memory.putPrd(0, 0x10000, 0, true);  // byte count 0 = 64 KiB
    p.bmSetup(true);
    p.ataCommand(cmd::kReadDma, 0, 2);
    p.bmCommand(kBmCommandWriteToMemory | kBmCommandStart);
    CHECK(p.bmStatus() == (kBmStatusInterrupt | kBmStatusActive));
    CHECK(p.in(kRegStatus) == kReady);
    const auto expected = expectedSectors(0, 2);
    CHECK(ramEquals(p.memory, 0x10000, expected.data(), expected.size()));
    CHECK(p.memory.ram[0x10000 + 1024] == 0xCC);
}

TEST_CASE("PIIX IDE: DMA to a buffer outside RAM fails with the error bit and ABRT", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    p.memory.putPrd(0, 0x10000, 512, false);
    p.memory.putPrd(1, 0xFFFFF000, 512, true);  // far beyond the 1 MiB of RAM
    p.bmSetup(true);
    p.ataCommand(cmd::kReadDma, 0, 2);
    p.bmCommand(kBmCommandWriteToMemory | kBmCommandStart);
    CHECK(p.bmStatus() == (kBmStatusError | kBmStatusInterrupt));
    CHECK(p.irq14.level);
    CHECK(p.in(kRegStatus) == kError);
    CHECK(p.in(kRegError) == kErrorAbrt);

    // The same with the PRD table itself outside RAM, on a write.
    p.bmCommand(0);
    p.ide.barIoWrite(kBusMasterBar, kBmStatus, 1, kBmStatusError | kBmStatusInterrupt);
    p.ide.barIoWrite(kBusMasterBar, kBmPrdAddress, 4, 0xFFFFFFF0);
    p.ataCommand(cmd::kWriteDma, 0, 1);
    p.bmCommand(kBmCommandStart);
    CHECK(p.bmStatus() == (kBmStatusError | kBmStatusInterrupt));
    CHECK(p.in(kRegStatus) == kError);
    CHECK(file.contents() == expectedSectors(0, 64));
}

TEST_CASE("PIIX IDE: PRDs shorter than the transfer move nothing and fail", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    p.memory.putPrd(0, 0x10000, 512, true);  // one sector described, two requested
    p.bmSetup(true);
    p.ataCommand(cmd::kReadDma, 0, 2);
    p.bmCommand(kBmCommandWriteToMemory | kBmCommandStart);
    CHECK(p.bmStatus() == (kBmStatusError | kBmStatusInterrupt));
    CHECK(p.in(kRegStatus) == kError);
    CHECK(p.in(kRegError) == kErrorAbrt);
    CHECK(p.memory.ram[0x10000] == 0xCC);
}

TEST_CASE("PIIX IDE: a direction bit contradicting the command is an error", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    p.memory.putPrd(0, 0x10000, 512, true);
    p.bmSetup(false);  // "read from memory" ...
    p.ataCommand(cmd::kReadDma, 0, 1);  // ... for a device-to-memory command
    p.bmCommand(kBmCommandStart);
    CHECK((p.bmStatus() & kBmStatusError) != 0);
    CHECK(p.in(kRegStatus) == kError);
    CHECK(p.memory.ram[0x10000] == 0xCC);
}

TEST_CASE("PIIX IDE: no transfer while PCI bus mastering is disabled", "[piix_ide]") {
    TempImage file(64);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(file.path, false));
    p.ide.configWrite(pci::kCommand, 2, pci::kCommandIo);  // BME clear
    p.memory.putPrd(0, 0x10000, 512, true);
    p.bmSetup(true);
    p.ataCommand(cmd::kReadDma, 3, 1);
    p.bmCommand(kBmCommandWriteToMemory | kBmCommandStart);
    CHECK(p.bmStatus() == kBmStatusActive);
    CHECK(p.memory.ram[0x10000] == 0xCC);
    CHECK_FALSE(p.irq14.level);
    CHECK(p.in(kRegStatus) == (kReady | kStatusDrq));
    // Once the driver enables bus mastering the engine runs at its next look.
    p.ide.configWrite(pci::kCommand, 2, pci::kCommandIo | pci::kCommandBusMaster);
    CHECK(p.bmStatus() == kBmStatusInterrupt);
    const auto expected = expectedSectors(3, 1);
    CHECK(ramEquals(p.memory, 0x10000, expected.data(), 512));
    CHECK(p.in(kRegStatus) == kReady);
}

TEST_CASE("PIIX IDE: interrupt bit follows INTRQ edges, PIO included, on each channel", "[piix_ide]") {
    TempImage a(16), b(16);
    Piix p;
    p.primary().attachDisk(0, DiskImage::open(a.path, false));
    p.ide.channel(1).attachDisk(0, DiskImage::open(b.path, true));
    p.out(kRegDevice, 0xA0);
    p.out(kRegCommand, cmd::kIdleImmediate);
    CHECK(p.bmStatus() == kBmStatusInterrupt);
    CHECK(p.irq14.edges == 1);
    CHECK(p.irq15.edges == 0);
    p.ide.barIoWrite(kBusMasterBar, kBmStatus, 1, kBmStatusInterrupt);  // write 1 to clear
    CHECK(p.bmStatus() == 0);  // stays clear while the line is still high: edges only
    CHECK(p.irq14.level);

    AtaChannel& secondary = p.ide.channel(1);
    secondary.ioWrite(AtaChannel::kSecondaryCommandBase + kRegDevice, 1, 0xA0);
    secondary.ioWrite(AtaChannel::kSecondaryCommandBase + kRegCommand, 1, cmd::kCheckPowerMode);
    CHECK(p.irq15.edges == 1);
    CHECK(p.ide.busMaster(1).status == kBmStatusInterrupt);
    // A read-only image refuses WRITE DMA before any bus-master activity.
    p.memory.putPrd(0, 0x10000, 512, true);
    p.ide.barIoWrite(kBusMasterBar, kBmChannelStride + kBmPrdAddress, 4, kPrdTable);
    secondary.ioRead(AtaChannel::kSecondaryCommandBase + kRegStatus, 1);
    secondary.ioWrite(AtaChannel::kSecondaryCommandBase + kRegSectorCount, 1, 1);
    secondary.ioWrite(AtaChannel::kSecondaryCommandBase + kRegDevice, 1, 0xE0);
    secondary.ioWrite(AtaChannel::kSecondaryCommandBase + kRegCommand, 1, cmd::kWriteDma);
    CHECK(secondary.ioRead(AtaChannel::kSecondaryCommandBase + kRegError, 1) == kErrorAbrt);
    p.ide.barIoWrite(kBusMasterBar, kBmChannelStride + kBmCommand, 1, kBmCommandStart);
    CHECK((p.ide.busMaster(1).status & kBmStatusError) == 0);
    CHECK(b.contents() == expectedSectors(0, 16));
}
