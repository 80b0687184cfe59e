// The PV loader (hv/boot/pv_boot.*) and hvlab's PV machine (hv/paravirt/pv_machine.*): what a
// ring-1 kernel finds at its entry.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "cpu/hypercall_abi.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/boot/pv_boot.hpp"
#include "hv/paravirt/pv_machine.hpp"
#include "tests/hv/boot_test_memory.hpp"

using namespace hvlab;
namespace si = hv::boot::pv_start_info;
namespace hvm = hv::boot::pvh::start_info;
namespace pv = cpu::hypercall::pv;

namespace {

constexpr uint64_t kRam = 32ull << 20;

std::vector<uint8_t> pvKernelImage() {
    const std::string path = std::string(HVLAB_FIRMWARE_DIR) + "/pv-kernel.elf";
    std::ifstream in(path, std::ios::binary);
    if (!in) FAIL(path << " was not built (it needs GNU ld)");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The leaf entry that maps `linear` in the tables at `l4` (0 when some level is not present).
uint64_t leafEntry(const test::BootTestMemory& m, uint64_t l4, uint64_t linear) {
    uint64_t table = l4;
    for (int shift = 39; shift >= 12; shift -= 9) {
        const uint64_t entry = m.u64(table + 8 * ((linear >> shift) & 511));
        if (shift == 12 || !(entry & 1)) return entry;
        table = entry & 0x000ffffffffff000ull;
    }
    return 0;
}

}  // namespace

TEST_CASE("pv boot: the kernel, start-info, pinned identity map and ring-1 entry state", "[hv][boot][pvmmu]") {
    const std::vector<uint8_t> image = pvKernelImage();
    REQUIRE(hv::boot::isPvKernel(image));
    REQUIRE(hv::boot::detectKernelFormat(image) == hv::boot::KernelFormat::PvKernel);
    test::BootTestMemory m(kRam, 0);
    hv::PvMachine machine(m.map, kRam, [] { return nullptr; });
    const hv::boot::PvLoader loader("pv-kernel.elf", image);
    hv::boot::MultibootModule module{{1, 2, 3, 4, 5}, "initrd.img root=/dev/pv"};
    const hv::boot::PvBoot boot = loader.load(machine, m.map, kRam, "console=pv", {module});

    CHECK(boot.kernelStart == 0x100000);
    CHECK(boot.startInfo == hv::boot::alignUp(boot.kernelEnd, 4096));
    CHECK(boot.firstFree == boot.stackTop);
    CHECK(boot.l4 > boot.startInfo);
    CHECK(boot.firstFree - si::kBootStackBytes == boot.l4 + boot.pageTablePages * 4096ull);

    // hvm_start_info, then hvlab's fields.
    const uint64_t info = boot.startInfo;
    CHECK(m.u32(info + hvm::kMagic) == cpu::hypercall::pvh::kStartMagic);
    CHECK(m.u32(info + hvm::kVersion) == 1);
    CHECK(m.cstring(m.u64(info + hvm::kCmdlinePaddr)) == "console=pv");
    REQUIRE(m.u32(info + hvm::kNrModules) == 1);
    const uint64_t mod = m.u64(info + hvm::kModlistPaddr);
    CHECK(m.u64(mod + 8) == 5);
    CHECK(m.u8(m.u64(mod)) == 1);
    CHECK(m.cstring(m.u64(mod + 16)) == "initrd.img root=/dev/pv");
    CHECK(m.u64(info + si::kL4) == boot.l4);
    CHECK(m.u64(info + si::kFirstFree) == boot.firstFree);
    // The memory map lists hvlab's pages as reserved, at the top of RAM.
    bool reservedTop = false;
    for (uint32_t k = 0; k < m.u32(info + hvm::kMemmapEntries); ++k) {
        const uint64_t e = m.u64(info + hvm::kMemmapPaddr) + k * hv::boot::pvh::kMemmapEntrySize;
        if (m.u64(e) == machine.reservedBase() && m.u64(e + 8) == machine.reservedSize())
            reservedTop = m.u32(e + 16) == cpu::hypercall::pvh::kMemmapReserved;
        if (m.u32(e + 16) == cpu::hypercall::pvh::kMemmapRam)
            CHECK((m.u64(e) + m.u64(e + 8) <= machine.reservedBase() || m.u64(e) >= kRam));
    }
    CHECK(reservedTop);
    CHECK(machine.reservedBase() + machine.reservedSize() == kRam);

    // The identity map: pinned and loaded; data writable, the tables read-only, hvlab's pages absent.
    CHECK(machine.mmu().cr3() == boot.l4);
    CHECK(machine.mmu().frame(boot.l4).type == hv::PageType::L4);
    CHECK(machine.mmu().frame(boot.l4).pins == 1);
    CHECK(m.u64(boot.l4 + 8 * pv::kHoleL4Slot) == ((machine.reservedBase() + 9 * 4096) | 0x23));
    CHECK(leafEntry(m, boot.l4, 0x200000) == (0x200000 | 3));
    CHECK(leafEntry(m, boot.l4, boot.l4) == (boot.l4 | 1));
    CHECK(leafEntry(m, boot.l4, boot.firstFree - 4096) == ((boot.firstFree - 4096) | 3));  // the stack
    CHECK(leafEntry(m, boot.l4, machine.reservedBase()) == 0);
    CHECK(leafEntry(m, boot.l4, 0xe0000) == 0);  // not RAM in this map
    // The hole maps hvlab's GDT read-only, supervisor only.
    const uint64_t gdtEntry = leafEntry(m, boot.l4, pv::kHoleBase);
    CHECK((gdtEntry & 0x000ffffffffff000ull) == machine.reservedBase());
    CHECK((gdtEntry & 7) == 1);

    // Ring 1 of long mode, hvlab's tables.
    const cpu::CpuState& s = boot.entry;
    CHECK(s.rip == loader.entryPoint());
    CHECK(s.rip == 0x100000);
    CHECK(s.cpl() == 1);
    CHECK(s.mode() == cpu::CpuMode::Long64);
    CHECK(s.seg[cpu::CS].selector == pv::kKernelCode);
    CHECK(s.seg[cpu::SS].selector == pv::kKernelData);
    CHECK(s.seg[cpu::DS].selector == pv::kKernelData);
    CHECK(s.gpr[cpu::RSI] == boot.startInfo);
    CHECK(s.gpr[cpu::RSP] == boot.stackTop);
    CHECK(s.cr3 == boot.l4);
    CHECK(s.cr0 == (cpu::cr0::PE | cpu::cr0::MP | cpu::cr0::ET | cpu::cr0::NE | cpu::cr0::WP | cpu::cr0::PG));
    CHECK(s.cr4 == cpu::cr4::PAE);
    CHECK(s.efer == (cpu::efer::LME | cpu::efer::LMA | cpu::efer::NXE));  // SCE with SET_SYSCALL_ENTRY
    CHECK(s.flags.test(cpu::rflag::IF));
    CHECK((s.rflags() & cpu::rflag::IOPL) == 0);
    CHECK(s.gdtr.base == pv::kHoleBase);
    CHECK(s.tr.selector == pv::kTss);
    CHECK(s.msrs.lstar == hv::PvMachine::holeAddress(hv::pv_layout::kStubPage));
    // The GDT as the guest reads it: kernel code 0x41 is 64-bit, DPL 1, accessed.
    const cpu::Segment kernelCode =
        cpu::segmentFromDescriptor(pv::kKernelCode, m.u64(machine.reservedBase() + (pv::kKernelCode & ~7u)));
    CHECK(kernelCode.dpl() == 1);
    CHECK(kernelCode.longMode());
    CHECK((kernelCode.attributes & 1) == 1);
}

TEST_CASE("pv boot: images that are not PV kernels", "[hv][boot][pvmmu]") {
    std::vector<uint8_t> image = pvKernelImage();
    // The same ELF with the note renamed is an ELF64 without the hvlab note.
    for (size_t k = 0; k + 6 <= image.size(); ++k)
        if (std::equal(image.begin() + k, image.begin() + k + 6, "hvlab")) image[k] = 'X';
    CHECK_FALSE(hv::boot::isPvKernel(image));
    CHECK_THROWS_WITH(hv::boot::PvLoader("x.elf", image), Catch::Contains("no \"hvlab\" ELF note"));
    const std::vector<uint8_t> notElf(128, 0);
    CHECK_FALSE(hv::boot::isPvKernel(notElf));
    CHECK_THROWS_AS(hv::boot::PvLoader("zero.bin", notElf), hv::boot::BootImageError);
}

TEST_CASE("pv machine: the trap table, ring-1 stack and syscall entry calls", "[hv][paravirt][pvmmu]") {
    test::BootTestMemory m(kRam, 0);
    struct FakeVcpu final : hv::PvVcpu {
        cpu::CpuState s;
        int flushes = 0, changes = 0;
        cpu::CpuState& liveState() override { return s; }
        void cr3Changed() override { ++changes; }
        void privilegeChanged() override { ++changes; }
        void flushTlb() override { ++flushes; }
        void invalidatePage(uint64_t) override {}
    } vcpu;
    hv::PvMachine machine(m.map, kRam, [&vcpu]() -> hv::PvVcpu* { return &vcpu; });
    namespace hc = cpu::hypercall;
    auto call = [&](uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0) {
        return machine.call(cpu::HypercallDetail{number, {a0, a1, 0}, 0}, 0x1000);
    };
    // One entry: vector 14, DPL 1, handler 0x123456789a.
    const uint8_t entry[16] = {14, 1, 0, 0, 0, 0, 0, 0, 0x9a, 0x78, 0x56, 0x34, 0x12, 0, 0, 0};
    m.map.write(0x5000, entry, sizeof entry);
    CHECK(call(hc::kSetTrapTable, 0x5000, 1) == 0);
    const uint64_t gate = machine.pageAddress(hv::pv_layout::kIdtPage) + 14 * 16;
    CHECK(m.u64(gate) == (0x789aull | (uint64_t{pv::kKernelCode} << 16) | (0xafull << 40) | (0x3456ull << 48)));
    CHECK(m.u64(gate + 8) == 0x12);
    uint8_t bad[16] = {14, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};  // DPL 0
    m.map.write(0x5000, bad, sizeof bad);
    CHECK(call(hc::kSetTrapTable, 0x5000, 1) == hc::kErrorInvalid);
    bad[1] = 3;
    bad[15] = 0xff;  // a handler in the upper half
    m.map.write(0x5000, bad, sizeof bad);
    CHECK(call(hc::kSetTrapTable, 0x5000, 1) == hc::kErrorInvalid);
    CHECK(call(hc::kSetTrapTable, 64ull << 20, 1) == hc::kErrorFault);
    CHECK(m.u64(gate + 8) == 0x12);  // refused lists change nothing

    CHECK(call(hc::kStackSwitch, 0x7000) == 0);
    CHECK(m.u64(machine.pageAddress(hv::pv_layout::kTssPage) + 12) == 0x7000);
    CHECK(call(hc::kStackSwitch, 0x0000900000000000ull) == hc::kErrorInvalid);  // not canonical

    CHECK(call(hc::kSetSyscallEntry, 0x400000) == 0);
    CHECK((vcpu.s.efer & cpu::efer::SCE) != 0);
    CHECK(call(hc::kSetSyscallEntry, 0) == 0);
    CHECK((vcpu.s.efer & cpu::efer::SCE) == 0);

    vcpu.s.cr2 = 0xdead000;
    CHECK(call(hc::kReadCr2) == 0xdead000);
    // The bounce from anywhere but hvlab's stub at ring 0 is refused.
    CHECK(call(hc::kSyscallBounce) == hc::kErrorNoSys);
    // The TSS opens the hypercall port and PCI configuration to ring 1, nothing else.
    const uint64_t bitmap = machine.pageAddress(hv::pv_layout::kTssPage) + hv::pv_layout::kTssIoBitmap;
    auto open = [&](unsigned port) { return (m.u8(bitmap + port / 8) & (1u << (port % 8))) == 0; };
    CHECK(open(0xb00));
    CHECK(open(0xcf8));
    CHECK(open(0xcff));
    CHECK_FALSE(open(0x3f8));
    CHECK_FALSE(open(0x20));
    CHECK_FALSE(open(0xd00));
}
