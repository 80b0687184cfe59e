// Integer ALU instructions through the interpreter: ADD OR ADC SBB AND SUB XOR CMP in all their
// forms, TEST, INC/DEC, NOT/NEG and the CBW/CWD families, with results and flags.
#include <bit>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {

__extension__ using u128 = unsigned __int128;
__extension__ using i128 = __int128;

uint64_t maskOf(unsigned size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }

i128 signedOf(uint64_t v, unsigned size) {
    const unsigned shift = 64 - size * 8;
    return static_cast<int64_t>(v << shift) >> shift;
}

struct Expected {
    uint64_t result;
    uint64_t flags;
};

// An independent model of the eight classic ALU operations (wide arithmetic, not the
// interpreter's carry/overflow bit formulas).
Expected reference(const std::string& op, unsigned size, uint64_t a, uint64_t b, bool carryIn) {
    const unsigned bits = size * 8;
    const uint64_t m = maskOf(size);
    a &= m;
    b &= m;
    const i128 sa = signedOf(a, size), sb = signedOf(b, size);
    const i128 smin = -(static_cast<i128>(1) << (bits - 1)), smax = (static_cast<i128>(1) << (bits - 1)) - 1;
    uint64_t r = 0;
    bool cf = false, of = false, af = false;
    if (op == "add" || op == "adc") {
        const unsigned c = (op == "adc" && carryIn) ? 1 : 0;
        const u128 full = static_cast<u128>(a) + b + c;
        r = static_cast<uint64_t>(full) & m;
        cf = full > m;
        const i128 s = sa + sb + c;
        of = s < smin || s > smax;
        af = (a & 15) + (b & 15) + c > 15;
    } else if (op == "sub" || op == "sbb" || op == "cmp") {
        const unsigned c = (op == "sbb" && carryIn) ? 1 : 0;
        cf = static_cast<u128>(a) < static_cast<u128>(b) + c;
        r = (a - b - c) & m;
        const i128 s = sa - sb - c;
        of = s < smin || s > smax;
        af = (a & 15) < (b & 15) + c;
    } else if (op == "and") {
        r = a & b;
    } else if (op == "or") {
        r = a | b;
    } else {
        r = a ^ b;
    }
    uint64_t f = 0;
    if (cf) f |= rflag::CF;
    if (std::popcount(r & 0xff) % 2 == 0) f |= rflag::PF;
    if (af) f |= rflag::AF;
    if (r == 0) f |= rflag::ZF;
    if ((r >> (bits - 1)) & 1) f |= rflag::SF;
    if (of) f |= rflag::OF;
    return {r, f};
}

bool isLogic(const std::string& op) { return op == "and" || op == "or" || op == "xor"; }

std::vector<uint64_t> interestingValues(unsigned size) {
    const uint64_t m = maskOf(size);
    const uint64_t top = 1ull << (size * 8 - 1);
    return {0, 1, 0xf, 0x10, top - 1, top, top + 1, m - 1, m, 0x5a5a5a5a5a5a5a5aull & m};
}

const char* regName(char which, unsigned size) {
    static const char* a[] = {"al", "ax", "eax", "rax"};
    static const char* b[] = {"bl", "bx", "ebx", "rbx"};
    const unsigned k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    return which == 'a' ? a[k] : b[k];
}

// One sweep: `op a, b` (register, register) over all pairs of interesting values, compared
// with the reference model: the result, the untouched upper register bits and the flags.
// carryIn < 0: alternate CF between cases (operations without carry must ignore it).
struct Sweep {
    struct Case {
        uint64_t a, b;
        bool cin;
    };
    Mode mode;
    std::string op;
    unsigned size;
    uint64_t fillA, fillB;
    std::vector<Case> cases;
    std::vector<std::string> snippets;
};

