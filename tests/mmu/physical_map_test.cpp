// PhysicalMap and HostMemory: region bookkeeping, lookups at the edges, host pointers and the
// bounds-checked copies that the interpreter and the loaders use.
#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "mmu/physical_map.hpp"

using namespace hvlab::mmu;

namespace {

constexpr uint64_t kPage = 4096;

// Fills [p, p+len) with a recognisable pattern that starts at `seed`.
void pattern(uint8_t* p, size_t len, uint8_t seed) {
    for (size_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(seed + i * 7);
}

bool messageContains(const std::invalid_argument& e, const std::string& needle) {
    return std::string(e.what()).find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("PhysicalMap keeps regions sorted by base whatever the insertion order", "[mmu][physmap]") {
    std::vector<uint8_t> a(0x1000), b(0x1000);
    PhysicalMap map;
    map.addMmio(0xfee00000, 0x1000, "lapic");
    map.addRom(0xf0000, 0x10000, b.data(), "bios");
    map.addRam(0, 0x1000, a.data());

    const auto& regions = map.regions();
    REQUIRE(regions.size() == 3);
    CHECK(regions[0].base == 0);
    CHECK(regions[0].kind == RegionKind::Ram);
    CHECK(regions[0].name == "ram");  // default name
    CHECK(regions[0].host == a.data());
    CHECK(regions[1].base == 0xf0000);
    CHECK(regions[1].kind == RegionKind::Rom);
    CHECK(regions[1].name == "bios");
    CHECK(regions[1].end() == 0x100000);
    CHECK(regions[2].base == 0xfee00000);
    CHECK(regions[2].kind == RegionKind::Mmio);
    CHECK(regions[2].host == nullptr);
    CHECK(regions[2].name == "lapic");
}

TEST_CASE("PhysicalMap rejects overlapping regions and names both in the message", "[mmu][physmap]") {
    std::vector<uint8_t> mem(0x3000);
    PhysicalMap map;
    map.addRam(0x1000, 0x2000, mem.data(), "low");  // [0x1000, 0x3000)

    struct Case {
        uint64_t base, size;
        const char* what;
    };
    const Case overlapping[] = {
        {0x1000, 0x2000, "identical"},
        {0x0, 0x1001, "overlaps the first byte"},
        {0x2fff, 0x10, "overlaps the last byte"},
        {0x1800, 0x100, "inside"},
        {0x0, 0x10000, "encloses"},
    };
    for (const Case& c : overlapping) {
        INFO(c.what);
        try {
            map.addMmio(c.base, c.size, "intruder");
            FAIL("overlap was accepted");
        } catch (const std::invalid_argument& e) {
            CHECK(messageContains(e, "intruder"));
            CHECK(messageContains(e, "low"));
        }
    }
    // Rejected regions leave the map as it was, whatever kind was being added.
    CHECK_THROWS_AS(map.addRam(0x2000, 0x1000, mem.data(), "ram2"), std::invalid_argument);
    CHECK_THROWS_AS(map.addRom(0x2000, 0x1000, mem.data(), "rom2"), std::invalid_argument);
    REQUIRE(map.regions().size() == 1);

    // Regions that merely touch are fine on either side.
    map.addMmio(0x3000, 0x1000, "above");
    map.addMmio(0x0, 0x1000, "below");
    CHECK(map.regions().size() == 3);
}

TEST_CASE("PhysicalMap rejects empty and wrapping regions", "[mmu][physmap]") {
    PhysicalMap map;
    CHECK_THROWS_AS(map.addMmio(0x1000, 0, "empty"), std::invalid_argument);
    CHECK_THROWS_AS(map.addMmio(0xfffffffffffff000ull, 0x2000, "wraps"), std::invalid_argument);
    CHECK(map.regions().empty());
}

TEST_CASE("PhysicalMap::find at region edges", "[mmu][physmap]") {
    std::vector<uint8_t> mem(0x3000);
    PhysicalMap map;
    map.addRam(0x1000, 0x1000, mem.data(), "a");           // [0x1000, 0x2000)
    map.addRam(0x2000, 0x1000, mem.data() + 0x1000, "b");  // adjacent: [0x2000, 0x3000)
    map.addMmio(0x5000, 0x1000, "dev");                    // gap before it

    CHECK(map.find(0) == nullptr);
    CHECK(map.find(0xfff) == nullptr);
    REQUIRE(map.find(0x1000) != nullptr);
    CHECK(map.find(0x1000)->name == "a");
    CHECK(map.find(0x1fff)->name == "a");
    CHECK(map.find(0x2000)->name == "b");
    CHECK(map.find(0x2fff)->name == "b");
    CHECK(map.find(0x3000) == nullptr);
    CHECK(map.find(0x4fff) == nullptr);
    CHECK(map.find(0x5000)->name == "dev");
    CHECK(map.find(0x5fff)->name == "dev");
    CHECK(map.find(0x6000) == nullptr);
    CHECK(map.find(~0ull) == nullptr);

    PhysicalMap empty;
    CHECK(empty.find(0) == nullptr);
}

TEST_CASE("PhysicalMap::hostPointer by region kind and range", "[mmu][physmap]") {
    std::vector<uint8_t> ram(0x2000), rom(0x1000);
    PhysicalMap map;
    map.addRam(0x0, 0x2000, ram.data());
    map.addRom(0x10000, 0x1000, rom.data());
    map.addMmio(0x20000, 0x1000, "dev");

    SECTION("RAM for reads and writes") {
        CHECK(map.hostPointer(0x0, 1, false) == ram.data());
        CHECK(map.hostPointer(0x123, 8, true) == ram.data() + 0x123);
        CHECK(map.hostPointer(0x0, 0x2000, true) == ram.data());         // the whole region
        CHECK(map.hostPointer(0x1ff8, 8, true) == ram.data() + 0x1ff8);  // ends exactly at the end
    }
    SECTION("ROM only for reads") {
        CHECK(map.hostPointer(0x10010, 4, false) == rom.data() + 0x10);
        CHECK(map.hostPointer(0x10010, 4, true) == nullptr);
    }
    SECTION("MMIO and unmapped never") {
        CHECK(map.hostPointer(0x20000, 4, false) == nullptr);
        CHECK(map.hostPointer(0x20000, 4, true) == nullptr);
        CHECK(map.hostPointer(0x8000, 4, false) == nullptr);
        CHECK(map.hostPointer(0x30000, 1, false) == nullptr);
    }
    SECTION("ranges that cross a region end") {
        CHECK(map.hostPointer(0x1ff9, 8, false) == nullptr);
        CHECK(map.hostPointer(0x1fff, 2, true) == nullptr);
        CHECK(map.hostPointer(0x0, 0x2001, false) == nullptr);
        CHECK(map.hostPointer(0x10ffc, 8, false) == nullptr);
        CHECK(map.hostPointer(0x1fff, ~0ull, false) == nullptr);
    }
}

TEST_CASE("hostPointer does not span two adjacent RAM regions", "[mmu][physmap]") {
    // Two regions may be backed by unrelated host memory; only one region's pointer is valid.
    std::vector<uint8_t> a(0x1000), b(0x1000);
    PhysicalMap map;
    map.addRam(0x0, 0x1000, a.data(), "a");
    map.addRam(0x1000, 0x1000, b.data(), "b");
    CHECK(map.hostPointer(0xffc, 8, false) == nullptr);
    CHECK(map.hostPointer(0x1000, 8, false) == b.data());
}

TEST_CASE("PhysicalMap read/write copies span adjacent RAM regions", "[mmu][physmap]") {
    // Deliberately non-contiguous host backing: b's host memory is not right after a's.
    std::vector<uint8_t> a(0x1000, 0), b(0x1000, 0);
    PhysicalMap map;
    map.addRam(0x0, 0x1000, a.data(), "a");
    map.addRam(0x1000, 0x1000, b.data(), "b");

    std::array<uint8_t, 32> in{};
    pattern(in.data(), in.size(), 0x40);
    REQUIRE(map.write(0xff0, in.data(), in.size()));
    CHECK(std::memcmp(a.data() + 0xff0, in.data(), 16) == 0);
    CHECK(std::memcmp(b.data(), in.data() + 16, 16) == 0);
    CHECK(a[0xfef] == 0);
    CHECK(b[16] == 0);

    std::array<uint8_t, 32> out{};
    REQUIRE(map.read(0xff0, out.data(), out.size()));
    CHECK(out == in);

    // A copy covering both regions entirely.
    std::vector<uint8_t> whole(0x2000);
    REQUIRE(map.read(0, whole.data(), whole.size()));
    CHECK(std::memcmp(whole.data() + 0xff0, in.data(), in.size()) == 0);
}

TEST_CASE("PhysicalMap reads RAM followed by ROM but writes only RAM", "[mmu][physmap]") {
    std::vector<uint8_t> ram(0x1000, 0x11), rom(0x1000, 0x22);
    PhysicalMap map;
    map.addRam(0x0, 0x1000, ram.data());
    map.addRom(0x1000, 0x1000, rom.data());

    std::array<uint8_t, 8> out{};
    REQUIRE(map.read(0xffc, out.data(), out.size()));
    CHECK(out == std::array<uint8_t, 8>{0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22});

    const std::array<uint8_t, 8> in{1, 2, 3, 4, 5, 6, 7, 8};
    SECTION("a write entirely inside ROM is refused") {
        CHECK_FALSE(map.write(0x1000, in.data(), 4));
        CHECK(rom[0] == 0x22);
    }
    SECTION("a write that reaches into ROM copies nothing, not even the RAM part") {
        CHECK_FALSE(map.write(0xffc, in.data(), in.size()));
        CHECK(ram[0xffc] == 0x11);
        CHECK(ram[0xfff] == 0x11);
        CHECK(rom[0] == 0x22);
    }
}

TEST_CASE("PhysicalMap copies fail atomically on MMIO and unmapped bytes", "[mmu][physmap]") {
    std::vector<uint8_t> ram(0x1000, 0x5a);
    PhysicalMap map;
    map.addRam(0x0, 0x1000, ram.data());
    map.addMmio(0x1000, 0x1000, "dev");
    map.addRam(0x3000, 0x1000, ram.data());  // after a hole at [0x2000, 0x3000)

    std::array<uint8_t, 16> out;
    out.fill(0xee);
    const std::array<uint8_t, 16> untouched = out;
    std::array<uint8_t, 16> in;
    in.fill(0x01);

    SECTION("into MMIO") {
        CHECK_FALSE(map.read(0xff8, out.data(), out.size()));
        CHECK(out == untouched);
        CHECK_FALSE(map.write(0xff8, in.data(), in.size()));
        CHECK(ram[0xff8] == 0x5a);
        CHECK_FALSE(map.read(0x1000, out.data(), 1));
        CHECK_FALSE(map.write(0x1000, in.data(), 1));
    }
    SECTION("into a hole") {
        CHECK_FALSE(map.read(0x2ff8, out.data(), out.size()));  // starts in the hole
        CHECK(out == untouched);
        CHECK_FALSE(map.write(0x2ff8, in.data(), in.size()));
        CHECK(ram[0] == 0x5a);
        CHECK_FALSE(map.read(0x3ff8, out.data(), out.size()));  // runs off the end of the map
        CHECK(out == untouched);
        CHECK_FALSE(map.write(0x3ff8, in.data(), in.size()));
        CHECK(ram[0xff8] == 0x5a);
    }
    SECTION("zero-length copies succeed anywhere") {
        CHECK(map.read(0x2000, out.data(), 0));
        CHECK(map.write(0x1000, in.data(), 0));
    }
}

TEST_CASE("PhysicalMap::ramBytes counts RAM only", "[mmu][physmap]") {
    std::vector<uint8_t> mem(0x3000);
    PhysicalMap map;
    CHECK(map.ramBytes() == 0);
    map.addRam(0x0, 0x2000, mem.data());
    map.addRom(0x10000, 0x1000, mem.data());
    map.addMmio(0x20000, 0x4000, "dev");
    map.addRam(0x100000, 0x1000, mem.data() + 0x2000);
    CHECK(map.ramBytes() == 0x3000);
}

TEST_CASE("HostMemory is zeroed, page aligned and backed lazily", "[mmu][physmap]") {
    const uint64_t hostPage = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    constexpr uint64_t kSize = 64ull << 20;
    HostMemory host(kSize);
    REQUIRE(host.data() != nullptr);
    CHECK(host.size() == kSize);
    CHECK(reinterpret_cast<uintptr_t>(host.data()) % hostPage == 0);

    const uint64_t before = host.residentBytes();
    CHECK(before < kSize / 2);  // nothing touched yet; a fresh anonymous mapping is mostly absent

    // Touch 16 pages spread over the mapping: at least those become resident.
    constexpr int kTouched = 16;
    for (int i = 0; i < kTouched; ++i) host.data()[i * (kSize / kTouched) + 5] = 1;
    const uint64_t after = host.residentBytes();
    CHECK(after >= before + kTouched * hostPage);
    CHECK(after <= kSize);
    CHECK(host.data()[kSize - 1] == 0);

    // It works as the backing of a map.
    PhysicalMap map;
    map.addRam(0, kSize, host.data());
    uint32_t v = 0xdeadbeef;
    REQUIRE(map.write(kSize - 4, &v, 4));
    uint32_t back = 0;
    REQUIRE(map.read(kSize - 4, &back, 4));
    CHECK(back == 0xdeadbeef);
    CHECK(map.ramBytes() == kSize);
}

TEST_CASE("Region::contains handles its end and addresses below its base", "[mmu][physmap]") {
    const Region r{0x1000, 0x1000, RegionKind::Ram, nullptr, "r"};
    CHECK_FALSE(r.contains(0xfff));
    CHECK(r.contains(0x1000));
    CHECK(r.contains(0x1fff));
    CHECK_FALSE(r.contains(0x2000));
    CHECK_FALSE(r.contains(0));
    CHECK(r.end() == 0x2000);
}
