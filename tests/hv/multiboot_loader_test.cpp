// Multiboot v1 loader, the shared E820 map and the direct-boot front door. Kernels are built
// here byte by byte (ELF32 and a.out-kludge images), so every field the spec defines is checked
// against a known value; the multiboot-hello test kernel then boots end to end on the interpreter.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/entry_state.hpp"
#include "hv/boot/multiboot_loader.hpp"
#include "hv/firmware_image.hpp"
#include "hv/vm.hpp"
#include "mmu/physical_map.hpp"
#include "tests/hv/boot_test_memory.hpp"

using namespace hvlab;
using namespace hvlab::hv::boot;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// Guest RAM as the Vm lays it out, all of it filled with 0xCC.
struct TestMemory : hvlab::test::BootTestMemory {
    explicit TestMemory(uint64_t bytes) : BootTestMemory(bytes, bytes) {}
};

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    if (b.size() < at + 4) b.resize(at + 4);
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    if (b.size() < at + 2) b.resize(at + 2);
    b[at] = static_cast<uint8_t>(v);
    b[at + 1] = static_cast<uint8_t>(v >> 8);
}

// A multiboot header: magic, flags, checksum and, for the a.out kludge, the five address fields.
std::vector<uint8_t> multibootHeader(uint32_t flags, std::array<uint32_t, 5> aout = {}) {
    std::vector<uint8_t> h;
    put32(h, 0, multiboot::kHeaderMagic);
    put32(h, 4, flags);
    put32(h, 8, static_cast<uint32_t>(0u - multiboot::kHeaderMagic - flags));
    if (flags & multiboot::header_flag::kAoutKludge)
        for (size_t i = 0; i < aout.size(); ++i) put32(h, 12 + 4 * i, aout[i]);
    return h;
}

struct SegmentSpec {
    uint32_t paddr = 0, vaddr = 0;
    std::vector<uint8_t> bytes;
    uint32_t memorySize = 0;
};

// An ELF32 i386 executable: header, program headers, then each segment's bytes at 0x100-aligned offsets.
std::vector<uint8_t> elfImage(const std::vector<SegmentSpec>& segments, uint32_t entry, uint16_t machine = 3,
                              uint8_t elfClass = 1) {
    std::vector<uint8_t> f(52, 0);
    f[0] = 0x7f, f[1] = 'E', f[2] = 'L', f[3] = 'F', f[4] = elfClass, f[5] = 1, f[6] = 1;
    put16(f, 16, 2);  // ET_EXEC
    put16(f, 18, machine);
    put32(f, 20, 1);
    put32(f, 24, entry);
    put32(f, 28, 52);  // e_phoff
    put16(f, 40, 52);
    put16(f, 42, 32);
    put16(f, 44, static_cast<uint16_t>(segments.size()));
    size_t data = 0x100;
    for (size_t i = 0; i < segments.size(); ++i) {
        const size_t ph = 52 + 32 * i;
        const SegmentSpec& s = segments[i];
        put32(f, ph, 1);  // PT_LOAD
        put32(f, ph + 4, static_cast<uint32_t>(data));
        put32(f, ph + 8, s.vaddr);
        put32(f, ph + 12, s.paddr);
        put32(f, ph + 16, static_cast<uint32_t>(s.bytes.size()));
        put32(f, ph + 20, s.memorySize);
        put32(f, ph + 24, 7);
        put32(f, ph + 28, 0x1000);
        if (f.size() < data) f.resize(data);
        f.insert(f.begin() + static_cast<long>(data), s.bytes.begin(), s.bytes.end());
        f.resize(data + s.bytes.size());
        data = (data + s.bytes.size() + 0xff) & ~size_t{0xff};
    }
    return f;
}

std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
    std::vector<uint8_t> b(size);
    for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
    return b;
}

// Segment 0: the multiboot header then code, linked higher-half (vaddr 0xC0100000) but loaded
// at 1 MiB, with 0x1000 bytes of BSS; segment 1: data at 2 MiB.
std::vector<uint8_t> sampleElf(uint32_t flags = 0x3) {
    std::vector<uint8_t> text = multibootHeader(flags);
    const std::vector<uint8_t> code = pattern(0x40, 0x90);
    text.insert(text.end(), code.begin(), code.end());
    return elfImage({{0x100000, 0xc0100000, text, 0x2000}, {0x200000, 0xc0200000, pattern(0x300, 5), 0x300}},
                    0xc0100010);
}

