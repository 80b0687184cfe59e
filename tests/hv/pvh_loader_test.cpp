// The PVH loader: ELF kernels (32- and 64-bit) with Xen's PHYS32_ENTRY note are built here byte by
// byte, loaded, and every field of the hvm_start_info, its memory map and module list checked
// against the known layout; bad images are refused with a BootImageError before memory changes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cpu/hypercall_abi.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/boot/entry_state.hpp"
#include "hv/boot/pvh_loader.hpp"
#include "hv/vm.hpp"
#include "tests/hv/boot_test_memory.hpp"

using namespace hvlab;
using namespace hvlab::hv::boot;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

struct TestMemory : hvlab::test::BootTestMemory {
    explicit TestMemory(uint64_t bytes) : BootTestMemory(bytes, bytes) {}
};

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, unsigned size) {
    if (b.size() < at + size) b.resize(at + size);
    for (unsigned i = 0; i < size; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Segment {
    uint64_t paddr = 0;
    std::vector<uint8_t> bytes;
    uint64_t memorySize = 0;
};

struct Note {
    std::string name;
    uint32_t type = 0;
    std::vector<uint8_t> desc;
};

// An x86 ELF executable of either class: file header, program headers (the PT_LOADs, then one
// PT_NOTE holding `notes`), then the segment bytes and the notes at 0x100-aligned offsets.
std::vector<uint8_t> elfImage(bool is64, const std::vector<Segment>& segments, const std::vector<Note>& notes,
                              uint64_t entry = 0x100000) {
    const size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32;
    const size_t phnum = segments.size() + (notes.empty() ? 0 : 1);
    std::vector<uint8_t> f(eh, 0);
    f[0] = 0x7f, f[1] = 'E', f[2] = 'L', f[3] = 'F', f[4] = is64 ? 2 : 1, f[5] = 1, f[6] = 1;
    put(f, 16, 2, 2);              // ET_EXEC
    put(f, 18, is64 ? 62 : 3, 2);  // EM_X86_64 / EM_386
    put(f, 20, 1, 4);
    put(f, 24, entry, is64 ? 8 : 4);
    put(f, is64 ? 32 : 28, eh, is64 ? 8 : 4);  // e_phoff
    put(f, is64 ? 52 : 40, eh, 2);
    put(f, is64 ? 54 : 42, ph, 2);
    put(f, is64 ? 56 : 44, phnum, 2);
    size_t data = 0x200;
    const auto phdr = [&](size_t i, uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz, uint64_t memsz) {
        const size_t at = eh + ph * i;
        put(f, at, type, 4);
        if (is64) {
            put(f, at + 8, offset, 8), put(f, at + 16, paddr, 8), put(f, at + 24, paddr, 8);
            put(f, at + 32, filesz, 8), put(f, at + 40, memsz, 8), put(f, at + 48, 4, 8);
        } else {
            put(f, at + 4, offset, 4), put(f, at + 8, paddr, 4), put(f, at + 12, paddr, 4);
            put(f, at + 16, filesz, 4), put(f, at + 20, memsz, 4), put(f, at + 28, 4, 4);
        }
    };
    for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        phdr(i, 1, data, s.paddr, s.bytes.size(), s.memorySize ? s.memorySize : s.bytes.size());
        f.resize(data);
        f.insert(f.end(), s.bytes.begin(), s.bytes.end());
        data = (f.size() + 0xff) & ~size_t{0xff};
    }
    if (!notes.empty()) {
        std::vector<uint8_t> n;
        for (const Note& note : notes) {
            const size_t at = n.size();
            put(n, at, note.name.size() + 1, 4);
            put(n, at + 4, note.desc.size(), 4);
            put(n, at + 8, note.type, 4);
            n.insert(n.end(), note.name.begin(), note.name.end());
            n.push_back(0);
            n.resize((n.size() + 3) & ~size_t{3});
            n.insert(n.end(), note.desc.begin(), note.desc.end());
            n.resize((n.size() + 3) & ~size_t{3});
        }
        phdr(segments.size(), 4, data, 0, n.size(), 0);
        f.resize(data);
        f.insert(f.end(), n.begin(), n.end());
    }
    return f;
}

Note pvhNote(uint32_t entry) {
    Note n{"Xen", cpu::hypercall::pvh::kXenElfNotePhys32Entry, {}};
    for (int i = 0; i < 4; ++i) n.desc.push_back(static_cast<uint8_t>(entry >> (8 * i)));
    return n;
}

std::vector<uint8_t> code(size_t size) {
    std::vector<uint8_t> c(size);
    for (size_t i = 0; i < size; ++i) c[i] = static_cast<uint8_t>(i * 7 + 1);
    return c;
}

// A kernel with text at 1 MiB (0x300 bytes, 0x2000 with BSS), a 32-bit entry at 1 MiB + 0x10.
std::vector<uint8_t> sampleKernel(bool is64) {
    return elfImage(is64, {{0x100000, code(0x300), 0x2000}}, {Note{"GNU", 3, {1, 2, 3, 4}}, pvhNote(0x100010)},
                    0xffffffff80100000ull & (is64 ? ~0ull : 0xffffffffull));
}

}  // namespace

