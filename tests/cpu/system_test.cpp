// System instructions: IN/OUT and their exits, HLT, CLI/STI, CPUID, RDTSC/RDTSCP,
// RDMSR/WRMSR, MOV to/from CRn with their #GP checks, CLTS, LGDT/LIDT/SGDT/SIDT, SMSW/LMSW,
// INVLPG, SWAPGS, SLDT/STR/LLDT/LTR, INVD/WBINVD.
#include <cstring>
#include <string>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {

std::string chars(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Port I/O

TEST_CASE("system: OUT in every form reports port, size and value", "[system][io]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 0x12345678
        out 0x80, al            ; E6
        out 0x81, ax            ; 66 E7
        out 0x82, eax           ; E7
        mov dx, 0x3f8
        out dx, al              ; EE
        out dx, ax              ; 66 EF
        mov dx, 0xcf8
        out dx, eax             ; EF
    )");
    REQUIRE(m.ports.size() == 6);
    const struct {
        uint16_t port;
        uint8_t size;
        uint32_t value;
    } expected[] = {{0x80, 1, 0x78}, {0x81, 2, 0x5678}, {0x82, 4, 0x12345678},
                    {0x3f8, 1, 0x78}, {0x3f8, 2, 0x5678}, {0xcf8, 4, 0x12345678}};
    for (unsigned k = 0; k < 6; ++k) {
        INFO("access " << k);
        CHECK(m.ports[k].write);
        CHECK(m.ports[k].port == expected[k].port);
        CHECK(m.ports[k].size == expected[k].size);
        CHECK(m.ports[k].value == expected[k].value);
    }
}

TEST_CASE("system: IN in every form completes with the VMM's answer", "[system][io]") {
    Machine m(Mode::Long);
    m.inValue = 0x12345678;
    const auto r = m.snapshots({
        "mov rax, -1\n in al, 0x60",         // E4: only AL
        "mov rax, -1\n in ax, 0x61",         // 66 E5
        "mov rax, -1\n in eax, 0x62",        // E5: zero-extends RAX
        "mov rax, -1\n mov dx, 0x1f0\n in al, dx",   // EC
        "mov rax, -1\n in ax, dx",           // 66 ED
        "mov rax, -1\n in eax, dx",          // ED
    });
    CHECK(r[0].rax == 0xffffffffffffff78ull);
    CHECK(r[1].rax == 0xffffffffffff5678ull);
    CHECK(r[2].rax == 0x12345678ull);
    CHECK(r[3].rax == 0xffffffffffffff78ull);
    CHECK(r[4].rax == 0xffffffffffff5678ull);
    CHECK(r[5].rax == 0x12345678ull);
    REQUIRE(m.ports.size() == 6);
    const uint16_t ports[] = {0x60, 0x61, 0x62, 0x1f0, 0x1f0, 0x1f0};
    const uint8_t sizes[] = {1, 2, 4, 1, 2, 4};
    for (unsigned k = 0; k < 6; ++k) {
        CHECK_FALSE(m.ports[k].write);
        CHECK(m.ports[k].port == ports[k]);
        CHECK(m.ports[k].size == sizes[k]);
    }
}

