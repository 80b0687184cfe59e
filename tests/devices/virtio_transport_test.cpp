// The virtio-pci modern transport and split virtqueues, driven as a driver would (on virtio-console,
// the simplest device, and virtio-blk where a device with data helps): PCI identity, capabilities,
// feature negotiation, status and reset, interrupts and their suppression, and every bad input.
#include <catch2/catch.hpp>

#include <string>

#include "devices/virtio/virtio_blk.hpp"
#include "devices/virtio/virtio_console.hpp"
#include "temp_disk_image.hpp"
#include "virtio_test_driver.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::virtio;
using hvlab::test::Segment;
using hvlab::test::VirtioMemory;
using hvlab::test::VirtioTestDriver;

namespace {

constexpr uint64_t kQueue0 = 0x10000;
constexpr uint64_t kQueue1 = 0x20000;
constexpr uint64_t kData = 0x40000;
constexpr uint64_t kRam = 1 << 20;

struct ConsoleFixture {
    VirtioMemory mem{kRam};
    std::string output;
    VirtioConsole console{mem, [this](uint8_t b) { output.push_back(static_cast<char>(b)); }};
    VirtioTestDriver driver{console, mem};

    // A console the driver has brought up: both queues of 16 entries, DRIVER_OK.
    void bringUp(uint64_t features = kFeatureVersion1) {
        REQUIRE(driver.negotiate(features));
        driver.setupQueue(0, 16, kQueue0);
        driver.setupQueue(1, 16, kQueue1);
        driver.driverOk();
    }
    void transmit(const std::string& text) {
        mem.write(kData, text.data(), text.size());
        driver.addChain(driver.queues[1], {{kData, static_cast<uint32_t>(text.size()), false}});
        driver.notify(1);
    }
    bool needsReset() { return (driver.status() & kStatusNeedsReset) != 0; }
};

}  // namespace

TEST_CASE("virtio-pci: identity, BAR 4 and the capabilities", "[virtio]") {
    ConsoleFixture f;
    VirtioConsole& c = f.console;
    CHECK(c.configRead(pci::kVendorId, 2) == 0x1AF4u);
    CHECK(c.configRead(pci::kDeviceId, 2) == 0x1043u);  // 0x1040 + 3
    CHECK(c.configRead(pci::kRevision, 1) == 1u);
    CHECK(c.configRead(pci::kSubsystemVendorId, 2) == 0x1AF4u);
    CHECK(c.configRead(pci::kSubsystemId, 2) >= 0x40u);
    CHECK(c.configRead(pci::kInterruptPin, 1) == 1u);
    CHECK(c.bar(4).kind == BarKind::Memory64);
    c.configWrite(pci::kBar0 + 16, 4, 0xFFFFFFFF);
    CHECK(c.configRead(pci::kBar0 + 16, 4) == 0xFFFFC00Cu);  // 16 KiB, 64-bit, prefetchable
    CHECK(f.driver.capabilitiesFound == 5);  // common, ISR, device, notify, PCI cfg
    CHECK(f.driver.commonAt == 0x0000u);
    CHECK(f.driver.isrAt == 0x1000u);
    CHECK(f.driver.deviceAt == 0x2000u);
    CHECK(f.driver.notifyAt == 0x3000u);
    CHECK(f.driver.notifyMultiplier == 4u);
    CHECK(f.driver.common(common::kNumQueues, 2) == 2u);
    CHECK(f.driver.common(common::kConfigMsixVector, 2) == kNoVector);
    f.driver.setCommon(common::kQueueSelect, 2, 1);
    CHECK(f.driver.common(common::kQueueSize, 2) == console::kQueueSize);
    CHECK(f.driver.common(common::kQueueNotifyOff, 2) == 1u);
    f.driver.setCommon(common::kQueueSelect, 2, 2);
    CHECK(f.driver.common(common::kQueueSize, 2) == 0u);  // no such queue
}

TEST_CASE("virtio-pci: feature negotiation needs VERSION_1 and offered bits only", "[virtio]") {
    ConsoleFixture f;
    const uint64_t offered = f.driver.deviceFeatures();
    CHECK((offered & kFeatureVersion1) != 0);
    CHECK((offered & kFeatureIndirectDesc) != 0);
    CHECK((offered & kFeatureEventIdx) != 0);
    CHECK_FALSE(f.driver.negotiate(0));                          // a legacy driver: refused
    CHECK_FALSE(f.driver.negotiate(kFeatureVersion1 | 1u << 5)); // a bit the console did not offer
    CHECK(f.driver.negotiate(kFeatureVersion1 | kFeatureEventIdx));
    // Feature writes after FEATURES_OK are ignored.
    f.driver.setCommon(common::kDriverFeatureSelect, 4, 1);
    f.driver.setCommon(common::kDriverFeature, 4, 0);
    CHECK(f.console.negotiatedFeatures() == (kFeatureVersion1 | kFeatureEventIdx));
}

