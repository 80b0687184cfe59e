// virtio-net on the in-process switch and virtio-console on its callbacks, as a driver sees them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "devices/virtio/virtio_console.hpp"
#include "devices/virtio/virtio_net.hpp"
#include "devices/virtual_switch.hpp"
#include "virtio_test_driver.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::virtio;
using hvlab::test::Segment;
using hvlab::test::VirtioMemory;
using hvlab::test::VirtioTestDriver;

namespace {

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x02};
constexpr MacAddress kPeer = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC};
constexpr uint64_t kRxQueue = 0x10000;
constexpr uint64_t kTxQueue = 0x20000;
constexpr uint64_t kRxBuffers = 0x40000;
constexpr uint64_t kTxBuffer = 0x60000;

std::vector<uint8_t> frame(const MacAddress& dst, const MacAddress& src, size_t payload, uint8_t fill) {
    std::vector<uint8_t> f(dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    f.push_back(0x08);
    f.push_back(0x00);
    f.insert(f.end(), payload, fill);
    return f;
}

struct NetFixture {
    explicit NetFixture(uint64_t moreFeatures = 0) {
        port = network.connect("vm", {});
        peer = network.connect("peer", {});
        net.attach(port);
        REQUIRE(driver.negotiate(kFeatureVersion1 | net::kFeatureMac | net::kFeatureStatus | moreFeatures));
        driver.setupQueue(net::kReceiveQueue, 16, kRxQueue);
        driver.setupQueue(net::kTransmitQueue, 16, kTxQueue);
        driver.driverOk();
    }
    ~NetFixture() {
        net.attach(nullptr);
        network.disconnect(port);
        network.disconnect(peer);
    }
    void postReceiveBuffer(unsigned k, uint32_t size = 2048) {
        driver.addChain(driver.queues[net::kReceiveQueue], {{kRxBuffers + 0x1000ull * k, size, true}});
        driver.notify(net::kReceiveQueue);
    }
    std::vector<std::vector<uint8_t>> peerFrames() {
        std::vector<std::vector<uint8_t>> out;
        peer->drain([&out](std::span<const uint8_t> f) {
            out.emplace_back(f.begin(), f.end());
            return true;
        });
        return out;
    }

    VirtualSwitch network;
    VirtualSwitch::Port* port = nullptr;
    VirtualSwitch::Port* peer = nullptr;
    VirtioMemory mem{1 << 20};
    VirtioNet net{mem, kMac};
    VirtioTestDriver driver{net, mem};
};

struct ConsoleFixture {
    ConsoleFixture() {
        REQUIRE(driver.negotiate(kFeatureVersion1));
        driver.setupQueue(console::kReceiveQueue, 16, kRxQueue);
        driver.setupQueue(console::kTransmitQueue, 16, kTxQueue);
        driver.driverOk();
    }
    VirtioMemory mem{1 << 20};
    std::string output;
    VirtioConsole console{mem, [this](uint8_t b) { output.push_back(static_cast<char>(b)); }};
    VirtioTestDriver driver{console, mem};
};

}  // namespace

TEST_CASE("virtio-net: identity, MAC and link status", "[virtio][virtio-net]") {
    NetFixture f;
    CHECK(f.net.configRead(pci::kDeviceId, 2) == 0x1041u);
    CHECK(f.net.configRead(pci::kSubclass, 2) == 0x0200u);  // class 02 (network), subclass 00 (Ethernet)
    CHECK(f.driver.common(common::kNumQueues, 2) == 2u);
    for (unsigned i = 0; i < 6; ++i) CHECK(f.driver.deviceConfig(net::kConfigMac + i, 1) == kMac[i]);
    CHECK(f.driver.deviceConfig(net::kConfigStatus, 2) == net::kStatusLinkUp);
    const auto generation = f.driver.common(common::kConfigGeneration, 1);
    f.net.attach(nullptr);  // cable out: configuration interrupt
    CHECK(f.driver.deviceConfig(net::kConfigStatus, 2) == 0u);
    CHECK(f.driver.common(common::kConfigGeneration, 1) != generation);
    CHECK(f.driver.readIsr() == kIsrConfig);
    f.net.attach(f.port);
}

TEST_CASE("virtio-net: transmit strips the 12-byte header onto the switch", "[virtio][virtio-net]") {
    NetFixture f;
    const auto out = frame(kPeer, kMac, 50, 0x77);
    std::vector<uint8_t> packet(net::kHeaderSize, 0);
    packet.insert(packet.end(), out.begin(), out.end());
    f.mem.write(kTxBuffer, packet.data(), 4);  // the header split over two buffers, as drivers may
    f.mem.write(kTxBuffer + 0x800, packet.data() + 4, packet.size() - 4);
    f.driver.addChain(f.driver.queues[net::kTransmitQueue],
                      {{kTxBuffer, 4, false}, {kTxBuffer + 0x800, static_cast<uint32_t>(packet.size() - 4), false}});
    f.driver.notify(net::kTransmitQueue);
    const auto frames = f.peerFrames();
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == out);
    CHECK(f.driver.takeUsed(f.driver.queues[net::kTransmitQueue]).size() == 1);
    CHECK(f.driver.readIsr() == kIsrQueue);
    CHECK(f.net.counters().txFrames == 1u);
}

