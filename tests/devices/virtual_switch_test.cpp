// The learning switch between VMs: flooding, learning, per-port queues drained on the
// receiver's thread, bounded queues, counters, and two e1000s talking through it.
#include <catch2/catch.hpp>

#include "tests/devices/vector_memory.hpp"

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "devices/e1000.hpp"
#include "devices/e1000_regs.hpp"
#include "devices/virtual_switch.hpp"

using namespace hvlab::devices;

namespace {

constexpr MacAddress kMacA = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0A};
constexpr MacAddress kMacB = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0B};
constexpr MacAddress kMacC = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0C};
constexpr MacAddress kBroadcast = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

std::vector<uint8_t> frame(const MacAddress& dst, const MacAddress& src, uint8_t tag = 0, size_t payload = 46) {
    std::vector<uint8_t> f(dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    f.push_back(0x88);
    f.push_back(0xB5);  // local experimental EtherType
    f.resize(14 + payload, tag);
    return f;
}

std::vector<std::vector<uint8_t>> drainAll(VirtualSwitch::Port* port) {
    std::vector<std::vector<uint8_t>> out;
    port->drain([&](std::span<const uint8_t> f) {
        out.emplace_back(f.begin(), f.end());
        return true;
    });
    return out;
}

}  // namespace

TEST_CASE("virtual switch: unknown destinations flood, learned ones go to one port", "[vswitch]") {
    VirtualSwitch sw;
    int wakesB = 0, wakesC = 0;
    auto* a = sw.connect("a");
    auto* b = sw.connect("b", [&] { ++wakesB; });
    auto* c = sw.connect("c", [&] { ++wakesC; });
    CHECK(sw.portCount() == 3);

    a->send(frame(kMacB, kMacA, 1));  // B not learned yet: flooded to b and c, not back to a
    CHECK(a->pending() == 0);
    CHECK(b->pending() == 1);
    CHECK(c->pending() == 1);
    CHECK(wakesB == 1);
    CHECK(wakesC == 1);
    CHECK(sw.portOf(kMacA) == std::optional<std::string>("a"));
    CHECK(sw.floodedFrames() == 1);

    b->send(frame(kMacA, kMacB, 2));  // A is known: only a gets it
    CHECK(a->pending() == 1);
    CHECK(c->pending() == 1);
    CHECK(sw.portOf(kMacB) == std::optional<std::string>("b"));

    a->send(frame(kMacB, kMacA, 3));  // now B is known too
    CHECK(b->pending() == 2);
    CHECK(c->pending() == 1);
    CHECK(wakesC == 1);
    const auto atB = drainAll(b);
    REQUIRE(atB.size() == 2);
    CHECK(atB[0][14] == 1);  // arrival order
    CHECK(atB[1][14] == 3);

    a->send(frame(kBroadcast, kMacA, 4));  // broadcast: everyone else
    CHECK(b->pending() == 1);
    CHECK(c->pending() == 2);
    a->send(frame(kMacA, kMacA, 5));  // to itself: filtered, like a real switch
    CHECK(a->pending() == 1);
    CHECK(b->pending() == 1);

    const auto countersA = a->counters();
    CHECK(countersA.framesIn == 4);
    CHECK(countersA.bytesIn == 4 * 60);
    CHECK(countersA.framesOut == 1);
    CHECK(b->counters().framesOut == 3);
    CHECK(sw.framesIn() == countersA.framesIn + b->counters().framesIn + c->counters().framesIn);
}

