// MUL, IMUL (one, two and three operands), DIV and IDIV in 8/16/32/64 bits, with CF/OF and
// the #DE cases (divide by zero, quotient overflow) delivered through the real-mode IVT.
#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {
// MUL and IMUL define only CF and OF (SF, ZF, AF and PF are undefined).
Flags cfOf(const Snapshot& s) { return {s.rflags & (rflag::CF | rflag::OF)}; }
}  // namespace

TEST_CASE("muldiv: MUL in every size", "[muldiv]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0x1111111111111180\n mov bl, 2\n mul bl",           // 0: AX = 0x100
        "mov rax, 0x11111111111111f0\n mov bl, 0x01\n mul bl",        // 1: fits in AL
        "mov rax, 0x111111111111ffff\n mov rdx, 0x2222222222222222\n mov bx, 0xffff\n mul bx",  // 2
        "mov rax, 0x10000\n mov ebx, 0x10000\n mul ebx",              // 3: EDX:EAX = 1:0
        "mov rax, 0x8000000000000000\n mov rbx, 2\n mul rbx",         // 4: RDX:RAX = 1:0
        "mov rax, 3\n mov r8, 5\n mul r8",                            // 5
        "mov qword [DATA], 0xffffffff\n mov rax, 0xffffffff\n mul dword [DATA]",  // 6
        "mov rax, 0x10\n mov byte [DATA], 0x0f\n mul byte [DATA]",   // 7
        "mov rax, 0x1234567800000002\n mov rdx, -1\n mov ebx, 3\n mul ebx",  // 8: 32-bit zero-extends RAX/RDX
    });
    CHECK(r[0].rax == 0x1111111111110100ull);  // only AX is written
    CHECK(cfOf(r[0]) == (CF | OF));
    CHECK(r[1].rax == 0x11111111111100f0ull);
    CHECK(cfOf(r[1]) == NONE);
    CHECK(r[2].rax == 0x1111111111110001ull);
    CHECK(r[2].rdx == 0x222222222222fffeull);
    CHECK(cfOf(r[2]) == (CF | OF));
    CHECK(r[3].rax == 0);
    CHECK(r[3].rdx == 1);
    CHECK(cfOf(r[3]) == (CF | OF));
    CHECK(r[4].rax == 0);
    CHECK(r[4].rdx == 1);
    CHECK(cfOf(r[4]) == (CF | OF));
    CHECK(r[5].rax == 15);
    CHECK(r[5].rdx == 0);
    CHECK(cfOf(r[5]) == NONE);
    CHECK(r[6].rax == 1);
    CHECK(r[6].rdx == 0xfffffffeull);
    CHECK(cfOf(r[6]) == (CF | OF));
    CHECK(r[7].rax == 0xf0);
    CHECK(cfOf(r[7]) == NONE);
    CHECK(r[8].rax == 6);
    CHECK(r[8].rdx == 0);
    CHECK(cfOf(r[8]) == NONE);
}