TEST_CASE("system: the port exit itself, step by step", "[system][io]") {
    Machine m(Mode::Protected);
    m.loadAsm("mov eax, 0xaaaaaaaa\n in ax, 0x71\n mov ebx, eax\n out 0x70, al\n mov ecx, 1");
    // IN leaves before it completes: RIP stays on it until the VMM answers.
    VmExit e = m.cpu.run(100);
    REQUIRE(e.reason == ExitReason::PortIo);
    CHECK(e.rip == Machine::kCode + 5);
    CHECK(e.io.port == 0x71);
    CHECK(e.io.size == 2);
    CHECK_FALSE(e.io.write);
    CHECK(m.s.rip == Machine::kCode + 5);
    CHECK(m.reg(RAX) == 0xaaaaaaaa);
    // Without an answer the IN just exits again.
    e = m.cpu.run(100);
    REQUIRE(e.reason == ExitReason::PortIo);
    CHECK(e.rip == Machine::kCode + 5);
    // The answer completes it.
    e.io.value = 0xbeef;
    m.cpu.completeExit(e);
    e = m.cpu.run(100);
    REQUIRE(e.reason == ExitReason::PortIo);
    CHECK(m.reg(RBX) == 0xaaaabeef);
    // OUT leaves after it completed.
    CHECK(e.io.write);
    CHECK(e.io.port == 0x70);
    CHECK(e.io.value == 0xef);
    CHECK(e.rip == Machine::kCode + 10);
    CHECK(m.s.rip == Machine::kCode + 12);
    e = m.cpu.run(100);
    CHECK(e.reason == ExitReason::Hlt);
    CHECK(m.reg(RCX) == 1);
}

TEST_CASE("system: IN/OUT at CPL 3 need IOPL 3", "[system][io]") {
    Machine m(Mode::Protected);
    m.enterUser();
    m.run("mov dx, 0x80\n out dx, al");
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 4) == 0);
    CHECK(m.ports.empty());

    Machine ok(Mode::Long);
    ok.enterUser();
    ok.s.setRflags(rflag::IOPL | rflag::RESERVED1);
    ok.run("in al, 0x80\n out 0x80, al");
    CHECK(ok.ports.size() == 2);
    CHECK(ok.lastVector() == kGP);  // the final HLT
}

// ---------------------------------------------------------------------------------------------
// HLT, CLI/STI

TEST_CASE("system: HLT leaves with the RIP after it", "[system]") {
    Machine m(Mode::Protected);
    const VmExit e = m.runExit("nop\n nop");
    CHECK(e.reason == ExitReason::Hlt);
    CHECK(e.rip == Machine::kCode + 3);
    CHECK(m.s.rip == Machine::kCode + 3);
    CHECK(m.s.halted);

    Machine l(Mode::Long);
    l.enterUser();
    const VmExit u = l.runExit("nop");
    CHECK(u.reason == ExitReason::Hlt);
    CHECK(u.rip == Machine::handlerAddress(kGP) + 9);  // the #GP stub's HLT, not the user's
    CHECK(l.stack(1, 8) == Machine::kCode + 1);
}

TEST_CASE("system: CLI/STI and the STI interrupt shadow", "[system]") {
    Machine m(Mode::Protected);
    m.loadAsm("cli\n sti\n nop\n cli");
    m.cpu.run(1);
    CHECK_FALSE(m.s.flags.test(rflag::IF));
    m.cpu.run(1);
    CHECK(m.s.flags.test(rflag::IF));
    CHECK(m.s.interruptShadow);  // interrupts stay blocked for one more instruction
    m.cpu.run(1);
    CHECK_FALSE(m.s.interruptShadow);
    m.cpu.run(1);
    CHECK_FALSE(m.s.flags.test(rflag::IF));

    Machine r(Mode::Real);
    r.run("sti");
    CHECK(r.s.flags.test(rflag::IF));
}

// ---------------------------------------------------------------------------------------------
// CPUID, RDTSC

