// The ATA channel and drive as a guest driver sees them through the task-file ports
// (ATA/ATAPI-6 register semantics, PIO protocols, reset, diagnostics).
#include <catch2/catch.hpp>

#include "tests/devices/temp_disk_image.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "devices/ata_channel.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::ata;

namespace {

constexpr uint16_t kBase = AtaChannel::kPrimaryCommandBase;
constexpr uint16_t kControl = AtaChannel::kPrimaryControlPort;

using hvlab::test::patternByte;
using hvlab::test::TempImage;

// Counts rising edges, as an edge-triggered PIC input would.
struct EdgeCountingIrq final : IrqLine {
    bool level = false;
    int edges = 0;
    void setLevel(bool asserted) override {
        if (asserted && !level) ++edges;
        level = asserted;
    }
};

struct Ata {
    EdgeCountingIrq irq;
    AtaChannel channel{kBase, kControl, &irq};

    uint8_t in(uint16_t reg) { return static_cast<uint8_t>(channel.ioRead(kBase + reg, 1)); }
    void out(uint16_t reg, uint8_t v) { channel.ioWrite(kBase + reg, 1, v); }
    uint8_t altStatus() { return static_cast<uint8_t>(channel.ioRead(kControl, 1)); }
    void control(uint8_t v) { channel.ioWrite(kControl, 1, v); }
    uint16_t dataWord() { return static_cast<uint16_t>(channel.ioRead(kBase, 2)); }
    void putWord(uint16_t w) { channel.ioWrite(kBase, 2, w); }

    void lba28(uint32_t lba, uint8_t count, unsigned unit = 0) {
        out(kRegSectorCount, count);
        out(kRegLbaLow, static_cast<uint8_t>(lba));
        out(kRegLbaMid, static_cast<uint8_t>(lba >> 8));
        out(kRegLbaHigh, static_cast<uint8_t>(lba >> 16));
        out(kRegDevice, static_cast<uint8_t>(0xE0 | (unit << 4) | ((lba >> 24) & 0xF)));
    }
    void lba48(uint64_t lba, uint16_t count) {
        out(kRegSectorCount, static_cast<uint8_t>(count >> 8));
        out(kRegLbaLow, static_cast<uint8_t>(lba >> 24));
        out(kRegLbaMid, static_cast<uint8_t>(lba >> 32));
        out(kRegLbaHigh, static_cast<uint8_t>(lba >> 40));
        out(kRegSectorCount, static_cast<uint8_t>(count));
        out(kRegLbaLow, static_cast<uint8_t>(lba));
        out(kRegLbaMid, static_cast<uint8_t>(lba >> 8));
        out(kRegLbaHigh, static_cast<uint8_t>(lba >> 16));
        out(kRegDevice, 0x40);
    }
    std::vector<uint8_t> readBlock(std::size_t sectors) {
        std::vector<uint8_t> v;
        for (std::size_t i = 0; i < sectors * 256; ++i) {
            const uint16_t w = dataWord();
            v.push_back(static_cast<uint8_t>(w));
            v.push_back(static_cast<uint8_t>(w >> 8));
        }
        return v;
    }
    void writeBlock(const std::vector<uint8_t>& bytes) {
        for (std::size_t i = 0; i + 1 < bytes.size(); i += 2)
            putWord(static_cast<uint16_t>(bytes[i] | bytes[i + 1] << 8));
    }
    std::array<uint16_t, 256> identify(unsigned unit = 0) {
        out(kRegDevice, static_cast<uint8_t>(0xA0 | unit << 4));
        out(kRegCommand, cmd::kIdentifyDevice);
        std::array<uint16_t, 256> w{};
        REQUIRE(in(kRegStatus) == (kStatusDrdy | kStatusDsc | kStatusDrq));
        for (auto& word : w) word = dataWord();
        return w;
    }
};

std::vector<uint8_t> expectedSectors(uint64_t lba, uint64_t count) {
    std::vector<uint8_t> v(count * 512);
    for (uint64_t i = 0; i < v.size(); ++i) v[i] = patternByte(lba * 512 + i);
    return v;
}

std::string identifyString(const std::array<uint16_t, 256>& w, std::size_t first, std::size_t words) {
    std::string s;
    for (std::size_t i = first; i < first + words; ++i) {
        s.push_back(static_cast<char>(w[i] >> 8));
        s.push_back(static_cast<char>(w[i] & 0xFF));
    }
    return s;
}

constexpr uint8_t kReady = kStatusDrdy | kStatusDsc;
constexpr uint8_t kDataReady = kStatusDrdy | kStatusDsc | kStatusDrq;
constexpr uint8_t kError = kStatusDrdy | kStatusErr;

}  // namespace