TEST_CASE("muldiv: one-operand IMUL sets CF/OF when the high half is significant", "[muldiv]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0x80\n mov bl, 0xff\n imul bl",                 // 0: -128 * -1 = 128: does not fit in AL
        "mov rax, 0xfe\n mov bl, 3\n imul bl",                    // 1: -2 * 3 = -6
        "mov rax, 0x4000\n mov bx, 2\n imul bx",                  // 2: 0x8000 does not fit in int16
        "mov rax, 0xffffffff\n mov ebx, 0xffffffff\n imul ebx",   // 3: -1 * -1 = 1
        "mov rax, 0x100000000\n mov rbx, 0x100000000\n imul rbx", // 4: 2^64
        "mov rax, -3\n mov rbx, 7\n imul rbx",                    // 5: -21
        "mov qword [DATA], -2\n mov rax, 0x40000000\n imul dword [DATA]",  // 6: -2^31 fits
    });
    CHECK((r[0].rax & 0xffff) == 0x0080);
    CHECK(cfOf(r[0]) == (CF | OF));
    CHECK((r[1].rax & 0xffff) == 0xfffa);
    CHECK(cfOf(r[1]) == NONE);
    CHECK((r[2].rax & 0xffff) == 0x8000);
    CHECK((r[2].rdx & 0xffff) == 0);
    CHECK(cfOf(r[2]) == (CF | OF));
    CHECK(r[3].rax == 1);
    CHECK(r[3].rdx == 0);
    CHECK(cfOf(r[3]) == NONE);
    CHECK(r[4].rax == 0);
    CHECK(r[4].rdx == 1);
    CHECK(cfOf(r[4]) == (CF | OF));
    CHECK(r[5].rax == static_cast<uint64_t>(-21));
    CHECK(r[5].rdx == ~0ull);
    CHECK(cfOf(r[5]) == NONE);
    CHECK(r[6].rax == 0x80000000ull);
    CHECK(r[6].rdx == 0xffffffffull);
    CHECK(cfOf(r[6]) == NONE);
}

TEST_CASE("muldiv: two- and three-operand IMUL truncate and flag overflow", "[muldiv]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0x10000\n mov ebx, 0x10000\n imul eax, ebx",      // 0: 0F AF, overflow
        "mov eax, 7\n mov dword [DATA], -6\n imul eax, [DATA]",     // 1: 0F AF from memory
        "mov eax, 0xffff\n mov ebx, 0xffff\n imul ax, bx",          // 2: -1 * -1 (16-bit)
        "mov ebx, 12\n imul eax, ebx, 10",                          // 3: 6B
        "mov dword [DATA], 3\n imul eax, [DATA], 100000",           // 4: 69
        "mov ebx, 2\n imul eax, ebx, 0x40000000",                   // 5: 69 overflow
        "mov eax, 0x12340000\n mov ebx, 5\n imul ax, bx, -300",     // 6: 66 69 iw
        "mov ebx, 200\n imul ecx, ebx, -128\n mov eax, ecx",        // 7: 6B with a negative ib
    });
    CHECK(r[0].rax == 0);
    CHECK(cfOf(r[0]) == (CF | OF));
    CHECK(r[1].rax == static_cast<uint32_t>(-42));
    CHECK(cfOf(r[1]) == NONE);
    CHECK(r[2].rax == 1);
    CHECK(cfOf(r[2]) == NONE);
    CHECK(r[3].rax == 120);
    CHECK(cfOf(r[3]) == NONE);
    CHECK(r[4].rax == 300000);
    CHECK(r[5].rax == 0x80000000);
    CHECK(cfOf(r[5]) == (CF | OF));
    CHECK(r[6].rax == 0x1234fa24);  // -1500 = 0xfa24
    CHECK(cfOf(r[6]) == NONE);
    CHECK(r[7].rax == static_cast<uint32_t>(-25600));

    Machine l(Mode::Long);
    const auto q = l.snapshots({
        "mov rax, 0x100000000\n mov rbx, 0x100000000\n imul rax, rbx",  // overflow
        "mov rbx, -5\n imul rax, rbx, -1",                              // 48 6B
        "mov rbx, 0x100000000\n imul rax, rbx, 0x7fffffff",             // 48 69
        "mov r9, 0x40000000\n imul r9d, r9d, 4\n mov rax, r9",         // 32-bit overflow, zero-extended
    });
    CHECK(q[0].rax == 0);
    CHECK(cfOf(q[0]) == (CF | OF));
    CHECK(q[1].rax == 5);
    CHECK(cfOf(q[1]) == NONE);
    CHECK(q[2].rax == 0x7fffffff00000000ull);
    CHECK(cfOf(q[2]) == NONE);
    CHECK(q[3].rax == 0);
    CHECK(cfOf(q[3]) == (CF | OF));
}

