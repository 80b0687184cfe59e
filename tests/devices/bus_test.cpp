// IoBus / MmioBus routing: claims, conflicts, unclaimed space and what reaches a device.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "devices/bus.hpp"

using namespace hvlab::devices;

namespace {

// Records every access and answers reads with a value derived from the port and width.
class RecordingPort final : public PortDevice {
public:
    struct Access {
        uint16_t port;
        unsigned size;
        uint32_t value;
        bool write;
    };
    explicit RecordingPort(std::string n) : name_(std::move(n)) {}
    uint32_t ioRead(uint16_t port, unsigned size) override {
        log.push_back({port, size, 0, false});
        return 0x1000u * size + port;
    }
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override { log.push_back({port, size, value, true}); }
    std::string name() const override { return name_; }
    std::vector<Access> log;

private:
    std::string name_;
};

class RecordingMmio final : public MmioDevice {
public:
    uint64_t mmioRead(uint64_t offset, unsigned size) override { return offset * 16 + size; }
    void mmioWrite(uint64_t offset, unsigned, uint64_t value) override { writes.emplace_back(offset, value); }
    std::string name() const override { return "mmio"; }
    std::vector<std::pair<uint64_t, uint64_t>> writes;
};

}  // namespace

TEST_CASE("IoBus attach claims exactly the requested range", "[bus]") {
    IoBus bus;
    RecordingPort dev("dev");
    bus.attach(0x3F8, 8, &dev);
    CHECK(bus.deviceAt(0x3F7) == nullptr);
    for (uint16_t p = 0x3F8; p < 0x400; ++p) CHECK(bus.deviceAt(p) == &dev);
    CHECK(bus.deviceAt(0x400) == nullptr);
}

TEST_CASE("IoBus rejects conflicting and out-of-range claims without side effects", "[bus]") {
    IoBus bus;
    RecordingPort a("a"), b("b");
    bus.attach(0x60, 1, &a);
    bus.attach(0x64, 1, &a);

    CHECK_THROWS_AS(bus.attach(0x60, 1, &b), std::invalid_argument);
    // Overlapping only at the end: nothing of the range may be claimed by the failed attach.
    CHECK_THROWS_AS(bus.attach(0x61, 4, &b), std::invalid_argument);
    CHECK(bus.deviceAt(0x61) == nullptr);
    CHECK(bus.deviceAt(0x63) == nullptr);
    CHECK(bus.deviceAt(0x64) == &a);
    CHECK_THROWS_WITH(bus.attach(0x5F, 2, &b), Catch::Contains("a"));  // names the owner

    CHECK_THROWS_AS(bus.attach(0xFFFF, 2, &b), std::invalid_argument);
    CHECK_THROWS_AS(bus.attach(0x100, 0, &b), std::invalid_argument);
    bus.attach(0xFFFF, 1, &b);  // the last port is fine
    CHECK(bus.deviceAt(0xFFFF) == &b);
    bus.attach(0x61, 3, &b);  // the gap between a's ports is still free
    CHECK(bus.deviceAt(0x62) == &b);
}

TEST_CASE("IoBus unclaimed ports read all-ones and swallow writes", "[bus]") {
    IoBus bus;
    CHECK(bus.read(0x80, 1) == 0xFFu);
    CHECK(bus.read(0x80, 2) == 0xFFFFu);
    CHECK(bus.read(0x80, 4) == 0xFFFFFFFFu);
    bus.write(0x80, 1, 0x12);  // must not crash
    CHECK(bus.read(0x80, 1) == 0xFFu);
}

TEST_CASE("IoBus routes port, width and value to the owning device", "[bus]") {
    IoBus bus;
    RecordingPort a("a"), b("b");
    bus.attach(0x3F8, 8, &a);
    bus.attach(0x2F8, 8, &b);

    CHECK(bus.read(0x3FD, 1) == 0x1000u + 0x3FD);
    CHECK(bus.read(0x2F9, 2) == 0x2000u + 0x2F9);
    CHECK(bus.read(0x3F8, 4) == 0x4000u + 0x3F8);
    bus.write(0x3FB, 1, 0x83);
    bus.write(0x2FA, 4, 0xDEADBEEF);

    REQUIRE(a.log.size() == 3);
    CHECK((a.log[0].port == 0x3FD && a.log[0].size == 1 && !a.log[0].write));
    CHECK((a.log[1].port == 0x3F8 && a.log[1].size == 4));
    CHECK((a.log[2].port == 0x3FB && a.log[2].size == 1 && a.log[2].value == 0x83 && a.log[2].write));
    REQUIRE(b.log.size() == 2);
    CHECK((b.log[0].port == 0x2F9 && b.log[0].size == 2));
    CHECK((b.log[1].port == 0x2FA && b.log[1].size == 4 && b.log[1].value == 0xDEADBEEF && b.log[1].write));
}

TEST_CASE("MmioBus finds ranges, rejects overlaps and reports unclaimed accesses", "[bus]") {
    MmioBus bus;
    RecordingMmio lo, hi;
    bus.attach(0xFEE00000, 0x1000, &hi);
    bus.attach(0xFEC00000, 0x20, &lo);
    CHECK_THROWS_AS(bus.attach(0xFEC00010, 0x20, &hi), std::invalid_argument);
    CHECK_THROWS_AS(bus.attach(0x1000, 0, &hi), std::invalid_argument);
    CHECK_THROWS_AS(bus.attach(~0ull - 0xF, 0x20, &hi), std::invalid_argument);

    REQUIRE(bus.ranges().size() == 2);
    CHECK(bus.ranges()[0].device == &lo);  // kept sorted
    CHECK(bus.find(0xFEBFFFFF) == nullptr);
    CHECK(bus.find(0xFEC0001F)->device == &lo);
    CHECK(bus.find(0xFEC00020) == nullptr);
    CHECK(bus.find(0xFEE00FFF)->device == &hi);

    uint64_t v = 0;
    CHECK(bus.read(0xFEE00010, 4, v));
    CHECK(v == 0x10 * 16 + 4);  // offset is relative to the range base
    CHECK_FALSE(bus.read(0xFED00000, 2, v));
    CHECK(v == 0xFFFF);
    CHECK(bus.write(0xFEC00004, 4, 0xAB));
    CHECK_FALSE(bus.write(0x0, 4, 0xAB));
    REQUIRE(lo.writes.size() == 1);
    CHECK(lo.writes[0] == std::make_pair(uint64_t{4}, uint64_t{0xAB}));
}