TEST_CASE("ATA: IDENTIFY DEVICE data block fields", "[ata]") {
    TempImage file(20000);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.out(kRegDevice, 0xA0);
    ata.out(kRegCommand, cmd::kIdentifyDevice);
    CHECK(ata.irq.level);
    CHECK(ata.altStatus() == kDataReady);
    std::array<uint16_t, 256> w{};
    for (auto& word : w) word = ata.dataWord();
    CHECK(ata.in(kRegStatus) == kReady);  // DRQ drops after the last word, no further interrupt
    CHECK(ata.irq.edges == 1);

    CHECK(identifyString(w, 27, 20) == "hvlab HARDDISK                          ");
    CHECK(w[27] == ('h' << 8 | 'v'));  // byte-swapped: the first character in the high byte
    CHECK(identifyString(w, 10, 10).rfind("HVLAB01F00", 0) == 0);
    CHECK(identifyString(w, 23, 4) == "1.0     ");
    CHECK(w[1] == 20000 / (16 * 63));
    CHECK(w[3] == 16);
    CHECK(w[6] == 63);
    CHECK(w[47] == 0x8010);
    CHECK((w[49] & 0x0300) == 0x0300);  // LBA and DMA
    CHECK(w[53] == 0x0007);
    CHECK(w[54] == 19);
    CHECK(w[55] == 16);
    CHECK(w[56] == 63);
    CHECK((w[57] | w[58] << 16) == 19 * 16 * 63);
    CHECK(w[59] == 0);  // multiple mode disabled at power-on
    CHECK((w[60] | w[61] << 16) == 20000);
    CHECK((w[63] & 0x07) == 0x07);
    CHECK((w[64] & 0x03) == 0x03);
    CHECK((w[80] & 0x0040) != 0);  // ATA/ATAPI-6
    CHECK((w[83] & 0xC400) == 0x4400);  // valid word, 48-bit address supported
    CHECK((w[86] & 0x0400) != 0);       // ... and enabled
    CHECK((w[88] & 0x003F) == 0x003F);
    CHECK(w[93] == (0x4000 | 0x0003 | 0x0008 | 0x0040));  // device 0, no device 1
    CHECK((w[100] | uint64_t{w[101]} << 16 | uint64_t{w[102]} << 32 | uint64_t{w[103]} << 48) == 20000);
    uint8_t sum = 0;
    for (uint16_t word : w) sum = static_cast<uint8_t>(sum + (word & 0xFF) + (word >> 8));
    CHECK((w[255] & 0xFF) == 0xA5);
    CHECK(sum == 0);
}