TEST_CASE("muldiv: DIV in every size", "[muldiv]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0x11110000000003e8\n mov bl, 7\n div bl",            // 0: 1000 / 7 = 142 r 6
        "mov rax, 0\n mov rdx, 1\n mov bx, 3\n div bx",                // 1: 65536 / 3
        "mov rax, 0\n mov rdx, 1\n mov ebx, 0x10\n div ebx",           // 2: 2^32 / 16
        "mov rax, 0\n mov rdx, 1\n mov rbx, 3\n div rbx",              // 3: 2^64 / 3
        "mov rax, 100\n mov rdx, 0\n mov qword [DATA], 9\n div qword [DATA]",  // 4
        "mov rax, 0xfe01\n mov byte [DATA], 0xff\n div byte [DATA]",  // 5: 65025 / 255 = 255, the largest quotient
    });
    CHECK(r[0].rax == 0x111100000000068eull);  // AL = 142 (0x8e), AH = 6
    CHECK(r[1].rax == 0x5555);
    CHECK(r[1].rdx == 1);
    CHECK(r[2].rax == 0x10000000);
    CHECK(r[2].rdx == 0);
    CHECK(r[3].rax == 0x5555555555555555ull);
    CHECK(r[3].rdx == 1);
    CHECK(r[4].rax == 11);
    CHECK(r[4].rdx == 1);
    CHECK(r[5].rax == 0x00ff);
}

TEST_CASE("muldiv: IDIV rounds toward zero with the dividend's sign on the remainder", "[muldiv]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0xff9c\n mov bl, 7\n idiv bl",                       // 0: -100 / 7 = -14 r -2
        "mov rax, 0\n mov rdx, 0xffff\n mov bx, 3\n idiv bx",          // 1: -65536 / 3 = -21845 r -1
        "mov eax, -7\n cdq\n mov ebx, 2\n idiv ebx",                   // 2: -7 / 2 = -3 r -1
        "mov rax, -7\n cqo\n mov rbx, -2\n idiv rbx",                  // 3: -7 / -2 = 3 r -1
        "mov rax, 0xff00\n mov bl, 2\n idiv bl",                       // 4: -256 / 2 = -128 (the limit)
        "mov rax, 7\n cqo\n mov qword [DATA], -7\n idiv qword [DATA]",  // 5: 7 / -7 = -1 r 0
    });
    CHECK((r[0].rax & 0xffff) == 0xfef2);
    CHECK((r[1].rax & 0xffff) == 0xaaab);
    CHECK((r[1].rdx & 0xffff) == 0xffff);
    CHECK(r[2].rax == static_cast<uint32_t>(-3));
    CHECK(r[2].rdx == static_cast<uint32_t>(-1));
    CHECK(r[3].rax == 3);
    CHECK(r[3].rdx == ~0ull);
    CHECK((r[4].rax & 0xffff) == 0x0080);
    CHECK(r[5].rax == ~0ull);
    CHECK(r[5].rdx == 0);
}

namespace {

// Runs each `setup` then its faulting division in real mode, and expects #DE through the IVT:
// the recorded vector, the pushed IP of the faulting instruction, and nothing after it run.
void expectRealDivideErrors(const std::vector<std::pair<std::string, std::string>>& cases) {
    std::vector<std::string> programs;
    for (const auto& [setup, insn] : cases)
        programs.push_back(setup + "\n mov si, .fault\n .fault: " + insn + "\n mov byte [DATA], 1");
    preassemble(Mode::Real, programs);
    for (size_t k = 0; k < cases.size(); ++k) {
        Machine m(Mode::Real);
        INFO(cases[k].first << " / " << cases[k].second);
        m.run(programs[k]);
        CHECK(m.lastVector() == 0);
        CHECK(m.stack(0, 2) == (m.reg(RSI) & 0xffff));  // IP of the DIV/IDIV itself
        CHECK(m.stack(1, 2) == 0);                       // CS
        CHECK(m.read(Machine::kData, 1) == 0);           // the instruction after it never ran
        CHECK(m.reg(RSP) == Machine::kStackTop - 6);
    }
}

}  // namespace

