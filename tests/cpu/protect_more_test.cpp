// Protection and segment instructions: LES/LDS/LSS/LFS/LGS, ARPL, LAR, LSL, VERR, VERW,
// MOV to/from DR0-DR7, INT1 and RDPMC.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

// A code/data/system descriptor: access byte (P DPL S type) and the G/D/L/AVL nibble.
constexpr uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
    return (limit & 0xffff) | (static_cast<uint64_t>(base & 0xffffff) << 16) | (static_cast<uint64_t>(access) << 40) |
           (static_cast<uint64_t>((limit >> 16) & 0xf) << 48) | (static_cast<uint64_t>(flags & 0xf) << 52) |
           (static_cast<uint64_t>(base >> 24) << 56);
}

// A 32-bit (or 16-bit, by type) gate descriptor.
constexpr uint64_t gate(uint16_t selector, uint32_t offset, uint8_t access, uint8_t params = 0) {
    return (offset & 0xffff) | (static_cast<uint64_t>(selector) << 16) | (static_cast<uint64_t>(params & 0x1f) << 32) |
           (static_cast<uint64_t>(access) << 40) | (static_cast<uint64_t>(offset >> 16) << 48);
}

// Extra GDT entries from 0x58 on, used by the LAR/LSL/VERR/VERW tests.
struct Extra {
    uint16_t selector;
    uint64_t value;
};
const Extra kExtra[] = {
    {0x58, descriptor(0x1000, 0xfff, 0xf3, 0x0)},      // data, DPL 3, byte-granular limit
    {0x60, descriptor(0, 0xfffff, 0x91, 0xc)},         // read-only data, DPL 0, 4 GiB
    {0x68, descriptor(0, 0xfffff, 0x99, 0xc)},         // execute-only code, DPL 0
    {0x70, descriptor(0, 0x12345, 0x9f, 0x4)},         // conforming readable code, DPL 0
    {0x78, descriptor(0x4000, 0x3f, 0x82, 0x0)},       // LDT
    {0x80, gate(0x08, 0x1234, 0xec)},                  // 32-bit call gate, DPL 3
    {0x88, gate(0x48, 0, 0x85)},                       // task gate, DPL 0
    {0x90, descriptor(0, 0xffff, 0x13, 0x0)},          // data, not present
    {0x98, gate(0x08, 0x1234, 0x8e)},                  // an interrupt gate (not for LAR/LSL)
    {0xa0, descriptor(0, 0xffff, 0x81, 0x0)},          // available 16-bit TSS
};

void addExtraDescriptors(Machine& m) {
    for (const Extra& e : kExtra) m.write(Machine::kGdt + e.selector, 8, e.value);
    m.s.gdtr.limit = 0xa7;
}

uint64_t larValue(uint64_t d) { return (d >> 32) & 0x00f0ff00; }

uint64_t lslValue(uint64_t d) {
    uint64_t limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
    return ((d >> 55) & 1) ? (limit << 12) | 0xfff : limit;
}

}  // namespace

TEST_CASE("protect: LDS/LES/LSS/LFS/LGS in real mode", "[protect][segment]") {
    Machine m(Mode::Real);
    m.run(R"(
        mov word [DATA], 0x1234
        mov word [DATA+2], 0x5678
        mov dword [DATA+4], 0x89abcdef
        mov word [DATA+8], 0x4321
        lds si, [DATA]
        les di, [cs:DATA]               ; CS is 0: the same table
        lfs eax, [cs:DATA+4]            ; m16:32 with an operand-size prefix
        lgs bx, [cs:DATA]
        lss sp, [cs:DATA]
    )");
    CHECK(m.lastVector() == -1);
    CHECK(m.s.seg[DS].selector == 0x5678);
    CHECK(m.s.seg[DS].base == 0x56780);
    CHECK((m.reg(RSI) & 0xffff) == 0x1234);
    CHECK(m.s.seg[ES].selector == 0x5678);
    CHECK((m.reg(RDI) & 0xffff) == 0x1234);
    CHECK(m.s.seg[FS].selector == 0x4321);
    CHECK(m.reg(RAX) == 0x89abcdef);
    CHECK(m.s.seg[GS].selector == 0x5678);
    CHECK(m.s.seg[SS].selector == 0x5678);
    CHECK((m.reg(RSP) & 0xffff) == 0x1234);
}