std::string describeThrow(const std::function<void()>& f) {
    try {
        f();
    } catch (const BootImageError& e) {
        return e.what();
    }
    return "(no BootImageError)";
}

void checkFlatSegments(const cpu::CpuState& s, uint16_t code, uint16_t data) {
    CHECK(s.seg[cpu::CS].selector == code);
    CHECK(s.seg[cpu::CS].base == 0);
    CHECK(s.seg[cpu::CS].limit == 0xffffffffu);
    CHECK(s.seg[cpu::CS].isCode());
    CHECK(s.seg[cpu::CS].present());
    CHECK(s.seg[cpu::CS].dpl() == 0);
    for (unsigned r : {cpu::DS, cpu::ES, cpu::FS, cpu::GS, cpu::SS}) {
        INFO("segment " << cpu::segName(r));
        CHECK(s.seg[r].selector == data);
        CHECK(s.seg[r].base == 0);
        CHECK(s.seg[r].limit == 0xffffffffu);
        CHECK(s.seg[r].attributes == 0xc093);  // present, DPL 0, read/write accessed data, B=1, G=1
    }
}

// Every selector in use is backed by a GDT descriptor in guest memory that decodes to its cache.
void checkGdtMatchesCaches(const TestMemory& m, const cpu::CpuState& s) {
    for (unsigned r = 0; r < cpu::kSegCount; ++r) {
        const cpu::Segment& sg = s.seg[r];
        INFO("segment " << cpu::segName(r));
        REQUIRE(sg.selector + 7u <= s.gdtr.limit);
        const uint64_t descriptor = m.u64(s.gdtr.base + (sg.selector & ~7u));
        const cpu::Segment decoded = cpu::segmentFromDescriptor(sg.selector, descriptor);
        CHECK(decoded.base == sg.base);
        CHECK(decoded.limit == sg.limit);
        CHECK(decoded.attributes == sg.attributes);
    }
}

std::vector<MultibootModule> sampleModules() {
    return {{pattern(5000, 1), "/boot/initrd.img first arg"}, {pattern(10, 2), "second"}};
}

}  // namespace

TEST_CASE("the E820 map is the one a PC with that much RAM presents", "[boot][e820]") {
    const auto map = pcMemoryMap(32 * kMiB);
    REQUIRE(map.size() == 4);
    CHECK(map[0] == E820Entry{0, 0x9f000, e820_type::kUsable});
    CHECK(map[1] == E820Entry{0x9f000, 0x1000, e820_type::kReserved});
    CHECK(map[2] == E820Entry{0xf0000, 0x10000, e820_type::kReserved});
    CHECK(map[3] == E820Entry{kMiB, 31 * kMiB, e820_type::kUsable});

    // Above the 3 GiB PCI hole the rest of RAM moves above 4 GiB.
    const auto big = pcMemoryMap(4ull << 30);
    REQUIRE(big.size() == 5);
    CHECK(big[3] == E820Entry{kMiB, (3ull << 30) - kMiB, e820_type::kUsable});
    CHECK(big[4] == E820Entry{4ull << 30, 1ull << 30, e820_type::kUsable});

    CHECK(isUsable(map, 0x1000, 0x1000));
    CHECK_FALSE(isUsable(map, 0x9e000, 0x2000));  // runs into the EBDA
    CHECK_FALSE(isUsable(map, 0xa0000, 1));
    CHECK(isUsable(map, 32 * kMiB - 1, 1));
    CHECK_FALSE(isUsable(map, 32 * kMiB - 1, 2));
    CHECK_FALSE(isUsable(map, UINT64_MAX, 2));  // wraps
    CHECK(describe(map).find("[0x9f000, 0xa0000) reserved") != std::string::npos);
}