TEST_CASE("muldiv: #DE on divide by zero through the real-mode IVT", "[muldiv][exception]") {
    expectRealDivideErrors({
        {"mov ax, 1234\n mov bl, 0", "div bl"},
        {"mov ax, 1234\n mov dx, 0\n mov bx, 0", "div bx"},
        {"mov eax, 1\n mov edx, 0\n mov ebx, 0", "div ebx"},
        {"mov ax, 1234\n mov bl, 0", "idiv bl"},
        {"mov eax, 1\n mov edx, 0\n mov dword [DATA+4], 0", "idiv dword [DATA+4]"},
    });

    // The registers are untouched by the faulting division.
    Machine m(Mode::Real);
    m.run("mov ax, 0x1234\n mov dx, 0x5678\n mov cx, 0\n div cx");
    CHECK(m.lastVector() == 0);
    CHECK((m.reg(RAX) & 0xffff) == 0x1234);
    CHECK((m.reg(RDX) & 0xffff) == 0x5678);
}

TEST_CASE("muldiv: #DE on quotient overflow through the real-mode IVT", "[muldiv][exception]") {
    expectRealDivideErrors({
        {"mov ax, 0x1000\n mov bl, 2", "div bl"},              // 0x800 > 0xff
        {"mov ax, 0\n mov dx, 1\n mov bx, 1", "div bx"},       // 0x10000 > 0xffff
        {"mov eax, 0\n mov edx, 5\n mov ebx, 5", "div ebx"},   // 2^32 > 0xffffffff
        {"mov ax, 0xff80\n mov bl, 0xff", "idiv bl"},          // -128 / -1 = 128
        {"mov ax, 0x4000\n mov bl, 2", "idiv bl"},             // 8192 > 127
        {"mov ax, 0xfe00\n mov bl, 2", "idiv bl"},             // -512 / 2 = -256 < -128
        {"mov ax, 0x8000\n mov dx, 0xffff\n mov bx, 0xffff", "idiv bx"},  // INT16_MIN / -1
        {"mov eax, 0x80000000\n mov edx, 0xffffffff\n mov ebx, 0xffffffff", "idiv ebx"},
    });
}

TEST_CASE("muldiv: 64-bit #DE cases through the long-mode IDT", "[muldiv][exception]") {
    const char* cases[] = {
        "mov rax, 1\n mov rdx, 0\n mov rbx, 0\n div rbx",
        "mov rax, 0\n mov rdx, 1\n mov rbx, 1\n div rbx",                                // 2^64 > max
        "mov rax, 0x8000000000000000\n mov rdx, -1\n mov rbx, -1\n idiv rbx",            // INT64_MIN / -1
        "mov rax, 0\n mov rdx, 0x8000000000000000\n mov rbx, -1\n idiv rbx",             // INT128_MIN / -1
        "mov rax, 0\n mov rdx, 0x8000000000000000\n mov rbx, 1\n idiv rbx",              // far below INT64_MIN
        "mov rax, 5\n mov rdx, 0\n mov rbx, 0\n idiv rbx",
    };
    preassemble(Mode::Long, {std::begin(cases), std::end(cases)});
    for (const char* c : cases) {
        INFO(c);
        Machine m(Mode::Long);
        m.run(c);
        CHECK(m.lastVector() == 0);
    }
    Machine ok(Mode::Long);
    ok.run("mov rax, 0\n mov rdx, 0xffffffffffffffff\n mov rbx, 0x100000000\n idiv rbx");  // -2^64 / 2^32 = -2^32
    CHECK(ok.lastVector() == -1);
    CHECK(ok.reg(RAX) == 0xffffffff00000000ull);
    CHECK(ok.reg(RDX) == 0);
}