TEST_CASE("protect: far-pointer loads in protected and long mode, with faults", "[protect][segment]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov dword [DATA], 0x6000
        mov word [DATA+4], 0x10
        mov dword [DATA+8], 0x11223344
        mov word [DATA+12], 0x3b
        lss esp, [DATA]
        lgs ebx, [DATA+8]
    )");
    CHECK(m.reg(RSP) == 0x6000);
    CHECK(m.s.seg[SS].selector == 0x10);
    CHECK(m.s.seg[GS].selector == 0x3b);
    CHECK(m.reg(RBX) == 0x11223344);
    CHECK(m.lastVector() == -1);

    // m16:16 reads the selector at +2: here 0x1122, beyond the GDT limit: #GP(0x1120), and
    // the register is not written.
    Machine f(Mode::Protected);
    f.write(Machine::kData, 4, 0x11223344);
    f.run("mov ecx, 0x5555\n o16 lfs cx, [DATA]");
    CHECK(f.lastVector() == kGP);
    CHECK(f.stack(0, 4) == 0x1120);
    CHECK(f.stack(1, 4) == Machine::kCode + 5);
    CHECK(f.reg(RCX) == 0x5555);
    CHECK(f.s.seg[FS].selector == Machine::kData32);

    // A bad selector for SS faults and changes nothing: a code segment.
    Machine b(Mode::Protected);
    b.run("mov dword [DATA], 0x5000\n mov word [DATA+4], 0x08\n mov esp, 0x6000\n lss esp, [DATA]");
    CHECK(b.lastVector() == kGP);
    CHECK(b.stack(0, 4) == 0x08);
    CHECK(b.s.seg[SS].selector == 0x10);
    // Register operands are #UD.
    Machine u(Mode::Protected);
    u.run("db 0x0f, 0xb2, 0xc0");
    CHECK(u.lastVector() == kUD);

    // 64-bit: REX.W loads m16:64; LDS/LES do not exist.
    Machine l(Mode::Long);
    l.run(R"(
        mov rax, 0x0000000000006ff0
        mov [DATA], rax
        mov word [DATA+8], 0x10
        lss rsp, [DATA]
        mov dword [DATA+16], 0x12345678
        mov word [DATA+20], 0x3b
        lfs ebx, [DATA+16]
    )");
    CHECK(l.reg(RSP) == 0x6ff0);
    CHECK(l.s.seg[SS].selector == 0x10);
    CHECK(l.reg(RBX) == 0x12345678);
    CHECK(l.s.seg[FS].selector == 0x3b);
    Machine n(Mode::Long);
    n.run("db 0xc5, 0x00");
    CHECK(n.lastVector() == kUD);
}

TEST_CASE("protect: LSS does not block interrupts for an instruction, MOV SS does", "[protect][segment]") {
    Machine m(Mode::Protected);
    m.write(Machine::kData, 4, 0x6000);
    m.write(Machine::kData + 4, 2, 0x10);
    m.loadAsm("lss esp, [DATA]\n nop");
    m.cpu.run(1);
    CHECK(m.reg(RSP) == 0x6000);
    CHECK_FALSE(m.s.interruptShadow);
    Machine s(Mode::Protected);
    s.loadAsm("mov eax, 0x10\n mov ss, eax\n nop");
    s.cpu.run(2);
    CHECK(s.s.interruptShadow);
}

TEST_CASE("protect: ARPL", "[protect]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0xffff0010\n mov ebx, 3\n arpl ax, bx",      // raised: RPL 0 -> 3, ZF
        "mov eax, 0x13\n mov ebx, 1\n arpl ax, bx",            // already higher: unchanged, ZF = 0
        "mov eax, 0x12\n mov ebx, 2\n arpl ax, bx",            // equal: unchanged, ZF = 0
        "mov word [DATA], 0x0028\n mov ebx, 0x3b\n arpl [DATA], bx",
    });
    CHECK(r[0].rax == 0xffff0013);
    CHECK((r[0].rflags & rflag::ZF) != 0);
    CHECK(r[1].rax == 0x13);
    CHECK((r[1].rflags & rflag::ZF) == 0);
    CHECK(r[2].rax == 0x12);
    CHECK((r[2].rflags & rflag::ZF) == 0);
    CHECK((r[3].mem & 0xffff) == 0x2b);
    CHECK((r[3].rflags & rflag::ZF) != 0);

    Machine real(Mode::Real);
    real.run("arpl ax, bx");
    CHECK(real.lastVector() == kUD);
}

