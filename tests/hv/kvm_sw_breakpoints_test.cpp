// The INT3 patches behind the KVM engine's RIP breakpoints (no /dev/kvm needed).
#include <catch2/catch.hpp>

#include "hv/kvm_sw_breakpoints.hpp"

using namespace hvlab;

namespace {

struct Memory {
    mmu::HostMemory ram{0x10000};
    std::vector<uint8_t> rom = std::vector<uint8_t>(0x1000, 0x90);
    mmu::PhysicalMap map;
    Memory() {
        map.addRam(0, ram.size(), ram.data());
        map.addRom(0x20000, rom.size(), rom.data());
        map.addMmio(0x30000, 0x1000, "device");
        for (uint64_t a = 0; a < ram.size(); ++a) ram.data()[a] = static_cast<uint8_t>(a);
    }
};

const mmu::PagingControls kNoPaging{};

}  // namespace

TEST_CASE("software breakpoints: INT3 only while inserted, originals back after", "[hv][debug]") {
    Memory m;
    hv::SoftwareBreakpoints bp(m.map);
    CHECK(bp.empty());
    bp.set({0x1234, 0x20010, 0x30000, 0x99999, 0x1234});  // RAM, ROM, MMIO, nothing, a duplicate
    CHECK(bp.contains(0x20010));
    CHECK_FALSE(bp.contains(0x1235));
    bp.insert(kNoPaging);
    CHECK(m.ram.data()[0x1234] == 0xcc);
    CHECK(m.rom[0x10] == 0xcc);
    CHECK(m.ram.data()[0x1235] == 0x35);
    bp.remove();
    CHECK(m.ram.data()[0x1234] == 0x34);
    CHECK(m.rom[0x10] == 0x90);
}

TEST_CASE("software breakpoints: a byte the guest rewrote meanwhile is kept", "[hv][debug]") {
    Memory m;
    hv::SoftwareBreakpoints bp(m.map);
    bp.set({0x100, 0x200});
    bp.insert(kNoPaging);
    m.ram.data()[0x100] = 0x0f;  // the guest wrote new code over the breakpoint
    bp.remove();
    CHECK(m.ram.data()[0x100] == 0x0f);
    CHECK(m.ram.data()[0x200] == 0x00);
}

TEST_CASE("software breakpoints: linear addresses go through the guest's page tables", "[hv][debug]") {
    Memory m;
    // 32-bit paging: CR3 = 0x1000, PDE 0 -> page table 0x2000, PTE 5 maps linear 0x5000 to 0x8000.
    auto put32 = [&](uint64_t at, uint32_t v) { m.map.write(at, &v, 4); };
    for (uint64_t a = 0x1000; a < 0x3000; a += 4) put32(a, 0);
    put32(0x1000, 0x2000 | 0x3);
    put32(0x2000 + 5 * 4, 0x8000 | 0x3);
    mmu::PagingControls paging;
    paging.mode = mmu::PagingMode::Legacy32;
    paging.cr3 = 0x1000;
    hv::SoftwareBreakpoints bp(m.map);
    bp.set({0x5010, 0x6000});  // mapped; not mapped (skipped)
    bp.insert(paging);
    CHECK(m.ram.data()[0x8010] == 0xcc);
    CHECK(m.ram.data()[0x5010] == 0x10);
    CHECK(m.ram.data()[0x6000] == 0x00);
    bp.remove();
    CHECK(m.ram.data()[0x8010] == 0x10);
}