TEST_CASE("ATA: LBA28 capacity is capped and LBA48 reaches beyond it", "[ata]") {
    TempImage file(0);
    constexpr uint64_t kSectors = 0x10000100;  // just over 128 GiB, sparse
    std::filesystem::resize_file(file.path, kSectors * 512);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    const auto w = ata.identify();
    CHECK((w[60] | uint32_t{w[61]} << 16) == 0x0FFFFFFF);
    CHECK((w[100] | uint64_t{w[101]} << 16 | uint64_t{w[102]} << 32) == kSectors);
    CHECK(w[1] == 16383);

    // 28-bit commands cannot pass the LBA28 capacity ...
    ata.lba28(0x0FFFFFFF, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorIdnf);

    // ... 48-bit ones can: write the sector above 2^28 and read it back.
    const uint64_t lba = 0x10000080;
    std::vector<uint8_t> data(512);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0x3C);
    ata.lba48(lba, 1);
    ata.out(kRegCommand, cmd::kWriteSectorsExt);
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    ata.writeBlock(data);
    CHECK(ata.in(kRegStatus) == kReady);
    ata.lba48(lba, 1);
    ata.out(kRegCommand, cmd::kReadSectorsExt);
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.readBlock(1) == data);
    std::ifstream in(file.path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(lba * 512));
    std::vector<char> onDisk(512);
    in.read(onDisk.data(), 512);
    CHECK(std::equal(data.begin(), data.end(), onDisk.begin(),
                     [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); }));
}

TEST_CASE("ATA: LBA28 PIO read, one DRQ block and one interrupt per sector", "[ata]") {
    TempImage file(64);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.lba28(5, 3);
    ata.out(kRegCommand, cmd::kReadSectors);
    std::vector<uint8_t> got;
    for (int block = 0; block < 3; ++block) {
        CHECK(ata.irq.level);
        CHECK(ata.altStatus() == kDataReady);
        CHECK(ata.irq.level);  // alternate status does not acknowledge
        CHECK(ata.in(kRegStatus) == kDataReady);
        CHECK_FALSE(ata.irq.level);  // status does
        const auto block512 = ata.readBlock(1);
        got.insert(got.end(), block512.begin(), block512.end());
    }
    CHECK(ata.irq.edges == 3);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(got == expectedSectors(5, 3));
    // The task file holds the last sector transferred and no sectors left.
    CHECK(ata.in(kRegLbaLow) == 7);
    CHECK(ata.in(kRegSectorCount) == 0);
    // Reading the data port outside a data phase returns 0 and changes nothing.
    CHECK(ata.dataWord() == 0);
    CHECK(ata.in(kRegStatus) == kReady);
}

TEST_CASE("ATA: LBA28 PIO write, interrupts after every block", "[ata]") {
    TempImage file(64);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    std::vector<uint8_t> data(2 * 512);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(0xF0 ^ i);
    ata.lba28(10, 2);
    ata.out(kRegCommand, cmd::kWriteSectors);
    CHECK(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.irq.edges == 0);  // the first data-out block is requested without an interrupt
    ata.writeBlock({data.begin(), data.begin() + 512});
    CHECK(ata.irq.edges == 1);
    CHECK(ata.in(kRegStatus) == kDataReady);
    ata.writeBlock({data.begin() + 512, data.end()});
    CHECK(ata.irq.edges == 2);  // completion
    CHECK(ata.in(kRegStatus) == kReady);

    const auto disk = file.contents();
    CHECK(std::equal(data.begin(), data.end(), disk.begin() + 10 * 512));
    CHECK(disk[12 * 512] == patternByte(12 * 512));

    // 32-bit data port accesses move two words at a time.
    ata.lba28(10, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    ata.in(kRegStatus);
    std::vector<uint8_t> back;
    for (int i = 0; i < 128; ++i) {
        const uint32_t d = ata.channel.ioRead(kBase, 4);
        for (int b = 0; b < 4; ++b) back.push_back(static_cast<uint8_t>(d >> (8 * b)));
    }
    CHECK(std::equal(back.begin(), back.end(), data.begin()));
    CHECK(ata.in(kRegStatus) == kReady);
}

TEST_CASE("ATA: LBA48 addressing through the HOB registers", "[ata]") {
    TempImage file(600);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));

    // Each register keeps the previous write; Device Control HOB reads it back.
    ata.out(kRegSectorCount, 0x12);
    ata.out(kRegSectorCount, 0x34);
    ata.out(kRegLbaHigh, 0x56);
    ata.out(kRegLbaHigh, 0x78);
    CHECK(ata.in(kRegSectorCount) == 0x34);
    ata.control(kControlHob);
    CHECK(ata.in(kRegSectorCount) == 0x12);
    CHECK(ata.in(kRegLbaHigh) == 0x56);
    ata.out(kRegFeatures, 0);  // any command block write clears HOB
    CHECK(ata.in(kRegSectorCount) == 0x34);
    CHECK(ata.channel.deviceControl() == 0);

    // 300 sectors (more than an LBA28 count can say) starting at 290 = 0x122.
    ata.lba48(290, 300);
    ata.out(kRegCommand, cmd::kReadSectorsExt);
    std::vector<uint8_t> got;
    for (int i = 0; i < 300; ++i) {
        REQUIRE(ata.in(kRegStatus) == kDataReady);
        const auto s = ata.readBlock(1);
        got.insert(got.end(), s.begin(), s.end());
    }
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(got == expectedSectors(290, 300));
    CHECK(ata.irq.edges == 300);
    // Last sector 589 = 0x24D in the low bytes, the high bytes behind HOB.
    CHECK(ata.in(kRegLbaLow) == 0x4D);
    CHECK(ata.in(kRegLbaMid) == 0x02);
    ata.control(kControlHob);
    CHECK(ata.in(kRegLbaLow) == 0);

    // A 48-bit count of 0 means 65536 sectors: past the end of this disk.
    ata.lba48(0, 0);
    ata.out(kRegCommand, cmd::kReadVerifyExt);
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorIdnf);
}

