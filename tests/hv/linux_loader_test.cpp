// Linux bzImage loader: a synthetic bzImage (a setup header and a few bytes of "kernel") checks
// parsing, boot_params, placement, page tables and the entry state field by field; a real
// Debian kernel, when the machine has one, checks the header parsing and a full load.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/linux_loader.hpp"
#include "mmu/page_walker.hpp"
#include "mmu/physical_map.hpp"
#include "tests/hv/boot_test_memory.hpp"

using namespace hvlab;
using namespace hvlab::hv::boot;
namespace lb = hvlab::hv::boot::linux_boot;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// Guest RAM as the Vm lays it out; the first MiB filled with 0xCC.
struct TestMemory : hvlab::test::BootTestMemory {
    explicit TestMemory(uint64_t bytes) : BootTestMemory(bytes, 0x100000) {}
};

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// The fields of a synthetic bzImage, as a 64-bit relocatable kernel of protocol 2.15 has them.
struct FakeKernel {
    uint8_t setupSects = 4;
    uint16_t version = 0x020f;
    uint8_t loadflags = lb::loadflag::kLoadedHigh;
    uint32_t initrdAddrMax = 0x7fffffff;
    uint32_t kernelAlignment = 0x200000;
    uint8_t relocatable = 1;
    uint16_t xloadflags = lb::xloadflag::kKernel64 | lb::xloadflag::kCanBeLoadedAbove4G;
    uint32_t cmdlineSize = 0x7ff;
    uint64_t prefAddress = 0x1000000;
    uint32_t initSize = 0x400000;
    size_t kernelBytes = 0x1000;
    uint16_t bootFlag = 0xaa55;
    uint32_t magic = 0x53726448;

    std::vector<uint8_t> build() const {
        const size_t setup = (size_t{setupSects ? setupSects : uint8_t{4}} + 1) * 512;
        std::vector<uint8_t> b(setup + kernelBytes, 0);
        put(b, 0x1f1, setupSects, 1);
        put(b, 0x1f4, kernelBytes / 16, 4);  // syssize
        put(b, 0x1fe, bootFlag, 2);
        put(b, 0x200, 0x66eb, 2);  // jmp short to 0x268: the header ends at 0x202 + 0x66
        put(b, 0x202, magic, 4);
        put(b, 0x206, version, 2);
        put(b, 0x211, loadflags, 1);
        put(b, 0x214, 0x100000, 4);
        put(b, 0x22c, initrdAddrMax, 4);
        put(b, 0x230, kernelAlignment, 4);
        put(b, 0x234, relocatable, 1);
        put(b, 0x235, 21, 1);
        put(b, 0x236, xloadflags, 2);
        put(b, 0x238, cmdlineSize, 4);
        put(b, 0x258, prefAddress, 8);
        put(b, 0x260, initSize, 4);
        put(b, 0x264, 0x12345678, 4);  // handover_offset: inside the header, copied as is
        put(b, 0x270, 0xdeadbeef, 4);  // past the header's end: must not be copied
        for (size_t i = setup; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 13);
        return b;
    }
};

std::string describeThrow(const std::function<void()>& f) {
    try {
        f();
    } catch (const BootImageError& e) {
        return e.what();
    }
    return "(no BootImageError)";
}

std::vector<uint8_t> initrdBytes(size_t size) {
    std::vector<uint8_t> b(size);
    for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i ^ 0x5a);
    return b;
}

// A real distribution kernel, if this machine has one (never copied into the repository).
std::string findRealKernel() {
    if (const char* env = std::getenv("HVLAB_TEST_BZIMAGE")) return env;
    std::vector<std::filesystem::path> folders;
    if (const char* cache = std::getenv("HVLAB_KVM_QEMU_CACHE"))
        folders.emplace_back(std::string(cache) + "/current/boot");
    if (const char* home = std::getenv("HOME"))
        folders.emplace_back(std::string(home) + "/.cache/hvlab-kvm-in-qemu/current/boot");
    folders.emplace_back("/boot");
    for (const auto& folder : folders) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
            if (entry.path().filename().string().rfind("vmlinuz", 0) == 0 && entry.is_regular_file())
                return entry.path();
    }
    return {};
}

}  // namespace