TEST_CASE("virtio-net: received frames wait for buffers and get a header", "[virtio][virtio-net]") {
    NetFixture f;
    const auto in = frame(kMac, kPeer, 100, 0x42);
    f.peer->send(in);
    f.net.pollReceive();  // no buffers yet: the frame waits in the port
    CHECK(f.port->pending() == 1u);
    f.postReceiveBuffer(0);  // the notify drains the port
    auto used = f.driver.takeUsed(f.driver.queues[net::kReceiveQueue]);
    REQUIRE(used.size() == 1);
    CHECK(used[0].length == net::kHeaderSize + in.size());
    CHECK(f.mem.get(kRxBuffers, 1) == 0u);       // flags
    CHECK(f.mem.get(kRxBuffers + 10, 2) == 1u);  // num_buffers
    CHECK(std::equal(in.begin(), in.end(), f.mem.bytes.begin() + kRxBuffers + net::kHeaderSize));
    CHECK(f.driver.irq.level());
}

TEST_CASE("virtio-net: a frame larger than the receive buffer is dropped", "[virtio][virtio-net]") {
    NetFixture f;
    f.postReceiveBuffer(0, 64);
    f.peer->send(frame(kMac, kPeer, 200, 1));
    f.net.pollReceive();
    auto used = f.driver.takeUsed(f.driver.queues[net::kReceiveQueue]);
    REQUIRE(used.size() == 1);
    CHECK(used[0].length == 0u);
    CHECK(f.net.counters().rxDropped == 1u);
    CHECK((f.driver.status() & kStatusNeedsReset) == 0);
}

TEST_CASE("virtio-net: runt transmit chains are dropped, not sent", "[virtio][virtio-net]") {
    NetFixture f;
    f.driver.addChain(f.driver.queues[net::kTransmitQueue], {{kTxBuffer, 12, false}});
    f.driver.notify(net::kTransmitQueue);
    CHECK(f.peerFrames().empty());
    CHECK(f.net.counters().txDropped == 1u);
    CHECK(f.driver.takeUsed(f.driver.queues[net::kTransmitQueue]).size() == 1);
}

// What tinyos's `bench udp` relies on: many frames per notification, and with EVENT_IDX a transmit
// queue whose used_event lies far ahead raises no interrupt, while avail_event asks for the next
// burst's notification.
TEST_CASE("virtio-net: a burst of frames, one notify, no interrupt (EVENT_IDX)", "[virtio][virtio-net]") {
    NetFixture f(kFeatureEventIdx);
    auto& tx = f.driver.queues[net::kTransmitQueue];
    const uint64_t usedEvent = tx.avail + 4 + 2ull * tx.size;
    const uint64_t availEvent = tx.used + 4 + 8ull * tx.size;
    f.mem.put(usedEvent, 0x8000, 2);  // "interrupt me half the index space from now": never
    const auto out = frame(kPeer, kMac, 1000, 0x55);
    std::vector<uint8_t> packet(net::kHeaderSize, 0);
    packet.insert(packet.end(), out.begin(), out.end());
    constexpr unsigned kBurst = 12;
    for (unsigned round = 0; round < 2; ++round) {
        for (unsigned k = 0; k < kBurst / 2; ++k) {
            const uint64_t buffer = kTxBuffer + 0x800ull * k;
            f.mem.write(buffer, packet.data(), packet.size());
            f.driver.addChain(tx, {{buffer, static_cast<uint32_t>(packet.size()), false}});
        }
        f.driver.notify(net::kTransmitQueue);  // one notify for the whole burst
        CHECK(f.mem.get(availEvent, 2) == tx.availIdx);  // notify me when you add the next one
        CHECK(f.driver.takeUsed(tx).size() == kBurst / 2);
        f.mem.put(usedEvent, static_cast<uint16_t>(tx.lastUsed + 0x8000), 2);
    }
    CHECK(f.peerFrames().size() == kBurst);
    CHECK(f.net.counters().txFrames == kBurst);
    CHECK_FALSE(f.driver.irq.level());
    CHECK(f.driver.readIsr() == 0u);
    CHECK(f.network.framesIn() == kBurst);
}

TEST_CASE("virtio-console: output goes to the sink, input to receive buffers", "[virtio][virtio-console]") {
    ConsoleFixture f;
    CHECK(f.console.configRead(pci::kDeviceId, 2) == 0x1043u);
    CHECK(f.driver.deviceFeatures() == VirtioPciDevice::kTransportFeatures);  // no MULTIPORT, SIZE, EMERG_WRITE
    f.mem.write(kTxBuffer, "login: ", 7);
    f.driver.addChain(f.driver.queues[console::kTransmitQueue], {{kTxBuffer, 7, false}});
    f.driver.notify(console::kTransmitQueue);
    CHECK(f.output == "login: ");

    CHECK_FALSE(f.console.listening());
    f.driver.addChain(f.driver.queues[console::kReceiveQueue], {{kRxBuffers, 4, true}});
    f.driver.addChain(f.driver.queues[console::kReceiveQueue], {{kRxBuffers + 0x100, 64, true}});
    f.driver.notify(console::kReceiveQueue);
    CHECK(f.console.listening());
    f.console.queueInput("root\nls\n");
    f.console.pollInput();
    auto used = f.driver.takeUsed(f.driver.queues[console::kReceiveQueue]);
    REQUIRE(used.size() == 2);
    CHECK(used[0].length == 4u);
    CHECK(used[1].length == 4u);
    CHECK(std::string(reinterpret_cast<const char*>(&f.mem.bytes[kRxBuffers]), 4) == "root");
    CHECK(std::string(reinterpret_cast<const char*>(&f.mem.bytes[kRxBuffers + 0x100]), 4) == "\nls\n");
    CHECK(f.driver.readIsr() == kIsrQueue);
}