TEST_CASE("PVH: an ELF64 kernel is loaded with hvm_start_info v1", "[boot][pvh]") {
    TestMemory m(32 * kMiB);
    const auto image = sampleKernel(true);
    REQUIRE(hasPvhEntryNote(image));
    CHECK(detectKernelFormat(image) == KernelFormat::Pvh);
    const PvhLoader loader("k64", image);
    CHECK(loader.entryPoint() == 0x100010);
    CHECK(loader.elf().is64);

    std::vector<MultibootModule> modules{{{'a', 'b', 'c'}, "initrd.img"}, {std::vector<uint8_t>(5000, 7), "second x"}};
    const PvhBoot boot = loader.load(m.map, m.e820(), "console=hvc0 quiet", modules);

    // The kernel at its physical address, BSS zeroed.
    const auto text = code(0x300);
    for (size_t i = 0; i < text.size(); ++i) REQUIRE(m.u8(0x100000 + i) == text[i]);
    CHECK(m.u64(0x100300) == 0);
    CHECK(m.u8(0x101fff) == 0);
    CHECK(boot.kernelStart == 0x100000);
    CHECK(boot.kernelEnd == 0x102000);

    // The start-info area: the top of conventional memory below the EBDA.
    const uint64_t si = boot.startInfo;
    CHECK(si % 4096 == 0);
    CHECK(boot.startInfoAreaEnd == 0x9f000);
    CHECK(m.u32(si) == cpu::hypercall::pvh::kStartMagic);
    CHECK(m.u32(si + 4) == 1);
    CHECK(m.u32(si + 8) == 0);
    CHECK(m.u32(si + 12) == 2);
    CHECK(m.u64(si + 32) == 0);  // no RSDP
    CHECK(m.cstring(m.u64(si + 24)) == "console=hvc0 quiet");

    // The memory map is the VM's E820, in Xen's types.
    const auto e820 = m.e820();
    REQUIRE(m.u32(si + 48) == e820.size());
    const uint64_t mm = m.u64(si + 40);
    for (size_t i = 0; i < e820.size(); ++i) {
        CHECK(m.u64(mm + 24 * i) == e820[i].base);
        CHECK(m.u64(mm + 24 * i + 8) == e820[i].size);
        CHECK(m.u32(mm + 24 * i + 16) == (e820[i].type == e820_type::kUsable ? 1u : 2u));
    }

    // Modules: page aligned above the kernel, with their command lines.
    const uint64_t ml = m.u64(si + 16);
    REQUIRE(boot.modules.size() == 2);
    CHECK(m.u64(ml) == boot.modules[0].start);
    CHECK(boot.modules[0].start == 0x102000);  // the first page after the kernel's BSS
    CHECK(boot.modules[0].start % 4096 == 0);
    CHECK(m.u64(ml + 8) == 3);
    CHECK(m.cstring(m.u64(ml + 16)) == "initrd.img");
    CHECK(m.u8(boot.modules[0].start) == 'a');
    CHECK(m.u64(ml + 32) == boot.modules[1].start);
    CHECK(boot.modules[1].start > boot.modules[0].start);
    CHECK(m.u64(ml + 40) == 5000);
    CHECK(m.cstring(m.u64(ml + 48)) == "second x");
    CHECK(m.u8(boot.modules[1].start + 4999) == 7);

    // Xen's PVH entry state: 32-bit flat protected mode, paging off, IF=0, EBX = start-info.
    const cpu::CpuState& s = boot.entry;
    CHECK(s.rip == 0x100010);
    CHECK(s.gpr[cpu::RBX] == si);
    CHECK((s.cr0 & cpu::cr0::PE) != 0);
    CHECK((s.cr0 & cpu::cr0::PG) == 0);
    CHECK((s.rflags() & cpu::rflag::IF) == 0);
    CHECK(s.efer == 0);
    CHECK(s.seg[cpu::CS].selector == pvh::kCodeSelector);
    CHECK(s.seg[cpu::CS].base == 0);
    CHECK(s.seg[cpu::CS].limit == 0xffffffff);
    CHECK(s.seg[cpu::DS].selector == pvh::kDataSelector);
    CHECK(s.seg[cpu::SS].selector == pvh::kDataSelector);
    CHECK(s.gdtr.base >= si);
    CHECK(s.gdtr.base < boot.startInfoAreaEnd);
    CHECK(m.u64(s.gdtr.base + 8) == descriptor::kCode32);
}

