// Shifts and rotates (group 2: C0/C1/D0-D3, /0-/7) through the interpreter: counts 0, 1 and
// masked counts, rotation through carry, and the flags each defines.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {

uint64_t maskOf(unsigned size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }

struct ShiftExpected {
    uint64_t value;
    uint64_t flags;
    uint64_t defined;  // the arithmetic flags the SDM defines for this case
};

// The SDM pseudo-code of SAL/SHL/SHR/SAR and ROL/ROR/RCL/RCR, one bit at a time.
ShiftExpected shiftReference(const std::string& op, unsigned size, uint64_t a, unsigned count, uint64_t flagsIn) {
    const unsigned bits = size * 8;
    const uint64_t mask = maskOf(size);
    const unsigned c = count & (size == 8 ? 0x3f : 0x1f);
    if (c == 0) return {a, flagsIn, rflag::ARITH};  // nothing changes
    auto msb = [&](uint64_t v) { return ((v >> (bits - 1)) & 1) != 0; };
    uint64_t dest = a;
    bool cf = flagsIn & rflag::CF, of = false;
    bool rotate = true;
    if (op == "rol") {
        for (unsigned t = c % bits; t; --t) dest = ((dest << 1) | (msb(dest) ? 1 : 0)) & mask;
        cf = dest & 1;
        of = msb(dest) != cf;
    } else if (op == "ror") {
        for (unsigned t = c % bits; t; --t) dest = (dest >> 1) | ((dest & 1) << (bits - 1));
        cf = msb(dest);
        of = msb(dest) != (((dest >> (bits - 2)) & 1) != 0);
    } else if (op == "rcl") {
        for (unsigned t = size == 1 ? c % 9 : size == 2 ? c % 17 : c; t; --t) {
            const bool out = msb(dest);
            dest = ((dest << 1) | (cf ? 1 : 0)) & mask;
            cf = out;
        }
        of = msb(dest) != cf;
    } else if (op == "rcr") {
        of = msb(dest) != cf;
        for (unsigned t = size == 1 ? c % 9 : size == 2 ? c % 17 : c; t; --t) {
            const bool out = dest & 1;
            dest = (dest >> 1) | (static_cast<uint64_t>(cf) << (bits - 1));
            cf = out;
        }
    } else {
        rotate = false;
        for (unsigned t = c; t; --t) {
            if (op == "shl") {
                cf = msb(dest);
                dest = (dest << 1) & mask;
            } else if (op == "shr") {
                cf = dest & 1;
                dest >>= 1;
            } else {  // sar
                cf = dest & 1;
                dest = (dest >> 1) | (msb(dest) ? 1ull << (bits - 1) : 0);
            }
        }
        of = op == "shl" ? msb(dest) != cf : op == "shr" ? msb(a) : false;
    }
    uint64_t f = flagsIn & ~(rflag::CF | rflag::OF);
    if (cf) f |= rflag::CF;
    if (of) f |= rflag::OF;
    uint64_t defined = rflag::CF | (c == 1 ? rflag::OF : 0);
    if (rotate) {
        defined |= rflag::SF | rflag::ZF | rflag::PF | rflag::AF;  // untouched by rotates
    } else {
        f &= ~(rflag::SF | rflag::ZF | rflag::PF);
        if (dest == 0) f |= rflag::ZF;
        if (msb(dest)) f |= rflag::SF;
        if (__builtin_popcountll(dest & 0xff) % 2 == 0) f |= rflag::PF;
        defined |= rflag::SF | rflag::ZF | rflag::PF;  // AF is undefined
        if (op != "sar" && c >= bits) defined &= ~rflag::CF;  // SHL/SHR: CF undefined when count >= size
    }
    return {dest, f, defined};
}

const char* regA(unsigned size) { return size == 1 ? "al" : size == 2 ? "ax" : size == 4 ? "eax" : "rax"; }

struct ShiftSweep {
    struct Case {
        uint64_t a;
        unsigned count;
        uint64_t flagsIn;
    };
    std::string op;
    unsigned size;
    uint64_t fill;
    std::vector<Case> cases;
    std::vector<std::string> snippets;
};

// `op reg, count` in long mode for assorted values, counts and incoming flags; odd cases take
// the count from CL (D2/D3), even ones from an immediate (C0/C1, or D0/D1 for 1).
ShiftSweep planSweep(const std::string& op, unsigned size) {
    const unsigned counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};
    const uint64_t values[] = {0x8123456789abcdefull & maskOf(size), 0x5a5a5a5a5a5a5a5bull & maskOf(size)};
    ShiftSweep s{op, size, 0x1122334455667788ull & ~maskOf(size), {}, {}};
    for (unsigned count : counts)
        for (uint64_t a : values)
            for (uint64_t flagsIn : {rflag::PF | rflag::SF | rflag::AF | 0x2, rflag::CF | rflag::ZF | rflag::OF | 0x2}) {
                const bool viaCl = s.cases.size() & 1;
                s.cases.push_back({a, count, flagsIn});
                s.snippets.push_back(fmt::format("mov rax, {:#x}\nmov ecx, {}\npush {:#x}\npopfq\n{} {}, {}", s.fill | a,
                                                 viaCl ? count : 0xee00 | count, flagsIn, op, regA(size),
                                                 viaCl ? std::string("cl") : std::to_string(count)));
            }
    return s;
}

