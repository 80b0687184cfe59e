// The interpreter's direct-mapped TLB: lookups, fills, INVLPG, CR3-style flushes with and
// without global entries, counters, and slot aliasing.
#include <catch2/catch.hpp>

#include <memory>

#include "mmu/tlb.hpp"

using namespace hvlab::mmu;

namespace {

constexpr uint64_t kPage = 4096;
// The linear distance between two pages that share a slot.
constexpr uint64_t kAlias = uint64_t{Tlb::kEntries} * kPage;

uint8_t gHostPages[4][kPage];

}  // namespace

TEST_CASE("an empty TLB misses everywhere", "[mmu][tlb]") {
    auto tlb = std::make_unique<Tlb>();
    CHECK(tlb->lookup(0) == nullptr);
    CHECK(tlb->lookup(0x1234) == nullptr);
    CHECK(tlb->lookup(0xffff'ffff'ffff'f000ull) == nullptr);
    CHECK(tlb->lookup(~0ull) == nullptr);
    CHECK(tlb->counters().fills == 0);
    CHECK(tlb->counters().flushes == 0);
    CHECK(tlb->counters().pageInvalidations == 0);
}

TEST_CASE("fill then lookup hits the whole page and only that page", "[mmu][tlb]") {
    Tlb tlb;
    const uint8_t allow = kAllowReadSup | kAllowWriteSup | kAllowReadUser;
    tlb.fill(0x7f00'1234'5678ull, gHostPages[0], 0xabc000, allow, true);
    CHECK(tlb.counters().fills == 1);

    for (uint64_t linear : {0x7f00'1234'5000ull, 0x7f00'1234'5678ull, 0x7f00'1234'5fffull}) {
        INFO(std::hex << linear);
        const TlbEntry* e = tlb.lookup(linear);
        REQUIRE(e != nullptr);
        CHECK(e->tag == 0x7f00'1234'5678ull >> 12);
        CHECK(e->host == gHostPages[0]);
        CHECK(e->physPage == 0xabc000);
        CHECK(e->allow == allow);
        CHECK(e->global);
    }
    CHECK(tlb.lookup(0x7f00'1234'4fffull) == nullptr);
    CHECK(tlb.lookup(0x7f00'1234'6000ull) == nullptr);
    // Same slot, different tag.
    CHECK(tlb.lookup(0x7f00'1234'5678ull + kAlias) == nullptr);
    CHECK(tlb.lookup(0x7f00'1234'5678ull - kAlias) == nullptr);
}

TEST_CASE("an entry for MMIO or unmapped memory has no host pointer", "[mmu][tlb]") {
    Tlb tlb;
    tlb.fill(0x3000, nullptr, 0xfee00000, kAllowReadSup, false);
    const TlbEntry* e = tlb.lookup(0x3010);
    REQUIRE(e != nullptr);
    CHECK(e->host == nullptr);
    CHECK(e->physPage == 0xfee00000);
}

TEST_CASE("a refill of the same page replaces the entry", "[mmu][tlb]") {
    Tlb tlb;
    tlb.fill(0x5000, gHostPages[0], 0x1000, kAllowReadSup, false);
    tlb.fill(0x5000, gHostPages[1], 0x2000, kAllowReadSup | kAllowWriteSup, true);
    const TlbEntry* e = tlb.lookup(0x5000);
    REQUIRE(e != nullptr);
    CHECK(e->host == gHostPages[1]);
    CHECK(e->physPage == 0x2000);
    CHECK(e->allow == (kAllowReadSup | kAllowWriteSup));
    CHECK(e->global);
    CHECK(tlb.counters().fills == 2);
}

TEST_CASE("pages that map to the same slot evict each other", "[mmu][tlb]") {
    Tlb tlb;
    const uint64_t a = 0x40'0000'0000ull + 5 * kPage;
    const uint64_t b = a + kAlias;
    const uint64_t c = a + 7 * kAlias;
    const uint64_t neighbour = a + kPage;  // the next slot

    tlb.fill(a, gHostPages[0], 0x10000, kAllowReadSup, false);
    tlb.fill(neighbour, gHostPages[2], 0x30000, kAllowReadSup, false);
    REQUIRE(tlb.lookup(a) != nullptr);

    tlb.fill(b, gHostPages[1], 0x20000, kAllowReadSup, false);
    CHECK(tlb.lookup(a) == nullptr);
    REQUIRE(tlb.lookup(b) != nullptr);
    CHECK(tlb.lookup(b)->physPage == 0x20000);

    tlb.fill(a, gHostPages[0], 0x10000, kAllowReadSup, false);
    CHECK(tlb.lookup(b) == nullptr);
    CHECK(tlb.lookup(a) != nullptr);

    tlb.fill(c, gHostPages[3], 0x40000, kAllowReadSup, true);
    CHECK(tlb.lookup(a) == nullptr);
    CHECK(tlb.lookup(c) != nullptr);

    // The neighbouring slot was never disturbed.
    REQUIRE(tlb.lookup(neighbour) != nullptr);
    CHECK(tlb.lookup(neighbour)->physPage == 0x30000);
}

TEST_CASE("all slots can be filled at once", "[mmu][tlb]") {
    Tlb tlb;
    for (uint64_t i = 0; i < Tlb::kEntries; ++i) tlb.fill(i * kPage, nullptr, i * kPage + 0x100000, kAllowReadSup, false);
    for (uint64_t i = 0; i < Tlb::kEntries; ++i) {
        const TlbEntry* e = tlb.lookup(i * kPage + 0x123);
        REQUIRE(e != nullptr);
        CHECK(e->physPage == i * kPage + 0x100000);
    }
    CHECK(tlb.counters().fills == Tlb::kEntries);
}

TEST_CASE("invalidatePage drops exactly that page", "[mmu][tlb]") {
    Tlb tlb;
    tlb.fill(0x1000, gHostPages[0], 0x1000, kAllowReadSup, false);
    tlb.fill(0x2000, gHostPages[1], 0x2000, kAllowReadSup, true);

    tlb.invalidatePage(0x1fff);  // any address in the page
    CHECK(tlb.lookup(0x1000) == nullptr);
    CHECK(tlb.lookup(0x2000) != nullptr);
    CHECK(tlb.counters().pageInvalidations == 1);

    SECTION("global entries are invalidated too (INVLPG ignores G)") {
        tlb.invalidatePage(0x2000);
        CHECK(tlb.lookup(0x2000) == nullptr);
        CHECK(tlb.counters().pageInvalidations == 2);
    }
    SECTION("an alias in the same slot leaves the cached page alone") {
        tlb.invalidatePage(0x2000 + kAlias);
        CHECK(tlb.lookup(0x2000) != nullptr);
        CHECK(tlb.counters().pageInvalidations == 2);  // counted even when nothing was there
    }
    SECTION("invalidating an empty slot is harmless") {
        tlb.invalidatePage(0x1000);
        tlb.invalidatePage(0x9000);
        CHECK(tlb.lookup(0x2000) != nullptr);
        CHECK(tlb.counters().pageInvalidations == 3);
    }
    CHECK(tlb.counters().flushes == 0);
}

TEST_CASE("flush drops everything, or everything but global entries", "[mmu][tlb]") {
    Tlb tlb;
    tlb.fill(0x1000, gHostPages[0], 0x1000, kAllowReadSup, false);
    tlb.fill(0x2000, gHostPages[1], 0x2000, kAllowReadSup, true);
    tlb.fill(0xffff'8000'0000'3000ull, gHostPages[2], 0x3000, kAllowReadSup, true);
    tlb.fill(0xffff'8000'0000'4000ull, gHostPages[3], 0x4000, kAllowReadSup, false);

    SECTION("keepGlobal (a CR3 write with CR4.PGE)") {
        tlb.flush(true);
        CHECK(tlb.lookup(0x1000) == nullptr);
        CHECK(tlb.lookup(0xffff'8000'0000'4000ull) == nullptr);
        REQUIRE(tlb.lookup(0x2000) != nullptr);
        CHECK(tlb.lookup(0x2000)->physPage == 0x2000);
        CHECK(tlb.lookup(0xffff'8000'0000'3000ull) != nullptr);
        CHECK(tlb.counters().flushes == 1);

        // A later full flush takes the global entries too.
        tlb.flush(false);
        CHECK(tlb.lookup(0x2000) == nullptr);
        CHECK(tlb.lookup(0xffff'8000'0000'3000ull) == nullptr);
        CHECK(tlb.counters().flushes == 2);
    }
    SECTION("everything (the default)") {
        tlb.flush();
        CHECK(tlb.lookup(0x1000) == nullptr);
        CHECK(tlb.lookup(0x2000) == nullptr);
        CHECK(tlb.lookup(0xffff'8000'0000'3000ull) == nullptr);
        CHECK(tlb.lookup(0xffff'8000'0000'4000ull) == nullptr);
        CHECK(tlb.counters().flushes == 1);
    }
    SECTION("refilling after a flush works") {
        tlb.flush();
        tlb.fill(0x1000, gHostPages[1], 0x5000, kAllowReadUser, false);
        REQUIRE(tlb.lookup(0x1000) != nullptr);
        CHECK(tlb.lookup(0x1000)->physPage == 0x5000);
    }
    CHECK(tlb.counters().fills >= 4);
    CHECK(tlb.counters().pageInvalidations == 0);
}

TEST_CASE("TLB counters accumulate", "[mmu][tlb]") {
    Tlb tlb;
    for (int i = 0; i < 10; ++i) tlb.fill(static_cast<uint64_t>(i) * kPage, nullptr, 0, kAllowReadSup, false);
    for (int i = 0; i < 3; ++i) tlb.invalidatePage(static_cast<uint64_t>(i) * kPage);
    tlb.flush(true);
    tlb.flush(false);
    CHECK(tlb.counters().fills == 10);
    CHECK(tlb.counters().pageInvalidations == 3);
    CHECK(tlb.counters().flushes == 2);
    // Lookups do not count.
    (void)tlb.lookup(0);
    CHECK(tlb.counters().fills == 10);
}

TEST_CASE("TLB allow bits are distinct", "[mmu][tlb]") {
    const uint8_t all[] = {kAllowReadSup, kAllowWriteSup, kAllowExecSup, kAllowReadUser, kAllowWriteUser, kAllowExecUser};
    uint8_t seen = 0;
    for (uint8_t b : all) {
        CHECK((b & (b - 1)) == 0);  // one bit
        CHECK((seen & b) == 0);
        seen |= b;
    }
}