TEST_CASE("protect: LAR and LSL over descriptor types, at CPL 0", "[protect]") {
    struct Case {
        uint16_t selector;
        bool lar, lsl;
        uint64_t descriptor;
    };
    Machine probe(Mode::Protected);
    auto gdt = [&](uint16_t sel) { return probe.read(Machine::kGdt + (sel & ~7u), 8); };
    const Case cases[] = {
        {0x08, true, true, gdt(0x08)},    {0x10, true, true, gdt(0x10)},    {0x18, true, true, gdt(0x18)},
        {0x48, true, true, gdt(0x48)},    // available 32-bit TSS
        {0x5b, true, true, kExtra[0].value},  // RPL 3, DPL 3
        {0x60, true, true, kExtra[1].value},  {0x68, true, true, kExtra[2].value},
        {0x70, true, true, kExtra[3].value},  {0x78, true, true, kExtra[4].value},
        {0x80, true, false, kExtra[5].value},  // call gate: LAR only
        {0x88, true, false, kExtra[6].value},  // task gate: LAR only
        {0x90, true, true, kExtra[7].value},   // not present: still reported
        {0x98, false, false, 0},               // interrupt gate: neither
        {0xa0, true, true, kExtra[9].value},   // 16-bit TSS
        {0x13, false, false, 0},               // RPL 3 > DPL 0
        {0x00, false, false, 0},               // null
        {0x03, false, false, 0},               // null with RPL
        {0xa8, false, false, 0},               // beyond the GDT limit
        {0x0c, false, false, 0},               // the LDT, which is null
    };
    std::vector<std::string> snippets;
    for (const Case& c : cases)
        snippets.push_back(fmt::format("mov eax, 0x5a5a5a5a\n mov ebx, 0x5a5a5a5a\n mov ecx, {:#x}\n"
                                       " lar eax, ecx\n setz dl\n lsl ebx, ecx\n setz dh",
                                       c.selector));
    Machine m(Mode::Protected);
    addExtraDescriptors(m);
    const auto r = m.snapshots(snippets);
    for (size_t k = 0; k < std::size(cases); ++k) {
        const Case& c = cases[k];
        INFO(fmt::format("selector {:#x}", c.selector));
        CHECK(((r[k].rdx & 0xff) != 0) == c.lar);
        CHECK(((r[k].rdx & 0xff00) != 0) == c.lsl);
        CHECK(r[k].rax == (c.lar ? larValue(c.descriptor) : 0x5a5a5a5a));
        CHECK(r[k].rbx == (c.lsl ? lslValue(c.descriptor) : 0x5a5a5a5a));
    }

    // 16-bit operands: LAR keeps only bits 15:8, LSL the low 16 bits; a memory source.
    Machine w(Mode::Protected);
    addExtraDescriptors(w);
    w.run("mov eax, -1\n mov ebx, -1\n mov word [DATA], 0x70\n lar ax, [DATA]\n lsl bx, [DATA]");
    CHECK(w.reg(RAX) == 0xffff9f00);
    CHECK(w.reg(RBX) == 0xffff2345);
}

