// Decimal arithmetic: DAA, DAS, AAA, AAS, AAM, AAD. Every input (AL, AF, CF, and AH for the
// instructions that carry into it) runs in the guest against a model of the SDM's operation,
// including the flags the SDM leaves undefined, which follow recorded Intel hardware results
// (some of those 80286 records are checked literally below). Also AAM 0 (#DE) and #UD in
// 64-bit mode.
#include <bit>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

constexpr uint64_t CF = rflag::CF, PF = rflag::PF, AF = rflag::AF, ZF = rflag::ZF, SF = rflag::SF, OF = rflag::OF;

uint64_t szp(uint8_t v) {
    return (v == 0 ? ZF : 0) | ((v & 0x80) ? SF : 0) | ((std::popcount(v) % 2 == 0) ? PF : 0);
}

struct Out {
    uint16_t ax;
    uint64_t flags;  // the six arithmetic flags
};

// DAA/DAS as the SDM's pseudo-code has them; OF (undefined) is the signed overflow of the
// whole adjustment seen as one addition/subtraction.
Out modelDaaDas(bool sub, uint16_t ax, uint64_t fin) {
    const uint8_t oldAl = ax & 0xff;
    const bool oldCf = fin & CF;
    uint8_t al = oldAl;
    bool cf = false, af = false;
    if ((oldAl & 0xf) > 9 || (fin & AF)) {
        const int t = sub ? al - 6 : al + 6;
        cf = oldCf || t < 0 || t > 0xff;
        al = static_cast<uint8_t>(t);
        af = true;
    }
    if (oldAl > 0x99 || oldCf) {
        al = static_cast<uint8_t>(sub ? al - 0x60 : al + 0x60);
        cf = true;
    }
    uint64_t f = szp(al) | (cf ? CF : 0) | (af ? AF : 0);
    const int sOld = static_cast<int8_t>(oldAl), sNew = static_cast<int8_t>(al);
    if (sub ? (sOld < 0 && sNew >= 0) : (sOld >= 0 && sNew < 0)) f |= OF;
    return {static_cast<uint16_t>((ax & 0xff00) | al), f};
}

// AAA/AAS: AX +/- 106h, AL &= 0Fh. SF/ZF/PF/OF (undefined) come from the byte AL +/- 6.
Out modelAaaAas(bool sub, uint16_t ax, uint64_t fin) {
    const uint8_t al = ax & 0xff;
    if ((al & 0xf) > 9 || (fin & AF)) {
        const uint16_t r = static_cast<uint16_t>(sub ? ax - 0x106 : ax + 0x106);
        const uint8_t t = static_cast<uint8_t>(sub ? al - 6 : al + 6);
        uint64_t f = szp(t) | CF | AF;
        if (sub ? ((al & 0x80) && !(t & 0x80)) : (!(al & 0x80) && (t & 0x80))) f |= OF;
        return {static_cast<uint16_t>(r & 0xff0f), f};
    }
    return {static_cast<uint16_t>(ax & 0xff0f), szp(al)};
}

Out modelAam(uint16_t ax, uint8_t base) {
    const uint8_t al = ax & 0xff;
    const uint8_t lo = al % base;
    return {static_cast<uint16_t>(((al / base) << 8) | lo), szp(lo)};
}

// AAD: AL = AL + AH * base, AH = 0; CF/AF from that byte addition, OF equal to CF.
Out modelAad(uint16_t ax, uint8_t base) {
    const unsigned al = ax & 0xff, prod = ((ax >> 8) * base) & 0xff;
    const unsigned sum = al + prod;
    const uint8_t r = static_cast<uint8_t>(sum);
    uint64_t f = szp(r);
    if (sum > 0xff) f |= CF | OF;
    if (((al & 0xf) + (prod & 0xf)) > 0xf) f |= AF;
    return {r, f};
}

// A guest loop over 4096 inputs: AL = i[7:0], AF = i[8], CF = i[9], i[10] presets OF SF ZF PF,
// i[11] picks AH = FF (else 12h). `insn` runs on each; AX and FLAGS go to DATA2 + 8 i.
std::string sweepProgram(const std::string& insn) {
    return fmt::format(R"(
        xor esi, esi
    .loop:
        mov eax, esi
        and eax, 0xff
        test esi, 0x800
        jz .ah12
        or eax, 0xff00
        jmp .flags
    .ah12:
        or eax, 0x1200
    .flags:
        mov edx, 2
        test esi, 0x100
        jz .noaf
        or edx, 0x10
    .noaf:
        test esi, 0x200
        jz .nocf
        or edx, 1
    .nocf:
        test esi, 0x400
        jz .nojunk
        or edx, 0x8c4
    .nojunk:
        push edx
        popfd
        {}
        pushfd
        pop edx
        mov [DATA2 + esi*8], eax
        mov [DATA2 + esi*8 + 4], edx
        inc esi
        cmp esi, 0x1000
        jb .loop
    )", insn);
}

