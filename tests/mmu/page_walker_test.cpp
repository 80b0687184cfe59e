// The page-table walker against hand-built page tables in a PhysicalMap: every paging mode and
// page size, #PF error codes, permission rules, reserved bits, accessed/dirty updates and the
// step report (Intel SDM vol. 3, chapter 4).
#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "mmu/page_walker.hpp"

using namespace hvlab::mmu;

namespace {

// Paging-structure entry bits.
constexpr uint64_t P = 1ull << 0;
constexpr uint64_t RW = 1ull << 1;
constexpr uint64_t US = 1ull << 2;
constexpr uint64_t PWT = 1ull << 3;
constexpr uint64_t PCD = 1ull << 4;
constexpr uint64_t A = 1ull << 5;
constexpr uint64_t D = 1ull << 6;
constexpr uint64_t PS = 1ull << 7;
constexpr uint64_t G = 1ull << 8;
constexpr uint64_t PAT_LARGE = 1ull << 12;  // PAT bit of a 2 MiB / 1 GiB / 4 MiB leaf
constexpr uint64_t NX = 1ull << 63;
constexpr uint64_t URW = P | RW | US;

constexpr uint64_t bit(unsigned n) { return 1ull << n; }

constexpr AccessKind kRead{false, false, false};
constexpr AccessKind kWrite{true, false, false};
constexpr AccessKind kFetch{false, false, true};
constexpr AccessKind kUserRead{false, true, false};
constexpr AccessKind kUserWrite{true, true, false};
constexpr AccessKind kUserFetch{false, true, true};

struct NamedAccess {
    const char* name;
    AccessKind kind;
    uint32_t bits;  // the W/U/I error-code bits this access reports with NXE=1 in PAE/4-level
};
const NamedAccess kAllAccesses[] = {
    {"supervisor read", kRead, 0},
    {"supervisor write", kWrite, kPfWrite},
    {"supervisor fetch", kFetch, kPfFetch},
    {"user read", kUserRead, kPfUser},
    {"user write", kUserWrite, kPfWrite | kPfUser},
    {"user fetch", kUserFetch, kPfUser | kPfFetch},
};

// 4 MiB of guest RAM at 0 for the page tables; translated addresses may point anywhere.
struct Guest {
    HostMemory host{4ull << 20};
    PhysicalMap map;
    Guest() { map.addRam(0, host.size(), host.data()); }

