// CMPXCHG, XADD, CMPXCHG8B, CMPXCHG16B and the LOCK prefix rules: LOCK is accepted on the
// read-modify-write instructions with a memory destination and #UD everywhere else.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

TEST_CASE("atomic: CMPXCHG, equal and not equal, every size, register and memory", "[atomic]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        // 0: equal, memory: [DATA] = RCX, ZF; the accumulator unchanged.
        "mov qword [DATA], 0x55\n mov rax, 0x55\n mov rcx, 0x1122334455667788\n lock cmpxchg [DATA], rcx",
        // 1: not equal: RAX = [DATA], [DATA] unchanged, flags of CMP RAX, [DATA].
        "mov qword [DATA], 0x55\n mov rax, 0x50\n mov rcx, 7\n cmpxchg [DATA], rcx",
        // 2: 8-bit, not equal: AL = the byte; the rest of RAX kept.
        "mov qword [DATA], 0x80\n mov rax, 0x1234567801\n mov ecx, 0x99\n cmpxchg [DATA], cl",
        // 3: 16-bit equal.
        "mov qword [DATA], 0x7fff0001\n mov eax, 1\n mov ecx, 0xbeef\n lock cmpxchg [DATA], cx",
        // 4: 32-bit register destination, equal: EBX = ECX (zero-extended); RAX untouched.
        "mov rax, 0xaaaaaaaa00000005\n mov rbx, 0xbbbbbbbb00000005\n mov rcx, 0xcccccccc00000009\n cmpxchg ebx, ecx",
        // 5: 32-bit register destination, not equal: EAX = EBX zero-extended, and EBX is left
        // untouched (not zero-extended), as hardware and KVM do (found by the differential test).
        "mov rax, 0xaaaaaaaa00000004\n mov rbx, 0xbbbbbbbb00000005\n mov rcx, 9\n cmpxchg ebx, ecx",
    });
    CHECK(r[0].mem == 0x1122334455667788ull);
    CHECK(r[0].rax == 0x55);
    CHECK(r[0].arith() == (ZF | PF));
    CHECK(r[1].mem == 0x55);
    CHECK(r[1].rax == 0x55);
    CHECK(r[1].arith() == (CF | SF | AF));  // 0x50 - 0x55 = -5
    CHECK(r[2].mem == 0x80);
    CHECK(r[2].rax == 0x1234567880);
    CHECK(r[2].arith() == (CF | SF | OF | PF));  // 0x01 - 0x80 = 0x81: borrow, signed overflow
    CHECK(r[3].mem == 0x7fffbeef);
    CHECK(r[3].arith() == (ZF | PF));
    CHECK(r[4].rax == 0xaaaaaaaa00000005ull);
    CHECK(r[4].rbx == 9);
    CHECK((r[4].rflags & rflag::ZF) != 0);
    CHECK(r[5].rax == 5);
    CHECK(r[5].rbx == 0xbbbbbbbb00000005ull);
    CHECK((r[5].rflags & rflag::ZF) == 0);
}

TEST_CASE("atomic: CMPXCHG writes its memory operand even when the comparison fails", "[atomic]") {
    // A read-only page: the failed comparison still writes back, so it is a #PF (write).
    Machine m(Mode::Long);
    m.write(Machine::kPt64 + (Machine::kData2 >> 12) * 8, 8, Machine::kData2 | 5);  // present, user, read-only
    m.s.cr0 |= cr0::WP;
    m.enterUser();
    m.run("mov eax, 1\n mov ecx, 2\n cmpxchg [DATA2], ecx");
    CHECK(m.lastVector() == kPF);
    CHECK(m.stack(0, 8) == 7);  // present, write, user
    CHECK(m.reg(RAX) == 1);     // nothing changed
}

TEST_CASE("atomic: XADD", "[atomic]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov qword [DATA], 5\n mov rbx, 7\n lock xadd [DATA], rbx",
        "mov qword [DATA], 0xff\n mov ebx, 1\n xadd [DATA], bl",  // byte: 0xff + 1 = 0, CF ZF AF
        "mov eax, 0x7fffffff\n mov ebx, 1\n xadd eax, ebx",
        "mov rax, 3\n xadd rax, rax",                           // the destination written last: 6
        "mov rax, 0xffffffff00000001\n mov rbx, 0xffffffff00000002\n xadd ebx, eax",
        "mov qword [DATA], 0x8000\n mov ebx, 0x8000\n xadd [DATA], bx",
    });
    CHECK(r[0].mem == 12);
    CHECK(r[0].rbx == 5);
    CHECK(r[0].arith() == PF);  // 12 = 1100b
    CHECK(r[1].mem == 0);
    CHECK(r[1].rbx == 0xff);
    CHECK(r[1].arith() == (CF | ZF | AF | PF));
    CHECK(r[2].rax == 0x80000000);
    CHECK(r[2].rbx == 0x7fffffff);
    CHECK(r[2].arith() == (SF | OF | AF | PF));
    CHECK(r[3].rax == 6);
    CHECK(r[4].rax == 2);  // both 32-bit writes zero-extend
    CHECK(r[4].rbx == 3);
    CHECK(r[5].mem == 0);
    CHECK(r[5].rbx == 0x8000);
    CHECK(r[5].arith() == (CF | ZF | OF | PF));
}

