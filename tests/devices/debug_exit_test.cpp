// isa-debug-exit: the guest's stop request and QEMU's exit-status convention.
#include <catch2/catch.hpp>

#include <vector>

#include "devices/bus.hpp"
#include "devices/debug_exit.hpp"

using namespace hvlab::devices;

TEST_CASE("DebugExit passes the written value to the stop callback", "[debug_exit]") {
    std::vector<uint32_t> requests;
    DebugExit dev(DebugExit::kDefaultPort, [&](uint32_t v) { requests.push_back(v); });
    CHECK(dev.name() == "isa-debug-exit@0xf4");
    CHECK(dev.port() == 0xF4);
    CHECK_FALSE(dev.stopValue().has_value());

    IoBus bus;
    bus.attach(dev.port(), 1, &dev);
    bus.write(0xF4, 1, 0x10);
    bus.write(0xF4, 1, 0xABCD12);   // a byte write carries only its low byte
    bus.write(0xF4, 2, 0xABCD12);   // wider writes carry the whole width, as in QEMU
    bus.write(0xF4, 4, 0xDEADBEEF);
    CHECK(requests == std::vector<uint32_t>{0x10, 0x12, 0xCD12, 0xDEADBEEF});
    CHECK(dev.stopValue() == 0xDEADBEEFu);
}

TEST_CASE("DebugExit reads return all-ones and do not request a stop", "[debug_exit]") {
    int calls = 0;
    DebugExit dev(0x501, [&](uint32_t) { ++calls; });
    CHECK(dev.name() == "isa-debug-exit@0x501");
    CHECK(dev.ioRead(0x501, 1) == 0xFFu);
    CHECK(dev.ioRead(0x501, 2) == 0xFFFFu);
    CHECK(dev.ioRead(0x501, 4) == 0xFFFFFFFFu);
    CHECK(calls == 0);
    CHECK_FALSE(dev.stopValue().has_value());
}

TEST_CASE("DebugExit works without a callback", "[debug_exit]") {
    DebugExit dev(0xF4, {});
    dev.ioWrite(0xF4, 1, 3);
    CHECK(dev.stopValue() == 3u);
}

TEST_CASE("exitStatusFor follows QEMU's (v << 1) | 1, truncated to 8 bits", "[debug_exit]") {
    CHECK(DebugExit::exitStatusFor(0) == 1);
    CHECK(DebugExit::exitStatusFor(1) == 3);
    CHECK(DebugExit::exitStatusFor(0x10) == 0x21);
    CHECK(DebugExit::exitStatusFor(0x31) == 0x63);
    CHECK(DebugExit::exitStatusFor(0x7F) == 0xFF);
    CHECK(DebugExit::exitStatusFor(0x80) == 1);
    CHECK(DebugExit::exitStatusFor(0xFF) == 0xFF);
    CHECK(DebugExit::exitStatusFor(0x1234) == 0x69);
    CHECK(DebugExit::exitStatusFor(0xFFFFFFFF) == 0xFF);
    // Odd always: a guest can never report a clean 0.
    for (uint32_t v : {0u, 2u, 0x80u, 0x100u, 0x8000'0000u}) CHECK(DebugExit::exitStatusFor(v) % 2 == 1);
}