    void set32(uint64_t gpa, uint32_t v) { REQUIRE(map.write(gpa, &v, 4)); }
    void set64(uint64_t gpa, uint64_t v) { REQUIRE(map.write(gpa, &v, 8)); }
    uint32_t get32(uint64_t gpa) const {
        uint32_t v = 0;
        REQUIRE(map.read(gpa, &v, 4));
        return v;
    }
    uint64_t get64(uint64_t gpa) const {
        uint64_t v = 0;
        REQUIRE(map.read(gpa, &v, 8));
        return v;
    }
};

// 4-level tables: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at 0x4000, page at 0x7000.
// kLinear4 selects PML4[1], PDPT[2], PD[3], PT[4], offset 0x567.
constexpr uint64_t kLinear4 = (1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x567;
constexpr std::array<uint64_t, 4> kAddr4 = {0x1008, 0x2010, 0x3018, 0x4020};  // PML4E, PDPTE, PDE, PTE
const char* const kLevelName4[] = {"PML4E", "PDPTE", "PDE", "PTE"};

struct Long4Guest : Guest {
    // Index 0 = PML4E ... 3 = PTE.
    std::array<uint64_t, 4> e = {0x2000 | URW, 0x3000 | URW, 0x4000 | URW, 0x7000 | URW};
    PagingControls c{PagingMode::Long4, 0x1000, true, false, true, 40};

    void install() {
        for (int i = 0; i < 4; ++i) set64(kAddr4[i], e[i]);
    }
    std::array<uint64_t, 4> inMemory() const {
        std::array<uint64_t, 4> v{};
        for (int i = 0; i < 4; ++i) v[i] = get64(kAddr4[i]);
        return v;
    }
    WalkResult run(AccessKind access, uint64_t linear = kLinear4, bool setAD = true) {
        return walk(map, c, linear, access, setAD);
    }
};

}  // namespace

TEST_CASE("pagingModeName names every mode", "[mmu][walker]") {
    CHECK(std::string(pagingModeName(PagingMode::None)) == "none");
    CHECK(std::string(pagingModeName(PagingMode::Legacy32)) == "32-bit");
    CHECK(std::string(pagingModeName(PagingMode::Pae)) == "PAE");
    CHECK(std::string(pagingModeName(PagingMode::Long4)) == "4-level");
}

// ---------------------------------------------------------------------------------------------
// No paging

TEST_CASE("walk without paging is the identity on 32-bit addresses", "[mmu][walker]") {
    Guest g;
    std::vector<uint8_t> before(g.host.data(), g.host.data() + 0x2000);
    const PagingControls c{};  // mode None
    for (const NamedAccess& a : kAllAccesses) {
        INFO(a.name);
        const WalkResult r = walk(g.map, c, 0x12345678, a.kind);
        CHECK(r.ok);
        CHECK(r.physical == 0x12345678);
        CHECK(r.stepCount == 0);
        CHECK(r.errorCode == 0);
        CHECK(r.writable);
        CHECK(r.user);
        CHECK_FALSE(r.executeDisable);
    }
    CHECK(walk(g.map, c, 0x1'0000'1234ull, kRead).physical == 0x1234);
    CHECK(walk(g.map, c, 0xfffffffful, kRead).physical == 0xffffffffull);
    CHECK(std::memcmp(before.data(), g.host.data(), before.size()) == 0);
}

// ---------------------------------------------------------------------------------------------
// Legacy 32-bit paging

namespace {
// PD at 0x1000, PT at 0x2000, page at 0x5000. 0x00403abc selects PD[1] and PT[3].
constexpr uint64_t kLinear32 = 0x00403abc;
constexpr uint64_t kPde32 = 0x1004, kPte32 = 0x200c;

struct Legacy32Guest : Guest {
    PagingControls c{PagingMode::Legacy32, 0x1000, true, false, false, 40};
    Legacy32Guest() {
        set32(kPde32, 0x2000 | URW);
        set32(kPte32, 0x5000 | URW);
    }
};
}  // namespace

TEST_CASE("legacy 32-bit paging, 4 KiB pages", "[mmu][walker][legacy]") {
    Legacy32Guest g;

    SECTION("translation and steps") {
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x5abc);
        CHECK(r.pageSize == 4096);
        REQUIRE(r.stepCount == 2);
        CHECK(r.steps[0].level == 2);
        CHECK(r.steps[0].entryAddress == kPde32);
        CHECK(r.steps[0].entry == (0x2000 | URW | A));
        CHECK(r.steps[1].level == 1);
        CHECK(r.steps[1].entryAddress == kPte32);
        CHECK(r.steps[1].entry == (0x5000 | URW | A));
        CHECK(g.get32(kPde32) == (0x2000 | URW | A));
        CHECK(g.get32(kPte32) == (0x5000 | URW | A));
        CHECK(r.writable);
        CHECK(r.user);
        CHECK_FALSE(r.executeDisable);
        CHECK_FALSE(r.dirty);
    }
    SECTION("CR3 flag bits and bits above 31 are ignored") {
        g.c.cr3 = 0xabcd'0000'0000'1018ull;
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x5abc);
        CHECK(r.steps[0].entryAddress == kPde32);
    }
    SECTION("entries are 32 bits: the neighbouring entry does not leak in") {
        g.set32(kPte32 + 4, 0xffffffff);
        g.set32(kPde32 + 4, 0xffffffff);
        const WalkResult r = walk(g.map, g.c, kLinear32, kWrite);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x5abc);
        CHECK(r.steps[1].entry == (0x5000 | URW | A | D));
        CHECK(g.get32(kPte32 + 4) == 0xffffffff);
    }
    SECTION("PS=1 in a PDE is ignored without CR4.PSE") {
        g.set32(kPde32, 0x2000 | URW | PS);
        g.c.pse = false;
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        REQUIRE(r.ok);
        CHECK(r.stepCount == 2);
        CHECK(r.pageSize == 4096);
        CHECK(r.physical == 0x5abc);
    }
    SECTION("CR4.PSE with PS=0 still uses a page table") {
        g.c.pse = true;
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        REQUIRE(r.ok);
        CHECK(r.stepCount == 2);
        CHECK(r.physical == 0x5abc);
    }
    SECTION("bit 7 of a PTE is PAT, not a page size") {
        g.c.pse = true;
        g.set32(kPte32, 0x5000 | URW | PS);
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        REQUIRE(r.ok);
        CHECK(r.pageSize == 4096);
        CHECK(r.physical == 0x5abc);
    }
    SECTION("a write sets D on the PTE only") {
        const WalkResult r = walk(g.map, g.c, kLinear32, kWrite);
        REQUIRE(r.ok);
        CHECK(r.dirty);
        CHECK(g.get32(kPde32) == (0x2000 | URW | A));
        CHECK(g.get32(kPte32) == (0x5000 | URW | A | D));
    }
    SECTION("global bit of the PTE") {
        g.set32(kPte32, 0x5000 | URW | G);
        CHECK(walk(g.map, g.c, kLinear32, kRead).global);
        g.set32(kPte32, 0x5000 | URW);
        g.set32(kPde32, 0x2000 | URW | G);  // ignored in a PDE that references a page table
        CHECK_FALSE(walk(g.map, g.c, kLinear32, kRead).global);
    }
    SECTION("not present PDE and PTE") {
        g.set32(kPte32, 0x5000 | RW | US);
        WalkResult r = walk(g.map, g.c, kLinear32, kUserWrite);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfWrite | kPfUser));
        CHECK(r.stepCount == 2);
        g.set32(kPde32, 0);
        r = walk(g.map, g.c, kLinear32, kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == 0);
        CHECK(r.stepCount == 1);
        CHECK(g.get32(kPde32) == 0);
    }
    SECTION("permissions") {
        g.set32(kPte32, 0x5000 | P | US);  // read-only user page
        CHECK(walk(g.map, g.c, kLinear32, kUserRead).ok);
        CHECK(walk(g.map, g.c, kLinear32, kUserWrite).errorCode == (kPfPresent | kPfWrite | kPfUser));
        CHECK(walk(g.map, g.c, kLinear32, kWrite).errorCode == (kPfPresent | kPfWrite));  // WP=1
        g.c.wp = false;
        CHECK(walk(g.map, g.c, kLinear32, kWrite).ok);
        g.set32(kPde32, 0x2000 | P | RW);  // supervisor-only directory
        CHECK(walk(g.map, g.c, kLinear32, kUserRead).errorCode == (kPfPresent | kPfUser));
        CHECK(walk(g.map, g.c, kLinear32, kRead).ok);
    }
}