Sweep planSweep(Mode mode, const std::string& op, unsigned size, int carryIn) {
    const bool mode64 = mode == Mode::Long;
    const uint64_t regMask = mode64 ? ~0ull : 0xffffffffull;
    const uint64_t m8 = maskOf(size);
    Sweep s{mode, op, size, 0x1122334455667788ull & regMask & ~m8, 0x8877665544332211ull & regMask & ~m8, {}, {}};
    const auto values = interestingValues(size);
    for (uint64_t a : values)
        for (uint64_t b : values) {
            const bool cin = carryIn < 0 ? (s.cases.size() & 1) : carryIn != 0;
            s.cases.push_back({a, b, cin});
            s.snippets.push_back(fmt::format("mov {}, {:#x}\nmov {}, {:#x}\n{}\n{} {}, {}", mode64 ? "rax" : "eax",
                                             s.fillA | a, mode64 ? "rbx" : "ebx", s.fillB | b, cin ? "stc" : "clc", op,
                                             regName('a', size), regName('b', size)));
        }
    return s;
}

void runSweep(const Sweep& s) {
    Machine m(s.mode);
    const bool mode64 = s.mode == Mode::Long;
    const std::vector<Snapshot> out = m.snapshots(s.snippets);
    const uint64_t flagMask = isLogic(s.op) ? (rflag::ARITH & ~rflag::AF) : rflag::ARITH;  // AF undefined
    for (size_t k = 0; k < s.cases.size(); ++k) {
        const Sweep::Case& c = s.cases[k];
        const Expected e = reference(s.op, s.size, c.a, c.b, c.cin);
        uint64_t expectRax = s.fillA | c.a;
        if (s.op != "cmp") expectRax = (s.size == 4 && mode64) ? e.result : (s.fillA | e.result);
        INFO(fmt::format("{} {} bits: {:#x}, {:#x}, CF in {}", s.op, s.size * 8, c.a, c.b, c.cin));
        CHECK(out[k].rax == expectRax);
        CHECK(out[k].rbx == (s.fillB | c.b));
        CHECK(Flags{out[k].rflags & flagMask} == Flags{e.flags & flagMask});
    }
}

// Plans the sweeps, assembles all their programs with one nasm run, then runs them.
void runSweeps(Mode mode, const std::vector<const char*>& ops, const std::vector<unsigned>& sizes) {
    std::vector<Sweep> sweeps;
    for (const char* op : ops)
        for (unsigned size : sizes) {
            const std::string o = op;
            if (o == "adc" || o == "sbb") {
                sweeps.push_back(planSweep(mode, o, size, 0));
                sweeps.push_back(planSweep(mode, o, size, 1));
            } else {
                sweeps.push_back(planSweep(mode, o, size, -1));
            }
        }
    std::vector<std::string> programs;
    for (const Sweep& s : sweeps) programs.push_back(Machine::snapshotProgram(modeBits(mode), s.snippets));
    preassemble(mode, programs);
    for (const Sweep& s : sweeps) runSweep(s);
}

const char* const kAluOps[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};

}  // namespace

