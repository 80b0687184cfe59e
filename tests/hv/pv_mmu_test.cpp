// The PV MMU's validation rules (hv/paravirt/pv_mmu.*): every way a deprivileged kernel could
// try to escape through its page tables is refused, and the normal flows work.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "cpu/hypercall_abi.hpp"
#include "hv/paravirt/pv_mmu.hpp"

using namespace hvlab;
using hv::PageType;
namespace hc = cpu::hypercall;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kP = 1, kRW = 2, kUser = 4, kPs = 0x80;

// 4 MiB of guest RAM whose last 64 KiB are hvlab's; frame numbers name the guest's pages.
struct PvMmuFixture {
    static constexpr uint64_t kRam = 4 * kMiB;
    static constexpr uint64_t kOwnedBase = kRam - 16 * kPage;
    static constexpr uint64_t kHoleL3 = kOwnedBase;  // what slot 511 points to
    static constexpr uint64_t kHoleEntry = kHoleL3 | kP | kRW;

    std::vector<uint8_t> ram = std::vector<uint8_t>(kRam, 0);
    mmu::PhysicalMap map;
    int flushes = 0;
    std::vector<uint64_t> cr3Loads;
    std::vector<uint64_t> invalidated;
    hv::PvMmu mmu;

    // A small address space: L4 at 0x10000 -> L3 0x11000 -> L2 0x12000 -> L1 0x13000, which maps
    // the data page 0x20000 writable (linear 0) and the four tables read-only (linear 0x1000-).
    static constexpr uint64_t kL4 = 0x10000, kL3 = 0x11000, kL2 = 0x12000, kL1 = 0x13000, kData = 0x20000;