TEST_CASE("legacy 32-bit paging never reports I/D, even with EFER.NXE set", "[mmu][walker][legacy][bug]") {
    // SDM 4.7: I/D is set only when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1).
    // The interpreter copies EFER.NXE into the controls whatever the paging mode.
    Legacy32Guest g;
    g.c.nxe = true;

    // Bit 31 of a 32-bit entry is just an address bit; there is no XD with 32-bit paging.
    g.set32(kPte32, 0x80005000u | URW);
    WalkResult r = walk(g.map, g.c, kLinear32, kUserFetch);
    REQUIRE(r.ok);
    CHECK_FALSE(r.executeDisable);
    CHECK(r.physical == 0x80005abc);

    g.set32(kPte32, 0x5000 | P | RW);  // supervisor page
    r = walk(g.map, g.c, kLinear32, kUserFetch);
    CHECK_FALSE(r.ok);
    CHECK(r.errorCode == (kPfPresent | kPfUser));

    g.set32(kPte32, 0);
    r = walk(g.map, g.c, kLinear32, kFetch);
    CHECK_FALSE(r.ok);
    CHECK(r.errorCode == 0);
}

TEST_CASE("legacy 32-bit paging, 4 MiB pages with CR4.PSE", "[mmu][walker][legacy]") {
    Legacy32Guest g;
    g.c.pse = true;
    // 0x00d23456 selects PD[3] (0x100c), offset 0x123456 in the 4 MiB page.
    constexpr uint64_t kLinear = 0x00d23456, kPde = 0x100c;
    g.set32(kPde, 0x00800000 | URW | PS);

    SECTION("translation") {
        const WalkResult r = walk(g.map, g.c, kLinear, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x00923456);
        CHECK(r.pageSize == 4ull << 20);
        REQUIRE(r.stepCount == 1);
        CHECK(r.steps[0].level == 2);
        CHECK(r.steps[0].entryAddress == kPde);
        CHECK(r.steps[0].entry == (0x00800000 | URW | PS | A));
    }
    SECTION("a write sets A and D on the PDE") {
        const WalkResult r = walk(g.map, g.c, kLinear, kWrite);
        REQUIRE(r.ok);
        CHECK(r.dirty);
        CHECK(g.get32(kPde) == (0x00800000 | URW | PS | A | D));
    }
    SECTION("without CR4.PSE the same PDE references a page table") {
        g.c.pse = false;
        g.set32(kPde, 0x2000 | URW | PS);
        g.set32(0x2000 + 0x123 * 4, 0x6000 | URW);  // PT[0x123]
        const WalkResult r = walk(g.map, g.c, kLinear, kRead);
        REQUIRE(r.ok);
        CHECK(r.stepCount == 2);
        CHECK(r.pageSize == 4096);
        CHECK(r.steps[1].entryAddress == 0x248c);
        CHECK(r.physical == 0x6456);
    }
    SECTION("PSE-36: PDE bits 20:13 are physical bits 39:32") {
        g.set32(kPde, 0x00800000 | (0x12u << 13) | URW | PS);
        const WalkResult r = walk(g.map, g.c, kLinear, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x12'0092'3456ull);
    }
    SECTION("PAT bit 12 is not an address bit") {
        g.set32(kPde, 0x00800000 | PAT_LARGE | URW | PS);
        const WalkResult r = walk(g.map, g.c, kLinear, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x00923456);
    }
    SECTION("bit 21 is reserved") {
        g.set32(kPde, 0x00800000 | bit(21) | URW | PS);
        const WalkResult r = walk(g.map, g.c, kLinear, kUserWrite);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved | kPfWrite | kPfUser));
        CHECK(g.get32(kPde) == (0x00800000 | bit(21) | URW | PS));  // no A on a faulting walk
    }
    SECTION("global") {
        g.set32(kPde, 0x00800000 | URW | PS | G);
        CHECK(walk(g.map, g.c, kLinear, kRead).global);
    }
}

TEST_CASE("legacy 4 MiB pages: PDE bits 20:(MAXPHYADDR-19) are reserved below 40 bits", "[mmu][walker][legacy][bug]") {
    // SDM 4.3, table 4-4: bits (M-1):32 of the address come from PDE bits (M-20):13; the rest
    // of 21:13 is reserved. With MAXPHYADDR = 36: bits 21:17 are reserved.
    Legacy32Guest g;
    g.c.pse = true;
    g.c.maxPhysAddrBits = 36;
    constexpr uint64_t kLinear = 0x00d23456, kPde = 0x100c;

    g.set32(kPde, 0x00800000 | bit(16) | URW | PS);  // physical bit 35: fine
    WalkResult r = walk(g.map, g.c, kLinear, kRead);
    REQUIRE(r.ok);
    CHECK(r.physical == 0x8'0092'3456ull);

    for (unsigned b : {17u, 20u, 21u}) {
        INFO("bit " << b);
        g.set32(kPde, 0x00800000 | bit(b) | URW | PS);
        r = walk(g.map, g.c, kLinear, kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));
    }

    // MAXPHYADDR above 40 does not add address bits to a 4 MiB PDE: bit 21 stays reserved.
    g.c.maxPhysAddrBits = 46;
    g.set32(kPde, 0x00800000 | (0xffu << 13) | URW | PS);
    r = walk(g.map, g.c, kLinear, kRead);
    REQUIRE(r.ok);
    CHECK(r.physical == 0xff'0092'3456ull);
    g.set32(kPde, 0x00800000 | bit(21) | URW | PS);
    CHECK(walk(g.map, g.c, kLinear, kRead).errorCode == (kPfPresent | kPfReserved));
}

// ---------------------------------------------------------------------------------------------
// PAE paging

namespace {
// CR3 -> PDPT at 0x1020 (32-byte aligned), PD at 0x2000, PT at 0x3000, page at 0x5000.
// kLinearPae selects PDPTE[1] (0x1028), PD[2] (0x2010), PT[3] (0x3018), offset 0x456.
constexpr uint64_t kLinearPae = (1ull << 30) | (2ull << 21) | (3ull << 12) | 0x456;
constexpr uint64_t kPdptePae = 0x1028, kPdePae = 0x2010, kPtePae = 0x3018;

struct PaeGuest : Guest {
    PagingControls c{PagingMode::Pae, 0x1020, true, false, true, 40};
    PaeGuest() {
        set64(kPdptePae, 0x2000 | P);
        set64(kPdePae, 0x3000 | URW);
        set64(kPtePae, 0x5000 | URW);
    }
};
}  // namespace