TEST_CASE("every usable E820 range is RAM in the VM's physical map", "[boot][e820]") {
    hv::VmConfig config;
    config.memoryBytes = 64 * kMiB;
    config.firmware = hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/firstboot.bin");
    hv::Vm vm(std::move(config));
    for (const E820Entry& e : pcMemoryMap(64 * kMiB)) {
        INFO(describe(std::vector<E820Entry>{e}));
        if (e.type == e820_type::kUsable) CHECK(vm.memory().hostPointer(e.base, e.size, true) != nullptr);
    }
}

TEST_CASE("multiboot: an ELF kernel is loaded with its info structure, memory map and modules", "[boot][multiboot]") {
    TestMemory m(32 * kMiB);
    const auto image = sampleElf();
    const MultibootLoader loader("kernel.elf", image);
    CHECK_FALSE(loader.usesAoutKludge());
    CHECK(loader.header().offset == 0x100);
    const auto modules = sampleModules();
    const MultibootBoot boot = loader.load(m.map, m.e820(), "kernel.elf console=com1", modules);

    // Segments at their physical addresses, BSS zeroed, nothing past it touched.
    CHECK(std::equal(image.begin() + 0x100, image.begin() + 0x100 + 0x4c, m.host.data() + 0x100000));
    for (uint64_t a = 0x10004c; a < 0x102000; ++a) REQUIRE(m.u8(a) == 0);
    CHECK(m.u8(0x102000) == 0xcc);
    CHECK(std::equal(image.begin() + 0x200, image.begin() + 0x500, m.host.data() + 0x200000));
    CHECK(boot.kernelStart == 0x100000);
    CHECK(boot.kernelEnd == 0x200300);
    CHECK(boot.entryPoint == 0x100010);  // e_entry 0xC0100010 through segment 0's vaddr -> paddr

    // The info structure: page aligned above the kernel.
    const uint32_t info = boot.infoAddress;
    CHECK(info == 0x201000);
    CHECK(m.u32(info) == (multiboot::info_flag::kMemory | multiboot::info_flag::kCmdline |
                          multiboot::info_flag::kModules | multiboot::info_flag::kMemoryMap |
                          multiboot::info_flag::kBootLoaderName));
    CHECK(m.u32(info + 4) == 636);             // mem_lower: 0 .. 0x9F000
    CHECK(m.u32(info + 8) == 31 * 1024);       // mem_upper: 1 MiB .. 32 MiB
    CHECK(m.cstring(m.u32(info + 16)) == "kernel.elf console=com1");
    CHECK(m.cstring(m.u32(info + 64)) == "hvlab");

    // The memory map, in multiboot's format: size (20, not counting itself), base, length, type.
    const auto e820 = m.e820();
    REQUIRE(m.u32(info + 44) == e820.size() * 24);
    const uint32_t mmap = m.u32(info + 48);
    for (size_t i = 0; i < e820.size(); ++i) {
        const uint64_t e = mmap + 24 * i;
        CHECK(m.u32(e) == 20);
        CHECK(m.u64(e + 4) == e820[i].base);
        CHECK(m.u64(e + 12) == e820[i].size);
        CHECK(m.u32(e + 20) == e820[i].type);
    }

    // Modules: page aligned above the info area, in order, mod_end exclusive, strings as given.
    REQUIRE(m.u32(info + 20) == 2);
    const uint32_t mods = m.u32(info + 24);
    REQUIRE(boot.modules.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        const uint32_t start = m.u32(mods + 16 * i), end = m.u32(mods + 16 * i + 4);
        INFO("module " << i);
        CHECK(start % 4096 == 0);
        CHECK(start > info);
        CHECK(end - start == modules[i].bytes.size());
        CHECK(std::equal(modules[i].bytes.begin(), modules[i].bytes.end(), m.host.data() + start));
        CHECK(m.cstring(m.u32(mods + 16 * i + 8)) == modules[i].string);
        CHECK(m.u32(mods + 16 * i + 12) == 0);
        CHECK(boot.modules[i].start == start);
        CHECK(boot.modules[i].end == end);
    }
    CHECK(m.u32(mods + 16) == ((m.u32(mods + 4) + 4095) & ~4095u));  // module 1 on the next page
}