TEST_CASE("system: CPUID answers from the model", "[system][cpuid]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rbx, -1\n mov rcx, -1\n mov rdx, -1\n mov rax, 0\n cpuid",
        "mov eax, 1\n cpuid",
        "mov eax, 0x40000000\n cpuid",
        "mov eax, 0x80000000\n cpuid",
        "mov eax, 0x80000001\n cpuid",
        "mov eax, 0x80000008\n cpuid",
        "mov eax, 5\n cpuid",            // above the basic range: the highest basic leaf's data
        "mov eax, 0x80000002\n cpuid",
    });
    CHECK(r[0].rax == 1);
    CHECK(chars(static_cast<uint32_t>(r[0].rbx)) + chars(static_cast<uint32_t>(r[0].rdx)) +
              chars(static_cast<uint32_t>(r[0].rcx)) == "GenuineIntel");
    CHECK(r[0].rbx >> 32 == 0);  // 32-bit results zero-extend
    CHECK(r[1].rax == 0x6f1);
    CHECK((r[1].rcx & cpuid_bits::ECX_HYPERVISOR) != 0);
    CHECK(r[1].rdx == (cpuid_bits::EDX_PSE | cpuid_bits::EDX_TSC | cpuid_bits::EDX_MSR | cpuid_bits::EDX_PAE |
                       cpuid_bits::EDX_CX8 | cpuid_bits::EDX_APIC | cpuid_bits::EDX_SEP | cpuid_bits::EDX_PGE | cpuid_bits::EDX_CMOV));
    CHECK((r[1].rcx & cpuid_bits::ECX_CX16) != 0);
    CHECK((r[4].rdx & cpuid_bits::EXT_EDX_SYSCALL) != 0);
    CHECK((r[4].rcx & cpuid_bits::EXT_ECX_LAHF_LM) != 0);
    CHECK((r[4].rdx & cpuid_bits::EXT_EDX_RDTSCP) != 0);
    CHECK(r[2].rax == 0x40000001);
    CHECK(chars(static_cast<uint32_t>(r[2].rbx)) + chars(static_cast<uint32_t>(r[2].rcx)) +
              chars(static_cast<uint32_t>(r[2].rdx)) == "hvlabhvlabhv");
    CHECK(r[3].rax == 0x80000008);
    CHECK((r[4].rdx & cpuid_bits::EXT_EDX_LM) != 0);
    CHECK((r[4].rdx & cpuid_bits::EXT_EDX_NX) != 0);
    CHECK(r[5].rax == 0x3028);
    CHECK(r[6].rax == r[1].rax);
    CHECK(r[6].rdx == r[1].rdx);
    CHECK(chars(static_cast<uint32_t>(r[7].rax)) + chars(static_cast<uint32_t>(r[7].rbx)) +
              chars(static_cast<uint32_t>(r[7].rcx)) + chars(static_cast<uint32_t>(r[7].rdx)) == "hvlab virtual CP");

    // Each CPUID is recorded as an in-engine exit with the answer given.
    REQUIRE(m.inEngine.exits.size() == 8);
    const VmExit& e = m.inEngine.exits[2];
    CHECK(e.reason == ExitReason::Cpuid);
    CHECK(e.inEngine);
    CHECK(e.cpuid.leaf == 0x40000000);
    CHECK(e.cpuid.eax == 0x40000001);
    const CpuidResult q = m.model.query(0x40000000, 0);
    CHECK(e.cpuid.ebx == q.ebx);
}

TEST_CASE("system: RDTSC counts, WRMSR to the TSC sets it, CR4.TSD guards it", "[system]") {
    Machine m(Mode::Protected);
    m.run(R"(
        rdtsc
        mov esi, eax
        nop
        nop
        rdtsc
        mov edi, eax
        mov ecx, 0x10
        mov edx, 1
        mov eax, 0
        wrmsr
        rdtsc
    )");
    CHECK(m.reg(RDI) > m.reg(RSI));
    CHECK(m.reg(RDX) == 1);
    CHECK(m.reg(RAX) < 10);

    Machine u(Mode::Protected);
    u.s.cr4 = cr4::TSD;
    u.enterUser();
    u.run("rdtsc");
    CHECK(u.lastVector() == kGP);

    Machine k(Mode::Protected);
    k.s.cr4 = cr4::TSD;
    k.run("rdtsc");  // CPL 0 is still allowed
    CHECK(k.lastVector() == -1);
}

// ---------------------------------------------------------------------------------------------
// MSRs