TEST_CASE("PAE paging, 4 KiB pages", "[mmu][walker][pae]") {
    PaeGuest g;

    SECTION("translation, steps, and no A bit in the PDPTE") {
        const WalkResult r = walk(g.map, g.c, kLinearPae, kWrite);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x5456);
        CHECK(r.pageSize == 4096);
        REQUIRE(r.stepCount == 3);
        CHECK(r.steps[0].level == 3);
        CHECK(r.steps[0].entryAddress == kPdptePae);
        CHECK(r.steps[0].entry == (0x2000 | P));
        CHECK(r.steps[1].level == 2);
        CHECK(r.steps[1].entryAddress == kPdePae);
        CHECK(r.steps[1].entry == (0x3000 | URW | A));
        CHECK(r.steps[2].level == 1);
        CHECK(r.steps[2].entryAddress == kPtePae);
        CHECK(r.steps[2].entry == (0x5000 | URW | A | D));
        CHECK(g.get64(kPdptePae) == (0x2000 | P));  // bits 5 and 6 of a PDPTE are reserved
        CHECK(g.get64(kPdePae) == (0x3000 | URW | A));
        CHECK(g.get64(kPtePae) == (0x5000 | URW | A | D));
    }
    SECTION("CR3 bits 4:0 and above 31 are ignored") {
        g.c.cr3 = 0x7'0000'1020ull | 0x18;
        const WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
        REQUIRE(r.ok);
        CHECK(r.steps[0].entryAddress == kPdptePae);
    }
    SECTION("physical addresses above 4 GiB") {
        g.set64(kPtePae, 0xab'cdef'1000ull | URW);
        const WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0xab'cdef'1456ull);
    }
    SECTION("not-present PDPTE") {
        g.set64(kPdptePae, 0x2000);
        const WalkResult r = walk(g.map, g.c, kLinearPae, kUserFetch);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfUser | kPfFetch));
        CHECK(r.stepCount == 1);
    }
    SECTION("not-present PDE and PTE") {
        g.set64(kPtePae, 0x5000 | RW | US);
        WalkResult r = walk(g.map, g.c, kLinearPae, kWrite);
        CHECK(r.errorCode == kPfWrite);
        CHECK(r.stepCount == 3);
        g.set64(kPdePae, 0);
        r = walk(g.map, g.c, kLinearPae, kRead);
        CHECK(r.errorCode == 0);
        CHECK(r.stepCount == 2);
    }
    SECTION("PDPTE reserved bits: 2:1, 8:5, 63:MAXPHYADDR") {
        const unsigned bits[] = {1, 2, 5, 6, 7, 8, 40, 51, 52, 56, 62, 63};
        for (unsigned b : bits) {
            INFO("bit " << b);
            g.set64(kPdptePae, 0x2000 | P | bit(b));
            const WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfReserved));
            CHECK(r.stepCount == 1);
        }
        // Bits 3, 4 (PWT, PCD) and 11:9 (ignored) are fine.
        g.set64(kPdptePae, 0x2000 | P | PWT | PCD | bit(9) | bit(11));
        CHECK(walk(g.map, g.c, kLinearPae, kRead).ok);
    }
    SECTION("PDE and PTE reserved bits: 62:MAXPHYADDR") {
        // SDM 4.4.2: with PAE paging bits 62:MAXPHYADDR are reserved (4-level paging ignores 62:52).
        for (int which = 0; which < 2; ++which) {
            const uint64_t addr = which ? kPtePae : kPdePae;
            const uint64_t good = which ? (0x5000 | URW) : (0x3000 | URW);
            for (unsigned b : {40u, 47u, 51u, 52u, 58u, 62u}) {
                INFO((which ? "PTE" : "PDE") << " bit " << b);
                g.set64(addr, good | bit(b));
                const WalkResult r = walk(g.map, g.c, kLinearPae, kUserWrite);
                CHECK_FALSE(r.ok);
                CHECK(r.errorCode == (kPfPresent | kPfReserved | kPfWrite | kPfUser));
                CHECK(r.stepCount == (which ? 3 : 2));
            }
            g.set64(addr, good);
        }
        g.set64(kPtePae, 0x5000 | URW | bit(39));  // below MAXPHYADDR: an address bit
        const WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == (bit(39) | 0x5456));
    }
    SECTION("XD with NXE=1 forbids fetches; with NXE=0 it is reserved") {
        g.set64(kPtePae, 0x5000 | URW | NX);
        WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
        REQUIRE(r.ok);
        CHECK(r.executeDisable);
        r = walk(g.map, g.c, kLinearPae, kFetch);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfFetch));
        g.c.nxe = false;
        r = walk(g.map, g.c, kLinearPae, kFetch);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));  // no I/D without NXE
    }
}

TEST_CASE("PAE paging, 2 MiB pages", "[mmu][walker][pae]") {
    PaeGuest g;
    constexpr uint64_t kLinear = (1ull << 30) | (2ull << 21) | 0x12345;
    g.set64(kPdePae, 0x00600000 | URW | PS);

    SECTION("translation") {
        const WalkResult r = walk(g.map, g.c, kLinear, kWrite);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x00612345);
        CHECK(r.pageSize == 2ull << 20);
        REQUIRE(r.stepCount == 2);
        CHECK(r.steps[1].entry == (0x00600000 | URW | PS | A | D));
        CHECK(g.get64(kPdePae) == (0x00600000 | URW | PS | A | D));
        CHECK(g.get64(kPdptePae) == (0x2000 | P));
    }
    SECTION("bit 12 is PAT, bits 20:13 are reserved") {
        g.set64(kPdePae, 0x00600000 | URW | PS | PAT_LARGE);
        WalkResult r = walk(g.map, g.c, kLinear, kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x00612345);
        for (unsigned b : {13u, 16u, 20u}) {
            INFO("bit " << b);
            g.set64(kPdePae, 0x00600000 | URW | PS | bit(b));
            r = walk(g.map, g.c, kLinear, kRead);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfReserved));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4-level paging