TEST_CASE("ATA: sector count 0 means 256 for 28-bit commands", "[ata]") {
    TempImage file(300);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.lba28(44, 0);  // 44 + 256 = 300: exactly the disk
    ata.out(kRegCommand, cmd::kReadVerify);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.irq.edges == 1);
    ata.lba28(45, 0);
    ata.out(kRegCommand, cmd::kReadVerify);
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorIdnf);
}

TEST_CASE("ATA: READ/WRITE MULTIPLE move blocks of the multiple count", "[ata]") {
    TempImage file(64);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));

    ata.lba28(0, 10);
    ata.out(kRegCommand, cmd::kReadMultiple);  // multiple mode is disabled at power-on
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorAbrt);

    ata.out(kRegSectorCount, 3);  // not a power of two
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    CHECK(ata.in(kRegStatus) == kError);
    ata.out(kRegSectorCount, 32);  // above the maximum of 16
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    CHECK(ata.in(kRegStatus) == kError);
    ata.out(kRegSectorCount, 4);
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.identify()[59] == 0x0104);

    const int edgesBefore = ata.irq.edges;
    ata.lba28(3, 10);
    ata.out(kRegCommand, cmd::kReadMultiple);
    std::vector<uint8_t> got;
    for (std::size_t blockSectors : {4u, 4u, 2u}) {
        REQUIRE(ata.in(kRegStatus) == kDataReady);
        const auto block = ata.readBlock(blockSectors);
        got.insert(got.end(), block.begin(), block.end());
        if (blockSectors == 4) CHECK(ata.altStatus() == kDataReady);  // next block already waiting
    }
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.irq.edges - edgesBefore == 3);
    CHECK(got == expectedSectors(3, 10));

    // WRITE MULTIPLE EXT: 6 sectors = blocks of 4 and 2, an interrupt after each.
    std::vector<uint8_t> data(6 * 512, 0x77);
    ata.lba48(20, 6);
    ata.out(kRegCommand, cmd::kWriteMultipleExt);
    const int edgesWrite = ata.irq.edges;
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    ata.writeBlock({data.begin(), data.begin() + 4 * 512});
    CHECK(ata.irq.edges - edgesWrite == 1);
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    ata.writeBlock({data.begin() + 4 * 512, data.end()});
    CHECK(ata.irq.edges - edgesWrite == 2);
    CHECK(ata.in(kRegStatus) == kReady);
    const auto disk = file.contents();
    CHECK(std::equal(data.begin(), data.end(), disk.begin() + 20 * 512));

    // SET MULTIPLE 0 disables multiple mode again.
    ata.out(kRegSectorCount, 0);
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.identify()[59] == 0);
}

