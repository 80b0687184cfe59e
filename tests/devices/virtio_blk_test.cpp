// virtio-blk as a driver sees it: configuration, IN/OUT/FLUSH/GET_ID, read-only and snapshot
// images, errors answered in the status byte, and malformed requests.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "devices/virtio/virtio_blk.hpp"
#include "temp_disk_image.hpp"
#include "virtio_test_driver.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::virtio;
using hvlab::test::patternByte;
using hvlab::test::Segment;
using hvlab::test::TempImage;
using hvlab::test::VirtioMemory;
using hvlab::test::VirtioTestDriver;

namespace {

constexpr uint64_t kQueue = 0x10000;
constexpr uint64_t kHeader = 0x30000;
constexpr uint64_t kData = 0x40000;
constexpr uint64_t kStatus = 0x3F000;
constexpr uint64_t kSectors = 64;

enum class Open { ReadWrite, ReadOnly, Snapshot };

struct BlkFixture {
    explicit BlkFixture(Open mode = Open::ReadWrite, uint64_t features = kFeatureVersion1 | kFeatureIndirectDesc) {
        auto image = mode == Open::Snapshot ? DiskImage::openOverlay(file.path)
                                            : DiskImage::open(file.path, mode == Open::ReadOnly);
        blk = std::make_unique<VirtioBlk>(mem, std::move(image), "hvlab-vda");
        driver = std::make_unique<VirtioTestDriver>(*blk, mem);
        REQUIRE(driver->negotiate(features | (driver->deviceFeatures() & blk::kFeatureReadOnly)));
        driver->setupQueue(0, 64, kQueue);
        driver->driverOk();
    }
    // Issues one request: the header, then `data` segments, then the status byte. Returns the status.
    uint8_t request(uint32_t type, uint64_t sector, const std::vector<Segment>& data, uint32_t* usedLength = nullptr) {
        mem.put(kHeader, type, 4);
        mem.put(kHeader + 4, 0, 4);
        mem.put(kHeader + 8, sector, 8);
        mem.put(kStatus, 0xFF, 1);
        std::vector<Segment> chain{{kHeader, 16, false}};
        chain.insert(chain.end(), data.begin(), data.end());
        chain.push_back({kStatus, 1, true});
        driver->addChain(driver->queues[0], chain);
        driver->notify(0);
        auto used = driver->takeUsed(driver->queues[0]);
        REQUIRE(used.size() == 1);
        if (usedLength) *usedLength = used[0].length;
        return static_cast<uint8_t>(mem.get(kStatus, 1));
    }
    bool needsReset() { return (driver->status() & kStatusNeedsReset) != 0; }

    TempImage file{kSectors};
    VirtioMemory mem{1 << 20};
    std::unique_ptr<VirtioBlk> blk;
    std::unique_ptr<VirtioTestDriver> driver;
};

}  // namespace

TEST_CASE("virtio-blk: identity, features and configuration", "[virtio][virtio-blk]") {
    BlkFixture f;
    CHECK(f.blk->configRead(pci::kDeviceId, 2) == 0x1042u);
    CHECK(f.blk->configRead(pci::kClass, 1) == 0x01u);
    const uint64_t features = f.driver->deviceFeatures();
    CHECK((features & blk::kFeatureSegMax) != 0);
    CHECK((features & blk::kFeatureBlkSize) != 0);
    CHECK((features & blk::kFeatureFlush) != 0);
    CHECK((features & blk::kFeatureReadOnly) == 0);
    CHECK(f.driver->deviceConfig(blk::kConfigCapacity, 4) == kSectors);  // as Linux reads it: two halves
    CHECK(f.driver->deviceConfig(blk::kConfigCapacity + 4, 4) == 0u);
    CHECK(f.driver->deviceConfig(blk::kConfigSegMax, 4) == 254u);
    CHECK(f.driver->deviceConfig(blk::kConfigBlkSize, 4) == 512u);
}

TEST_CASE("virtio-blk: reads scatter into several buffers", "[virtio][virtio-blk]") {
    BlkFixture f;
    uint32_t used = 0;
    CHECK(f.request(blk::kTypeIn, 3, {{kData, 512, true}, {kData + 0x2000, 1024, true}}, &used) == blk::kStatusOk);
    CHECK(used == 1536u + 1);
    for (uint64_t i = 0; i < 512; ++i) REQUIRE(f.mem.bytes[kData + i] == patternByte(3 * 512 + i));
    for (uint64_t i = 0; i < 1024; ++i) REQUIRE(f.mem.bytes[kData + 0x2000 + i] == patternByte(4 * 512 + i));
    CHECK(f.blk->counters().bytesRead == 1536u);
}