TEST_CASE("system: RDMSR/WRMSR of EFER, STAR, LSTAR and friends", "[system][msr]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov ecx, 0xc0000080      ; EFER
        mov rdx, -1
        mov rax, -1
        rdmsr
        mov r8, rax
        mov r9, rdx
        mov ecx, 0xc0000081      ; STAR
        mov edx, 0x00230010
        mov eax, 0
        wrmsr
        mov ecx, 0xc0000082      ; LSTAR
        mov rdx, 0x12345678ffffffff   ; the upper half of RDX is ignored
        mov eax, 0x80001000
        wrmsr
        rdmsr
        mov r10, rax
        mov r11, rdx
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x800            ; NXE
        wrmsr
    )");
    CHECK(m.reg(R8) == (efer::LME | efer::LMA));
    CHECK(m.reg(R9) == 0);
    CHECK(m.s.msrs.star == 0x0023001000000000ull);
    CHECK(m.s.msrs.lstar == 0xffffffff80001000ull);
    CHECK(m.reg(R10) == 0x80001000ull);
    CHECK(m.reg(R11) == 0xffffffffull);
    CHECK(m.s.efer == (efer::LME | efer::LMA | efer::NXE));

    // In-engine exits record index and value.
    bool sawStar = false;
    for (const VmExit& e : m.inEngine.exits)
        if (e.reason == ExitReason::MsrWrite && e.msr.index == msr::STAR) sawStar = e.msr.value == m.s.msrs.star;
    CHECK(sawStar);
    CHECK(m.inEngine.exits.front().reason == ExitReason::MsrRead);
    CHECK(m.inEngine.exits.front().msr.value == (efer::LME | efer::LMA));
}

TEST_CASE("system: EFER.LME in protected mode and LMA only with paging", "[system][msr]") {
    Machine m(Mode::Protected);
    m.run("mov ecx, 0xc0000080\n rdmsr\n or eax, 0x100\n wrmsr\n rdmsr\n mov ebx, eax");
    CHECK(m.reg(RBX) == efer::LME);
    CHECK_FALSE(m.s.longModeActive());
}

TEST_CASE("system: MSR accesses that are #GP", "[system][msr]") {
    const char* cases[] = {
        "mov ecx, 0x12345\n rdmsr",                                             // no such MSR
        "mov ecx, 0x12345\n xor eax, eax\n xor edx, edx\n wrmsr",
        "mov ecx, 0xc0000082\n mov edx, 0x00008000\n mov eax, 0\n wrmsr",       // LSTAR not canonical
        "mov ecx, 0xc0000080\n rdmsr\n or eax, 2\n wrmsr",                      // EFER reserved bit
        "mov ecx, 0xc0000080\n rdmsr\n and eax, ~0x100\n wrmsr",                // LME change with paging on
        "mov ecx, 0xc0000100\n mov edx, 0x00800000\n mov eax, 0\n wrmsr",      // FS_BASE not canonical
    };
    preassemble(Mode::Long, {std::begin(cases), std::end(cases)});
    for (const char* c : cases) {
        INFO(c);
        Machine m(Mode::Long);
        m.run(c);
        CHECK(m.lastVector() == kGP);
        CHECK(m.stack(0, 8) == 0);
    }
    Machine u(Mode::Protected);
    u.enterUser();
    u.run("mov ecx, 0xc0000080\n rdmsr");
    CHECK(u.lastVector() == kGP);
    CHECK(u.stack(1, 4) == Machine::kCode + 5);  // the RDMSR, not the HLT
}