TEST_CASE("linux: the setup header of a synthetic bzImage is parsed", "[boot][linux]") {
    const auto image = FakeKernel{}.build();
    CHECK(detectKernelFormat(image) == KernelFormat::LinuxBzImage);
    const LinuxLoader loader("bzImage", image);
    const lb::SetupHeader& h = loader.header();
    CHECK(h.version == 0x020f);
    CHECK(h.versionText() == "2.15");
    CHECK(h.setupSects == 4);
    CHECK(h.setupBytes() == 5 * 512);
    CHECK(h.relocatable);
    CHECK(h.kernelAlignment == 0x200000);
    CHECK(h.prefAddress == 0x1000000);
    CHECK(h.initSize == 0x400000);
    CHECK(h.cmdlineSize == 0x7ff);
    CHECK(h.initrdAddrMax == 0x7fffffff);
    CHECK(h.has64BitEntry());
    CHECK(h.headerEnd == 0x268);
    CHECK(loader.protectedModeKernel().size() == 0x1000);

    FakeKernel zeroSects;
    zeroSects.setupSects = 0;  // 0 means 4
    CHECK(LinuxLoader("old", zeroSects.build()).header().setupBytes() == 5 * 512);
}

TEST_CASE("linux: boot_params, command line and initrd are laid out as boot.rst asks", "[boot][linux]") {
    TestMemory m(64 * kMiB);
    const auto image = FakeKernel{}.build();
    const LinuxLoader loader("bzImage", image);
    const auto initrd = initrdBytes(300000);
    const std::string cmdline = "console=ttyS0 root=/dev/ram0";
    const LinuxBoot boot = loader.load(m.map, m.e820(), cmdline, initrd);

    // The kernel at pref_address, byte for byte.
    CHECK(boot.loadAddress == 0x1000000);
    CHECK(std::equal(image.begin() + 5 * 512, image.end(), m.host.data() + 0x1000000));

    const uint64_t bp = linux_layout::kBootParams;
    CHECK(boot.bootParams == bp);
    // The setup header, copied up to its end (0x202 + the jump byte), then the loader's fields.
    CHECK(m.u32(bp + 0x202) == 0x53726448);
    CHECK(m.u16(bp + 0x206) == 0x020f);
    CHECK(m.u32(bp + 0x264) == 0x12345678);
    CHECK(m.u32(bp + 0x270) == 0);
    CHECK(m.u8(bp + 0x210) == 0xff);                                       // type_of_loader
    CHECK(m.u8(bp + 0x211) == (lb::loadflag::kLoadedHigh | lb::loadflag::kCanUseHeap));
    CHECK(m.u16(bp + 0x224) == 0xde00);                                    // heap_end_ptr
    CHECK(m.u16(bp + 0x1fa) == 0xffff);                                    // vid_mode "normal"
    CHECK(m.u32(bp + 0x214) == 0x1000000);                                 // code32_start
    CHECK(m.u32(bp + 0x228) == linux_layout::kCmdline);                    // cmd_line_ptr
    CHECK(m.u32(bp + 0xc8) == 0);                                          // ext_cmd_line_ptr
    CHECK(m.cstring(linux_layout::kCmdline) == cmdline);
    CHECK(m.u32(bp + 0x0) == 0);                                           // screen_info left zero

    // The initrd as high as RAM allows, page aligned, byte for byte.
    CHECK(boot.initrdAddress == ((64 * kMiB - initrd.size()) & ~0xfffull));
    CHECK(m.u32(bp + 0x218) == boot.initrdAddress);
    CHECK(m.u32(bp + 0x21c) == initrd.size());
    CHECK(m.u32(bp + 0xc0) == 0);
    CHECK(m.u32(bp + 0xc4) == 0);
    CHECK(std::equal(initrd.begin(), initrd.end(), m.host.data() + boot.initrdAddress));

    // The E820 table: count at 0x1E8, 20-byte entries at 0x2D0.
    const auto e820 = m.e820();
    REQUIRE(m.u8(bp + 0x1e8) == e820.size());
    for (size_t i = 0; i < e820.size(); ++i) {
        const uint64_t e = bp + 0x2d0 + 20 * i;
        CHECK(m.u64(e) == e820[i].base);
        CHECK(m.u64(e + 8) == e820[i].size);
        CHECK(m.u32(e + 16) == e820[i].type);
    }
    CHECK(m.u64(bp + 0x2d0 + 20 * e820.size()) == 0);
}

