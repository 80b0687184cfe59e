// Stack frames and friends: ENTER (every nesting level, 16/32/64-bit operand and stack
// sizes), LEAVE, PUSHA/POPA, BOUND (#BR), XLAT.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

TEST_CASE("frame: ENTER with nesting levels 0, 1, 3 and 33 (masked to 1) in 32-bit code", "[frame]") {
    const char* setup = R"(
        mov ebp, 0x6f00                  ; the enclosing frame
        mov dword [0x6efc], 0x11111111   ; its display: [ebp-4], [ebp-8]
        mov dword [0x6ef8], 0x22222222
        mov esp, 0x6e00
    )";
    Machine m0(Mode::Protected);
    m0.run(std::string(setup) + "enter 0x10, 0");
    CHECK(m0.reg(RBP) == 0x6dfc);
    CHECK(m0.reg(RSP) == 0x6dfc - 0x10);
    CHECK(m0.read(0x6dfc, 4) == 0x6f00);

    Machine m1(Mode::Protected);
    m1.run(std::string(setup) + "enter 0x10, 1");
    CHECK(m1.reg(RBP) == 0x6dfc);
    CHECK(m1.read(0x6df8, 4) == 0x6dfc);  // the new frame pointer, pushed
    CHECK(m1.reg(RSP) == 0x6df8 - 0x10);

    Machine m3(Mode::Protected);
    m3.run(std::string(setup) + "enter 0x10, 3");
    CHECK(m3.read(0x6dfc, 4) == 0x6f00);
    CHECK(m3.read(0x6df8, 4) == 0x11111111);  // copied from [ebp-4]
    CHECK(m3.read(0x6df4, 4) == 0x22222222);  // and [ebp-8]
    CHECK(m3.read(0x6df0, 4) == 0x6dfc);
    CHECK(m3.reg(RBP) == 0x6dfc);
    CHECK(m3.reg(RSP) == 0x6df0 - 0x10);

    Machine m33(Mode::Protected);
    m33.run(std::string(setup) + "enter 0, 33");  // the level is taken modulo 32
    CHECK(m33.reg(RSP) == 0x6df8);
    CHECK(m33.read(0x6df8, 4) == 0x6dfc);

    // ENTER then LEAVE restores the caller's frame.
    Machine ml(Mode::Protected);
    ml.run(std::string(setup) + "enter 0x40, 3\n leave");
    CHECK(ml.reg(RBP) == 0x6f00);
    CHECK(ml.reg(RSP) == 0x6e00);
}

TEST_CASE("frame: ENTER and LEAVE in 16-bit and 64-bit code, and with a 32-bit operand on a 16-bit stack", "[frame]") {
    Machine r(Mode::Real);
    r.run(R"(
        mov sp, 0x6000
        mov bp, 0x6100
        mov word [0x60fe], 0xaaaa
        mov eax, 0xffff0000
        or ebp, eax                      ; upper halves must survive 16-bit ENTER
        enter 4, 2
        mov ebx, ebp
        mov ecx, esp
    )");
    CHECK(r.read(0x5ffe, 2) == 0x6100);
    CHECK(r.read(0x5ffc, 2) == 0xaaaa);
    CHECK(r.read(0x5ffa, 2) == 0x5ffe);
    CHECK(r.reg(RBX) == 0xffff5ffe);
    CHECK((r.reg(RCX) & 0xffff) == 0x5ffa - 4);

    Machine o(Mode::Real);
    o.run(R"(
        mov esp, 0x6000
        mov ebp, 0x12346100
        o32 enter 8, 1                   ; 4-byte pushes; EBP = ESP (all 32 bits)
        mov ebx, ebp
        mov ecx, esp
        o32 leave
        mov edx, ebp
    )");
    CHECK(o.read(0x5ffc, 4) == 0x12346100);
    CHECK(o.read(0x5ff8, 4) == 0x5ffc);
    CHECK(o.reg(RBX) == 0x5ffc);
    CHECK(o.reg(RCX) == 0x5ff8 - 8);
    CHECK(o.reg(RDX) == 0x12346100);

    Machine l(Mode::Long);
    l.run(R"(
        mov rbp, 0x6f00
        mov qword [0x6ef8], 0x77
        mov rsp, 0x6e00
        enter 0x18, 2
        mov rbx, rbp
        mov rcx, rsp
        leave
    )");
    CHECK(l.read(0x6df8, 8) == 0x6f00);
    CHECK(l.read(0x6df0, 8) == 0x77);
    CHECK(l.read(0x6de8, 8) == 0x6df8);
    CHECK(l.reg(RBX) == 0x6df8);
    CHECK(l.reg(RCX) == 0x6de8 - 0x18);
    CHECK(l.reg(RBP) == 0x6f00);
    CHECK(l.reg(RSP) == 0x6e00);
}