TEST_CASE("ATA: nIEN keeps INTRQ off the line; status read acknowledges", "[ata]") {
    TempImage file(8);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.control(kControlNien);
    ata.lba28(0, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK_FALSE(ata.irq.level);
    CHECK(ata.irq.edges == 0);
    CHECK(ata.altStatus() == kDataReady);  // the command ran; polling drivers see DRQ
    // The request is still pending inside the device: enabling interrupts shows it.
    ata.control(0);
    CHECK(ata.irq.level);
    CHECK(ata.in(kRegStatus) == kDataReady);
    CHECK_FALSE(ata.irq.level);
    ata.readBlock(1);
    CHECK_FALSE(ata.irq.level);  // no interrupt after the last data-in block
    // Writing the Command register also negates INTRQ.
    ata.out(kRegCommand, cmd::kCheckPowerMode);
    CHECK(ata.irq.level);
    CHECK(ata.in(kRegSectorCount) == 0xFF);  // active
    ata.out(kRegCommand, cmd::kIdleImmediate);
    CHECK(ata.irq.level);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK_FALSE(ata.irq.level);
}

TEST_CASE("ATA: CHS addressing through the current geometry", "[ata]") {
    TempImage file(2100);  // 2 cylinders of 16 x 63, plus a little
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    // C=1 H=2 S=3 -> LBA (1 * 16 + 2) * 63 + 2 = 1136.
    ata.out(kRegSectorCount, 2);
    ata.out(kRegLbaLow, 3);
    ata.out(kRegLbaMid, 1);
    ata.out(kRegLbaHigh, 0);
    ata.out(kRegDevice, 0xA2);  // CHS, device 0, head 2
    ata.out(kRegCommand, cmd::kReadSectors);
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.readBlock(1) == expectedSectors(1136, 1));
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.readBlock(1) == expectedSectors(1137, 1));
    CHECK(ata.in(kRegLbaLow) == 4);  // CHS of the last sector read: 1/2/4
    CHECK((ata.in(kRegDevice) & 0x0F) == 2);

    // Sector 0 does not exist in CHS; neither does a sector beyond the track.
    ata.out(kRegLbaLow, 0);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorIdnf);
    ata.out(kRegLbaLow, 64);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegError) == kErrorIdnf);

    // INITIALIZE DEVICE PARAMETERS: 4 heads, 32 sectors per track.
    ata.out(kRegSectorCount, 32);
    ata.out(kRegDevice, 0xA3);  // heads - 1
    ata.out(kRegCommand, cmd::kInitializeDeviceParameters);
    CHECK(ata.in(kRegStatus) == kReady);
    const auto w = ata.identify();
    CHECK(w[54] == 2100 / (4 * 32));
    CHECK(w[55] == 4);
    CHECK(w[56] == 32);
    CHECK(w[3] == 16);  // the default geometry does not change
    // C=2 H=1 S=5 -> (2 * 4 + 1) * 32 + 4 = 292.
    ata.out(kRegSectorCount, 1);
    ata.out(kRegLbaLow, 5);
    ata.out(kRegLbaMid, 2);
    ata.out(kRegDevice, 0xA1);
    ata.out(kRegCommand, cmd::kReadSectors);
    REQUIRE(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.readBlock(1) == expectedSectors(292, 1));
    ata.out(kRegSectorCount, 0);
    ata.out(kRegCommand, cmd::kInitializeDeviceParameters);
    CHECK(ata.in(kRegError) == kErrorAbrt);
}