TEST_CASE("protect: LAR, LSL, VERR, VERW at CPL 3", "[protect]") {
    struct Case {
        uint16_t selector;
        bool lar, verr, verw;
    };
    const Case cases[] = {
        {0x10, false, false, false},  // DPL 0 data: invisible from ring 3
        {0x3b, true, true, true},     // user data
        {0x33, true, true, false},    // user code, readable
        {0x5b, true, true, true},
        {0x58, true, true, true},     // RPL 0 is fine: max(CPL, RPL) = 3
        {0x60, false, false, false},
        {0x70, true, true, false},    // conforming code: visible at any level, readable
        {0x68, false, false, false},
        {0x80, true, false, false},   // call gate DPL 3
        {0x88, false, false, false},  // task gate DPL 0
        {0x48, false, false, false},  // TSS DPL 0
    };
    std::vector<std::string> snippets;
    for (const Case& c : cases)
        snippets.push_back(fmt::format("mov ecx, {:#x}\n lar eax, ecx\n setz bl\n verr cx\n setz bh\n"
                                       " verw cx\n setz dl",
                                       c.selector));
    Machine m(Mode::Protected);
    addExtraDescriptors(m);
    m.enterUser();
    // snapshots() ends with HLT, which is #GP at CPL 3: the results are stored before that.
    const std::string program = Machine::snapshotProgram(32, snippets);
    m.run(program);
    for (size_t k = 0; k < std::size(cases); ++k) {
        const Case& c = cases[k];
        INFO(fmt::format("selector {:#x}", c.selector));
        const uint64_t slot = Machine::kSnapshots + k * 48;
        const uint64_t rbx = m.read(slot + 8, 8), rdx = m.read(slot + 24, 8);
        CHECK(((rbx & 0xff) != 0) == c.lar);
        CHECK(((rbx & 0xff00) != 0) == c.verr);
        CHECK(((rdx & 0xff) != 0) == c.verw);
    }
    CHECK(m.lastVector() == kGP);  // the final HLT, not anything before it
    CHECK(m.read(m.stack(1, 4), 1) == 0xf4);

    // VERR/VERW at CPL 0.
    Machine z(Mode::Protected);
    addExtraDescriptors(z);
    const auto q = z.snapshots({
        "mov ecx, 0x10\n verr cx\n setz bl\n verw cx\n setz bh",
        "mov ecx, 0x60\n verr cx\n setz bl\n verw cx\n setz bh",
        "mov ecx, 0x08\n verr cx\n setz bl\n verw cx\n setz bh",
        "mov ecx, 0x68\n verr cx\n setz bl\n verw cx\n setz bh",
        "mov ecx, 0x00\n verr cx\n setz bl\n verw cx\n setz bh",
        "mov word [DATA], 0x3b\n verw [DATA]\n setz bl\n verr word [DATA]\n setz bh",
    });
    CHECK((q[0].rbx & 0xffff) == 0x0101);
    CHECK((q[1].rbx & 0xffff) == 0x0001);
    CHECK((q[2].rbx & 0xffff) == 0x0001);
    CHECK((q[3].rbx & 0xffff) == 0x0000);
    CHECK((q[4].rbx & 0xffff) == 0x0000);
    CHECK((q[5].rbx & 0xffff) == 0x0101);

    // All four are #UD in real mode.
    for (const char* code : {"lar ax, bx", "lsl ax, bx", "verr ax", "verw ax"}) {
        Machine r(Mode::Real);
        r.run(code);
        CHECK(r.lastVector() == kUD);
    }
}

TEST_CASE("protect: LAR and LSL in IA-32e mode accept only 64-bit system types", "[protect]") {
    Machine m(Mode::Long);
    m.write(Machine::kGdt + 0x58, 8, gate(0x28, 0x1000, 0xe4));  // a 16-bit call gate: not in IA-32e mode
    m.write(Machine::kGdt + 0x60, 8, gate(0x28, 0x1000, 0xec));  // a 64-bit call gate, upper half 0
    m.write(Machine::kGdt + 0x68, 8, 0);
    m.write(Machine::kGdt + 0x70, 8, descriptor(0x3000, 0x67, 0x81, 0));  // 16-bit TSS: not in IA-32e mode
    m.write(Machine::kGdt + 0x78, 8, 0);
    m.write(Machine::kGdt + 0x80, 8, gate(0x28, 0x1000, 0xec));  // a 64-bit call gate whose upper half
    m.write(Machine::kGdt + 0x88, 8, 0x00000f0000000000ull);     // has a non-zero type field
    m.s.gdtr.limit = 0x8f;
    const auto r = m.snapshots({
        "mov ecx, 0x48\n mov rax, -1\n lar rax, rcx\n setz dl\n mov rbx, -1\n lsl rbx, rcx\n setz dh",
        "mov ecx, 0x58\n mov rax, -1\n lar rax, rcx\n setz dl",
        "mov ecx, 0x60\n mov rax, -1\n lar rax, rcx\n setz dl\n mov rbx, -1\n lsl rbx, rcx\n setz dh",
        "mov ecx, 0x70\n mov rax, -1\n lar rax, rcx\n setz dl",
        "mov ecx, 0x80\n mov rax, -1\n lar rax, rcx\n setz dl",
        "mov ecx, 0x28\n mov rax, -1\n lar eax, ecx\n setz dl",
    });
    CHECK((r[0].rdx & 0xffff) == 0x0101);
    CHECK(r[0].rax == 0x8900);  // zero-extended to 64 bits
    CHECK(r[0].rbx == 0x67);
    CHECK((r[1].rdx & 0xff) == 0);
    CHECK((r[2].rdx & 0xffff) == 0x0001);  // LAR yes, LSL no
    CHECK(r[2].rax == 0xec00);
    CHECK((r[3].rdx & 0xff) == 0);
    CHECK((r[4].rdx & 0xff) == 0);
    CHECK((r[5].rdx & 0xff) == 1);
    CHECK(r[5].rax == 0x00a09b00);
}

