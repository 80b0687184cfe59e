// Stack instructions: PUSH/POP of registers, immediates, memory and segment registers in
// 16/32/64-bit code, and PUSHF/POPF with the IF/IOPL privilege rules.
#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

TEST_CASE("stack: PUSH/POP r32 on every register", "[stack]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 1
        mov ecx, 2
        mov edx, 3
        mov ebx, 4
        mov ebp, 6
        mov esi, 7
        mov edi, 8
        push eax
        push ecx
        push edx
        push ebx
        push esp           ; pushes the value before the push
        push ebp
        push esi
        push edi
        pop eax            ; 8
        pop ecx            ; 7
        pop edx            ; 6
        pop ebx            ; old ESP
        pop ebp            ; 4
        pop esi            ; 3
        pop edi            ; 2
        mov [DATA], esp
        pop esp            ; 1: POP ESP loads the popped value
    )");
    CHECK(m.reg(RAX) == 8);
    CHECK(m.reg(RCX) == 7);
    CHECK(m.reg(RDX) == 6);
    CHECK(m.reg(RBX) == Machine::kStackTop - 16);
    CHECK(m.reg(RBP) == 4);
    CHECK(m.reg(RSI) == 3);
    CHECK(m.reg(RDI) == 2);
    CHECK(m.read(Machine::kData, 4) == Machine::kStackTop - 4);
    CHECK(m.reg(RSP) == 1);
    CHECK(m.read(Machine::kStackTop - 4, 4) == 1);
}

TEST_CASE("stack: operand sizes of PUSH/POP in 16-, 32- and 64-bit code", "[stack]") {
    SECTION("real mode: 2 bytes, 4 with 66; SP wraps at 64 KiB") {
        Machine m(Mode::Real);
        m.run(R"(
            mov ax, 0x1234
            push ax
            mov bx, sp
            push eax           ; 66 50
            mov ecx, 0
            pop ecx
            pop dx
            mov sp, 0
            push word 0xbeef   ; 68 iw: SP wraps to 0xfffe
        )");
        CHECK(m.reg(RBX) == Machine::kStackTop - 2);
        CHECK(m.reg(RCX) == 0x1234);
        CHECK(m.reg(RDX) == 0x1234);
        CHECK((m.reg(RSP) & 0xffff) == 0xfffe);
        CHECK(m.read(0xfffe, 2) == 0xbeef);
    }
    SECTION("long mode: 8 bytes by default, 2 with 66, REX.B registers") {
        Machine m(Mode::Long);
        m.run(R"(
            mov r15, 0x0123456789abcdef
            push r15
            mov rbx, rsp
            pop r9
            mov eax, 0x5678
            push ax            ; 66 50
            mov rcx, rsp
            pop dx             ; 66 5A
            push -2            ; 6A: sign-extended to 64 bits
            pop rsi
            push 0x7fffffff    ; 68
            pop rdi
        )");
        CHECK(m.reg(RBX) == Machine::kStackTop - 8);
        CHECK(m.reg(R9) == 0x0123456789abcdefull);
        CHECK(m.reg(RCX) == Machine::kStackTop - 2);
        CHECK((m.reg(RDX) & 0xffff) == 0x5678);
        CHECK(m.reg(RSI) == static_cast<uint64_t>(-2));
        CHECK(m.reg(RDI) == 0x7fffffff);
        CHECK(m.reg(RSP) == Machine::kStackTop);
    }
}

TEST_CASE("stack: PUSH imm8/imm32 sign extension", "[stack]") {
    Machine m(Mode::Protected);
    m.run(R"(
        push -1               ; 6A FF
        push 0x12345678       ; 68
        push word 0x8000      ; 66 68 iw
        push byte -128        ; 6A 80
    )");
    CHECK(m.stack(0, 4) == 0xffffff80);
    CHECK(m.read(Machine::kStackTop - 10, 2) == 0x8000);
    CHECK(m.read(Machine::kStackTop - 8, 4) == 0x12345678);
    CHECK(m.read(Machine::kStackTop - 4, 4) == 0xffffffff);
    CHECK(m.reg(RSP) == Machine::kStackTop - 14);

    Machine r(Mode::Real);
    r.run("push dword -5\n push byte 0x7f");
    CHECK(r.read(Machine::kStackTop - 4, 4) == 0xfffffffb);
    CHECK(r.read(Machine::kStackTop - 6, 2) == 0x7f);
}