TEST_CASE("4-level paging, 4 KiB pages", "[mmu][walker][long]") {
    Long4Guest g;
    g.install();

    SECTION("translation and steps") {
        const WalkResult r = g.run(kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x7567);
        CHECK(r.pageSize == 4096);
        REQUIRE(r.stepCount == 4);
        for (int i = 0; i < 4; ++i) {
            INFO(kLevelName4[i]);
            CHECK(r.steps[i].level == 4 - i);
            CHECK(r.steps[i].entryAddress == kAddr4[i]);
            CHECK(r.steps[i].entry == (g.e[i] | A));
        }
        CHECK(r.writable);
        CHECK(r.user);
        CHECK_FALSE(r.executeDisable);
        CHECK_FALSE(r.global);
        CHECK_FALSE(r.dirty);
    }
    SECTION("CR3 flag bits are ignored") {
        g.c.cr3 = 0x1000 | PWT | PCD;
        const WalkResult r = g.run(kRead);
        REQUIRE(r.ok);
        CHECK(r.steps[0].entryAddress == 0x1008);
    }
    SECTION("bits 63:48 of the linear address do not index") {
        // 0xffff8000'00000000 is PML4 index 256.
        g.set64(0x1000 + 256 * 8, 0x2000 | URW);
        const uint64_t linear = 0xffff'8000'0000'0000ull | (kLinear4 & ((1ull << 39) - 1));
        const WalkResult r = g.run(kRead, linear);
        REQUIRE(r.ok);
        CHECK(r.steps[0].entryAddress == 0x1800);
        CHECK(r.physical == 0x7567);
    }
    SECTION("physical address from bits MAXPHYADDR-1:12") {
        g.e[3] = 0xff'ffff'f000ull | URW;  // all 40 address bits
        g.install();
        WalkResult r = g.run(kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0xff'ffff'f567ull);

        g.c.maxPhysAddrBits = 52;
        g.e[3] = 0xf'ffff'ffff'f000ull | URW;
        g.install();
        r = g.run(kRead);
        REQUIRE(r.ok);
        CHECK(r.physical == 0xf'ffff'ffff'f567ull);
    }
    SECTION("bits 62:52 are ignored, not reserved, and not part of the address") {
        g.e[1] |= bit(52) | bit(62);
        g.e[3] |= bit(52) | bit(58) | bit(62) | bit(9) | bit(10) | bit(11);
        g.install();
        const WalkResult r = g.run(kWrite);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x7567);
        CHECK(g.get64(kAddr4[3]) == (g.e[3] | A | D));  // and preserved by the A/D update
    }
    SECTION("PS in a PML4E is reserved") {
        g.e[0] |= PS;
        g.install();
        const WalkResult r = g.run(kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));
        CHECK(r.stepCount == 1);
    }
}

TEST_CASE("4-level paging, 2 MiB pages", "[mmu][walker][long]") {
    Long4Guest g;
    g.e[2] = 0x1'2340'0000ull | URW | PS;
    g.install();
    constexpr uint64_t kLinear = (1ull << 39) | (2ull << 30) | (3ull << 21) | 0x12345;

    SECTION("translation") {
        const WalkResult r = g.run(kWrite, kLinear);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x1'2341'2345ull);
        CHECK(r.pageSize == 2ull << 20);
        REQUIRE(r.stepCount == 3);
        CHECK(r.steps[2].level == 2);
        CHECK(r.steps[2].entry == (g.e[2] | A | D));
        const auto mem = g.inMemory();
        CHECK(mem[0] == (g.e[0] | A));
        CHECK(mem[1] == (g.e[1] | A));
        CHECK(mem[2] == (g.e[2] | A | D));
        CHECK(mem[3] == g.e[3]);  // the PT slot is not used
    }
    SECTION("bit 12 is PAT; bits 20:13 are reserved") {
        g.e[2] |= PAT_LARGE;
        g.install();
        WalkResult r = g.run(kRead, kLinear);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x1'2341'2345ull);
        for (unsigned b : {13u, 20u}) {
            INFO("bit " << b);
            g.set64(kAddr4[2], (0x1'2340'0000ull | URW | PS) | bit(b));
            r = g.run(kRead, kLinear);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfReserved));
            CHECK(r.stepCount == 3);
        }
    }
    SECTION("global") {
        g.e[2] |= G;
        g.install();
        CHECK(g.run(kRead, kLinear).global);
    }
}

TEST_CASE("4-level paging, 1 GiB pages", "[mmu][walker][long]") {
    Long4Guest g;
    g.e[1] = 0x40'0000'0000ull | URW | PS;
    g.install();
    constexpr uint64_t kLinear = (1ull << 39) | (2ull << 30) | 0x1234'5678;

    SECTION("translation") {
        const WalkResult r = g.run(kWrite, kLinear);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x40'1234'5678ull);
        CHECK(r.pageSize == 1ull << 30);
        REQUIRE(r.stepCount == 2);
        CHECK(r.steps[1].level == 3);
        CHECK(r.steps[1].entryAddress == kAddr4[1]);
        CHECK(g.get64(kAddr4[0]) == (g.e[0] | A));
        CHECK(g.get64(kAddr4[1]) == (g.e[1] | A | D));
    }
    SECTION("bit 12 is PAT; bits 29:13 are reserved") {
        g.set64(kAddr4[1], g.e[1] | PAT_LARGE);
        WalkResult r = g.run(kRead, kLinear);
        REQUIRE(r.ok);
        CHECK(r.physical == 0x40'1234'5678ull);
        for (unsigned b : {13u, 21u, 29u}) {
            INFO("bit " << b);
            g.set64(kAddr4[1], g.e[1] | bit(b));
            r = g.run(kRead, kLinear);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfReserved));
        }
    }
}