TEST_CASE("system: FS/GS base MSRs, SWAPGS and RDTSCP", "[system][msr]") {
    Machine m(Mode::Long);
    m.write(Machine::kData2 + 0x10, 8, 0x1111);
    m.write(Machine::kData2 + 0x1010, 8, 0x2222);
    m.run(R"(
        mov ecx, 0xc0000101      ; GS_BASE
        xor edx, edx
        mov eax, DATA2
        wrmsr
        mov ecx, 0xc0000102      ; KERNEL_GS_BASE
        mov eax, DATA2 + 0x1000
        wrmsr
        mov r8, [gs:0x10]
        swapgs
        mov r9, [gs:0x10]
        mov ecx, 0xc0000103      ; TSC_AUX
        mov eax, 7
        wrmsr
        rdtscp
        mov r10, rcx
    )");
    CHECK(m.reg(R8) == 0x1111);
    CHECK(m.reg(R9) == 0x2222);
    CHECK(m.s.seg[GS].base == Machine::kData2 + 0x1000);
    CHECK(m.s.msrs.kernelGsBase == Machine::kData2);
    CHECK(m.reg(R10) == 7);

    Machine p(Mode::Protected);
    p.run("db 0x0f, 0x01, 0xf8");  // SWAPGS outside 64-bit mode
    CHECK(p.lastVector() == kUD);
}

// ---------------------------------------------------------------------------------------------
// Control registers

TEST_CASE("system: MOV from/to CR0, CR2, CR3, CR4", "[system][cr]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, cr0
        mov ebx, cr4
        or ebx, 0x10             ; PSE
        mov cr4, ebx
        mov ecx, cr4
        mov edx, 0x12345000
        mov cr2, edx
        mov esi, cr2
        mov edx, 0x10000
        mov cr3, edx
        mov edi, cr3
    )");
    CHECK(m.reg(RAX) == (cr0::PE | cr0::ET));
    CHECK(m.reg(RCX) == cr4::PSE);
    CHECK(m.reg(RSI) == 0x12345000);
    CHECK(m.reg(RDI) == 0x10000);
    CHECK(m.s.cr3 == 0x10000);

    bool sawCr4Write = false;
    for (const VmExit& e : m.inEngine.exits)
        if (e.reason == ExitReason::CrAccess && e.cr.cr == 4 && e.cr.write) sawCr4Write = e.cr.value == cr4::PSE;
    CHECK(sawCr4Write);
}

TEST_CASE("system: a CR3 write switches address spaces", "[system][cr][paging]") {
    Machine m(Mode::ProtectedPaging);
    // A second page directory whose table maps linear 0x20000 to physical 0x21000.
    constexpr uint64_t kPd2 = 0x16000, kPt2 = 0x17000;
    m.write(kPd2, 4, kPt2 | 7);
    for (uint64_t k = 0; k < 1024; ++k) m.write(kPt2 + 4 * k, 4, (k << 12) | 7);
    m.write(kPt2 + 0x20 * 4, 4, 0x21000 | 7);
    m.write(0x20000, 4, 0x1111);
    m.write(0x21000, 4, 0x2222);
    m.run("mov eax, [0x20000]\n mov edx, 0x16000\n mov cr3, edx\n mov ebx, [0x20000]");
    CHECK(m.reg(RAX) == 0x1111);
    CHECK(m.reg(RBX) == 0x2222);
}