TEST_CASE("alu: hand-checked results and flags", "[alu]") {
    Machine m(Mode::Protected);
    auto r = m.snapshots({
        "mov eax, 0xff\n add al, 1",                 // 0
        "mov eax, 0x7f\n add al, 1",                 // 1
        "mov eax, 0x7fffffff\n add eax, 1",          // 2
        "mov eax, 0\n sub al, 1",                    // 3
        "mov eax, 0x80\n sub al, 1",                 // 4
        "mov eax, 1234\n cmp eax, eax",              // 5
        "mov eax, 0xf0\n and al, 0x0f",              // 6
        "mov eax, 0x80\n stc\n or al, 1",            // 7
        "mov eax, 0xff\n stc\n adc al, 0",           // 8
        "mov eax, 0\n stc\n sbb al, 0",              // 9
        "mov eax, 0x8000\n add ax, 0x8000",          // 10
        "mov eax, 5\n cmp eax, 7",                   // 11
        "mov eax, 0x80000000\n cmp eax, 1",          // 12
        "mov eax, 0x12345678\n xor eax, 0x12345678", // 13
    });
    CHECK(r[0].rax == 0);
    CHECK(r[0].arith() == (CF | PF | AF | ZF));
    CHECK(r[1].rax == 0x80);
    CHECK(r[1].arith() == (AF | SF | OF));
    CHECK(r[2].rax == 0x80000000);
    CHECK(r[2].arith() == (PF | AF | SF | OF));
    CHECK(r[3].rax == 0xff);
    CHECK(r[3].arith() == (CF | PF | AF | SF));
    CHECK(r[4].rax == 0x7f);
    CHECK(r[4].arith() == (AF | OF));
    CHECK(r[5].rax == 1234);
    CHECK(r[5].arith() == (PF | ZF));
    CHECK(r[6].rax == 0);
    CHECK(r[6].arith() == (PF | ZF));
    CHECK(r[7].rax == 0x81);
    CHECK(r[7].arith() == (PF | SF));  // CF cleared by OR
    CHECK(r[8].rax == 0);
    CHECK(r[8].arith() == (CF | PF | AF | ZF));
    CHECK(r[9].rax == 0xff);
    CHECK(r[9].arith() == (CF | PF | AF | SF));
    CHECK(r[10].rax == 0);
    CHECK(r[10].arith() == (CF | PF | ZF | OF));
    CHECK(r[11].rax == 5);
    CHECK(r[11].arith() == (CF | AF | SF));  // 5 - 7 = 0xfffffffe: low byte 0xfe has odd parity
    CHECK(r[12].rax == 0x80000000);
    CHECK(r[12].arith() == (PF | AF | OF));  // 0x7fffffff: overflow from most negative
    CHECK(r[13].rax == 0);
    CHECK(r[13].arith() == (PF | ZF));
}

TEST_CASE("alu: reference sweep, 8/16/32-bit in protected mode", "[alu]") {
    runSweeps(Mode::Protected, {std::begin(kAluOps), std::end(kAluOps)}, {1, 2, 4});
}

TEST_CASE("alu: reference sweep, 8/32/64-bit in long mode", "[alu]") {
    runSweeps(Mode::Long, {std::begin(kAluOps), std::end(kAluOps)}, {1, 4, 8});
}

TEST_CASE("alu: 16-bit operations in real mode", "[alu]") {
    runSweeps(Mode::Real, {"add", "sbb", "xor"}, {1, 2});
}

TEST_CASE("alu: every opcode form of the eight operations", "[alu]") {
    // Forms: 00 r/m8,r8  01 r/m,r  02 r8,r/m8  03 r,r/m  04 AL,ib  05 eAX,iz
    //        80 r/m8,ib  81 r/m,iz  83 r/m,ib (sign-extended)  82 (alias of 80, not in 64-bit)
    for (unsigned n = 0; n < 8; ++n) {
        const std::string op = kAluOps[n];
        INFO(op);
        Machine m(Mode::Protected);
        const auto r = m.snapshots({
            "mov dword [DATA], 0\n mov byte [DATA], 0x9c\n mov bl, 0x75\n stc\n " + op + " byte [DATA], bl",  // 00
            "mov dword [DATA], 0x89abcdef\n mov ebx, 0x76543210\n stc\n " + op + " dword [DATA], ebx",         // 01
            "mov dword [DATA], 0xf1\n mov eax, 0x3c\n clc\n " + op + " al, byte [DATA]",                       // 02
            "mov dword [DATA], 0x00010001\n mov eax, 0xffff0000\n stc\n " + op + " eax, dword [DATA]",         // 03
            "mov eax, 0x11111180\n stc\n " + op + " al, 0x80",                                                 // 04
            "mov eax, 0x7ffffff0\n clc\n " + op + " eax, 0x12345678",                                          // 05
            "mov dword [DATA], 0x55\n stc\n " + op + " byte [DATA], 0xaa",                                     // 80
            "mov dword [DATA], 0xfedcba98\n stc\n " + op + " dword [DATA], 0x01234567",                        // 81
            "mov dword [DATA], 0x00000010\n clc\n " + op + " dword [DATA], -2",                                // 83
            "mov eax, 0x44\n stc\n db 0x82, " + std::to_string(0xc0 | (n << 3)) + ", 0x3c",                   // 82
            "mov dword [DATA], 0xffff\n stc\n " + op + " word [DATA], 0x1234",                                 // 66 81
            "mov eax, 0x8001\n mov ebx, 0x7fff\n clc\n " + op + " ax, bx",                                     // 66 01
        });
        struct Form {
            unsigned size;
            uint64_t a, b;
            bool cin;
            bool inMemory;  // the result is in [DATA], else in EAX
            uint64_t regBefore;
        };
        const Form forms[] = {
            {1, 0x9c, 0x75, true, true, 0},
            {4, 0x89abcdef, 0x76543210, true, true, 0},
            {1, 0x3c, 0xf1, false, false, 0x3c},
            {4, 0xffff0000, 0x00010001, true, false, 0xffff0000},
            {1, 0x80, 0x80, true, false, 0x11111180},
            {4, 0x7ffffff0, 0x12345678, false, false, 0x7ffffff0},
            {1, 0x55, 0xaa, true, true, 0},
            {4, 0xfedcba98, 0x01234567, true, true, 0},
            {4, 0x10, 0xfffffffe, false, true, 0},
            {1, 0x44, 0x3c, true, false, 0x44},
            {2, 0xffff, 0x1234, true, true, 0},
            {2, 0x8001, 0x7fff, false, false, 0x8001},
        };
        for (size_t k = 0; k < std::size(forms); ++k) {
            const Form& f = forms[k];
            INFO("form #" << k);
            const Expected e = reference(op, f.size, f.a, f.b, f.cin);
            const uint64_t written = op == "cmp" ? f.a : e.result;
            const uint64_t mask = maskOf(f.size);
            if (f.inMemory) {
                CHECK((r[k].mem & mask) == written);
            } else {
                CHECK((r[k].rax & mask) == written);
                CHECK((r[k].rax & ~mask & 0xffffffffull) == (f.regBefore & ~mask));  // upper bits kept
            }
            const uint64_t flagMask = isLogic(op) ? (rflag::ARITH & ~rflag::AF) : rflag::ARITH;
            CHECK(Flags{r[k].rflags & flagMask} == Flags{e.flags & flagMask});
        }
    }
}