TEST_CASE("multiboot: the entry state is the one section 3.2 prescribes", "[boot][multiboot]") {
    TestMemory m(32 * kMiB);
    const auto image = sampleElf();
    const MultibootBoot boot = MultibootLoader("kernel.elf", image).load(m.map, m.e820(), "", {});
    const cpu::CpuState& s = boot.entry;
    CHECK(s.gpr[cpu::RAX] == 0x2badb002);
    CHECK(s.gpr[cpu::RBX] == boot.infoAddress);
    CHECK(s.rip == 0x100010);
    CHECK(s.mode() == cpu::CpuMode::Protected32);
    CHECK(s.protectedMode());
    CHECK_FALSE(s.pagingEnabled());
    CHECK_FALSE(s.longModeActive());
    CHECK((s.rflags() & (cpu::rflag::IF | cpu::rflag::VM)) == 0);
    CHECK(s.rflags() == 0x2);
    checkFlatSegments(s, multiboot::kCodeSelector, multiboot::kDataSelector);
    CHECK(s.seg[cpu::CS].attributes == 0xc09b);  // execute/read accessed code, D=1, G=1
    checkGdtMatchesCaches(m, s);
    // The GDT lives in the info area the kernel must keep until it has read the info.
    CHECK(s.gdtr.base > boot.infoAddress);
    CHECK(s.gdtr.base < boot.infoAddress + 4096);
}

TEST_CASE("multiboot: an a.out-kludge image is loaded from the header's address fields", "[boot][multiboot]") {
    // File: 0x10 bytes of code, the header at 0x10, more code; loaded at 0x180000, BSS up to 0x182ff0.
    std::vector<uint8_t> image = pattern(0x10, 0x40);
    const uint32_t flags = 0x10003;
    const uint32_t load = 0x180000, loadEnd = load + 0x200, bssEnd = load + 0x2ff0, entry = load + 0x80;
    const auto header = multibootHeader(flags, {load + 0x10, load, loadEnd, bssEnd, entry});
    image.insert(image.end(), header.begin(), header.end());
    const auto tail = pattern(0x200 - image.size() + 0x40, 0x33);  // 0x40 bytes past load_end are not loaded
    image.insert(image.end(), tail.begin(), tail.end());

    TestMemory m(32 * kMiB);
    const MultibootLoader loader("kernel.aout", image);
    REQUIRE(loader.usesAoutKludge());
    CHECK(loader.header().aout->headerAddr == load + 0x10);
    const MultibootBoot boot = loader.load(m.map, m.e820(), "aout", {});
    CHECK(std::equal(image.begin(), image.begin() + 0x200, m.host.data() + load));
    for (uint64_t a = loadEnd; a < bssEnd; ++a) REQUIRE(m.u8(a) == 0);
    CHECK(m.u8(bssEnd) == 0xcc);
    CHECK(boot.entry.rip == entry);
    CHECK(boot.kernelEnd == bssEnd);
    CHECK(boot.infoAddress == load + 0x3000);  // the next page
    CHECK(m.cstring(m.u32(boot.infoAddress + 16)) == "aout");

    // load_end_addr 0: load to the end of the file; bss_end_addr 0: no BSS.
    std::vector<uint8_t> whole = image;
    put32(whole, 0x10 + 20, 0);
    put32(whole, 0x10 + 24, 0);
    TestMemory m2(32 * kMiB);
    const MultibootBoot b2 = MultibootLoader("whole.aout", whole).load(m2.map, m2.e820(), "", {});
    CHECK(b2.kernelEnd == load + whole.size());
    CHECK(std::equal(whole.begin(), whole.end(), m2.host.data() + load));
}

TEST_CASE("multiboot: a kernel asking for a video mode boots without video information", "[boot][multiboot]") {
    TestMemory m(32 * kMiB);
    const auto image = sampleElf(0x7);
    const MultibootBoot boot = MultibootLoader("video.elf", image).load(m.map, m.e820(), "", {});
    CHECK((m.u32(boot.infoAddress) & (multiboot::info_flag::kVbe | multiboot::info_flag::kFramebuffer)) == 0);
}