TEST_CASE("ATA: addressing past the end fails with IDNF and moves nothing", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.lba28(15, 2);
    ata.out(kRegCommand, cmd::kWriteSectors);
    CHECK(ata.irq.level);
    CHECK(ata.in(kRegStatus) == kError);
    CHECK(ata.in(kRegError) == kErrorIdnf);
    ata.putWord(0xDEAD);  // no data phase: ignored
    CHECK(file.contents() == expectedSectors(0, 16));
    ata.lba28(16, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegError) == kErrorIdnf);
    ata.lba28(15, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegStatus) == kDataReady);  // the last sector itself is fine
    CHECK(ata.in(kRegError) == 0);
}

TEST_CASE("ATA: writes to a read-only image abort and leave the file unchanged", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, true));
    for (uint8_t command : {cmd::kWriteSectors, cmd::kWriteSectorsExt, cmd::kWriteDma}) {
        ata.lba28(2, 1);
        ata.out(kRegCommand, command);
        CHECK(ata.in(kRegStatus) == kError);
        CHECK(ata.in(kRegError) == kErrorAbrt);
        ata.writeBlock(std::vector<uint8_t>(512, 0xFF));
    }
    CHECK(file.contents() == expectedSectors(0, 16));
    ata.lba28(2, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    CHECK(ata.in(kRegStatus) == kDataReady);
    CHECK(ata.readBlock(1) == expectedSectors(2, 1));
}

TEST_CASE("ATA: an overlay image gives the guest its writes and keeps the file", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::openOverlay(file.path));
    std::vector<uint8_t> data(512, 0x42);
    ata.lba28(3, 1);
    ata.out(kRegCommand, cmd::kWriteSectors);
    ata.writeBlock(data);
    CHECK(ata.in(kRegStatus) == kReady);
    ata.lba28(2, 3);
    ata.out(kRegCommand, cmd::kReadSectors);
    std::vector<uint8_t> got;
    for (int i = 0; i < 3; ++i) {
        ata.in(kRegStatus);
        const auto s = ata.readBlock(1);
        got.insert(got.end(), s.begin(), s.end());
    }
    std::vector<uint8_t> expected = expectedSectors(2, 3);
    std::fill(expected.begin() + 512, expected.begin() + 1024, 0x42);
    CHECK(got == expected);
    CHECK(file.contents() == expectedSectors(0, 16));
}

TEST_CASE("ATA: software reset leaves the signature and no interrupt", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.lba28(7, 1);
    ata.out(kRegCommand, cmd::kReadSectors);  // a transfer in progress is abandoned
    ata.out(kRegCommand, 0xFF);               // unknown command while DRQ is set: ignored
    CHECK(ata.altStatus() == kDataReady);
    ata.control(kControlSrst);
    CHECK(ata.altStatus() == kStatusBsy);
    CHECK_FALSE(ata.irq.level);
    ata.out(kRegCommand, cmd::kIdentifyDevice);  // ignored during reset
    ata.control(0);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.in(kRegError) == kDiagPassed);
    CHECK(ata.in(kRegSectorCount) == 1);
    CHECK(ata.in(kRegLbaLow) == 1);
    CHECK(ata.in(kRegLbaMid) == 0);
    CHECK(ata.in(kRegLbaHigh) == 0);
    CHECK(ata.in(kRegDevice) == 0);
    CHECK_FALSE(ata.irq.level);
    CHECK(ata.dataWord() == 0);  // the old data phase is gone

    // Settings revert to their defaults on reset, unless SET FEATURES 66h said otherwise.
    ata.out(kRegSectorCount, 8);
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    ata.control(kControlSrst);
    ata.control(0);
    CHECK(ata.identify()[59] == 0);
    ata.out(kRegFeatures, feature::kDisableRevertToDefaults);
    ata.out(kRegCommand, cmd::kSetFeatures);
    ata.out(kRegSectorCount, 8);
    ata.out(kRegCommand, cmd::kSetMultipleMode);
    ata.control(kControlSrst);
    ata.control(0);
    CHECK(ata.identify()[59] == 0x0108);
}