TEST_CASE("alu: 64-bit forms sign-extend imm32 and imm8", "[alu]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0x100000000\n add rax, -1",                            // 48 83 /0 ib
        "mov rax, 0x7fffffffffffffff\n add rax, 0x7fffffff",             // 48 05 id
        "mov qword [DATA], 5\n sub qword [DATA], 0x80000000",           // 48 81 /5 id: 5 - (-2^31)
        "mov rax, -1\n mov rbx, 1\n add rax, rbx",                       // 48 01
        "mov r8, 3\n mov r9, 5\n sub r8, r9\n mov rax, r8",              // REX.R/B registers
        "mov rax, 0xffffffff00000000\n and eax, 0xffffffff",             // 32-bit op zero-extends
    });
    CHECK(r[0].rax == 0xffffffffull);
    CHECK(r[0].arith() == (CF | PF));
    CHECK(r[1].rax == 0x800000007ffffffeull);
    CHECK(r[1].arith() == (AF | SF | OF));
    CHECK(r[2].mem == 0x80000005ull);
    CHECK(r[2].arith() == (CF | PF));  // 5 - 0xffffffff80000000 borrows
    CHECK(r[3].rax == 0);
    CHECK(r[3].arith() == (CF | PF | AF | ZF));
    CHECK(r[4].rax == static_cast<uint64_t>(-2));
    CHECK(r[4].arith() == (CF | AF | SF));
    CHECK(r[5].rax == 0);
    CHECK(r[5].arith() == (PF | ZF));
}