TEST_CASE("linux: initrd_addr_max caps the initrd", "[boot][linux]") {
    TestMemory m(64 * kMiB);
    FakeKernel k;
    k.initrdAddrMax = 0x27fffff;  // its last byte at or below 40 MiB - 1
    const auto image = k.build();
    const auto initrd = initrdBytes(8192);
    const LinuxBoot boot = LinuxLoader("bzImage", image).load(m.map, m.e820(), "", initrd);
    CHECK(boot.initrdAddress == 0x2800000 - 8192);
}

TEST_CASE("linux: the 64-bit entry state and its identity-mapped page tables", "[boot][linux]") {
    TestMemory m(64 * kMiB);
    const auto image = FakeKernel{}.build();
    const auto initrd = initrdBytes(4096);
    const LinuxBoot boot = LinuxLoader("bzImage", image).load(m.map, m.e820(), "quiet", initrd);
    const cpu::CpuState& s = boot.entry;
    REQUIRE(boot.longMode);
    CHECK(s.mode() == cpu::CpuMode::Long64);
    CHECK(s.rip == 0x1000000 + 0x200);
    CHECK(s.gpr[cpu::RSI] == linux_layout::kBootParams);
    CHECK((s.cr0 & (cpu::cr0::PE | cpu::cr0::PG)) == (cpu::cr0::PE | cpu::cr0::PG));
    CHECK(s.cr4 == cpu::cr4::PAE);
    CHECK(s.efer == (cpu::efer::LME | cpu::efer::LMA));
    CHECK(s.cr3 == linux_layout::kPageTables);
    CHECK(s.rflags() == 0x2);  // IF = 0
    CHECK(s.seg[cpu::CS].selector == 0x10);
    CHECK(s.seg[cpu::CS].longMode());
    CHECK_FALSE(s.seg[cpu::CS].defaultBig());
    CHECK(s.seg[cpu::CS].isCode());
    for (unsigned r : {cpu::DS, cpu::ES, cpu::SS}) {
        CHECK(s.seg[r].selector == 0x18);
        CHECK(s.seg[r].base == 0);
        CHECK(s.seg[r].limit == 0xffffffffu);
        CHECK(s.seg[r].attributes == 0xc093);
    }
    // The GDT in memory holds __BOOT_CS and __BOOT_DS as the caches have them.
    CHECK(s.gdtr.base == linux_layout::kGdt);
    CHECK(s.gdtr.limit == 31);
    CHECK(cpu::segmentFromDescriptor(0x10, m.u64(linux_layout::kGdt + 0x10)).attributes == s.seg[cpu::CS].attributes);
    CHECK(cpu::segmentFromDescriptor(0x18, m.u64(linux_layout::kGdt + 0x18)).attributes == s.seg[cpu::DS].attributes);

    // The walker in 4-level mode: kernel (all of init_size), boot_params, command line, initrd,
    // the GDT and the top of 4 GiB map 1:1 with 2 MiB pages; nothing above 4 GiB is mapped.
    mmu::PagingControls paging;
    paging.mode = mmu::PagingMode::Long4;
    paging.cr3 = s.cr3;
    const uint64_t addresses[] = {0x0,      linux_layout::kGdt, linux_layout::kBootParams, linux_layout::kCmdline,
                                  0x1000200, 0x1000000 + 0x400000 - 1, boot.initrdAddress,
                                  boot.initrdAddress + 4095, 0xfffffff0};
    for (uint64_t linear : addresses) {
        INFO("linear " << std::hex << linear);
        const mmu::WalkResult w = mmu::walk(m.map, paging, linear, {.write = true, .execute = true}, false);
        REQUIRE(w.ok);
        CHECK(w.physical == linear);
        CHECK(w.pageSize == 2 * kMiB);
        CHECK(w.writable);
        CHECK_FALSE(w.user);
        CHECK(w.stepCount == 3);
    }
    CHECK_FALSE(mmu::walk(m.map, paging, 4ull << 30, {}, false).ok);
}