TEST_CASE("ATA: an absent slave reads status 0 and ignores commands", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.out(kRegDevice, 0xB0);  // select device 1
    CHECK(ata.channel.selectedUnit() == 1);
    CHECK(ata.in(kRegStatus) == 0);
    CHECK(ata.altStatus() == 0);
    // The other registers are answered by device 0 (ATA-6 9.16.1), so presence probes that
    // write and read back the task file pass; the signature/status check then says "none".
    ata.out(kRegSectorCount, 0x55);
    ata.out(kRegLbaLow, 0xAA);
    CHECK(ata.in(kRegSectorCount) == 0x55);
    CHECK(ata.in(kRegLbaLow) == 0xAA);
    ata.out(kRegCommand, cmd::kIdentifyDevice);
    CHECK_FALSE(ata.irq.level);
    CHECK(ata.in(kRegStatus) == 0);
    CHECK(ata.dataWord() == 0);
    ata.out(kRegDevice, 0xA0);  // device 0 was not disturbed
    CHECK(ata.in(kRegStatus) == kReady);

    const auto w = ata.identify();
    CHECK((w[93] & 0x0040) != 0);  // device 0 responds for device 1
}

TEST_CASE("ATA: a channel with no devices reads 0 everywhere", "[ata]") {
    Ata ata;
    ata.out(kRegSectorCount, 0x55);
    CHECK(ata.in(kRegSectorCount) == 0);
    CHECK(ata.in(kRegStatus) == 0);
    CHECK(ata.altStatus() == 0);
    ata.out(kRegCommand, cmd::kExecuteDiagnostic);
    CHECK_FALSE(ata.irq.level);
}

TEST_CASE("ATA: master and slave are selected by the DEV bit", "[ata]") {
    TempImage master(16), slave(32);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(master.path, false));
    ata.channel.attachDisk(1, DiskImage::openOverlay(slave.path));
    std::vector<uint8_t> data(512, 0x99);
    ata.lba28(1, 1, 1);
    ata.out(kRegCommand, cmd::kWriteSectors);
    ata.writeBlock(data);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(master.contents() == expectedSectors(0, 16));  // went to the slave's overlay
    ata.lba28(1, 1, 1);
    ata.out(kRegCommand, cmd::kReadSectors);
    ata.in(kRegStatus);
    CHECK(ata.readBlock(1) == data);
    const auto masterId = ata.identify(0);
    CHECK((masterId[60] | masterId[61] << 16) == 16);
    CHECK(masterId[93] == (0x4000 | 0x0003 | 0x0008 | 0x0030));  // device 1 seen
    const auto slaveId = ata.identify(1);
    CHECK((slaveId[60] | slaveId[61] << 16) == 32);
    CHECK(slaveId[93] == (0x4000 | 0x0300 | 0x0800));
    CHECK(identifyString(slaveId, 10, 5) == "HVLAB01F01");

    // INTRQ belongs to the selected device: selecting the other one floats the line.
    ata.lba28(0, 1, 0);
    ata.out(kRegCommand, cmd::kReadVerify);
    CHECK(ata.irq.level);
    ata.out(kRegDevice, 0xB0);
    CHECK_FALSE(ata.irq.level);
    ata.out(kRegDevice, 0xA0);
    CHECK(ata.irq.level);
}

TEST_CASE("ATA: EXECUTE DEVICE DIAGNOSTIC codes and signature", "[ata]") {
    TempImage master(16), slave(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(master.path, false));
    ata.out(kRegDevice, 0xB0);  // issued with the (absent) device 1 selected: runs anyway
    ata.out(kRegCommand, cmd::kExecuteDiagnostic);
    CHECK(ata.channel.selectedUnit() == 0);
    CHECK(ata.irq.level);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK(ata.in(kRegError) == 0x01);
    CHECK(ata.in(kRegSectorCount) == 1);
    CHECK(ata.in(kRegLbaLow) == 1);

    ata.channel.attachDisk(1, DiskImage::open(slave.path, false));
    ata.out(kRegCommand, cmd::kExecuteDiagnostic);
    CHECK(ata.in(kRegError) == 0x01);  // both passed
    ata.channel.drive(1).setDiagnosticFailure(true);
    ata.out(kRegCommand, cmd::kExecuteDiagnostic);
    CHECK(ata.in(kRegError) == 0x81);  // device 0 passed, device 1 failed
    ata.out(kRegDevice, 0xB0);
    CHECK(ata.in(kRegError) == kDiagFailed);  // device 1's own code
    // Reset reports the same codes.
    ata.control(kControlSrst);
    ata.control(0);
    CHECK(ata.in(kRegError) == 0x81);
}