TEST_CASE("virtio-pci: writing 0 to the status resets the device", "[virtio]") {
    ConsoleFixture f;
    f.bringUp();
    CHECK(f.console.queueState(1).enabled());
    f.driver.setStatus(0);
    CHECK(f.driver.status() == 0);
    CHECK_FALSE(f.console.queueState(0).enabled());
    CHECK(f.console.negotiatedFeatures() == 0);
    f.driver.setCommon(common::kQueueSelect, 2, 0);
    CHECK(f.driver.common(common::kQueueSize, 2) == console::kQueueSize);
    CHECK(f.driver.common(common::kQueueDesc, 8) == 0u);
}

TEST_CASE("virtio-pci: a used buffer raises INTx through the read-to-clear ISR", "[virtio]") {
    ConsoleFixture f;
    f.bringUp();
    f.transmit("hello");
    CHECK(f.output == "hello");
    auto used = f.driver.takeUsed(f.driver.queues[1]);
    REQUIRE(used.size() == 1);
    CHECK(used[0].id == 0u);
    CHECK(f.driver.irq.level());
    CHECK((f.console.configRead(pci::kStatus, 2) & pci::kStatusInterrupt) != 0);
    CHECK(f.driver.readIsr() == kIsrQueue);
    CHECK_FALSE(f.driver.irq.level());
    CHECK(f.driver.readIsr() == 0);
}

TEST_CASE("virtio-pci: buffers notified before DRIVER_OK are used once it is set", "[virtio]") {
    ConsoleFixture f;
    REQUIRE(f.driver.negotiate(kFeatureVersion1));
    f.driver.setupQueue(0, 16, kQueue0);
    f.driver.setupQueue(1, 16, kQueue1);
    f.transmit("early");
    CHECK(f.output.empty());
    f.driver.driverOk();
    CHECK(f.output == "early");
}

TEST_CASE("virtio-pci: interrupt suppression (NO_INTERRUPT flag, EVENT_IDX)", "[virtio]") {
    ConsoleFixture f;
    SECTION("VIRTQ_AVAIL_F_NO_INTERRUPT") {
        f.bringUp();
        f.mem.put(f.driver.queues[1].avail, kAvailNoInterrupt, 2);
        f.transmit("a");
        CHECK(f.output == "a");
        CHECK_FALSE(f.driver.irq.level());
    }
    SECTION("used_event and avail_event") {
        f.bringUp(kFeatureVersion1 | kFeatureEventIdx);
        auto& q = f.driver.queues[1];
        f.mem.put(q.avail + 4 + 2 * 16, 5, 2);  // used_event: interrupt when used idx passes 5
        f.transmit("a");
        CHECK_FALSE(f.driver.irq.level());
        CHECK(f.mem.get(q.used + 4 + 8 * 16, 2) == 1u);  // avail_event = next available index
        f.mem.put(q.avail + 4 + 2 * 16, 1, 2);
        f.transmit("b");  // used idx goes 1 -> 2: crosses used_event 1
        CHECK(f.driver.irq.level());
        CHECK(f.output == "ab");
    }
}

TEST_CASE("virtio-pci: a queue size that is not a power of 2 needs a reset", "[virtio]") {
    ConsoleFixture f;
    REQUIRE(f.driver.negotiate(kFeatureVersion1));
    f.driver.setupQueue(0, 16, kQueue0);
    f.driver.driverOk();
    f.driver.setupQueue(1, 12, kQueue1);
    CHECK_FALSE(f.console.queueState(1).enabled());
    CHECK(f.needsReset());
    CHECK(f.driver.irq.level());
    CHECK(f.driver.readIsr() == kIsrConfig);
    // The device stays stopped until the driver resets it; then it works again.
    f.driver.setStatus(0);
    CHECK_FALSE(f.needsReset());
    f.bringUp();
    f.transmit("ok");
    CHECK(f.output == "ok");
}

TEST_CASE("virtio-pci: rings outside RAM or misaligned are refused", "[virtio]") {
    ConsoleFixture f;
    REQUIRE(f.driver.negotiate(kFeatureVersion1));
    SECTION("outside RAM") { f.driver.setupQueue(0, 16, kRam - 64); }
    SECTION("misaligned") { f.driver.setupQueue(0, 16, kQueue0 + 8); }
    CHECK_FALSE(f.console.queueState(0).enabled());
    CHECK(f.needsReset());
}

TEST_CASE("virtio-pci: a notify for a queue that is not enabled needs a reset", "[virtio]") {
    ConsoleFixture f;
    REQUIRE(f.driver.negotiate(kFeatureVersion1));
    f.driver.setupQueue(0, 16, kQueue0);
    f.driver.driverOk();
    SECTION("queue 1, never enabled") { f.driver.notify(1); }
    SECTION("queue 7, absent") { f.driver.notify(7); }
    CHECK(f.needsReset());
    CHECK(f.driver.readIsr() == kIsrConfig);
}