TEST_CASE("4-level: not present at each level", "[mmu][walker][long][fault]") {
    for (int level = 0; level < 4; ++level) {
        for (const NamedAccess& a : kAllAccesses) {
            INFO(kLevelName4[level] << ", " << a.name);
            Long4Guest g;
            g.e[level] &= ~P;
            g.install();
            const WalkResult r = g.run(a.kind);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == a.bits);  // P=0, plus W/U/I describing the access
            CHECK(r.stepCount == level + 1);
            CHECK(r.steps[level].entry == g.e[level]);
            CHECK(g.inMemory() == g.e);  // no accessed bits on a faulting walk

            // Without NXE a fetch does not report I/D.
            g.c.nxe = false;
            CHECK(g.run(a.kind).errorCode == (a.bits & ~kPfFetch));
        }
    }
}

TEST_CASE("4-level: a not-present entry's other bits are never reserved", "[mmu][walker][long][fault]") {
    for (int level = 0; level < 4; ++level) {
        INFO(kLevelName4[level]);
        Long4Guest g;
        g.e[level] = ~P;
        g.install();
        const WalkResult r = g.run(kWrite);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == kPfWrite);
    }
}

TEST_CASE("4-level: reserved bits above MAXPHYADDR at each level", "[mmu][walker][long][fault]") {
    for (int level = 0; level < 4; ++level) {
        for (const NamedAccess& a : kAllAccesses) {
            INFO(kLevelName4[level] << ", " << a.name);
            Long4Guest g;
            g.e[level] |= bit(40);
            g.install();
            const WalkResult r = g.run(a.kind);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfReserved | a.bits));
            CHECK(r.stepCount == level + 1);
            CHECK(g.inMemory() == g.e);
        }
    }
}

TEST_CASE("4-level: MAXPHYADDR decides which high bits are reserved", "[mmu][walker][long][fault]") {
    struct Case {
        uint64_t maxPhys;
        unsigned bit;
        bool reserved;
    };
    const Case cases[] = {
        {36, 35, false}, {36, 36, true}, {36, 51, true}, {40, 39, false}, {40, 40, true},
        {46, 45, false}, {46, 46, true}, {52, 51, false}, {52, 52, false},  // 52: ignored
    };
    for (const Case& k : cases) {
        for (int level = 0; level < 4; ++level) {
            INFO("MAXPHYADDR " << k.maxPhys << ", bit " << k.bit << ", " << kLevelName4[level]);
            // A bit that is not reserved would move a non-leaf level's table out of RAM, so
            // those cases are only checked on the leaf.
            if (!k.reserved && level != 3) continue;
            Long4Guest g;
            g.c.maxPhysAddrBits = k.maxPhys;
            g.e[level] |= bit(k.bit);
            g.install();
            const WalkResult r = g.run(kRead);
            CHECK(r.ok == !k.reserved);
            if (k.reserved) {
                CHECK(r.errorCode == (kPfPresent | kPfReserved));
                CHECK(r.stepCount == level + 1);
            } else if (k.bit < k.maxPhys) {
                CHECK(r.physical == (bit(k.bit) | 0x7567));
            } else {
                CHECK(r.physical == 0x7567);
            }
        }
    }
}

TEST_CASE("4-level: user access to a supervisor page at each level", "[mmu][walker][long][perm]") {
    for (int level = 0; level < 4; ++level) {
        INFO(kLevelName4[level] << " has U/S=0");
        Long4Guest g;
        g.e[level] &= ~US;
        g.install();

        WalkResult r = g.run(kUserRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfUser));
        CHECK(g.inMemory() == g.e);
        CHECK(g.run(kUserWrite).errorCode == (kPfPresent | kPfUser | kPfWrite));
        CHECK(g.run(kUserFetch).errorCode == (kPfPresent | kPfUser | kPfFetch));
        CHECK(g.inMemory() == g.e);

        r = g.run(kRead);
        REQUIRE(r.ok);
        CHECK_FALSE(r.user);
        CHECK(r.writable);
        CHECK(g.run(kWrite).ok);
        CHECK(g.run(kFetch).ok);
    }
}

TEST_CASE("4-level: writes to a read-only page at each level", "[mmu][walker][long][perm]") {
    const int level = GENERATE(0, 1, 2, 3);
    {
        INFO(kLevelName4[level] << " has R/W=0");
        Long4Guest g;
        g.e[level] &= ~RW;
        g.install();

        SECTION("reads are fine, and the result is not writable") {
            const WalkResult r = g.run(kUserRead);
            REQUIRE(r.ok);
            CHECK_FALSE(r.writable);
            CHECK(r.user);
        }
        SECTION("user write faults whatever CR0.WP") {
            for (bool wp : {false, true}) {
                g.c.wp = wp;
                const WalkResult r = g.run(kUserWrite);
                CHECK_FALSE(r.ok);
                CHECK(r.errorCode == (kPfPresent | kPfWrite | kPfUser));
                CHECK(g.inMemory() == g.e);
            }
        }
        SECTION("supervisor write faults with CR0.WP=1") {
            g.c.wp = true;
            const WalkResult r = g.run(kWrite);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfWrite));
            CHECK(g.inMemory() == g.e);
        }
        SECTION("supervisor write succeeds with CR0.WP=0 and dirties the page") {
            g.c.wp = false;
            const WalkResult r = g.run(kWrite);
            REQUIRE(r.ok);
            CHECK_FALSE(r.writable);
            CHECK(r.dirty);
            CHECK(g.get64(kAddr4[3]) == (g.e[3] | A | D));
        }
    }
}

