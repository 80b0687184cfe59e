#include <catch2/catch.hpp>

#include <vector>

#include "devices/port92.hpp"
#include "devices/post_port.hpp"

using namespace hvlab::devices;

TEST_CASE("Port 0x92: A20 gate and the fast reset edge", "[port92][chipset]") {
    Port92 p;
    std::vector<bool> a20;
    int resets = 0;
    p.onA20([&](bool on) { a20.push_back(on); });
    p.onReset([&] { ++resets; });
    CHECK(p.ioRead(port92::kPort, 1) == 0u);
    CHECK_FALSE(p.a20());

    p.ioWrite(port92::kPort, 1, port92::kA20);
    CHECK(p.a20());
    CHECK(p.ioRead(port92::kPort, 1) == port92::kA20);
    CHECK(resets == 0);
    p.ioWrite(port92::kPort, 1, port92::kA20);  // no change, no callback
    CHECK(a20 == std::vector<bool>{true});

    p.ioWrite(port92::kPort, 1, port92::kA20 | port92::kFastReset);  // 0 -> 1: reset
    CHECK(resets == 1);
    CHECK(p.ioRead(port92::kPort, 1) == port92::kA20);  // the reset cleared bit 0 again
    p.ioWrite(port92::kPort, 1, port92::kA20 | port92::kFastReset);
    CHECK(resets == 2);

    p.ioWrite(port92::kPort, 1, 0xC0);  // LEDs stored, A20 off
    CHECK_FALSE(p.a20());
    CHECK(a20 == std::vector<bool>{true, false});
    CHECK(p.ioRead(port92::kPort, 1) == 0xC0u);
    CHECK(p.ioRead(port92::kPort, 2) == 0xFFC0u);
}

TEST_CASE("POST port: count, last code and a 64-entry history", "[post][chipset]") {
    PostPort post;
    CHECK(post.writeCount() == 0);
    CHECK(post.history().empty());
    CHECK(post.ioRead(PostPort::kPort, 1) == 0u);
    for (int i = 0; i < 70; ++i) post.ioWrite(PostPort::kPort, 1, static_cast<uint32_t>(i));
    CHECK(post.writeCount() == 70);
    CHECK(post.lastCode() == 69);
    CHECK(post.ioRead(PostPort::kPort, 1) == 69u);  // reads return the last code
    const auto h = post.history();
    REQUIRE(h.size() == PostPort::kHistorySize);
    CHECK(h.front() == 6);  // the oldest of the last 64
    CHECK(h.back() == 69);
    post.ioWrite(PostPort::kPort, 2, 0x1234);  // the low byte counts
    CHECK(post.lastCode() == 0x34);
}