TEST_CASE("PVH: an ELF32 kernel, no modules, empty command line", "[boot][pvh]") {
    TestMemory m(16 * kMiB);
    const PvhLoader loader("k32", sampleKernel(false));
    CHECK_FALSE(loader.elf().is64);
    const PvhBoot boot = loader.load(m.map, m.e820(), "", {});
    CHECK(m.u32(boot.startInfo + 12) == 0);
    CHECK(m.u64(boot.startInfo + 16) == 0);
    CHECK(m.cstring(m.u64(boot.startInfo + 24)).empty());
    CHECK(boot.entry.rip == 0x100010);
}

TEST_CASE("PVH: bad images are refused with a clear message and memory untouched", "[boot][pvh]") {
    TestMemory m(16 * kMiB);
    // No note: not PVH (and the loader says why).
    const auto plain = elfImage(true, {{0x100000, code(0x100), 0}}, {Note{"GNU", 3, {1, 2, 3, 4}}});
    CHECK_FALSE(hasPvhEntryNote(plain));
    CHECK(detectKernelFormat(plain) == KernelFormat::Unknown);
    CHECK_THROWS_WITH(PvhLoader("plain", plain), Catch::Contains("no \"Xen\" note of type 18"));
    // A segment outside RAM (the VGA hole).
    const auto hole = elfImage(true, {{0x100000, code(0x100), 0}, {0xa0000, code(0x10), 0}}, {pvhNote(0x100000)});
    CHECK_THROWS_WITH(PvhLoader("hole", hole).load(m.map, m.e820(), "", {}),
                      Catch::Contains("ELF segment 1 [0xa0000, 0xa0010) is outside usable guest RAM"));
    CHECK(m.u8(0x100000) == 0xcc);
    // A segment past the end of RAM.
    const auto high = elfImage(false, {{0x100000, code(0x100), 0}, {15 * kMiB, code(0x10), 2 * kMiB}},
                               {pvhNote(0x100000)});
    CHECK_THROWS_AS(PvhLoader("high", high).load(m.map, m.e820(), "", {}), BootImageError);
    CHECK(m.u8(0x100000) == 0xcc);
    // Truncated: the segment's bytes lie past the end of the file.
    auto truncated = sampleKernel(true);
    truncated.resize(0x280);
    CHECK_THROWS_WITH(PvhLoader("cut", truncated), Catch::Contains("truncated"));
    // Truncated inside the header.
    auto header = sampleKernel(true);
    header.resize(40);
    CHECK_THROWS_WITH(PvhLoader("hdr", header), Catch::Contains("truncated"));
    // The entry point outside every segment; a note of the wrong size.
    CHECK_THROWS_WITH(PvhLoader("entry", elfImage(true, {{0x100000, code(0x100), 0}}, {pvhNote(0x200000)})),
                      Catch::Contains("lies in no loaded segment"));
    Note wrong = pvhNote(0x100000);
    wrong.desc.resize(2);
    CHECK_THROWS_WITH(PvhLoader("size", elfImage(true, {{0x100000, code(0x100), 0}}, {wrong})),
                      Catch::Contains("2 bytes of descriptor"));
    // A note that runs past its segment.
    auto overrun = sampleKernel(true);
    put(overrun, overrun.size() - 20 + 4, 0x1000, 4);  // the last note's n_descsz
    CHECK_THROWS_AS(PvhLoader("overrun", overrun), BootImageError);
}

TEST_CASE("PVH: the Vm boots without firmware or legacy devices", "[boot][pvh]") {
    // hlt with IF=0 at the entry: the VM stops cleanly, in 32-bit protected mode at the entry.
    const auto path = (std::filesystem::temp_directory_path() / "hvlab-pvh-test.elf").string();
    {
        const auto image = elfImage(true, {{0x100000, {0xf4}, 0}}, {pvhNote(0x100000)});
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(image.data()),
                                                    static_cast<std::streamsize>(image.size()));
    }
    hv::VmConfig config;
    config.memoryBytes = 16 * kMiB;
    config.directBoot = DirectBootRequest{path, "", "hello"};
    config.paravirt = cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock |
                      cpu::hypercall::kFeatureEvents;
    hv::Vm vm(std::move(config));
    CHECK(vm.directBootSummary().find("PVH ELF64 kernel") != std::string::npos);
    // No ROM anywhere, no PIC, PIT, RTC or VGA; PCI is set up (virtio would find its BARs).
    CHECK(vm.memory().find(0xfffffff0) == nullptr);
    CHECK_FALSE(vm.board().hasLegacyDevices());
    CHECK(vm.board().pit() == nullptr);
    CHECK(vm.board().vga() == nullptr);
    CHECK(vm.board().io().read(0x21, 1) == 0xff);  // the PIC's mask register: nobody answers
    CHECK(vm.board().io().read(0x71, 1) == 0xff);  // CMOS
    const hv::RunOutcome outcome = vm.run();
    CHECK(outcome.kind == hv::StopKind::Halted);
    CHECK(vm.state().gpr[cpu::RBX] < 0x9f000);
    std::filesystem::remove(path);
}