TEST_CASE("alu: ADC/SBB carry chains", "[alu]") {
    SECTION("128-bit add and subtract in long mode") {
        Machine m(Mode::Long);
        m.run(R"(
            mov rax, -1          ; a = 0x00000000000000_01_ffffffffffffffff
            mov rdx, 1
            mov rbx, 1           ; b = 0x00000000000000_02_0000000000000001
            mov rcx, 2
            add rax, rbx
            adc rdx, rcx         ; 4:0
            mov [DATA], rax
            mov [DATA+8], rdx
            sub rax, 1           ; 4:0 - 1 = 3:ffffffffffffffff
            sbb rdx, 0
        )");
        CHECK(m.read(Machine::kData, 8) == 0);
        CHECK(m.read(Machine::kData + 8, 8) == 4);
        CHECK(m.reg(RAX) == ~0ull);
        CHECK(m.reg(RDX) == 3);
        CHECK(m.arith() == (PF));  // 4 - 0 - 1 = 3: no borrow out, low byte 3 has even parity
    }
    SECTION("96-bit add with carry out of the top in protected mode") {
        Machine m(Mode::Protected);
        m.run(R"(
            mov eax, 0xffffffff
            mov ebx, 0xffffffff
            mov ecx, 0xffffffff
            add eax, 1
            adc ebx, 0
            adc ecx, 0
        )");
        CHECK(m.reg(RAX) == 0);
        CHECK(m.reg(RBX) == 0);
        CHECK(m.reg(RCX) == 0);
        CHECK(m.arith() == (CF | PF | AF | ZF));
    }
    SECTION("64-bit subtract with the borrow propagating in protected mode") {
        Machine m(Mode::Protected);
        m.run(R"(
            mov eax, 0          ; 0x00000001_00000000 - 1
            mov edx, 1
            sub eax, 1
            sbb edx, 0
        )");
        CHECK(m.reg(RAX) == 0xffffffff);
        CHECK(m.reg(RDX) == 0);
        CHECK(m.arith() == (PF | ZF));
    }
}

TEST_CASE("alu: TEST in all forms clears CF and OF", "[alu]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0x80\n mov ebx, 0xff\n stc\n test al, bl",                              // 84
        "mov eax, 0xf0\n mov ebx, 0x0f\n stc\n test eax, ebx",                            // 85
        "mov eax, 0x01\n stc\n test al, 0x81",                                            // A8
        "mov eax, 0x80000000\n test eax, 0x80000000",                                     // A9
        "mov dword [DATA], 3\n stc\n test byte [DATA], 0x03",                             // F6 /0
        "mov dword [DATA], 0x10000\n test dword [DATA], 0x00010000",                      // F7 /0
        "mov eax, 1\n db 0xf6, 0xc8, 0x01",                                               // F6 /1 alias
        "mov eax, 2\n db 0xf6, 0xc8, 0x01",                                               // F6 /1 alias
        "mov eax, 0x1234\n mov ebx, 0x8000\n test ax, bx",                                // 66 85
        "mov dword [DATA], 0xffff\n test word [DATA], 0x8000",                           // 66 F7 /0
        "mov eax, 0x80000000\n db 0xf7, 0xc8, 0x00, 0x00, 0x00, 0x80",                  // F7 /1 alias
    });
    CHECK(r[0].arith() == SF);
    CHECK(r[0].rax == 0x80);  // not written
    CHECK(r[1].arith() == (PF | ZF));
    CHECK(r[2].arith() == NONE);
    CHECK(r[3].arith() == (PF | SF));
    CHECK(r[4].arith() == PF);
    CHECK(r[4].mem == 3);
    CHECK(r[5].arith() == PF);
    CHECK(r[6].arith() == NONE);
    CHECK(r[7].arith() == (PF | ZF));
    CHECK(r[8].arith() == (PF | ZF));
    CHECK(r[9].arith() == (PF | SF));
    CHECK(r[10].arith() == (PF | SF));

    Machine l(Mode::Long);
    const auto q = l.snapshots({
        "mov rax, 0x8000000000000000\n stc\n test rax, rax",
        "mov qword [DATA], 1\n test qword [DATA], -1",  // imm32 sign-extended to 64 bits
        "mov rax, 0x100000000\n test rax, -1",
    });
    CHECK(q[0].arith() == (PF | SF));
    CHECK(q[1].arith() == NONE);
    CHECK(q[2].arith() == PF);
}