TEST_CASE("linux: the 32-bit protocol for kernels without a 64-bit entry", "[boot][linux]") {
    TestMemory m(64 * kMiB);
    FakeKernel k;
    k.xloadflags = 0;
    const auto image = k.build();
    const LinuxBoot boot = LinuxLoader("bzImage32", image).load(m.map, m.e820(), "", {});
    const cpu::CpuState& s = boot.entry;
    CHECK_FALSE(boot.longMode);
    CHECK(s.mode() == cpu::CpuMode::Protected32);
    CHECK_FALSE(s.pagingEnabled());
    CHECK(s.efer == 0);
    CHECK(s.rip == boot.loadAddress);
    CHECK(s.gpr[cpu::RSI] == linux_layout::kBootParams);
    CHECK(s.gpr[cpu::RBX] == 0);
    CHECK(s.gpr[cpu::RBP] == 0);
    CHECK(s.gpr[cpu::RDI] == 0);
    CHECK(s.seg[cpu::CS].selector == 0x10);
    CHECK(s.seg[cpu::CS].attributes == 0xc09b);
    CHECK(s.seg[cpu::SS].selector == 0x18);
    CHECK(cpu::segmentFromDescriptor(0x10, m.u64(linux_layout::kGdt + 0x10)).attributes == 0xc09b);
    CHECK(m.u32(linux_layout::kBootParams + 0x218) == 0);  // no initrd
    CHECK(m.u8(linux_layout::kPageTables) == 0xcc);          // no page tables for the 32-bit entry

    // The 32-bit entry can also be chosen for a 64-bit kernel.
    TestMemory m2(64 * kMiB);
    const auto image64 = FakeKernel{}.build();
    const LinuxBoot b32 = LinuxLoader("bzImage", image64).load(m2.map, m2.e820(), "", {}, LinuxEntryMode::Bits32);
    CHECK(b32.entry.mode() == cpu::CpuMode::Protected32);
    CHECK(b32.entryPoint == 0x1000000);
}

TEST_CASE("linux: where the kernel goes when pref_address does not fit, or it is not relocatable", "[boot][linux]") {
    // 16 MiB of RAM: pref_address (16 MiB) is past the end, so the lowest 2 MiB-aligned place.
    TestMemory small(16 * kMiB);
    const auto image = FakeKernel{}.build();
    const LinuxBoot moved = LinuxLoader("bzImage", image).load(small.map, small.e820(), "", {});
    CHECK(moved.loadAddress == 2 * kMiB);
    CHECK(moved.entry.rip == 2 * kMiB + 0x200);

    FakeKernel fixed;
    fixed.relocatable = 0;
    TestMemory m(64 * kMiB);
    const auto fixedImage = fixed.build();
    const LinuxBoot b = LinuxLoader("fixed", fixedImage).load(m.map, m.e820(), "", initrdBytes(100));
    CHECK(b.loadAddress == kMiB);
    // The initrd stays clear of the range the kernel moves itself to.
    CHECK(b.initrdAddress >= 0x1000000 + 0x400000);
}