TEST_CASE("system: CR writes that are #GP or #UD", "[system][cr]") {
    struct Case {
        Mode mode;
        const char* code;
        int vector;
    };
    const Case cases[] = {
        {Mode::Real, "mov eax, 0x80000010\n mov cr0, eax", kGP},               // PG without PE
        {Mode::Protected, "mov eax, cr0\n or eax, 0x20000000\n mov cr0, eax", kGP},  // NW without CD
        {Mode::Protected, "mov eax, cr4\n or eax, 1 << 12\n mov cr4, eax", kGP},     // reserved (LA57)
        {Mode::Protected, "mov eax, cr4\n or eax, 1 << 11\n mov cr4, eax", kGP},     // UMIP: not supported
        {Mode::Protected, "mov eax, cr4\n or eax, 1 << 13\n mov cr4, eax", kGP},     // VMXE: not supported
        {Mode::Protected, "mov eax, cr4\n or eax, 1 << 9\n mov cr4, eax", kGP},      // OSFXSR: no FXSR advertised
        {Mode::Protected, "mov eax, cr4\n or eax, 1 << 3\n mov cr4, eax", kGP},      // DE: not advertised
        {Mode::Long, "mov rax, cr0\n mov rbx, 1\n shl rbx, 32\n or rax, rbx\n mov cr0, rax", kGP},  // bit 32
        {Mode::Long, "mov rax, cr4\n and eax, ~0x20\n mov cr4, rax", kGP},           // PAE off in long mode
        {Mode::Long, "mov rax, cr0\n and eax, 0x7fffffff\n mov cr0, rax", kGP},      // paging off in 64-bit code
        {Mode::Long, "mov rax, 1\n shl rax, 52\n or rax, 0x12000\n mov cr3, rax", kGP},  // CR3 reserved bits
        {Mode::Long, "mov rax, 16\n mov cr8, rax", kGP},                             // TPR is 4 bits
        {Mode::Protected, "db 0x0f, 0x20, 0xc8", kUD},                               // mov eax, cr1
        {Mode::Protected, "db 0x0f, 0x22, 0xe8", kUD},                               // mov cr5, eax
        {Mode::Protected, "db 0x0f, 0x22, 0xf8", kUD},                               // mov cr7, eax
    };
    preassembleCases(cases);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(c.mode);
        const uint64_t cr0Before = m.s.cr0, cr4Before = m.s.cr4;
        m.run(c.code);
        CHECK(m.lastVector() == c.vector);
        if (c.vector == kGP && c.mode != Mode::Real) CHECK(m.stack(0, c.mode == Mode::Long ? 8 : 4) == 0);
        if (c.vector == kGP) {
            CHECK(m.s.cr0 == cr0Before);
            CHECK(m.s.cr4 == cr4Before);
        }
    }
}

TEST_CASE("system: MOV CRn at CPL 3 is #GP", "[system][cr]") {
    const std::vector<std::string> codes = {"mov rax, cr0", "mov cr3, rax", "clts",          "lgdt [DATA]",
                                            "lidt [DATA]",  "wbinvd",       "invd",          "invlpg [DATA]",
                                            "mov cr8, rax", "lmsw ax",      "swapgs"};
    preassemble(Mode::Long, codes);
    for (const std::string& code : codes) {
        INFO(code);
        Machine m(Mode::Long);
        m.enterUser();
        m.run(code);
        CHECK(m.lastVector() == kGP);
        CHECK(m.stack(1, 8) == Machine::kCode);
    }
}

TEST_CASE("system: CR8 in 64-bit mode", "[system][cr]") {
    Machine m(Mode::Long);
    m.run("mov rax, 9\n mov cr8, rax\n mov rbx, cr8");
    CHECK(m.reg(RBX) == 9);
    CHECK(m.s.cr8 == 9);
}

TEST_CASE("system: CLTS, SMSW and LMSW", "[system][cr]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, cr0
        or eax, 8                ; TS
        mov cr0, eax
        clts
        mov ebx, cr0
        mov ecx, 0xffffffff
        smsw cx                  ; 16-bit register: the low word only
        smsw [DATA]
        mov ax, 0x0e             ; MP EM TS
        lmsw ax
        mov edx, cr0
        xor ax, ax
        lmsw ax                  ; cannot clear PE
        mov esi, cr0
    )");
    CHECK(m.reg(RBX) == (cr0::PE | cr0::ET));
    CHECK(m.reg(RCX) == 0xffff0011);
    CHECK(m.read(Machine::kData, 2) == 0x11);
    CHECK(m.reg(RDX) == (cr0::PE | cr0::MP | cr0::EM | cr0::TS | cr0::ET));
    CHECK(m.reg(RSI) == (cr0::PE | cr0::ET));

    Machine r(Mode::Real);
    r.run("mov ax, 1\n lmsw ax\n mov ebx, cr0");  // LMSW can set PE
    CHECK((r.reg(RBX) & cr0::PE) != 0);
    CHECK(r.s.mode() == CpuMode::Protected16);
}