TEST_CASE("alu: INC and DEC keep CF", "[alu]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "stc\n mov eax, 0xffffffff\n inc eax",           // 40
        "clc\n mov eax, 0xffffffff\n inc eax",           // 40
        "stc\n mov eax, 0\n dec al",                     // FE /1
        "clc\n mov eax, 0x80000000\n dec eax",           // 48
        "stc\n mov eax, 0x7f\n inc al",                  // FE /0
        "clc\n mov dword [DATA], 0x7fff\n inc word [DATA]",   // 66 FF /0
        "stc\n mov dword [DATA], 1\n dec dword [DATA]",       // FF /1
        "clc\n mov ebx, 0x10\n dec bx\n mov eax, ebx",        // 66 4B
    });
    CHECK(r[0].rax == 0);
    CHECK(r[0].arith() == (CF | PF | AF | ZF));
    CHECK(r[1].rax == 0);
    CHECK(r[1].arith() == (PF | AF | ZF));
    CHECK(r[2].rax == 0xff);
    CHECK(r[2].arith() == (CF | PF | AF | SF));
    CHECK(r[3].rax == 0x7fffffff);
    CHECK(r[3].arith() == (PF | AF | OF));
    CHECK(r[4].rax == 0x80);
    CHECK(r[4].arith() == (CF | AF | SF | OF));
    CHECK(r[5].mem == 0x8000);
    CHECK(r[5].arith() == (PF | AF | SF | OF));
    CHECK(r[6].mem == 0);
    CHECK(r[6].arith() == (CF | PF | ZF));
    CHECK(r[7].rax == 0xf);
    CHECK(r[7].arith() == (PF | AF));
}

TEST_CASE("alu: INC/DEC r32 short forms on every register", "[alu]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 10
        mov ecx, 20
        mov edx, 30
        mov ebx, 40
        mov esp, 50
        mov ebp, 60
        mov esi, 70
        mov edi, 80
        inc eax
        inc ecx
        inc edx
        inc ebx
        inc esp
        inc ebp
        inc esi
        inc edi
        dec eax
        dec ecx
        dec ecx
        dec edx
        dec edx
        dec edx
        dec ebx
        dec esp
        dec esp
        dec ebp
        dec esi
        dec edi
    )");
    CHECK(m.reg(RAX) == 10);
    CHECK(m.reg(RCX) == 19);
    CHECK(m.reg(RDX) == 28);
    CHECK(m.reg(RBX) == 40);
    CHECK(m.reg(RSP) == 49);
    CHECK(m.reg(RBP) == 60);
    CHECK(m.reg(RSI) == 70);
    CHECK(m.reg(RDI) == 80);
}

TEST_CASE("alu: INC/DEC in 16-bit and 64-bit code", "[alu]") {
    Machine real(Mode::Real);
    real.run("mov eax, 0x1234ffff\n inc ax\n mov ebx, 0x12340000\n dec bx\n stc\n mov cx, 0x7fff\n inc cx");
    CHECK(real.reg(RAX) == 0x12340000);
    CHECK(real.reg(RBX) == 0x1234ffff);
    CHECK(real.reg(RCX) == 0x8000);
    CHECK(real.arith() == (CF | PF | AF | SF | OF));

    Machine l(Mode::Long);
    const auto r = l.snapshots({
        "mov rax, 0xffffffff\n inc rax",                        // 48 FF /0: no wrap at 32 bits
        "mov rax, 0xffffffffffffffff\n stc\n inc rax",
        "mov rax, 0x123456789\n inc eax",                       // FF /0 32-bit: zero-extends
        "clc\n mov qword [DATA], 0\n dec qword [DATA]",
        "mov r8, 0x8000000000000000\n dec r8\n mov rax, r8",
    });
    CHECK(r[0].rax == 0x100000000ull);
    CHECK(r[0].arith() == (PF | AF));
    CHECK(r[1].rax == 0);
    CHECK(r[1].arith() == (CF | PF | AF | ZF));
    CHECK(r[2].rax == 0x2345678aull);
    CHECK(r[3].mem == ~0ull);
    CHECK(r[3].arith() == (PF | AF | SF));
    CHECK(r[4].rax == 0x7fffffffffffffffull);
    CHECK(r[4].arith() == (PF | AF | OF));
}