TEST_CASE("4-level: execute-disable at each level", "[mmu][walker][long][perm]") {
    const int level = GENERATE(0, 1, 2, 3);
    {
        INFO(kLevelName4[level] << " has XD=1");
        Long4Guest g;
        g.e[level] |= NX;
        g.install();

        SECTION("NXE=1: fetches fault, data accesses do not") {
            WalkResult r = g.run(kFetch);
            CHECK_FALSE(r.ok);
            CHECK(r.errorCode == (kPfPresent | kPfFetch));
            CHECK(g.run(kUserFetch).errorCode == (kPfPresent | kPfFetch | kPfUser));
            CHECK(g.inMemory() == g.e);
            r = g.run(kUserWrite);
            REQUIRE(r.ok);
            CHECK(r.executeDisable);
        }
        SECTION("NXE=0: bit 63 is reserved") {
            g.c.nxe = false;
            for (const NamedAccess& a : kAllAccesses) {
                INFO(a.name);
                const WalkResult r = g.run(a.kind);
                CHECK_FALSE(r.ok);
                CHECK(r.errorCode == (kPfPresent | kPfReserved | (a.bits & ~kPfFetch)));
                CHECK(r.stepCount == level + 1);
            }
        }
    }
}

TEST_CASE("4-level: effective permissions combine every level", "[mmu][walker][long][perm]") {
    // R/W and U/S are ANDed, XD is ORed, over all four levels.
    for (unsigned rw = 0; rw < 16; ++rw) {
        for (unsigned us = 0; us < 16; ++us) {
            Long4Guest g;
            const unsigned nx = (rw * 7 + us) & 15;  // some XD pattern, varied with the others
            for (int i = 0; i < 4; ++i) {
                g.e[i] &= ~(RW | US);
                if (rw >> i & 1) g.e[i] |= RW;
                if (us >> i & 1) g.e[i] |= US;
                if (nx >> i & 1) g.e[i] |= NX;
            }
            g.install();
            INFO("rw " << rw << " us " << us << " nx " << nx);
            const WalkResult r = g.run(kRead);
            REQUIRE(r.ok);
            CHECK(r.writable == (rw == 15));
            CHECK(r.user == (us == 15));
            CHECK(r.executeDisable == (nx != 0));
            CHECK(g.run(kUserWrite).ok == (rw == 15 && us == 15));
            CHECK(g.run(kUserFetch).ok == (us == 15 && nx == 0));
        }
    }
}

TEST_CASE("4-level: global comes from the leaf only", "[mmu][walker][long]") {
    Long4Guest g;
    g.e[2] |= G;  // ignored in a PDE that references a page table
    g.install();
    CHECK_FALSE(g.run(kRead).global);
    g.e[3] |= G;
    g.install();
    CHECK(g.run(kRead).global);
}

TEST_CASE("accessed and dirty bits", "[mmu][walker][ad]") {
    Long4Guest g;
    g.install();

    SECTION("a read sets A on every level and D nowhere") {
        const WalkResult r = g.run(kRead);
        REQUIRE(r.ok);
        const auto mem = g.inMemory();
        for (int i = 0; i < 4; ++i) {
            INFO(kLevelName4[i]);
            CHECK(mem[i] == (g.e[i] | A));
            CHECK(r.steps[i].entry == mem[i]);
        }
        CHECK_FALSE(r.dirty);
    }
    SECTION("a fetch sets A only") {
        REQUIRE(g.run(kUserFetch).ok);
        for (int i = 0; i < 4; ++i) CHECK(g.inMemory()[i] == (g.e[i] | A));
    }
    SECTION("a write sets D on the leaf only") {
        const WalkResult r = g.run(kUserWrite);
        REQUIRE(r.ok);
        CHECK(r.dirty);
        const auto mem = g.inMemory();
        CHECK(mem[0] == (g.e[0] | A));
        CHECK(mem[1] == (g.e[1] | A));
        CHECK(mem[2] == (g.e[2] | A));
        CHECK(mem[3] == (g.e[3] | A | D));
        for (int i = 0; i < 4; ++i) CHECK(r.steps[i].entry == mem[i]);
        // A later read reports the page dirty.
        CHECK(g.run(kRead).dirty);
    }
    SECTION("bits already set are left alone, with the rest of the entry") {
        for (auto& e : g.e) e |= A | bit(9) | bit(11) | PWT;
        g.e[3] |= D;
        g.install();
        const WalkResult r = g.run(kWrite);
        REQUIRE(r.ok);
        CHECK(r.dirty);
        CHECK(g.inMemory() == g.e);
    }
    SECTION("setAccessedDirty=false leaves memory and the steps untouched") {
        WalkResult r = g.run(kWrite, kLinear4, false);
        REQUIRE(r.ok);
        CHECK(g.inMemory() == g.e);
        for (int i = 0; i < 4; ++i) CHECK(r.steps[i].entry == g.e[i]);
        CHECK_FALSE(r.dirty);  // reports the leaf as it is
        g.e[3] |= D;
        g.install();
        r = g.run(kRead, kLinear4, false);
        CHECK(r.dirty);
    }
    SECTION("a walk that faults sets nothing") {
        SECTION("not-present leaf") { g.e[3] &= ~P; }
        SECTION("not-present PDE") { g.e[2] &= ~P; }
        SECTION("reserved bit in the leaf") { g.e[3] |= bit(45); }
        SECTION("reserved bit in the PDPTE") { g.e[1] |= bit(45); }
        SECTION("user access to a supervisor leaf") { g.e[3] &= ~US; }
        SECTION("user access below a supervisor PML4E") { g.e[0] &= ~US; }
        SECTION("write to a read-only leaf") { g.e[3] &= ~RW; }
        SECTION("write through a read-only PDPTE") { g.e[1] &= ~RW; }
        g.install();
        const WalkResult r = g.run(kUserWrite);
        CHECK_FALSE(r.ok);
        CHECK(g.inMemory() == g.e);
        for (int i = 0; i < r.stepCount; ++i) CHECK(r.steps[i].entry == g.e[i]);
    }
    SECTION("a fetch from an XD page sets nothing") {
        g.e[3] |= NX;
        g.install();
        CHECK_FALSE(g.run(kFetch).ok);
        CHECK(g.inMemory() == g.e);
    }
}