// ---------------------------------------------------------------------------------------------
// Descriptor tables

TEST_CASE("system: LGDT/LIDT/SGDT/SIDT in real mode", "[system][tables]") {
    Machine m(Mode::Real);
    m.write(Machine::kData + 0x10, 2, 0x1234);
    m.write(Machine::kData + 0x12, 4, 0x87654321);
    m.run(R"(
        sgdt [DATA]
        sidt [DATA+8]
        lgdt [DATA+0x10]          ; 16-bit operand size: a 24-bit base
        o32 lidt [DATA+0x10]      ; 32-bit operand size: the full base
    )");
    CHECK(m.read(Machine::kData, 2) == Machine::kGdtLimit);
    CHECK(m.read(Machine::kData + 2, 4) == Machine::kGdt);
    CHECK(m.read(Machine::kData + 8, 2) == 0x3ff);
    CHECK(m.read(Machine::kData + 10, 4) == 0);
    CHECK(m.s.gdtr.limit == 0x1234);
    CHECK(m.s.gdtr.base == 0x654321);
    CHECK(m.s.idtr.limit == 0x1234);
    CHECK(m.s.idtr.base == 0x87654321);
}

TEST_CASE("system: LGDT/LIDT/SGDT/SIDT in protected and long mode", "[system][tables]") {
    Machine p(Mode::Protected);
    p.write(Machine::kData + 0x10, 2, 0x00ff);
    p.write(Machine::kData + 0x12, 4, 0x00400000);
    p.run("sidt [DATA]\n lidt [DATA+0x10]\n sidt [DATA+0x20]\n lidt [DATA]");
    CHECK(p.read(Machine::kData, 2) == 256 * 8 - 1);
    CHECK(p.read(Machine::kData + 2, 4) == Machine::kIdt);
    CHECK(p.read(Machine::kData + 0x20, 2) == 0x00ff);
    CHECK(p.read(Machine::kData + 0x22, 4) == 0x00400000);
    CHECK(p.s.idtr.base == Machine::kIdt);

    Machine l(Mode::Long);
    l.write(Machine::kData + 0x10, 2, 0x0fff);
    l.write(Machine::kData + 0x12, 8, 0xffff800000001000ull);
    l.run("sgdt [DATA]\n lgdt [DATA+0x10]\n sgdt [DATA+0x20]\n lgdt [DATA]");
    CHECK(l.read(Machine::kData, 2) == Machine::kGdtLimit);
    CHECK(l.read(Machine::kData + 2, 8) == Machine::kGdt);  // 8-byte base in 64-bit mode
    CHECK(l.read(Machine::kData + 0x20, 2) == 0x0fff);
    CHECK(l.read(Machine::kData + 0x22, 8) == 0xffff800000001000ull);
    CHECK(l.s.gdtr.base == Machine::kGdt);

    Machine u(Mode::Protected);
    u.enterUser();
    u.run("sgdt [DATA]\n mov eax, 1\n lgdt [DATA]");  // SGDT is not privileged, LGDT is
    CHECK(u.read(Machine::kData + 2, 4) == Machine::kGdt);
    CHECK(u.reg(RAX) == 1);
    CHECK(u.lastVector() == kGP);

    Machine r(Mode::Protected);
    r.run("db 0x0f, 0x01, 0xd0");  // group 7 /2 with a register operand
    CHECK(r.lastVector() == kUD);
}