TEST_CASE("frame: a faulting ENTER or LEAVE leaves ESP and EBP unchanged", "[frame][exception]") {
    // At CPL 3, so the #PF frame goes to the ring-0 stack and records the user ESP.
    Machine m(Mode::ProtectedPaging);
    m.unmap(0x4000);  // the page below 0x5000
    m.enterUser();
    m.run(R"(
        mov esp, 0x5004
        mov ebp, 0x5800
        enter 0, 2                       ; the second push (at 0x4ffc) faults
    )");
    CHECK(m.lastVector() == kPF);
    CHECK(m.s.cr2 == 0x4ffc);
    CHECK(m.read(Machine::kRing0StackTop - 8, 4) == 0x5004);             // ESP as before ENTER
    CHECK(m.read(Machine::kRing0StackTop - 20, 4) == Machine::kCode + 10);  // EIP of ENTER
    CHECK(m.reg(RBP) == 0x5800);

    Machine p(Mode::ProtectedPaging);
    p.unmap(0x4000);
    p.enterUser();
    p.run(R"(
        mov ebp, 0x4ff0
        mov esp, 0x6000
        leave
    )");
    CHECK(p.lastVector() == kPF);
    CHECK(p.s.cr2 == 0x4ff0);
    CHECK(p.read(Machine::kRing0StackTop - 8, 4) == 0x6000);
    CHECK(p.reg(RBP) == 0x4ff0);
}

TEST_CASE("frame: PUSHA/POPA and PUSHAD/POPAD", "[frame]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 1
        mov ecx, 2
        mov edx, 3
        mov ebx, 4
        mov ebp, 6
        mov esi, 7
        mov edi, 8
        pushad
        mov [DATA], esp
        mov dword [esp + 12], 0x12345678  ; the saved ESP slot: POPAD skips it
        xor eax, eax
        xor ecx, ecx
        xor edx, edx
        xor ebx, ebx
        xor ebp, ebp
        xor esi, esi
        xor edi, edi
        popad
    )");
    CHECK(m.read(Machine::kData, 4) == Machine::kStackTop - 32);
    for (unsigned k = 0; k < 8; ++k) CHECK(m.read(Machine::kStackTop - 32 + 4 * k, 4) == (k == 3 ? 0x12345678 : 8 - k));
    CHECK(m.reg(RAX) == 1);
    CHECK(m.reg(RCX) == 2);
    CHECK(m.reg(RDX) == 3);
    CHECK(m.reg(RBX) == 4);
    CHECK(m.reg(RBP) == 6);
    CHECK(m.reg(RSI) == 7);
    CHECK(m.reg(RDI) == 8);
    CHECK(m.reg(RSP) == Machine::kStackTop);

    // 16-bit forms: real mode, and with an operand-size prefix in 32-bit code.
    Machine r(Mode::Real);
    r.run(R"(
        mov eax, 0x11110001
        mov ebx, 0x22220002
        mov sp, 0x6000
        pusha
        mov ax, 0
        mov bx, 0
        popa
    )");
    CHECK(r.read(0x6000 - 2, 2) == 1);
    CHECK(r.read(0x6000 - 8, 2) == 2);      // BX
    CHECK(r.read(0x6000 - 10, 2) == 0x6000);  // SP before PUSHA
    CHECK(r.reg(RAX) == 0x11110001);
    CHECK(r.reg(RBX) == 0x22220002);
    CHECK((r.reg(RSP) & 0xffff) == 0x6000);

    Machine w(Mode::Protected);
    w.run("mov eax, 0xabcd1234\n pushaw\n mov eax, 0\n popaw");
    CHECK(w.reg(RAX) == 0x1234);
    CHECK(w.reg(RSP) == Machine::kStackTop);

    // #UD in 64-bit mode.
    for (const char* op : {"db 0x60", "db 0x61"}) {
        Machine l(Mode::Long);
        l.run(op);
        CHECK(l.lastVector() == kUD);
    }
}