uint64_t inputFlags(unsigned i) {
    return ((i & 0x100) ? AF : 0) | ((i & 0x200) ? CF : 0) | ((i & 0x400) ? (OF | SF | ZF | PF) : 0);
}

uint16_t inputAx(unsigned i) { return static_cast<uint16_t>((i & 0xff) | ((i & 0x800) ? 0xff00 : 0x1200)); }

}  // namespace

TEST_CASE("bcd: DAA, DAS, AAA, AAS over every AL, AF, CF and AH carry", "[bcd]") {
    struct Op {
        const char* insn;
        Out (*model)(bool, uint16_t, uint64_t);
        bool sub;
    };
    const Op ops[] = {{"daa", modelDaaDas, false}, {"das", modelDaaDas, true},
                      {"aaa", modelAaaAas, false}, {"aas", modelAaaAas, true}};
    std::vector<std::string> programs;
    for (const Op& op : ops) programs.push_back(sweepProgram(op.insn));
    preassemble(Mode::Protected, programs);
    for (size_t k = 0; k < std::size(ops); ++k) {
        const Op& op = ops[k];
        Machine m(Mode::Protected);
        m.run(programs[k]);
        unsigned bad = 0;
        for (unsigned i = 0; i < 0x1000; ++i) {
            const Out e = op.model(op.sub, inputAx(i), inputFlags(i));
            const uint64_t ax = m.read(Machine::kData2 + 8 * i, 2);
            const uint64_t flags = m.read(Machine::kData2 + 8 * i + 4, 4) & rflag::ARITH;
            if (ax == e.ax && flags == e.flags) continue;
            if (++bad > 8) continue;  // report the first few
            INFO(fmt::format("{} AX {:#06x} flags in {}: AX {:#06x} want {:#06x}", op.insn, inputAx(i),
                             flagNames(inputFlags(i)), ax, e.ax));
            CHECK(Flags{flags} == Flags{e.flags});
            CHECK(ax == e.ax);
        }
        INFO(op.insn);
        CHECK(bad == 0);
    }
}

TEST_CASE("bcd: AAM and AAD over AL and AH for several bases", "[bcd]") {
    const unsigned bases[] = {10, 16, 7, 1, 0xff, 0x80};
    std::vector<std::string> programs;
    for (unsigned b : bases) {
        // AX = i (AL = i[7:0], AH = i[11:8] * 11h), with the junk flags preset.
        const std::string body = R"(
            xor esi, esi
        .loop:
            mov eax, esi
            shr eax, 8
            imul eax, eax, 0x11
            shl eax, 8
            mov ebx, esi
            and ebx, 0xff
            or eax, ebx
            push dword 0x8d7
            popfd
            INSN
            pushfd
            pop edx
            mov [DATA2 + esi*8], eax
            mov [DATA2 + esi*8 + 4], edx
            inc esi
            cmp esi, 0x1000
            jb .loop
        )";
        for (const char* op : {"aam", "aad"}) {
            std::string p = body;
            p.replace(p.find("INSN"), 4, fmt::format("{} {}", op, b));
            programs.push_back(p);
        }
    }
    preassemble(Mode::Protected, programs);
    for (size_t k = 0; k < programs.size(); ++k) {
        const uint8_t base = static_cast<uint8_t>(bases[k / 2]);
        const bool aad = k & 1;
        Machine m(Mode::Protected);
        m.run(programs[k]);
        unsigned bad = 0;
        for (unsigned i = 0; i < 0x1000; ++i) {
            const uint16_t ax = static_cast<uint16_t>((i & 0xff) | (((i >> 8) * 0x11) << 8));
            const Out e = aad ? modelAad(ax, base) : modelAam(ax, base);
            const uint64_t got = m.read(Machine::kData2 + 8 * i, 4);
            const uint64_t flags = m.read(Machine::kData2 + 8 * i + 4, 4) & rflag::ARITH;
            if (got == e.ax && flags == e.flags) continue;
            if (++bad > 8) continue;
            INFO(fmt::format("{} {} AX {:#06x}: got {:#06x} want {:#06x}", aad ? "aad" : "aam", base, ax, got, e.ax));
            CHECK(Flags{flags} == Flags{e.flags});
            CHECK(got == e.ax);  // the upper half of EAX stays 0
        }
        INFO((aad ? "aad " : "aam ") << int(base));
        CHECK(bad == 0);
    }
}