TEST_CASE("protect: MOV to and from debug registers", "[protect][debug]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0x12345678\n mov dr0, eax\n mov ebx, dr0",
        "mov eax, 0x9abc\n mov dr3, eax\n mov ebx, dr3",
        "xor eax, eax\n mov dr6, eax\n mov ebx, dr6",            // reserved bits read as 1
        "mov eax, -1\n mov dr6, eax\n mov ebx, dr6",
        "xor eax, eax\n mov dr7, eax\n mov ebx, dr7",
        "mov eax, -1\n mov dr7, eax\n mov ebx, dr7",
        "mov eax, 0x103\n mov dr7, eax\n db 0x0f, 0x21, 0xeb",  // mov ebx, dr5: DR7 while CR4.DE = 0
        "mov eax, 0x4003\n db 0x0f, 0x23, 0xe0\n mov ebx, dr6",  // mov dr4, eax: writes DR6
    });
    CHECK(r[0].rbx == 0x12345678);
    CHECK(r[1].rbx == 0x9abc);
    CHECK(r[2].rbx == 0xffff0ff0);
    CHECK(r[3].rbx == 0xffffefff);
    CHECK(r[4].rbx == 0x400);
    CHECK(r[5].rbx == 0xffff27ff);
    CHECK(r[6].rbx == 0x503);
    CHECK(r[7].rbx == 0xffff4ff3);
    CHECK(m.s.dr[0] == 0x12345678);

    // CR4.DE makes DR4/DR5 #UD. (The CPUID model does not advertise DE, so CR4.DE cannot be
    // set by the guest; the state is set directly to check the rule.)
    Machine de(Mode::Protected);
    de.s.cr4 |= cr4::DE;
    de.run("mov eax, dr6\n db 0x0f, 0x21, 0xe0");  // mov eax, dr4
    CHECK(de.lastVector() == kUD);
    CHECK(de.stack(0, 4) == Machine::kCode + 3);

    // CPL 3: #GP(0).
    Machine u(Mode::Protected);
    u.enterUser();
    u.run("mov eax, dr7");
    CHECK(u.lastVector() == kGP);
    CHECK(u.stack(0, 4) == 0);
    CHECK(u.stack(1, 4) == Machine::kCode);

    // Real mode: allowed.
    Machine real(Mode::Real);
    real.run("mov eax, 0x55\n mov dr1, eax\n mov ebx, dr1");
    CHECK(real.reg(RBX) == 0x55);
    CHECK(real.lastVector() == -1);

    // 64-bit: 64-bit values; DR6/DR7 bits 63:32 are reserved (#GP); DR8-15 do not exist (#UD).
    Machine l(Mode::Long);
    l.run("mov rax, 0x123456789abc\n mov dr2, rax\n mov rbx, dr2");
    CHECK(l.reg(RBX) == 0x123456789abcull);
    for (const char* code : {"mov rax, 1 << 32\n mov dr7, rax", "mov rax, 1 << 40\n mov dr6, rax"}) {
        Machine g(Mode::Long);
        g.run(code);
        CHECK(g.lastVector() == kGP);
        CHECK(g.s.dr[7] == 0);
    }
    Machine x(Mode::Long);
    x.run("db 0x44, 0x0f, 0x21, 0xc0");  // mov rax, dr8
    CHECK(x.lastVector() == kUD);
}

TEST_CASE("protect: INT1 is a #DB trap without the gate DPL check", "[protect][debug]") {
    Machine m(Mode::Protected);
    m.run("nop\n int1\n nop");
    CHECK(m.lastVector() == kDB);
    CHECK(m.stack(0, 4) == Machine::kCode + 2);  // a trap: the next instruction, no error code
    CHECK(m.stack(1, 4) == Machine::kCode32);

    Machine u(Mode::Protected);  // the gates are DPL 0: INT 1 would be #GP, INT1 is not
    u.enterUser();
    u.run("int1");
    CHECK(u.lastVector() == kDB);
    Machine v(Mode::Protected);
    v.enterUser();
    v.run("int 1");
    CHECK(v.lastVector() == kGP);

    Machine r(Mode::Real);
    r.run("int1");
    CHECK(r.lastVector() == kDB);
    Machine l(Mode::Long);
    l.enterUser();
    l.run("int1");
    CHECK(l.lastVector() == kDB);
    CHECK(l.stack(0, 8) == Machine::kCode + 1);
}

TEST_CASE("protect: RDPMC has no counters to read: #GP(0)", "[protect]") {
    Machine m(Mode::Protected);
    m.run("xor ecx, ecx\n rdpmc");
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 4) == 0);
    Machine u(Mode::Protected);
    u.enterUser();
    u.run("xor ecx, ecx\n rdpmc");
    CHECK(u.lastVector() == kGP);
}