    PvMmuFixture()
        : map(makeMap()),
          mmu(map, kOwnedBase, kRam - kOwnedBase, kHoleEntry,
              {[this] { ++flushes; }, [this](uint64_t l) { invalidated.push_back(l); },
               [this](uint64_t c) { cr3Loads.push_back(c); }}) {
        put(kL4, 0, kL3 | kP | kRW | kUser);
        put(kL3, 0, kL2 | kP | kRW | kUser);
        put(kL2, 0, kL1 | kP | kRW | kUser);
        put(kL1, 0, kData | kP | kRW | kUser);
        put(kL1, 1, kL4 | kP);
        put(kL1, 2, kL3 | kP);
        put(kL1, 3, kL2 | kP);
        put(kL1, 4, kL1 | kP);
    }
    mmu::PhysicalMap makeMap() {
        mmu::PhysicalMap m;
        m.addRam(0, kRam, ram.data(), "ram");
        return m;
    }
    // Writes an entry directly (the page is still ordinary: the guest may write it).
    void put(uint64_t table, unsigned index, uint64_t value) { std::memcpy(&ram[table + 8 * index], &value, 8); }
    uint64_t get(uint64_t table, unsigned index) const {
        uint64_t v;
        std::memcpy(&v, &ram[table + 8 * index], 8);
        return v;
    }
    PageType type(uint64_t gpa) const { return mmu.frame(gpa).type; }
};

}  // namespace

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: a pinned L4 validates the whole tree and gets the hole", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(type(kL4) == PageType::L4);
    CHECK(type(kL3) == PageType::L3);
    CHECK(type(kL2) == PageType::L2);
    CHECK(type(kL1) == PageType::L1);
    CHECK(type(kData) == PageType::None);
    CHECK(mmu.frame(kData).writableMappings == 1);
    CHECK(mmu.frame(kL4).pins == 1);
    CHECK(get(kL4, 511) == kHoleEntry);  // slot 511: hvlab's hole, in every L4

    REQUIRE(mmu.setCr3(kL4) == 0);
    CHECK(cr3Loads == std::vector<uint64_t>{kL4});
    CHECK(mmu.cr3() == kL4);
    CHECK(mmu.frame(kL4).typeRefs == 2);  // the pin and the loaded CR3
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: hvlab's frames can never be mapped", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.update(kL1 + 8 * 5, kOwnedBase | kP | kRW) == hc::kErrorPerm);
    CHECK(mmu.update(kL1 + 8 * 5, (kOwnedBase + 3 * kPage) | kP) == hc::kErrorPerm);  // read-only too
    CHECK(mmu.update(kL2 + 8 * 1, kHoleL3 | kP | kRW) == hc::kErrorPerm);  // as a table
    CHECK(mmu.pin(1, kOwnedBase) == hc::kErrorPerm);
    CHECK(mmu.setCr3(kOwnedBase) == hc::kErrorPerm);
    CHECK(mmu.update(kOwnedBase, 0) == hc::kErrorPerm);
    CHECK(get(kL1, 5) == 0);
    // A table holding such an entry cannot become a table at all.
    put(0x30000, 7, (kOwnedBase + kPage) | kP);
    CHECK(mmu.pin(1, 0x30000) == hc::kErrorPerm);
    CHECK(type(0x30000) == PageType::None);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: a page table can never be mapped writable", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    for (uint64_t table : {kL4, kL3, kL2, kL1}) CHECK(mmu.update(kL1 + 8 * 6, table | kP | kRW) == hc::kErrorPerm);
    CHECK(mmu.update(kL1 + 8 * 6, kL2 | kP) == 0);  // read-only is fine: the guest reads its tables
    // Making an existing read-only mapping writable is refused the same way.
    CHECK(mmu.update(kL1 + 8 * 1, kL4 | kP | kRW) == hc::kErrorPerm);
    CHECK(get(kL1, 1) == (kL4 | kP));
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: a page mapped writable cannot become a table", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.pin(1, kData) == hc::kErrorBusy);
    CHECK(mmu.update(kL2 + 8 * 1, kData | kP | kRW) == hc::kErrorBusy);  // nor through an entry
    CHECK(type(kData) == PageType::None);
    // Once the writable mapping is gone, it can.
    REQUIRE(mmu.update(kL1, kData | kP) == 0);
    CHECK(mmu.frame(kData).writableMappings == 0);
    CHECK(mmu.pin(1, kData) == 0);
    // And an L1 whose own entries map a table writable cannot be pinned.
    put(0x31000, 0, kL2 | kP | kRW);
    CHECK(mmu.pin(1, 0x31000) == hc::kErrorPerm);
    // A table that maps itself writable cannot be validated either (it is typed first).
    put(0x32000, 0, 0x32000 | kP | kRW);
    CHECK(mmu.pin(1, 0x32000) == hc::kErrorPerm);
    CHECK(mmu.frame(0x32000).type == PageType::None);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: table loops and level mix-ups are refused", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.update(kL2 + 8 * 1, kL2 | kP | kRW) == hc::kErrorBusy);  // an L2 pointing at itself
    CHECK(mmu.update(kL3 + 8 * 1, kL4 | kP | kRW) == hc::kErrorBusy);  // back up to the L4
    CHECK(mmu.update(kL4 + 8 * 1, kL4 | kP | kRW) == hc::kErrorBusy);  // the classic self-map
    CHECK(mmu.update(kL4 + 8 * 1, kL2 | kP | kRW) == hc::kErrorBusy);  // an L2 used as an L3
    // A fresh tree whose L2 points back at its L3: the L3 is typed first, so the loop is seen.
    put(0x40000, 0, 0x41000 | kP | kRW);
    put(0x41000, 0, 0x40000 | kP | kRW);
    CHECK(mmu.pin(3, 0x40000) == hc::kErrorBusy);
    CHECK(type(0x40000) == PageType::None);
    CHECK(type(0x41000) == PageType::None);  // rolled back
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: L4 slots 256-511 are hvlab's", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.update(kL4 + 8 * 511, 0) == hc::kErrorPerm);
    CHECK(mmu.update(kL4 + 8 * 511, 0x50000 | kP | kRW) == hc::kErrorPerm);
    CHECK(mmu.update(kL4 + 8 * 256, 0x50000 | kP | kRW) == hc::kErrorPerm);
    CHECK(get(kL4, 511) == kHoleEntry);
    CHECK(mmu.update(kL4 + 8 * 255, 0) == 0);  // the guest's last slot
    // An L4 that already uses an upper slot is not accepted.
    put(0x42000, 300, 0x43000 | kP | kRW);
    CHECK(mmu.pin(4, 0x42000) == hc::kErrorPerm);
    // Whatever slot 511 held is replaced by the hole, without taking references.
    put(0x44000, 511, kData | kP | kRW);
    REQUIRE(mmu.pin(4, 0x44000) == 0);
    CHECK(get(0x44000, 511) == kHoleEntry);
    CHECK(type(kData) == PageType::None);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: large pages and reserved bits are refused", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.update(kL2 + 8 * 1, 0x200000 | kP | kRW | kPs) == hc::kErrorInvalid);
    CHECK(mmu.update(kL3 + 8 * 1, 0 | kP | kRW | kPs) == hc::kErrorInvalid);
    CHECK(mmu.update(kL4 + 8 * 1, kL3 | kP | kPs) == hc::kErrorInvalid);
    CHECK(mmu.update(kL1 + 8 * 7, (1ull << 45) | kP) == hc::kErrorInvalid);
    CHECK(mmu.update(kL1 + 8 * 7, 0x21000 | kP | kPs) == 0);  // in an L1, bit 7 is PAT
    CHECK(mmu.update(kL1 + 8 * 8, 0x21000 | kP | (1ull << 63)) == 0);  // NX
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: bad entry and table addresses", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    CHECK(mmu.update(kData + 8, 0) == hc::kErrorInvalid);           // not a page table
    CHECK(mmu.update(kL1 + 4, 0) == hc::kErrorInvalid);             // unaligned entry
    CHECK(mmu.pin(1, 0x30008) == hc::kErrorInvalid);                // unaligned table
    CHECK(mmu.pin(5, 0x30000) == hc::kErrorInvalid);                // no level 5
    CHECK(mmu.pin(0, 0x30000) == hc::kErrorInvalid);
    CHECK(mmu.update(64 * kMiB, 0) == hc::kErrorFault);             // outside RAM
    CHECK(mmu.update(0xfee00000, 0) == hc::kErrorFault);
    CHECK(mmu.pin(2, 64 * kMiB) == hc::kErrorFault);
    CHECK(mmu.update(kL2 + 8 * 1, (64 * kMiB) | kP | kRW) == hc::kErrorFault);  // a table outside RAM
    CHECK(mmu.unpin(0x30000) == hc::kErrorInvalid);                 // not pinned
    CHECK(mmu.setCr3(kL3) == hc::kErrorInvalid);                    // not an L4
    // A device window (neither RAM nor hvlab's) may be mapped, writable too.
    CHECK(mmu.update(kL1 + 8 * 9, 0xfebf0000 | kP | kRW) == 0);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: updates take and drop references", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    // A second L1 under the same L2, mapping another data page writable.
    put(0x14000, 0, 0x21000 | kP | kRW);
    REQUIRE(mmu.update(kL2 + 8 * 1, 0x14000 | kP | kRW) == 0);
    CHECK(type(0x14000) == PageType::L1);
    CHECK(mmu.frame(0x21000).writableMappings == 1);
    // The same L1 twice: two references.
    REQUIRE(mmu.update(kL2 + 8 * 2, 0x14000 | kP | kRW) == 0);
    CHECK(mmu.frame(0x14000).typeRefs == 2);
    REQUIRE(mmu.update(kL2 + 8 * 1, 0) == 0);
    CHECK(type(0x14000) == PageType::L1);
    REQUIRE(mmu.update(kL2 + 8 * 2, 0) == 0);
    CHECK(type(0x14000) == PageType::None);  // last reference gone: ordinary again
    CHECK(mmu.frame(0x21000).writableMappings == 0);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: a batch stops at the first bad entry", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    const uint64_t list = 0x50000;
    const uint64_t pairs[6] = {kL1 + 8 * 10, 0x22000 | kP | kRW, kL1 + 8 * 11, kL1 | kP | kRW, kL1 + 8 * 12, 0x23000 | kP};
    std::memcpy(&ram[list], pairs, sizeof pairs);
    const int before = flushes;
    CHECK(mmu.updateList(list, 3) == hc::kErrorPerm);
    CHECK(get(kL1, 10) == (0x22000 | kP | kRW));  // done
    CHECK(get(kL1, 11) == 0);                     // refused
    CHECK(get(kL1, 12) == 0);                     // never reached
    CHECK(flushes == before + 1);
    CHECK(mmu.updateList(list, 1) == 1);
    CHECK(mmu.updateList(64 * kMiB, 1) == hc::kErrorFault);  // the list outside RAM
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: switching spaces, then unpinning frees the types", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(4, kL4) == 0);
    REQUIRE(mmu.setCr3(kL4) == 0);
    // A second space: its own L4 sharing the L3 below.
    put(0x15000, 0, kL3 | kP | kRW);
    CHECK(mmu.setCr3(0x15000) == hc::kErrorInvalid);  // not pinned yet
    REQUIRE(mmu.pin(4, 0x15000) == 0);
    CHECK(mmu.frame(kL3).typeRefs == 2);
    REQUIRE(mmu.setCr3(0x15000) == 0);
    CHECK(cr3Loads == std::vector<uint64_t>{kL4, 0x15000});
    // The old L4 is no longer loaded: unpinning it frees it, the shared L3 stays.
    REQUIRE(mmu.unpin(kL4) == 0);
    CHECK(type(kL4) == PageType::None);
    CHECK(get(kL4, 511) == 0);  // the hole entry left with the type
    CHECK(type(kL3) == PageType::L3);
    // Unpinning the loaded L4 keeps it a table (CR3 holds it) ...
    REQUIRE(mmu.unpin(0x15000) == 0);
    CHECK(type(0x15000) == PageType::L4);
    // ... until CR3 moves away: then everything below is ordinary, and the old tables writable.
    REQUIRE(mmu.pin(4, kL4) == 0);
    REQUIRE(mmu.setCr3(kL4) == 0);
    REQUIRE(mmu.unpin(kL4) == 0);
    CHECK(type(0x15000) == PageType::None);
    CHECK(type(kL4) == PageType::L4);
    CHECK(mmu.invlpg(0x1000) == 0);
    CHECK(invalidated == std::vector<uint64_t>{0x1000});
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: pins count", "[paravirt][pvmmu]") {
    REQUIRE(mmu.pin(1, kL1) == 0);
    REQUIRE(mmu.pin(1, kL1) == 0);
    CHECK(mmu.pin(2, kL1) == hc::kErrorBusy);  // already an L1
    CHECK(mmu.frame(kL1).pins == 2);
    REQUIRE(mmu.unpin(kL1) == 0);
    CHECK(type(kL1) == PageType::L1);
    REQUIRE(mmu.unpin(kL1) == 0);
    CHECK(type(kL1) == PageType::None);
    CHECK(mmu.frame(kData).writableMappings == 0);
}

TEST_CASE_METHOD(PvMmuFixture, "pv mmu: devices and hypercall buffers may not write tables or hvlab's pages",
                 "[paravirt][pvmmu]") {
    CHECK(mmu.writableByDevices(kL1, 8));  // ordinary until pinned
    REQUIRE(mmu.pin(4, kL4) == 0);
    for (uint64_t table : {kL4, kL3, kL2, kL1}) CHECK_FALSE(mmu.writableByDevices(table + 100, 4));
    CHECK(mmu.writableByDevices(kData, kPage));
    CHECK_FALSE(mmu.writableByDevices(kL1 - 16, 32));  // straddles into a table
    CHECK_FALSE(mmu.writableByDevices(kOwnedBase, 1));
    CHECK_FALSE(mmu.writableByDevices(~0ull - 4, 16));  // wraps
    CHECK(mmu.writableByDevices(0xfebf0000, 64));       // not RAM: the device decides
}