void runSweep(const ShiftSweep& s) {
    Machine m(Mode::Long);
    const auto out = m.snapshots(s.snippets);
    for (size_t k = 0; k < s.cases.size(); ++k) {
        const ShiftSweep::Case& c = s.cases[k];
        const ShiftExpected e = shiftReference(s.op, s.size, c.a, c.count, c.flagsIn);
        INFO(fmt::format("{} {}-bit {:#x} by {} ({}), flags in {}", s.op, s.size * 8, c.a, c.count,
                         (k & 1) ? "cl" : "imm", flagNames(c.flagsIn)));
        // A 32-bit destination is written back (zero-extended) even when the masked count is 0.
        const uint64_t expectRax = s.size == 4 ? e.value : (s.fill | e.value);
        CHECK(out[k].rax == expectRax);
        CHECK(Flags{out[k].rflags & e.defined} == Flags{e.flags & e.defined});
    }
}

}  // namespace

TEST_CASE("shifts: reference sweep of all seven operations, 8/16/32/64-bit", "[shift]") {
    std::vector<ShiftSweep> sweeps;
    for (const char* op : {"rol", "ror", "rcl", "rcr", "shl", "shr", "sar"})
        for (unsigned size : {1u, 2u, 4u, 8u}) sweeps.push_back(planSweep(op, size));
    std::vector<std::string> programs;
    for (const ShiftSweep& s : sweeps) programs.push_back(Machine::snapshotProgram(64, s.snippets));
    preassemble(Mode::Long, programs);
    for (const ShiftSweep& s : sweeps) runSweep(s);
}

TEST_CASE("shifts: hand-checked results and flags", "[shift]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "push 0\n popfd\n mov eax, 0x80000001\n shl eax, 1",  // 0  D1 /4
        "mov eax, 0x80000000\n shr eax, 1",                   // 1  D1 /5
        "mov eax, 0x80000000\n sar eax, 1",                   // 2  D1 /7
        "mov eax, 0x80000001\n sar eax, 31",                  // 3  C1 /7
        "push 0\n popfd\n mov eax, 0x81\n rol al, 1",         // 4  D0 /0
        "push 0\n popfd\n mov eax, 0x81\n ror al, 1",         // 5  D0 /1
        "push 0\n popfd\n stc\n mov eax, 0x80\n rcl al, 1",   // 6  D0 /2
        "push 0\n popfd\n stc\n mov eax, 0x01\n rcr al, 1",   // 7  D0 /3
        "clc\n mov eax, 0x5a\n rcl al, 9",                    // 8  count 9 mod 9 = 0 for bytes
        "stc\n mov eax, 0x1234\n rcl ax, 17",                 // 9  count 17 mod 17 = 0 for words
        "mov eax, 1\n shl eax, 33",                           // 10 count masked to 1
        "push 0x8d5\n popfd\n mov eax, 1\n shl eax, 32",      // 11 count masked to 0: nothing changes
        "push 0x8d5\n popfd\n mov ecx, 0x100\n mov eax, 7\n shl eax, cl",  // 12 CL = 0
        "mov dword [DATA], 0xab\n shr byte [DATA], 4",        // 13 C0 /5 on memory
        "mov dword [DATA], 0x1234\n rol word [DATA], 8",      // 14 66 C1 /0 on memory
        "clc\n mov dword [DATA], 3\n rcr dword [DATA], 1",    // 15 D1 /3 on memory
        "mov eax, 0x40000000\n db 0xd1, 0xf0",                // 16 D1 /6: SAL alias of SHL
        "mov eax, 0x12345678\n mov ecx, 4\n ror eax, cl",     // 17 D3 /1
        "mov eax, 0xf0\n mov ecx, 3\n sar al, cl",            // 18 D2 /7
        "mov eax, 0xffffffff\n shr eax, 31",                  // 19
    });
    // AF is undefined after shifts, and OF unless the count is 1: check only defined flags.
    auto count1 = [](const Snapshot& x) { return Flags{x.rflags & (rflag::ARITH & ~rflag::AF)}; };
    auto countN = [](const Snapshot& x) { return Flags{x.rflags & (rflag::CF | rflag::PF | rflag::ZF | rflag::SF)}; };
    CHECK(r[0].rax == 2);
    CHECK(count1(r[0]) == (CF | OF));
    CHECK(r[1].rax == 0x40000000);
    CHECK(count1(r[1]) == (PF | OF));
    CHECK(r[2].rax == 0xc0000000);
    CHECK(count1(r[2]) == (PF | SF));
    CHECK(r[3].rax == 0xffffffff);
    CHECK(countN(r[3]) == (PF | SF));
    CHECK(r[4].rax == 0x03);
    CHECK(r[4].arith() == (CF | OF));
    CHECK(r[5].rax == 0xc0);
    CHECK(r[5].arith() == CF);
    CHECK(r[6].rax == 0x01);
    CHECK(r[6].arith() == (CF | OF));
    CHECK(r[7].rax == 0x80);
    CHECK(r[7].arith() == (CF | OF));
    CHECK(r[8].rax == 0x5a);
    CHECK((r[8].rflags & rflag::CF) == 0);
    CHECK(r[9].rax == 0x1234);
    CHECK((r[9].rflags & rflag::CF) != 0);
    CHECK(r[10].rax == 2);
    CHECK(r[11].rax == 1);
    CHECK(r[11].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[12].rax == 7);
    CHECK(r[12].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[13].mem == 0x0a);
    CHECK(countN(r[13]) == (CF | PF));
    CHECK(r[14].mem == 0x3412);
    CHECK(r[15].mem == 1);
    CHECK((r[15].rflags & rflag::CF) != 0);
    CHECK(r[16].rax == 0x80000000);
    CHECK(count1(r[16]) == (PF | SF | OF));
    CHECK(r[17].rax == 0x81234567);
    CHECK((r[17].rflags & rflag::CF) != 0);  // ROR: CF = new MSB
    CHECK(r[18].rax == 0xfe);
    CHECK(countN(r[18]) == SF);  // the last bit out of 0xf0 >> 3 is bit 2 = 0
    CHECK(r[19].rax == 1);
    CHECK(countN(r[19]) == CF);
}