TEST_CASE("ATA: non-data commands", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.out(kRegDevice, 0xA0);
    for (uint8_t aborted : {cmd::kNop, cmd::kDeviceReset, uint8_t{0xFF}, uint8_t{0x50}}) {
        ata.out(kRegCommand, aborted);
        CHECK(ata.in(kRegStatus) == kError);
        CHECK(ata.in(kRegError) == kErrorAbrt);
    }
    for (uint8_t ok : {cmd::kRecalibrate, uint8_t{0x1F}, cmd::kFlushCache, cmd::kFlushCacheExt, cmd::kStandbyImmediate,
                       cmd::kIdleImmediate, cmd::kStandby, cmd::kIdle}) {
        const int before = ata.irq.edges;
        ata.out(kRegCommand, ok);
        CHECK(ata.irq.edges == before + 1);
        CHECK(ata.in(kRegStatus) == kReady);
        CHECK(ata.in(kRegError) == 0);
    }

    // SET FEATURES: transfer modes show up in IDENTIFY words 63 and 88.
    ata.out(kRegFeatures, feature::kSetTransferMode);
    ata.out(kRegSectorCount, 0x42);  // Ultra DMA mode 2
    ata.out(kRegCommand, cmd::kSetFeatures);
    CHECK(ata.in(kRegStatus) == kReady);
    auto w = ata.identify();
    CHECK(w[88] == (0x003F | 0x0400));
    CHECK((w[63] & 0x0700) == 0);
    ata.out(kRegFeatures, feature::kSetTransferMode);
    ata.out(kRegSectorCount, 0x21);  // multiword DMA mode 1
    ata.out(kRegCommand, cmd::kSetFeatures);
    w = ata.identify();
    CHECK(w[63] == (0x0007 | 0x0200));
    CHECK((w[88] & 0x3F00) == 0);
    ata.out(kRegFeatures, feature::kSetTransferMode);
    ata.out(kRegSectorCount, 0x47);  // Ultra DMA mode 7: not supported
    ata.out(kRegCommand, cmd::kSetFeatures);
    CHECK(ata.in(kRegError) == kErrorAbrt);
    ata.out(kRegFeatures, feature::kDisableWriteCache);
    ata.out(kRegCommand, cmd::kSetFeatures);
    CHECK(ata.in(kRegStatus) == kReady);
    CHECK((ata.identify()[85] & 0x0020) == 0);
    ata.out(kRegFeatures, 0x13);  // unknown subcommand
    ata.out(kRegCommand, cmd::kSetFeatures);
    CHECK(ata.in(kRegError) == kErrorAbrt);
}

TEST_CASE("ATA: wide accesses to the task file split into byte registers", "[ata]") {
    TempImage file(16);
    Ata ata;
    ata.channel.attachDisk(0, DiskImage::open(file.path, false));
    ata.channel.ioWrite(kBase + kRegSectorCount, 4, 0x04030201);  // count, LBA low/mid/high
    CHECK(ata.in(kRegSectorCount) == 1);
    CHECK(ata.in(kRegLbaHigh) == 4);
    CHECK(ata.channel.ioRead(kBase + kRegLbaLow, 2) == 0x0302);
    CHECK((ata.channel.ioRead(kControl, 2) & 0xFF00) == 0xFF00);  // 0x3F7 is not ours
}