TEST_CASE("stack: PUSH r/m (FF /6) and POP r/m (8F /0)", "[stack]") {
    Machine m(Mode::Protected);
    m.write(Machine::kData, 4, 0xcafebabe);
    m.run(R"(
        push dword [DATA]
        push word [DATA]       ; 66 FF /6
        pop word [DATA+4]      ; 66 8F /0
        pop dword [DATA+8]
        push 0xbbbb
        push 0xaaaa
        pop dword [esp]        ; the address is computed after ESP is incremented
        mov eax, esp
    )");
    CHECK(m.read(Machine::kData + 4, 2) == 0xbabe);
    CHECK(m.read(Machine::kData + 8, 4) == 0xcafebabe);
    CHECK(m.reg(RAX) == Machine::kStackTop - 4);
    CHECK(m.read(Machine::kStackTop - 4, 4) == 0xaaaa);

    Machine l(Mode::Long);
    l.write(Machine::kData, 8, 0x1122334455667788ull);
    l.run("push qword [DATA]\n pop qword [DATA+8]\n mov rbx, DATA\n push qword [rbx]\n pop rax");
    CHECK(l.read(Machine::kData + 8, 8) == 0x1122334455667788ull);
    CHECK(l.reg(RAX) == 0x1122334455667788ull);
}

TEST_CASE("stack: PUSH/POP segment registers", "[stack][segment]") {
    SECTION("real mode, all six") {
        Machine m(Mode::Real);
        m.run(R"(
            mov ax, 0x1000
            mov es, ax
            mov ax, 0x2000
            mov fs, ax
            mov ax, 0x3000
            mov gs, ax
            push es             ; 06
            push cs             ; 0E
            push ss             ; 16
            push ds             ; 1E
            push fs             ; 0F A0
            push gs             ; 0F A8
            pop ds              ; 1F: 0x3000
            pop es              ; 07: 0x2000
            pop fs              ; 0F A1: 0 (DS)
            pop gs              ; 0F A9: 0 (SS)
            pop ax              ; CS
            pop ss              ; 17: 0x1000
            mov bx, sp
        )");
        CHECK(m.s.seg[DS].selector == 0x3000);
        CHECK(m.s.seg[DS].base == 0x30000);
        CHECK(m.s.seg[ES].selector == 0x2000);
        CHECK(m.s.seg[FS].selector == 0);
        CHECK(m.s.seg[GS].selector == 0);
        CHECK((m.reg(RAX) & 0xffff) == 0);
        CHECK(m.s.seg[SS].selector == 0x1000);
        CHECK(m.s.seg[SS].base == 0x10000);
        CHECK(m.reg(RBX) == Machine::kStackTop);
    }
    SECTION("protected mode loads descriptors and moves ESP by 4") {
        Machine m(Mode::Protected);
        m.run(R"(
            mov ax, 0x20
            mov ds, ax
            push ds
            mov ebx, esp
            pop es
            push 0
            pop fs
        )");
        CHECK(m.reg(RBX) == Machine::kStackTop - 4);
        CHECK(m.s.seg[ES].selector == Machine::kData16);
        CHECK(m.s.seg[ES].limit == 0xffff);
        CHECK(m.s.seg[FS].selector == 0);
    }
    SECTION("protected mode: a bad selector faults and leaves ESP alone") {
        Machine m(Mode::Protected);
        m.run("push 0x08\n mov ebx, esp\n pop ss");
        CHECK(m.lastVector() == kGP);
        CHECK(m.stack(0, 4) == 0x08);                            // error code: the selector
        CHECK(m.reg(RSP) == m.reg(RBX) - 16);                    // the frame sits below the unpopped value
        CHECK(m.stack(4, 4) == 0x08);                            // ... which is still on the stack
    }
    SECTION("long mode: FS/GS push 8 bytes") {
        Machine m(Mode::Long);
        m.run("mov ax, 0x10\n mov fs, ax\n push fs\n mov rbx, rsp\n pop gs");
        CHECK(m.reg(RBX) == Machine::kStackTop - 8);
        CHECK(m.s.seg[GS].selector == Machine::kData32);
    }
}