TEST_CASE("shifts: 16-bit code and 64-bit counts", "[shift]") {
    Machine real(Mode::Real);
    real.run("mov ax, 0x8001\n shl ax, 1\n mov bx, 0x8000\n sar bx, 15");
    CHECK((real.reg(RAX) & 0xffff) == 2);
    CHECK(real.reg(RBX) == 0xffff);
    CHECK(Flags{real.rflags() & (rflag::CF | rflag::PF | rflag::ZF | rflag::SF)} == (PF | SF));

    Machine l(Mode::Long);
    const auto r = l.snapshots({
        "mov rax, 1\n shl rax, 65",                         // count & 63 = 1
        "push 0x8d5\n popfq\n mov rax, 1\n shl rax, 64",    // count & 63 = 0
        "mov rax, 1\n shl rax, 63",
        "mov rax, 0x8000000000000000\n sar rax, 63",
        "mov rax, 0x8000000000000000\n mov cl, 127\n shr rax, cl",  // 127 & 63 = 63
        "push 0x8d4\n popfq\n mov rax, 0x123456789abcdef0\n rol rax, 4",
        "stc\n mov rax, 0\n rcr rax, 1",                             // CF rotates into bit 63
        "mov rax, 0xffffffff00000001\n shl eax, 1",                  // 32-bit shift zero-extends
    });
    CHECK(r[0].rax == 2);
    CHECK(r[1].rax == 1);
    CHECK(r[1].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[2].rax == 0x8000000000000000ull);
    CHECK(r[3].rax == ~0ull);
    CHECK(r[4].rax == 1);
    CHECK(r[5].rax == 0x23456789abcdef01ull);
    // Rotates set CF (the bit rotated into bit 0) and keep SF/ZF/AF/PF; OF is undefined for counts > 1.
    CHECK(Flags{r[5].rflags & (rflag::ARITH & ~rflag::OF)} == (CF | PF | AF | ZF | SF));
    CHECK(r[6].rax == 0x8000000000000000ull);
    CHECK((r[6].rflags & rflag::CF) == 0);
    CHECK((r[6].rflags & rflag::OF) != 0);
    CHECK(r[7].rax == 2);
}

TEST_CASE("shifts: SAL (/6) is SHL in every form", "[shift]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0x41\n db 0xd0, 0xf0",             // D0 /6: sal al, 1
        "mov eax, 0x40000001\n db 0xd1, 0xf0",       // D1 /6: sal eax, 1
        "mov eax, 0x81\n mov cl, 2\n db 0xd2, 0xf0",  // D2 /6: sal al, cl
        "mov eax, 0x3\n mov cl, 4\n db 0xd3, 0xf0",   // D3 /6: sal eax, cl
        "mov eax, 0xc1\n db 0xc0, 0xf0, 3",          // C0 /6: sal al, 3
        "mov eax, 0x1\n db 0xc1, 0xf0, 31",          // C1 /6: sal eax, 31
    });
    CHECK(r[0].rax == 0x82);
    CHECK(r[1].rax == 0x80000002);
    CHECK(r[2].rax == 0x04);
    CHECK((r[2].rflags & rflag::CF) == 0);
    CHECK(r[3].rax == 0x30);
    CHECK(r[4].rax == 0x08);
    CHECK((r[4].rflags & rflag::CF) == 0);
    CHECK(r[5].rax == 0x80000000);
    CHECK((r[0].rflags & rflag::OF) != 0);  // 0x41 -> 0x82: the sign changed
}