TEST_CASE("virtual switch: group source MACs are not learned; MACs move; disconnect forgets", "[vswitch]") {
    VirtualSwitch sw;
    auto* a = sw.connect("a");
    auto* b = sw.connect("b");
    auto* c = sw.connect("c");
    const MacAddress group = {0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    a->send(frame(kMacB, group));
    CHECK_FALSE(sw.portOf(group).has_value());
    a->send(frame(kMacB, kMacC));
    CHECK(sw.portOf(kMacC) == std::optional<std::string>("a"));
    c->send(frame(kMacB, kMacC));  // C moved to port c
    CHECK(sw.portOf(kMacC) == std::optional<std::string>("c"));
    drainAll(a);
    drainAll(c);
    sw.disconnect(c);
    CHECK_FALSE(sw.portOf(kMacC).has_value());
    CHECK(sw.portCount() == 2);
    b->send(frame(kMacC, kMacB));  // unknown again: flooded to a only
    CHECK(a->pending() == 1);
}

TEST_CASE("virtual switch: bounded queues drop the oldest frame and count it", "[vswitch]") {
    VirtualSwitch sw(nullptr, 4);
    auto* a = sw.connect("a");
    auto* b = sw.connect("b");
    for (uint8_t i = 0; i < 6; ++i) a->send(frame(kMacB, kMacA, i));
    CHECK(b->pending() == 4);
    CHECK(b->counters().queueDrops == 2);
    const auto got = drainAll(b);
    REQUIRE(got.size() == 4);
    CHECK(got.front()[14] == 2);
    CHECK(got.back()[14] == 5);
}

TEST_CASE("virtual switch: a refused frame stays at the head of the queue", "[vswitch]") {
    VirtualSwitch sw;
    auto* a = sw.connect("a");
    auto* b = sw.connect("b");
    for (uint8_t i = 0; i < 3; ++i) a->send(frame(kMacB, kMacA, i));
    int calls = 0;
    const size_t taken = b->drain([&](std::span<const uint8_t>) { return ++calls < 2; });
    CHECK(taken == 1);
    CHECK(b->pending() == 2);
    const auto rest = drainAll(b);
    CHECK(rest.front()[14] == 1);
}

TEST_CASE("virtual switch: malformed frames are refused and counted", "[vswitch]") {
    VirtualSwitch sw;
    auto* a = sw.connect("a");
    auto* b = sw.connect("b");
    a->send(std::vector<uint8_t>(10, 0xFF));
    a->send(std::vector<uint8_t>(70000, 0xFF));
    CHECK(b->pending() == 0);
    CHECK(a->counters().malformedIn == 2);
    CHECK(a->counters().framesIn == 0);
}

TEST_CASE("virtual switch: senders on several threads, receivers drain on theirs", "[vswitch]") {
    VirtualSwitch sw(nullptr, 100000);
    constexpr int kFrames = 2000;
    auto* a = sw.connect("a");
    auto* b = sw.connect("b");
    auto* sink = sw.connect("sink");
    std::atomic<bool> done{false};
    std::atomic<size_t> received{0};
    std::thread receiver([&] {
        while (!done.load() || sink->pending() > 0)
            received += sink->drain([](std::span<const uint8_t>) { return true; });
    });
    std::thread ta([&] { for (int i = 0; i < kFrames; ++i) a->send(frame(kBroadcast, kMacA)); });
    std::thread tb([&] { for (int i = 0; i < kFrames; ++i) b->send(frame(kBroadcast, kMacB)); });
    ta.join();
    tb.join();
    done = true;
    receiver.join();
    CHECK(received.load() == 2 * kFrames);
    CHECK(a->pending() == kFrames);  // b's broadcasts
    CHECK(b->pending() == kFrames);
    CHECK(sink->counters().queueDrops == 0);
}

// Two VMs' e1000s on one switch: an ARP-like broadcast from A, a unicast reply from B.
namespace {


// A minimal guest driver: both rings set up, receiving broadcasts.
struct Vm {
    explicit Vm(const MacAddress& mac, VirtualSwitch& sw, const char* name) : nic(mac, memory) {
        nic.connectIrq(&irq);
        nic.configWrite(pci::kCommand, 2, pci::kCommandMemory | pci::kCommandBusMaster);
        nic.attach(sw.connect(name, [this] { ++wakes; }));
        using namespace e1000;
        for (uint32_t i = 0; i < 8; ++i) memory.put(0x1000 + 16 * i, 0x10000 + 0x800 * i, 8);
        wr(kRdbal, 0x1000);
        wr(kRdlen, 8 * 16);
        wr(kRdt, 7);
        wr(kRctl, kRctlEn | kRctlBam | kRctlSecrc);
        wr(kTdbal, 0x2000);
        wr(kTdlen, 8 * 16);
        wr(kTctl, kTctlEn | kTctlPsp);
        wr(kIms, kIntRxt0);
        nic.readRegister(kIcr);
    }
    void wr(uint32_t offset, uint32_t value) { nic.writeRegister(offset, value); }
    void transmit(const std::vector<uint8_t>& f) {
        using namespace e1000;
        const uint32_t tail = nic.readRegister(kTdt);
        const uint64_t buffer = 0x30000 + 0x800 * tail;
        std::copy(f.begin(), f.end(), memory.bytes.begin() + static_cast<long>(buffer));
        memory.put(0x2000 + 16 * tail, buffer, 8);
        memory.put(0x2000 + 16 * tail + 8, f.size() | uint32_t{kTxCmdEop | kTxCmdRs} << 24, 4);
        memory.put(0x2000 + 16 * tail + 12, 0, 4);
        wr(kTdt, (tail + 1) % 8);
    }
    std::vector<uint8_t> received(uint32_t index) {
        const uint64_t descriptor = 0x1000 + 16 * index;
        const size_t length = memory.bytes[descriptor + 8] | memory.bytes[descriptor + 9] << 8;
        const auto begin = memory.bytes.begin() + static_cast<long>(0x10000 + 0x800 * index);
        return {begin, begin + static_cast<long>(length)};
    }

    hvlab::test::VectorMemory memory{256 * 1024};
    LatchedIrqLine irq;
    E1000 nic;
    int wakes = 0;
};

}  // namespace

// A VM's port goes away with the VM while the other VM keeps sending: once disconnect() has
// returned, the switch must not call the wake callback, which points into the freed VM (the
// crash `hvlab spectrum` once hit when the VMs were torn down).
TEST_CASE("virtual switch: no wake callback runs after disconnect returns", "[vswitch]") {
    VirtualSwitch sw;
    auto* sender = sw.connect("sender");
    std::atomic<bool> stop{false};
    std::thread flood([&] {
        const auto broadcast = frame(kBroadcast, kMacA);
        while (!stop) sender->send(broadcast);
    });
    std::atomic<int> wakes{0}, lateWakes{0};
    for (int round = 0; round < 300; ++round) {
        auto alive = std::make_shared<std::atomic<bool>>(true);
        auto* port = sw.connect("vm", [alive, &wakes, &lateWakes] {
            if (*alive) ++wakes;
            else ++lateWakes;  // the owner is gone: a use after free in a real VM
        });
        while (port->counters().framesOut == 0) std::this_thread::yield();
        sw.disconnect(port);
        *alive = false;
    }
    stop = true;
    flood.join();
    CHECK(wakes > 0);
    CHECK(lateWakes == 0);
}

TEST_CASE("virtual switch: two e1000s exchange a broadcast and a unicast reply", "[vswitch][e1000]") {
    VirtualSwitch sw;
    Vm a(kMacA, sw, "vm-a");
    Vm b(kMacB, sw, "vm-b");
    auto* bystander = sw.connect("bystander");

    auto request = frame(kBroadcast, kMacA, 0x11);
    request[12] = 0x08;
    request[13] = 0x06;  // ARP
    a.transmit(request);
    CHECK(b.wakes == 1);  // the switch kicked B's vCPU ...
    CHECK(b.nic.counters().rxFrames == 0);  // ... but delivery waits for B's own thread
    b.nic.pollReceive();
    CHECK(b.nic.counters().rxFrames == 1);
    CHECK(b.received(0) == request);
    CHECK(b.irq.level());
    CHECK(bystander->pending() == 1);  // a broadcast floods

    const auto reply = frame(kMacA, kMacB, 0x22);
    b.transmit(reply);
    CHECK(a.wakes == 1);
    a.nic.pollReceive();
    CHECK(a.nic.counters().rxFrames == 1);
    CHECK(a.received(0) == reply);
    CHECK(a.irq.level());
    CHECK(bystander->pending() == 1);  // the reply went to A only: A's MAC was learned
    CHECK(sw.portOf(kMacA) == std::optional<std::string>("vm-a"));
    CHECK(sw.portOf(kMacB) == std::optional<std::string>("vm-b"));
}