TEST_CASE("linux: images and requests that cannot be booted are refused with the reason", "[boot][linux]") {
    TestMemory m(64 * kMiB);
    const auto e820 = m.e820();
    auto loadError = [&](const FakeKernel& k, std::string cmdline = "", size_t initrd = 0,
                         LinuxEntryMode mode = LinuxEntryMode::Auto) {
        const auto image = k.build();
        const auto rd = initrdBytes(initrd);
        return describeThrow([&] { LinuxLoader("bz", image).load(m.map, e820, cmdline, rd, mode); });
    };
    FakeKernel k;
    k.bootFlag = 0x1234;
    CHECK_THAT(loadError(k), Catch::Contains("not a bzImage: boot_flag at offset 0x1fe is 0x1234"));
    k = {};
    k.magic = 0;
    CHECK_THAT(loadError(k), Catch::Contains("no \"HdrS\" at offset 0x202"));
    k = {};
    k.version = 0x0205;
    CHECK_THAT(loadError(k), Catch::Contains("boot protocol 2.05 is too old"));
    k = {};
    k.loadflags = 0;
    CHECK_THAT(loadError(k), Catch::Contains("a zImage"));
    k = {};
    k.kernelAlignment = 0x300000;
    CHECK_THAT(loadError(k), Catch::Contains("kernel_alignment 0x300000") && Catch::Contains("not a power of two"));
    k = {};
    k.initSize = 128 * kMiB;
    CHECK_THAT(loadError(k), Catch::Contains("the kernel does not fit in guest RAM: it needs 128.0 MiB"));
    k = {};
    CHECK_THAT(loadError(k, "", 70 * kMiB), Catch::Contains("the initrd (70.0 MiB) is too big"));
    k = {};
    k.cmdlineSize = 8;
    CHECK_THAT(loadError(k, "console=ttyS0"), Catch::Contains("command line is 13 bytes, longer than the kernel's "
                                                              "cmdline_size (8)"));
    CHECK_THAT(loadError(FakeKernel{}, std::string("a\0b", 3)), Catch::Contains("NUL"));
    k = {};
    k.xloadflags = 0;
    CHECK_THAT(loadError(k, "", 0, LinuxEntryMode::Bits64), Catch::Contains("has no XLF_KERNEL_64"));

    // Truncated files: no room for the header, the protected-mode kernel shorter than syssize.
    std::vector<uint8_t> tiny(0x100, 0);
    CHECK_THROWS_WITH(LinuxLoader("tiny", tiny), Catch::Contains("too short for a Linux setup header"));
    auto cut = FakeKernel{}.build();
    cut.resize(cut.size() - 64);
    CHECK_THROWS_WITH(LinuxLoader("cut", cut), Catch::Contains("truncated: syssize says"));
    cut.resize(5 * 512);
    CHECK_THROWS_WITH(LinuxLoader("cut", cut),
                      Catch::Contains("truncated: the protected-mode kernel starts at offset 0xa00"));

    // A refused load writes nothing.
    CHECK(m.u32(linux_layout::kBootParams) == 0xcccccccc);
}

TEST_CASE("linux: a real distribution kernel", "[boot][linux][real-kernel]") {
    const std::string path = findRealKernel();
    if (path.empty()) {
        WARN("skipped: no vmlinuz found (set HVLAB_TEST_BZIMAGE, or run scripts/kvm-in-qemu --prepare to cache a "
             "Debian kernel in ~/.cache/hvlab-kvm-in-qemu)");
        return;
    }
    INFO(path);
    const auto image = readBootFile(path, "kernel", 256 * kMiB);
    CHECK(detectKernelFormat(image) == KernelFormat::LinuxBzImage);
    const LinuxLoader loader(path, image);
    const lb::SetupHeader& h = loader.header();
    CHECK(h.version >= 0x020c);
    CHECK(h.setupSects > 4);
    CHECK(h.has64BitEntry());
    CHECK(h.relocatable);
    CHECK(h.kernelAlignment == 0x200000);
    CHECK(h.cmdlineSize >= 255);
    CHECK(h.initSize > loader.protectedModeKernel().size());

    TestMemory m(256 * kMiB);
    const auto initrd = initrdBytes(2 * kMiB);
    const LinuxBoot boot = loader.load(m.map, m.e820(), "console=ttyS0 earlyprintk=serial", initrd);
    CHECK(boot.longMode);
    CHECK(boot.loadAddress == h.prefAddress);
    CHECK(boot.entry.rip == h.prefAddress + 0x200);
    CHECK(std::equal(loader.protectedModeKernel().begin(), loader.protectedModeKernel().end(),
                     m.host.data() + boot.loadAddress));
    CHECK(boot.initrdAddress >= boot.loadAddress + h.initSize);
    CHECK(boot.initrdAddress + initrd.size() <= 256 * kMiB);
    CHECK(m.u16(linux_layout::kBootParams + 0x206) == h.version);
    CHECK(m.u8(linux_layout::kBootParams + 0x1e8) == 4);
}