TEST_CASE("alu: NOT inverts without touching flags", "[alu]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "push 0x8d5\n popfq\n mov rax, 0x1111111111111100\n not al",
        "mov rax, 0x1111111111110000\n not ax",
        "mov rax, 0x11111111ffff0000\n not eax",
        "mov rax, 0x00ff00ff00ff00ff\n not rax",
        "mov qword [DATA], 0x12\n not byte [DATA]",
        "push 0\n popfq\n not dword [DATA]",
    });
    CHECK(r[0].rax == 0x11111111111111ffull);
    CHECK(r[0].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[1].rax == 0x111111111111ffffull);
    CHECK(r[2].rax == 0x0000ffffull);
    CHECK(r[3].rax == 0xff00ff00ff00ff00ull);
    CHECK(r[3].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[4].mem == 0xed);
    CHECK(r[5].mem == 0xffffff12ull);
    CHECK(r[5].arith() == NONE);
}

TEST_CASE("alu: NEG of zero, one and the most negative value", "[alu]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "stc\n mov rax, 0\n neg al",
        "mov rax, 0x80\n neg al",
        "mov rax, 1\n neg eax",
        "mov rax, 0x8000\n neg ax",
        "mov rax, 0x8000000000000000\n neg rax",
        "mov qword [DATA], 5\n neg dword [DATA]",
        "mov rax, 0x80000000\n neg eax",
        "mov rax, -7\n neg rax",
    });
    CHECK(r[0].rax == 0);
    CHECK(r[0].arith() == (PF | ZF));
    CHECK(r[1].rax == 0x80);
    CHECK(r[1].arith() == (CF | SF | OF));
    CHECK(r[2].rax == 0xffffffffull);
    CHECK(r[2].arith() == (CF | PF | AF | SF));
    CHECK(r[3].rax == 0x8000);
    CHECK(r[3].arith() == (CF | PF | SF | OF));
    CHECK(r[4].rax == 0x8000000000000000ull);
    CHECK(r[4].arith() == (CF | PF | SF | OF));
    CHECK(r[5].mem == 0xfffffffbull);
    CHECK(r[5].arith() == (CF | AF | SF));
    CHECK(r[6].rax == 0x80000000ull);
    CHECK(r[6].arith() == (CF | PF | SF | OF));
    CHECK(r[7].rax == 7);
    CHECK(r[7].arith() == (CF | AF));
}

TEST_CASE("alu: CBW/CWDE/CDQE and CWD/CDQ/CQO", "[alu]") {
    Machine real(Mode::Real);
    const auto r = real.snapshots({
        "mov eax, 0x12345680\n cbw",
        "mov eax, 0x1234567f\n cbw",
        "mov eax, 0x12348000\n cwde",
        "mov eax, 0x8000\n mov edx, 0x12345678\n cwd",
        "mov eax, 0x7fff\n mov edx, 0x1234ffff\n cwd",
        "mov eax, 0x80000000\n cdq",
    });
    CHECK(r[0].rax == 0x1234ff80ull);
    CHECK(r[1].rax == 0x1234007full);
    CHECK(r[2].rax == 0xffff8000ull);
    CHECK(r[3].rdx == 0x1234ffffull);
    CHECK(r[4].rdx == 0x12340000ull);
    CHECK(r[5].rdx == 0xffffffffull);

    Machine l(Mode::Long);
    const auto q = l.snapshots({
        "push 0x8d5\n popfq\n mov rax, 0x1234567880000000\n cdqe",
        "mov rax, 0x123456787fffffff\n cdqe",
        "mov rax, 0x1234567812348000\n cwde",  // 32-bit write zero-extends
        "mov rax, -1\n mov rdx, 0\n cqo",
        "mov rax, 0x7fffffffffffffff\n mov rdx, -1\n cqo",
        "mov rax, 0x80000000\n mov rdx, -1\n cdq",
    });
    CHECK(q[0].rax == 0xffffffff80000000ull);
    CHECK(q[0].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(q[1].rax == 0x7fffffffull);
    CHECK(q[2].rax == 0xffff8000ull);
    CHECK(q[3].rdx == ~0ull);
    CHECK(q[4].rdx == 0);
    CHECK(q[5].rdx == 0xffffffffull);
    CHECK(q[5].arith() == (CF | PF | AF | ZF | SF | OF));
}