TEST_CASE("virtio-pci: malformed chains need a reset and are never used", "[virtio]") {
    ConsoleFixture f;
    f.bringUp();
    auto& q = f.driver.queues[1];
    SECTION("a looping chain") {
        f.driver.writeDescriptor(q.desc, 0, {kData, 1, false}, kDescNext, 1);
        f.driver.writeDescriptor(q.desc, 1, {kData, 1, false}, kDescNext, 0);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("a next index outside the table") {
        f.driver.writeDescriptor(q.desc, 0, {kData, 1, false}, kDescNext, 16);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("a head outside the table") { f.driver.makeAvailable(q, 40); }
    SECTION("a buffer outside RAM") { f.driver.addChain(q, {{kRam - 2, 8, false}}); }
    SECTION("an available index that jumps past the queue size") { f.mem.put(q.avail + 2, 200, 2); }
    SECTION("an indirect descriptor without VIRTIO_F_INDIRECT_DESC") {
        f.driver.addIndirectChain(q, kData + 0x1000, {{kData, 1, false}});
    }
    SECTION("a readable buffer after a writable one") {
        f.driver.addChain(q, {{kData, 1, true}, {kData + 8, 1, false}});
    }
    f.driver.notify(1);
    CHECK(f.needsReset());
    CHECK(f.driver.takeUsed(q).empty());
    CHECK(f.output.empty());
    CHECK(f.driver.irq.level());
    // Further notifies are ignored until the reset.
    f.driver.notify(1);
    CHECK(f.output.empty());
}

TEST_CASE("virtio-pci: bad indirect tables need a reset", "[virtio]") {
    ConsoleFixture f;
    f.bringUp(kFeatureVersion1 | kFeatureIndirectDesc);
    auto& q = f.driver.queues[1];
    const uint64_t table = kData + 0x1000;
    SECTION("a length that is not a multiple of 16") {
        f.driver.writeDescriptor(q.desc, 0, {table, 24, false}, kDescIndirect, 0);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("longer than 1024 entries") {
        f.driver.writeDescriptor(q.desc, 0, {table, 16 * 1025, false}, kDescIndirect, 0);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("INDIRECT with NEXT") {
        f.driver.writeDescriptor(q.desc, 0, {table, 16, false}, kDescIndirect | kDescNext, 1);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("an indirect descriptor inside the table") {
        f.driver.writeDescriptor(table, 0, {table, 16, false}, kDescIndirect, 0);
        f.driver.writeDescriptor(q.desc, 0, {table, 16, false}, kDescIndirect, 0);
        f.driver.makeAvailable(q, 0);
    }
    SECTION("a loop inside the table") {
        f.driver.writeDescriptor(table, 0, {kData, 1, false}, kDescNext, 1);
        f.driver.writeDescriptor(table, 1, {kData, 1, false}, kDescNext, 0);
        f.driver.writeDescriptor(q.desc, 0, {table, 32, false}, kDescIndirect, 0);
        f.driver.makeAvailable(q, 0);
    }
    f.driver.notify(1);
    CHECK(f.needsReset());
    CHECK(f.output.empty());
}

TEST_CASE("virtio-pci: indirect descriptors carry a chain", "[virtio]") {
    ConsoleFixture f;
    f.bringUp(kFeatureVersion1 | kFeatureIndirectDesc);
    f.mem.write(kData, "indi", 4);
    f.mem.write(kData + 0x100, "rect", 4);
    f.driver.addIndirectChain(f.driver.queues[1], kData + 0x1000, {{kData, 4, false}, {kData + 0x100, 4, false}});
    f.driver.notify(1);
    CHECK(f.output == "indirect");
    CHECK_FALSE(f.needsReset());
}

TEST_CASE("virtio-pci: the PCI configuration access window reaches BAR 4", "[virtio]") {
    ConsoleFixture f;
    // Find the VIRTIO_PCI_CAP_PCI_CFG capability.
    auto at = static_cast<uint8_t>(f.console.configRead(pci::kCapabilitiesPointer, 1));
    while (at != 0 && f.console.configRead(at + 3, 1) != kCapPciCfg) at = static_cast<uint8_t>(f.console.configRead(at + 1, 1));
    REQUIRE(at != 0);
    f.console.configWrite(at + 4, 1, 4);                       // bar
    f.console.configWrite(at + 8, 4, common::kNumQueues);      // offset
    f.console.configWrite(at + 12, 4, 2);                      // length
    CHECK(f.console.configRead(at + 16, 4) == 2u);
    f.console.configWrite(at + 8, 4, common::kDeviceStatus);
    f.console.configWrite(at + 12, 4, 1);
    f.console.configWrite(at + 16, 4, kStatusAcknowledge);
    CHECK(f.driver.status() == kStatusAcknowledge);
}