TEST_CASE("frame: BOUND raises #BR outside the bounds", "[frame][exception]") {
    struct Case {
        const char* code;
        bool inside;
    };
    const Case cases[] = {
        {"mov eax, -5\n bound eax, [DATA]", true},   {"mov eax, 10\n bound eax, [DATA]", true},
        {"mov eax, 0\n bound eax, [DATA]", true},    {"mov eax, 11\n bound eax, [DATA]", false},
        {"mov eax, -6\n bound eax, [DATA]", false},  {"mov eax, 0x80000000\n bound eax, [DATA]", false},
        {"mov eax, 0xfff7\n bound ax, [DATA+8]", true},  // -9 within [-10, 3] as words
        {"mov eax, 4\n bound ax, [DATA+8]", false},
    };
    std::vector<std::string> programs;
    for (const Case& c : cases) programs.push_back(c.code);
    preassemble(Mode::Protected, programs);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(Mode::Protected);
        m.write(Machine::kData, 4, static_cast<uint32_t>(-5));
        m.write(Machine::kData + 4, 4, 10);
        m.write(Machine::kData + 8, 2, static_cast<uint16_t>(-10));
        m.write(Machine::kData + 10, 2, 3);
        m.run(c.code);
        CHECK(m.lastVector() == (c.inside ? -1 : kBR));
        if (!c.inside) CHECK(m.stack(0, 4) == Machine::kCode + 5);  // a fault: EIP of BOUND
    }
    // A register operand is #UD; so is 62 in 64-bit mode.
    Machine u(Mode::Protected);
    u.run("db 0x62, 0xc0");
    CHECK(u.lastVector() == kUD);
    Machine l(Mode::Long);
    l.run("db 0x62, 0x00");
    CHECK(l.lastVector() == kUD);
    // Real mode, 16-bit.
    Machine r(Mode::Real);
    r.run("mov word [DATA], 1\n mov word [DATA+2], 2\n mov ax, 3\n bound ax, [DATA]");
    CHECK(r.lastVector() == kBR);
}

TEST_CASE("frame: XLAT with 16-, 32- and 64-bit addressing and a segment override", "[frame]") {
    Machine m(Mode::Protected);
    for (unsigned k = 0; k < 256; ++k) m.write(Machine::kData + k, 1, (k * 3) & 0xff);
    const auto r = m.snapshots({
        "mov ebx, DATA\n mov eax, 0x12345605\n xlatb",
        "mov ebx, DATA\n mov eax, 0x80\n xlatb",                  // AL is unsigned
        "mov ebx, DATA - 0x10000\n mov eax, 0x10\n a16 xlatb",      // BX only: 0xC000 + 0x10
        "mov ebx, DATA\n mov eax, 2\n push es\n push ds\n pop es\n es xlatb\n pop es",
    });
    CHECK(r[0].rax == 0x1234560f);
    CHECK(r[1].rax == 0x80);
    CHECK(r[2].rax == 0x30);
    CHECK(r[3].rax == 6);

    Machine l(Mode::Long);
    for (unsigned k = 0; k < 256; ++k) l.write(Machine::kData2 + k, 1, k ^ 0xff);
    l.run("mov rbx, DATA2\n mov rax, -1\n xlatb\n mov rcx, rax\n mov rbx, 0xffffffff00020000\n mov eax, 1\n a32 xlatb");
    CHECK(l.reg(RCX) == 0xffffffffffffff00ull);
    CHECK(l.reg(RAX) == 0xfe);

    Machine real(Mode::Real);
    real.write(0x5000 + 0x7, 1, 0x42);
    real.run("mov ax, 0x500\n mov es, ax\n mov bx, 0\n mov al, 7\n es xlatb");
    CHECK((real.reg(RAX) & 0xff) == 0x42);
}