TEST_CASE("stack: PUSHF/POPF in real mode may change IF and IOPL", "[stack][flags]") {
    Machine m(Mode::Real);
    m.run(R"(
        push 0x32d5          ; IOPL 3, IF, all arithmetic flags
        popf
        pushf
        pop bx
        push 0x0002
        popf
        pushf
        pop cx
    )");
    CHECK(m.reg(RBX) == 0x32d7);
    CHECK(m.reg(RCX) == 0x0002);
}

TEST_CASE("stack: PUSHF/POPF privilege rules in protected mode", "[stack][flags]") {
    SECTION("CPL 0 changes IF and IOPL; VM and RF never change") {
        Machine m(Mode::Protected);
        m.run(R"(
            push 0x33202        ; RF | VM | IOPL 3 | IF
            popfd
            pushfd
            pop ebx
            push 0
            popfd
            pushfd
            pop ecx
        )");
        CHECK(m.reg(RBX) == 0x3202);
        CHECK(m.reg(RCX) == 0x0002);
    }
    SECTION("CPL 3 with IOPL 0: IF and IOPL are silently kept") {
        Machine m(Mode::Protected);
        m.enterUser();
        m.s.setRflags(rflag::IF | rflag::RESERVED1);
        m.run(R"(
            push 0x30d5          ; IOPL 3, arithmetic flags, IF clear
            popfd
            pushfd
            pop ebx
            cli                  ; CPL 3 > IOPL 0: #GP
        )");
        CHECK(m.reg(RBX) == (0x02d7));  // IF still set, IOPL still 0, arithmetic flags taken
        CHECK(m.lastVector() == kGP);
        CHECK(m.stack(2, 4) == Machine::kUserCode32);  // the frame's CS: the fault came from ring 3
    }
    SECTION("CPL 3 with IOPL 3: IF may change, IOPL still not") {
        Machine m(Mode::Protected);
        m.enterUser();
        m.s.setRflags(rflag::IF | rflag::IOPL | rflag::RESERVED1);
        m.run(R"(
            push 0x0002
            popfd
            pushfd
            pop ebx
            sti                  ; allowed: CPL 3 <= IOPL 3
            pushfd
            pop ecx
        )");
        CHECK(m.reg(RBX) == 0x3002);
        CHECK(m.reg(RCX) == 0x3202);
        CHECK(m.lastVector() == kGP);  // from the final HLT at CPL 3
    }
    SECTION("16-bit POPF leaves the upper half alone") {
        Machine m(Mode::Protected);
        m.run(R"(
            push 0x40000        ; AC
            popfd
            push word 0x0001    ; CF only
            popfw               ; 66 9D
            pushfd
            pop ebx
            pushfw              ; 66 9C: 16 bits
            mov ecx, esp
        )");
        CHECK(m.reg(RBX) == 0x40003);
        CHECK(m.reg(RCX) == Machine::kStackTop - 2);
    }
}

TEST_CASE("stack: PUSHFQ/POPFQ in long mode", "[stack][flags]") {
    Machine m(Mode::Long);
    m.run(R"(
        push 0x8d5
        popfq
        pushfq
        mov rbx, rsp
        pop rcx
    )");
    CHECK(m.reg(RBX) == Machine::kStackTop - 8);
    CHECK(m.reg(RCX) == 0x8d7);
    CHECK(m.arith() == (CF | PF | AF | ZF | SF | OF));
}