TEST_CASE("multiboot: images that cannot be booted are refused with the reason", "[boot][multiboot]") {
    TestMemory m(32 * kMiB);
    const auto e820 = m.e820();
    auto loadError = [&](const std::vector<uint8_t>& image, std::vector<MultibootModule> mods = {}) {
        return describeThrow([&] { MultibootLoader("k", image).load(m.map, e820, "", mods); });
    };

    CHECK_THAT(loadError(pattern(9000, 0)), Catch::Contains("no magic 0x1badb002") && Catch::Contains("8192"));
    // A header past the first 8 KiB does not count.
    std::vector<uint8_t> late(8192, 0);
    const auto header = multibootHeader(0x3);
    late.insert(late.end(), header.begin(), header.end());
    CHECK_THAT(loadError(late), Catch::Contains("no magic"));

    auto badSum = sampleElf();
    badSum[0x108] ^= 1;
    CHECK_THAT(loadError(badSum), Catch::Contains("bad multiboot header checksum at offset 0x100"));

    CHECK_THAT(loadError(sampleElf(0x3 | 0x8)),
               Catch::Contains("requires features hvlab does not provide") && Catch::Contains("bits 0x8"));
    CHECK_NOTHROW(MultibootLoader("k", sampleElf(0x3 | 0x20000)));  // optional bits 17-31 are ignored

    // Without bit 16 the file must be ELF, i386, 32-bit, an executable.
    std::vector<uint8_t> flat(64, 0x90);
    const auto h3 = multibootHeader(0x3);
    std::copy(h3.begin(), h3.end(), flat.begin() + 8);
    CHECK_THAT(loadError(flat), Catch::Contains("must be an ELF file"));
    auto elf64 = sampleElf();
    elf64[4] = 2;
    CHECK_THAT(loadError(elf64), Catch::Contains("64-bit ELF"));
    auto amd64 = sampleElf();
    put16(amd64, 18, 62);
    CHECK_THAT(loadError(amd64), Catch::Contains("e_machine is 62") && Catch::Contains("not EM_386"));
    auto dyn = sampleElf();
    put16(dyn, 16, 3);
    CHECK_THAT(loadError(dyn), Catch::Contains("not ET_EXEC"));

    // Truncated: the ELF header, the program headers, a segment's bytes.
    std::vector<uint8_t> stub(32, 0);
    stub[0] = 0x7f, stub[1] = 'E', stub[2] = 'L', stub[3] = 'F', stub[4] = 1, stub[5] = 1;
    std::copy(h3.begin(), h3.end(), stub.begin() + 20);
    CHECK_THAT(loadError(stub), Catch::Contains("truncated: the ELF32 file header"));
    auto shortSegment = sampleElf();
    shortSegment.resize(0x400);
    CHECK_THAT(loadError(shortSegment), Catch::Contains("truncated: the contents of ELF segment 1"));

    // Placement: outside RAM, in the VGA hole, overlapping, no room for the info area or a module.
    std::vector<uint8_t> text = multibootHeader(0x3);
    text.resize(0x40, 0x90);
    CHECK_THAT(loadError(elfImage({{0xa0000, 0xa0000, text, 0x40}}, 0xa0010)),
               Catch::Contains("ELF segment 0 [0xa0000, 0xa0040) is outside usable guest RAM"));
    CHECK_THAT(loadError(elfImage({{0x3000000, 0x3000000, text, 0x40}}, 0x3000010)),
               Catch::Contains("outside usable guest RAM"));
    CHECK_THAT(loadError(elfImage({{0x100000, 0x100000, text, 0x2000}, {0x101000, 0x101000, text, 0x40}}, 0x100010)),
               Catch::Contains("ELF segment 1 [0x101000, 0x101040) overlaps the ELF segment 0 [0x100000, 0x102000)"));
    CHECK_THAT(loadError(elfImage({{0x100000, 0x100000, text, 32 * kMiB - 0x100000}}, 0x100010)),
               Catch::Contains("no room for the multiboot info area"));
    CHECK_THAT(loadError(sampleElf(), {{std::vector<uint8_t>(40 * kMiB), "huge"}}),
               Catch::Contains("module 0 ('huge', 41943040 bytes) does not fit"));
    CHECK_THAT(loadError(elfImage({{0x100000, 0x100000, text, 0x40}}, 0x500000)),
               Catch::Contains("entry point 0x500000 lies in no loadable segment"));

    // a.out kludge fields that contradict each other or the file.
    auto aout = [&](std::array<uint32_t, 5> f) {
        std::vector<uint8_t> img = multibootHeader(0x10003, f);
        img.resize(0x100, 0x90);
        return loadError(img);
    };
    // Fields: header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
    CHECK_THAT(aout({0x100000, 0x100010, 0, 0, 0x100010}), Catch::Contains("header_addr 0x100000 is below load_addr"));
    CHECK_THAT(aout({0x100010, 0x100000, 0, 0, 0x100010}), Catch::Contains("bytes before the header"));
    CHECK_THAT(aout({0x100000, 0x100000, 0x100200, 0, 0x100010}),
               Catch::Contains("truncated: multiboot load_end_addr"));
    CHECK_THAT(aout({0x100000, 0x100000, 0x100100, 0x1000f0, 0x100010}),
               Catch::Contains("bss_end_addr 0x1000f0 is below"));
    CHECK_THAT(aout({0x100000, 0x100000, 0, 0, 0x200000}), Catch::Contains("entry_addr 0x200000 lies outside"));
    CHECK_THAT(aout({0xa0000, 0xa0000, 0, 0, 0xa0010}),
               Catch::Contains("a.out kernel image [0xa0000, 0xa0100) is outside"));
}