TEST_CASE("accessed bits are not set on faulting legacy and PAE walks", "[mmu][walker][ad]") {
    SECTION("legacy: not-present PTE leaves the PDE alone") {
        Legacy32Guest g;
        g.set32(kPte32, 0);
        CHECK_FALSE(walk(g.map, g.c, kLinear32, kRead).ok);
        CHECK(g.get32(kPde32) == (0x2000 | URW));
    }
    SECTION("legacy: user write to a read-only page") {
        Legacy32Guest g;
        g.set32(kPte32, 0x5000 | P | US);
        CHECK_FALSE(walk(g.map, g.c, kLinear32, kUserWrite).ok);
        CHECK(g.get32(kPde32) == (0x2000 | URW));
        CHECK(g.get32(kPte32) == (0x5000 | P | US));
    }
    SECTION("PAE: XD fetch") {
        PaeGuest g;
        g.set64(kPtePae, 0x5000 | URW | NX);
        CHECK_FALSE(walk(g.map, g.c, kLinearPae, kFetch).ok);
        CHECK(g.get64(kPdePae) == (0x3000 | URW));
        CHECK(g.get64(kPtePae) == (0x5000 | URW | NX));
    }
}

// ---------------------------------------------------------------------------------------------
// Page tables outside RAM

TEST_CASE("page tables outside RAM read as all-ones", "[mmu][walker][openbus]") {
    SECTION("4-level: CR3 beyond RAM gives a PML4E with reserved bits") {
        Long4Guest g;
        g.c.cr3 = 0x1000'0000;
        const WalkResult r = g.run(kUserRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved | kPfUser));
        REQUIRE(r.stepCount == 1);
        CHECK(r.steps[0].entryAddress == 0x1000'0008);
        CHECK(r.steps[0].entry == ~0ull);
    }
    SECTION("4-level: a page table in MMIO") {
        Long4Guest g;
        g.map.addMmio(0x80'0000, 0x1000, "dev");
        g.e[2] = 0x80'0000 | URW;
        g.install();
        const WalkResult r = g.run(kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));
        REQUIRE(r.stepCount == 4);
        CHECK(r.steps[3].entryAddress == 0x80'0000 + 4 * 8);
        CHECK(r.steps[3].entry == ~0ull);
        CHECK(g.inMemory() == g.e);
    }
    SECTION("PAE: PDPT beyond RAM") {
        PaeGuest g;
        g.c.cr3 = 0xffff'f000;
        const WalkResult r = walk(g.map, g.c, kLinearPae, kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));
        REQUIRE(r.stepCount == 1);
        CHECK(r.steps[0].entry == ~0ull);
    }
    SECTION("legacy: an all-ones PTE maps the last page of the 4 GiB space") {
        // 32-bit entries have no reserved bits without a 4 MiB page, so 0xffffffff is a valid
        // present, writable, user, global, dirty PTE.
        Legacy32Guest g;
        g.set32(kPde32, 0x00c0'0000 | URW);  // page table beyond RAM
        const WalkResult r = walk(g.map, g.c, kLinear32, kUserWrite);
        REQUIRE(r.ok);
        CHECK(r.physical == 0xffff'fabcull);
        REQUIRE(r.stepCount == 2);
        CHECK(r.steps[1].entryAddress == 0x00c0'0000 + 3 * 4);
        CHECK(r.steps[1].entry == 0xffffffffull);
        CHECK(r.writable);
        CHECK(r.user);
        CHECK(r.global);
        CHECK(r.dirty);
    }
    SECTION("legacy with PSE: an all-ones PDE is a 4 MiB page with reserved bit 21") {
        Legacy32Guest g;
        g.c.pse = true;
        g.c.cr3 = 0x4000'0000;
        const WalkResult r = walk(g.map, g.c, kLinear32, kRead);
        CHECK_FALSE(r.ok);
        CHECK(r.errorCode == (kPfPresent | kPfReserved));
        CHECK(r.steps[0].entry == 0xffffffffull);
    }
}

TEST_CASE("page tables in ROM can be walked but are not updated", "[mmu][walker]") {
    HostMemory host(0x10000);
    PhysicalMap map;
    map.addRom(0, 0x10000, host.data(), "rom");
    auto put = [&](uint64_t gpa, uint64_t v) { std::memcpy(host.data() + gpa, &v, 8); };
    put(kAddr4[0], 0x2000 | URW);
    put(kAddr4[1], 0x3000 | URW);
    put(kAddr4[2], 0x4000 | URW);
    put(kAddr4[3], 0x7000 | URW);
    const PagingControls c{PagingMode::Long4, 0x1000, true, false, true, 40};
    const WalkResult r = walk(map, c, kLinear4, kWrite);
    REQUIRE(r.ok);
    CHECK(r.physical == 0x7567);
    uint64_t pte = 0;
    std::memcpy(&pte, host.data() + kAddr4[3], 8);
    CHECK(pte == (0x7000 | URW));
}