TEST_CASE("system: SLDT, STR, LLDT and LTR", "[system][tables]") {
    Machine m(Mode::Protected);
    // GDT slot 0x50: an LDT at 0x5000 with one data segment (selector 0x0c) based at DATA2.
    m.write(Machine::kGdt + 0x50, 8, 0x0000820050000017ull);
    m.write(0x5008, 8, 0x0000930200000fffull);  // base 0x20000, limit 0xfff, data, present
    m.write(Machine::kData2 + 0x10, 4, 0xfeedface);
    m.run(R"(
        mov eax, 0xffffffff
        str ax
        mov ebx, 0xffffffff
        sldt ebx
        mov cx, 0x50
        lldt cx
        sldt [DATA]
        mov dx, 0x0c
        mov ds, dx
        mov esi, [0x10]
        mov dx, 0x10
        mov ds, dx
    )");
    CHECK(m.reg(RAX) == 0xffff0000 + Machine::kTssSel);
    CHECK(m.reg(RBX) == 0);
    CHECK(m.read(Machine::kData, 2) == 0x50);
    CHECK(m.s.ldtr.base == 0x5000);
    CHECK(m.s.ldtr.limit == 0x17);
    CHECK(m.reg(RSI) == 0xfeedface);

    Machine t(Mode::Protected);
    t.write(Machine::kGdt + 0x50, 8, 0x0000890040000067ull);  // an available 32-bit TSS at 0x4000
    t.run("mov ax, 0x50\n ltr ax\n xor eax, eax\n str ax");
    CHECK(t.reg(RAX) == 0x50);
    CHECK(t.s.tr.base == 0x4000);
    CHECK(t.s.tr.type() == 0xb);                                  // busy now
    CHECK(((t.read(Machine::kGdt + 0x50, 8) >> 40) & 0xf) == 0xb);  // and in the GDT too

    Machine bad(Mode::Protected);
    bad.run("xor eax, eax\n ltr ax");
    CHECK(bad.lastVector() == kGP);

    Machine notLdt(Mode::Protected);
    notLdt.run("mov ax, 0x10\n lldt ax");  // a data segment is not an LDT
    CHECK(notLdt.lastVector() == kGP);
    CHECK(notLdt.stack(0, 4) == 0x10);

    Machine real(Mode::Real);
    real.run("sldt ax");
    CHECK(real.lastVector() == kUD);
}

TEST_CASE("system: INVLPG drops a stale translation", "[system][paging]") {
    Machine m(Mode::ProtectedPaging);
    m.write(0x20000, 4, 0x1111);
    m.write(0x21000, 4, 0x2222);
    m.run(R"(
        mov eax, [0x20000]                    ; the translation is now cached
        mov dword [0x11000 + 0x20*4], 0x21007 ; remap linear 0x20000 to physical 0x21000
        invlpg [0x20000]
        mov ecx, [0x20000]
    )");
    CHECK(m.reg(RAX) == 0x1111);
    CHECK(m.reg(RCX) == 0x2222);
    bool sawInvlpg = false;
    for (const VmExit& e : m.inEngine.exits)
        if (e.reason == ExitReason::Invlpg) sawInvlpg = e.raw[0] == 0x20000;
    CHECK(sawInvlpg);
}

TEST_CASE("system: INVD and WBINVD are no-ops at CPL 0", "[system]") {
    Machine m(Mode::Protected);
    m.run("mov eax, 5\n invd\n wbinvd\n inc eax");
    CHECK(m.reg(RAX) == 6);
    CHECK(m.lastVector() == -1);
}

TEST_CASE("system: LFENCE, MFENCE and SFENCE retire as no-ops; the other 0F AE forms are #UD", "[system]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov eax, 1
        lfence
        mfence
        sfence
        mov ebx, 2
    )");
    CHECK(m.reg(RAX) == 1);
    CHECK(m.reg(RBX) == 2);
    Machine flush(Mode::Long);
    flush.run("clflush [DATA]");
    CHECK(flush.lastVector() == kUD);
    Machine fxsave(Mode::Protected);
    fxsave.run("fxsave [DATA]");
    CHECK(fxsave.lastVector() == kUD);
}