TEST_CASE("virtio-blk: writes reach the image, flush succeeds", "[virtio][virtio-blk]") {
    BlkFixture f;
    std::memset(f.mem.bytes.data() + kData, 0xA5, 1024);
    CHECK(f.request(blk::kTypeOut, 10, {{kData, 1024, false}}) == blk::kStatusOk);
    CHECK(f.request(blk::kTypeFlush, 0, {}) == blk::kStatusOk);
    const auto contents = f.file.contents();
    CHECK(contents[10 * 512] == 0xA5);
    CHECK(contents[12 * 512 - 1] == 0xA5);
    CHECK(contents[12 * 512] == patternByte(12 * 512));
}

TEST_CASE("virtio-blk: a read-only image reports VIRTIO_BLK_F_RO and fails writes", "[virtio][virtio-blk]") {
    BlkFixture f(Open::ReadOnly);
    CHECK((f.driver->deviceFeatures() & blk::kFeatureReadOnly) != 0);
    CHECK((f.blk->negotiatedFeatures() & blk::kFeatureReadOnly) != 0);
    CHECK(f.request(blk::kTypeOut, 0, {{kData, 512, false}}) == blk::kStatusIoErr);
    CHECK(f.file.contents()[0] == patternByte(0));
    CHECK(f.request(blk::kTypeIn, 0, {{kData, 512, true}}) == blk::kStatusOk);
}

TEST_CASE("virtio-blk: a snapshot image takes writes and leaves the file alone", "[virtio][virtio-blk]") {
    BlkFixture f(Open::Snapshot);
    CHECK((f.driver->deviceFeatures() & blk::kFeatureReadOnly) == 0);
    std::memset(f.mem.bytes.data() + kData, 0x3C, 512);
    CHECK(f.request(blk::kTypeOut, 5, {{kData, 512, false}}) == blk::kStatusOk);
    std::memset(f.mem.bytes.data() + kData, 0, 512);
    CHECK(f.request(blk::kTypeIn, 5, {{kData, 512, true}}) == blk::kStatusOk);
    CHECK(f.mem.bytes[kData] == 0x3C);
    CHECK(f.file.contents()[5 * 512] == patternByte(5 * 512));
}

TEST_CASE("virtio-blk: GET_ID and unsupported types", "[virtio][virtio-blk]") {
    BlkFixture f;
    uint32_t used = 0;
    CHECK(f.request(blk::kTypeGetId, 0, {{kData, 20, true}}, &used) == blk::kStatusOk);
    CHECK(std::string(reinterpret_cast<const char*>(&f.mem.bytes[kData])) == "hvlab-vda");
    CHECK(used == 21u);
    CHECK(f.request(11, 0, {}) == blk::kStatusUnsupported);  // DISCARD: not offered
    CHECK_FALSE(f.needsReset());
}

TEST_CASE("virtio-blk: transfers off the disk or of partial sectors fail with IOERR", "[virtio][virtio-blk]") {
    BlkFixture f;
    CHECK(f.request(blk::kTypeIn, kSectors - 1, {{kData, 1024, true}}) == blk::kStatusIoErr);
    CHECK(f.request(blk::kTypeIn, ~0ull, {{kData, 512, true}}) == blk::kStatusIoErr);
    CHECK(f.request(blk::kTypeIn, 0, {{kData, 100, true}}) == blk::kStatusIoErr);
    CHECK(f.request(blk::kTypeOut, 0, {{kData, 100, false}}) == blk::kStatusIoErr);
    CHECK(f.blk->counters().ioErrors == 4u);
    CHECK_FALSE(f.needsReset());
}

TEST_CASE("virtio-blk: a request through an indirect table", "[virtio][virtio-blk]") {
    BlkFixture f;
    f.mem.put(kHeader, blk::kTypeIn, 4);
    f.mem.put(kHeader + 8, 7, 8);
    f.driver->addIndirectChain(f.driver->queues[0], 0x50000,
                               {{kHeader, 16, false}, {kData, 512, true}, {kStatus, 1, true}});
    f.driver->notify(0);
    CHECK(f.driver->takeUsed(f.driver->queues[0]).size() == 1);
    CHECK(f.mem.get(kStatus, 1) == blk::kStatusOk);
    CHECK(f.mem.bytes[kData + 1] == patternByte(7 * 512 + 1));
}

TEST_CASE("virtio-blk: a request without header or status, or with data outside RAM, needs a reset",
          "[virtio][virtio-blk]") {
    BlkFixture f;
    SECTION("short header") { f.driver->addChain(f.driver->queues[0], {{kHeader, 8, false}, {kStatus, 1, true}}); }
    SECTION("no status byte") { f.driver->addChain(f.driver->queues[0], {{kHeader, 16, false}}); }
    SECTION("data outside RAM") {
        f.mem.put(kHeader, blk::kTypeIn, 4);
        f.driver->addChain(f.driver->queues[0],
                           {{kHeader, 16, false}, {(1 << 20) - 256, 512, true}, {kStatus, 1, true}});
    }
    f.driver->notify(0);
    CHECK(f.needsReset());
    CHECK(f.driver->irq.level());
}