TEST_CASE("bcd: recorded hardware results (80286 test data), in real mode", "[bcd]") {
    // {opcode, imm8, AX before, arithmetic flags before, AX after, flags after}: cases from the
    // 286 real-mode suite's 27/2F/37/3F/D4/D5 records, including the undefined flags.
    struct Case {
        const char* insn;
        uint16_t ax;
        uint16_t flags;
        uint16_t axAfter;
        uint16_t flagsAfter;
    };
    const Case cases[] = {
        {"daa", 0x2be1, 0x044, 0x2b41, 0x005}, {"daa", 0x111e, 0x095, 0x1184, 0x895},
        {"daa", 0x1de5, 0x085, 0x1d45, 0x001}, {"daa", 0x0000, 0x050, 0x0006, 0x014},
        {"daa", 0xf35b, 0x8d4, 0xf361, 0x010}, {"daa", 0x0425, 0x0d1, 0x048b, 0x895},
        {"das", 0xc730, 0x0c1, 0xc7d0, 0x081}, {"das", 0x51b8, 0x801, 0x5158, 0x801},
        {"das", 0xd6ea, 0x8c1, 0xd684, 0x095}, {"das", 0xffff, 0x001, 0xff99, 0x095},
        {"das", 0xab0b, 0x845, 0xaba5, 0x095}, {"das", 0x2c3b, 0x084, 0x2c35, 0x014},
        {"aaa", 0xffff, 0x8d1, 0x0105, 0x015}, {"aaa", 0x45c3, 0x884, 0x4503, 0x084},
        {"aaa", 0x5433, 0x0c1, 0x5403, 0x004}, {"aaa", 0x2a53, 0x845, 0x2a03, 0x004},
        {"aaa", 0x0000, 0x0c5, 0x0000, 0x044}, {"aaa", 0x51b8, 0x801, 0x5108, 0x084},
        {"aas", 0xfe53, 0x844, 0xfe03, 0x004}, {"aas", 0xbaea, 0x845, 0xb904, 0x095},
        {"aas", 0xb9b6, 0x055, 0xb800, 0x091}, {"aas", 0x542a, 0x0c4, 0x5304, 0x015},
        {"aas", 0x7173, 0x0c0, 0x7103, 0x000}, {"aas", 0xbdde, 0x010, 0xbc08, 0x095},
        {"aam 157", 0x0000, 0x850, 0x0000, 0x044}, {"aam 250", 0xfe0c, 0x884, 0x000c, 0x004},
        {"aam 210", 0xf1c7, 0x051, 0x00c7, 0x080}, {"aam 67", 0x688b, 0x015, 0x0205, 0x004},
        {"aam 240", 0xffff, 0x095, 0x010f, 0x004}, {"aam 12", 0x8605, 0x884, 0x0005, 0x004},
        {"aad 228", 0xeb45, 0x8c4, 0x0091, 0x090}, {"aad 160", 0x5353, 0x004, 0x0033, 0x805},
        {"aad 254", 0x8947, 0x801, 0x0035, 0x815}, {"aad 31", 0xff56, 0x801, 0x0037, 0x801},
        {"aad 91", 0x9d31, 0x040, 0x0000, 0x855}, {"aad 17", 0xddb9, 0x015, 0x0066, 0x815},
    };
    std::vector<std::string> snippets;
    for (const Case& c : cases)
        snippets.push_back(fmt::format("mov eax, {:#x}\n push word {:#x}\n popf\n {}", c.ax, c.flags | 2, c.insn));
    Machine m(Mode::Real);
    const auto r = m.snapshots(snippets);
    for (size_t k = 0; k < std::size(cases); ++k) {
        INFO(fmt::format("{} AX {:#06x} flags {}", cases[k].insn, cases[k].ax, flagNames(cases[k].flags)));
        CHECK((r[k].rax & 0xffff) == cases[k].axAfter);
        CHECK(r[k].arith() == Flags{cases[k].flagsAfter});
    }
}

TEST_CASE("bcd: AAM 0 is #DE; the BCD opcodes are #UD in 64-bit mode", "[bcd][exception]") {
    for (Mode mode : {Mode::Real, Mode::Protected}) {
        Machine m(mode);
        m.run("mov eax, 0x1234\n aam 0\n mov eax, 1");
        CHECK(m.lastVector() == kDE);
        CHECK((m.reg(RAX) & 0xffff) == 0x1234);
        // The faulting AAM (after a 6-byte MOV in 16-bit code, 5 bytes in 32-bit code).
        CHECK(m.stack(0, mode == Mode::Real ? 2 : 4) == Machine::kCode + (mode == Mode::Real ? 6 : 5));
    }
    // AAD 0 is fine: AL = AL, AH = 0.
    Machine z(Mode::Protected);
    z.run("mov eax, 0x1234\n aad 0");
    CHECK(z.reg(RAX) == 0x34);
    CHECK(z.lastVector() == -1);

    const std::vector<std::string> ops = {"db 0x27", "db 0x2f", "db 0x37", "db 0x3f", "db 0xd4, 10", "db 0xd5, 10"};
    preassemble(Mode::Long, ops);
    for (const std::string& op : ops) {
        INFO(op);
        Machine l(Mode::Long);
        l.run(op);
        CHECK(l.lastVector() == kUD);
        CHECK(l.stack(0, 8) == Machine::kCode);
    }
}

TEST_CASE("bcd: LOCK with a BCD instruction is #UD", "[bcd][lock]") {
    Machine m(Mode::Protected);
    m.run("mov eax, 0x19\n lock daa");
    CHECK(m.lastVector() == kUD);
    CHECK(m.reg(RAX) == 0x19);
}