TEST_CASE("atomic: CMPXCHG8B", "[atomic]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        // Equal: [DATA] = ECX:EBX, ZF = 1, other flags as they were (CF set beforehand).
        "mov dword [DATA], 0x11111111\n mov dword [DATA+4], 0x22222222\n mov eax, 0x11111111\n"
        " mov edx, 0x22222222\n mov ebx, 0xbbbbbbbb\n mov ecx, 0xcccccccc\n stc\n lock cmpxchg8b [DATA]",
        // Not equal: EDX:EAX = [DATA], ZF = 0, memory unchanged.
        "mov eax, 0\n mov edx, 0\n mov ebx, 1\n mov ecx, 2\n xor esi, esi\n cmpxchg8b [DATA]",
    });
    CHECK(r[0].mem == 0xccccccccbbbbbbbbull);
    CHECK(r[0].arith() == (ZF | CF));
    CHECK(r[1].mem == 0xccccccccbbbbbbbbull);
    CHECK(r[1].rax == 0xbbbbbbbb);
    CHECK(r[1].rdx == 0xcccccccc);
    CHECK(r[1].arith() == PF);  // ZF cleared; PF from the XOR kept

    // 64-bit mode without REX.W: still 8 bytes; a failure zero-extends RAX and RDX.
    Machine l(Mode::Long);
    const auto q = l.snapshots({
        "mov rcx, 0x123456789\n mov [DATA], rcx\n mov rax, -1\n mov rdx, -1\n cmpxchg8b [DATA]",
        "mov rax, 0xffffffff00000000\n mov rdx, 0\n mov ebx, 5\n mov ecx, 6\n mov qword [DATA], 0\n cmpxchg8b [DATA]",
    });
    CHECK(q[0].rax == 0x23456789);
    CHECK(q[0].rdx == 1);
    CHECK((q[0].rflags & rflag::ZF) == 0);
    CHECK(q[1].mem == 0x600000005ull);  // EDX:EAX compared: equal, whatever RAX's upper half held
    CHECK(q[1].rax == 0xffffffff00000000ull);
    CHECK((q[1].rflags & rflag::ZF) != 0);

    // A register operand is #UD.
    Machine u(Mode::Protected);
    u.run("db 0x0f, 0xc7, 0xc8");  // cmpxchg8b eax
    CHECK(u.lastVector() == kUD);
}

TEST_CASE("atomic: CMPXCHG16B; #GP(0) unless 16-byte aligned", "[atomic]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov qword [DATA], 1\n mov qword [DATA+8], 2\n mov rax, 1\n mov rdx, 2\n"
        " mov rbx, 0x1111111111111111\n mov rcx, 0x2222222222222222\n lock cmpxchg16b [DATA]",
        "mov rax, 0\n mov rdx, 0\n cmpxchg16b [DATA]",
    });
    CHECK(r[0].mem == 0x1111111111111111ull);
    CHECK(m.read(Machine::kData + 8, 8) == 0x2222222222222222ull);
    CHECK((r[0].rflags & rflag::ZF) != 0);
    CHECK(r[1].rax == 0x1111111111111111ull);
    CHECK(r[1].rdx == 0x2222222222222222ull);
    CHECK((r[1].rflags & rflag::ZF) == 0);

    Machine a(Mode::Long);
    a.run("mov rax, 7\n cmpxchg16b [DATA+8]");
    CHECK(a.lastVector() == kGP);
    CHECK(a.stack(0, 8) == 0);
    CHECK(a.reg(RAX) == 7);
    // An FS base that misaligns the linear address counts too.
    Machine f(Mode::Long);
    f.s.seg[FS].base = 8;
    f.run("cmpxchg16b [fs:DATA]");
    CHECK(f.lastVector() == kGP);
}

TEST_CASE("atomic: LOCK is #UD except on read-modify-write instructions with a memory destination", "[atomic][lock]") {
    struct Case {
        const char* code;
        bool ok;
    };
    const Case cases[] = {
        {"lock add [DATA], eax", true},     {"lock add dword [DATA], 1", true}, {"lock or byte [DATA], 1", true},
        {"lock adc [DATA], ax", true},      {"lock sbb [DATA], eax", true},     {"lock and [DATA], eax", true},
        {"lock sub [DATA], eax", true},     {"lock xor [DATA], eax", true},     {"lock not dword [DATA]", true},
        {"lock neg dword [DATA]", true},    {"lock inc dword [DATA]", true},    {"lock dec byte [DATA]", true},
        {"lock xchg [DATA], eax", true},    {"lock xadd [DATA], eax", true},    {"lock cmpxchg [DATA], ecx", true},
        {"lock cmpxchg8b [DATA]", true},    {"lock btc dword [DATA], 1", true}, {"lock sbb dword [DATA], 1", true},
        {"lock add eax, [DATA]", false},    {"lock add eax, ebx", false},       {"lock add eax, 1", false},
        {"lock cmp [DATA], eax", false},    {"lock cmp dword [DATA], 1", false}, {"lock mov [DATA], eax", false},
        {"lock test [DATA], eax", false},   {"lock inc eax", false},            {"lock xchg eax, ebx", false},
        {"lock nop", false},                {"lock lea eax, [DATA]", false},    {"lock push dword [DATA]", false},
        {"lock mul dword [DATA]", false},   {"lock shl dword [DATA], 1", false}, {"lock movsd", false},
        {"lock not eax", false},            {"lock cmpxchg eax, ecx", false},   {"lock mov eax, cr0", false},
    };
    std::vector<std::string> programs;
    for (const Case& c : cases)
        programs.push_back(fmt::format("mov eax, 1\n mov esi, DATA\n mov edi, DATA2\n {}", c.code));
    preassemble(Mode::Protected, programs);
    for (size_t k = 0; k < std::size(cases); ++k) {
        INFO(cases[k].code);
        Machine m(Mode::Protected);
        m.run(programs[k]);
        CHECK(m.lastVector() == (cases[k].ok ? -1 : kUD));
    }
}