TEST_CASE("multiboot: a refused image leaves guest memory untouched", "[boot][multiboot]") {
    TestMemory m(32 * kMiB);
    std::vector<uint8_t> text = multibootHeader(0x3);
    text.resize(0x40, 0x90);
    // Segment 0 fits; segment 1 lies in the VGA hole.
    const auto image = elfImage({{0x100000, 0x100000, text, 0x40}, {0xa0000, 0xa0000, text, 0x40}}, 0x100010);
    CHECK_THROWS_AS(MultibootLoader("k", image).load(m.map, m.e820(), "", {}), BootImageError);
    CHECK(m.u32(0x100000) == 0xcccccccc);
}

TEST_CASE("direct boot: kernel formats, files and module lists", "[boot][direct]") {
    CHECK(detectKernelFormat(sampleElf()) == KernelFormat::Multiboot);
    CHECK(detectKernelFormat(pattern(4096, 0)) == KernelFormat::Unknown);
    CHECK_THROWS_WITH(readBootFile("/nonexistent/kernel", "kernel", 1 << 20),
                      Catch::Contains("cannot open the kernel '/nonexistent/kernel'"));
    CHECK_THROWS_WITH(readBootFile("/", "kernel", 1 << 20), Catch::Contains("is a directory"));

    const auto dir = std::filesystem::temp_directory_path();
    const std::string a = (dir / "hvlab-boot-test-a.bin").string(), b = (dir / "hvlab-boot-test-b,c.bin").string();
    std::ofstream(a, std::ios::binary) << "AAAA";
    std::ofstream(b, std::ios::binary) << "BB";
    const std::string bEscaped = (dir / "hvlab-boot-test-b,,c.bin").string();
    const auto modules = readMultibootModules(a + " x y," + bEscaped, 1 << 20);
    REQUIRE(modules.size() == 2);
    CHECK(modules[0].string == a + " x y");
    CHECK(modules[0].bytes.size() == 4);
    CHECK(modules[1].string == b);
    CHECK(modules[1].bytes.size() == 2);
    CHECK_THROWS_WITH(readMultibootModules(a + ",", 1 << 20), Catch::Contains("an empty module"));
    CHECK_THROWS_WITH(readBootFile(a, "initrd", 2), Catch::Contains("is 4 bytes, more than the 2"));

    TestMemory m(32 * kMiB);
    CHECK_THROWS_WITH(loadDirectBoot({a, "", ""}, m.map, 32 * kMiB), Catch::Contains("not a kernel hvlab can boot"));
    std::filesystem::remove(a);
    std::filesystem::remove(b);
}

namespace {

// Boots a built test kernel on the interpreter through loadDirectBoot, as `hvlab run --kernel` would.
void bootTestKernel(const std::string& file, const std::string& append, const std::string& initrd,
                    const std::vector<std::string>& expectedLines) {
    const std::string path = std::string(HVLAB_FIRMWARE_DIR) + "/" + file;
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path << " is not built (firmware/tests/multiboot is not part of this build)");
        return;
    }
    std::string serial;
    hv::VmConfig config;
    config.memoryBytes = 32 * kMiB;
    config.firmware = hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/firstboot.bin");
    config.serialOut = [&](uint8_t c) { serial += static_cast<char>(c); };
    hv::Vm vm(std::move(config));
    const DirectBootResult boot = loadDirectBoot({path, initrd, append}, vm.memory(), 32 * kMiB);
    CHECK(boot.format == KernelFormat::Multiboot);
    vm.state() = boot.entry;
    vm.engine().loadState(boot.entry);
    const hv::RunOutcome outcome = vm.run();
    INFO(serial);
    CHECK(outcome.kind == hv::StopKind::DebugExit);
    CHECK(outcome.exitStatus == 0x21);  // 0x10 * 2 + 1: pass
    for (const std::string& line : expectedLines) CHECK(serial.find(line + "\r\n") != std::string::npos);
}

}  // namespace

TEST_CASE("multiboot-hello boots on the interpreter (ELF)", "[boot][multiboot][guest]") {
    const auto module = (std::filesystem::temp_directory_path() / "hvlab-multiboot-module.txt").string();
    std::ofstream(module, std::ios::binary) << "0123456789";
    const std::string path = std::string(HVLAB_FIRMWARE_DIR) + "/multiboot-hello.elf";
    bootTestKernel("multiboot-hello.elf", "x y", module + " first arg," + module,
                   {"multiboot: hello from " + path + " x y", "multiboot: loader hvlab",
                    "multiboot: mem_lower 636 KiB, mem_upper 31744 KiB", "multiboot: 4 mmap entries",
                    "multiboot: 2 modules", "multiboot: module 0: " + module + " first arg (10 bytes)",
                    "multiboot: module 1: " + module + " (10 bytes)", "multiboot: pass"});
    std::filesystem::remove(module);
}

TEST_CASE("multiboot-hello boots on the interpreter (a.out kludge)", "[boot][multiboot][guest]") {
    const std::string path = std::string(HVLAB_FIRMWARE_DIR) + "/multiboot-hello-aout.bin";
    bootTestKernel("multiboot-hello-aout.bin", "", "",
                   {"multiboot: hello from " + path, "multiboot: 0 modules", "multiboot: pass"});
}

TEST_CASE("direct boot after the BIOS POST: the kernel is entered when INT 19h starts",
          "[boot][multiboot][guest]") {
    const std::string path = std::string(HVLAB_FIRMWARE_DIR) + "/multiboot-hello.elf";
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path << " is not built");
        return;
    }
    std::string serial;
    hv::VmConfig config;
    config.memoryBytes = 32 * kMiB;
    config.firmware = hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/bios.bin");
    config.serialOut = [&](uint8_t c) { serial += static_cast<char>(c); };
    config.directBoot = DirectBootRequest{path, "", "after-post"};
    config.directBootAfterPost = true;
    hv::Vm vm(std::move(config));
    CHECK(vm.directBootSummary().find("multiboot ELF kernel") != std::string::npos);
    const hv::RunOutcome outcome = vm.run();
    INFO(serial);
    CHECK(outcome.kind == hv::StopKind::DebugExit);
    CHECK(outcome.exitStatus == 0x21);
    // The BIOS ran first (its banner and memory map), then the kernel with its command line.
    const size_t banner = serial.find("hvlab BIOS");
    const size_t kernel = serial.find("multiboot: hello from " + path + " after-post");
    REQUIRE(banner != std::string::npos);
    REQUIRE(kernel != std::string::npos);
    CHECK(banner < kernel);
    CHECK(serial.find("Booting from disk") == std::string::npos);  // INT 19h never looked for a disk
}
