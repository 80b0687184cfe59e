// Control flow: JMP/Jcc/CALL/RET near and far, LOOP/JCXZ, INT n/INT3/INTO/IRET in real,
// protected and long mode, and mode changes through far transfers.
#include <string>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {

bool conditionHolds(unsigned cc, uint64_t f) {
    const bool cf = f & rflag::CF, pf = f & rflag::PF, zf = f & rflag::ZF, sf = f & rflag::SF, of = f & rflag::OF;
    const bool r[8] = {of, cf, zf, cf || zf, sf, pf, sf != of, zf || sf != of};
    return (cc & 1) ? !r[cc >> 1] : r[cc >> 1];
}

const char* const kCc[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};

// Every Jcc over 16 of the 32 combinations of CF/PF/ZF/SF/OF; `form` is "short" or "near".
void jccSweep(Mode mode, const char* form, unsigned firstState) {
    Machine m(mode);
    std::string program;
    const char* pushf = mode == Mode::Long ? "popfq" : "popfd";
    for (unsigned n = firstState; n < firstState + 16; ++n) {
        const uint64_t f = rflag::RESERVED1 | ((n & 1) ? rflag::CF : 0) | ((n & 2) ? rflag::PF : 0) |
                           ((n & 4) ? rflag::ZF : 0) | ((n & 8) ? rflag::SF : 0) | ((n & 16) ? rflag::OF : 0);
        for (unsigned cc = 0; cc < 16; ++cc) {
            const unsigned slot = n * 16 + cc;
            program += fmt::format(
                "push {:#x}\n{}\nj{} {} .t{}\nmov byte [DATA2 + {}], 0x11\njmp .n{}\n.t{}: mov byte [DATA2 + {}], 0x22\n"
                ".n{}:\n",
                f, pushf, kCc[cc], form, slot, slot, slot, slot, slot, slot);
        }
    }
    m.run(program);
    for (unsigned n = firstState; n < firstState + 16; ++n)
        for (unsigned cc = 0; cc < 16; ++cc) {
            const uint64_t f = ((n & 1) ? rflag::CF : 0) | ((n & 2) ? rflag::PF : 0) | ((n & 4) ? rflag::ZF : 0) |
                               ((n & 8) ? rflag::SF : 0) | ((n & 16) ? rflag::OF : 0);
            INFO("j" << kCc[cc] << " " << form << " with " << flagNames(f));
            CHECK(m.read(Machine::kData2 + n * 16 + cc, 1) == (conditionHolds(cc, f) ? 0x22u : 0x11u));
        }
}

}  // namespace

TEST_CASE("control: Jcc short and near for all conditions", "[control][cc]") {
    for (unsigned half : {0u, 16u}) {
        jccSweep(Mode::Protected, "short", half);
        jccSweep(Mode::Long, "near", half);
    }
}

TEST_CASE("control: Jcc in 16-bit code, short and near (rel16)", "[control][cc]") {
    Machine m(Mode::Real);
    m.run(R"(
        xor ax, ax
        cmp ax, 1           ; CF, SF
        jb .a
        mov bx, 1
    .a: jl near .b          ; 0F 8C rel16
        mov bx, 2
    .b: jz .c
        mov cx, 3
    .c: jns near .d
        mov dx, 4
    .d:
    )");
    CHECK(m.reg(RBX) == 0);
    CHECK(m.reg(RCX) == 3);
    CHECK(m.reg(RDX) == 4);
}

TEST_CASE("control: JMP rel8, rel32 and indirect", "[control]") {
    Machine m(Mode::Protected);
    m.run(R"(
        xor eax, eax
        jmp short .a
        mov eax, 1
    .a: jmp near .b          ; E9
        mov eax, 2
    .b: mov ebx, .c
        jmp ebx              ; FF /4 register
        mov eax, 3
    .c: mov dword [DATA], .d
        jmp [DATA]           ; FF /4 memory
        mov eax, 4
    .d: mov ecx, 5
        jmp .e
        times 200 nop
    .e: mov edx, 6
    )");
    CHECK(m.reg(RAX) == 0);
    CHECK(m.reg(RCX) == 5);
    CHECK(m.reg(RDX) == 6);

    Machine l(Mode::Long);
    l.run(R"(
        xor eax, eax
        lea rbx, [rel .a]
        jmp rbx
        mov eax, 1
    .a: jmp [rel .ptr]
        mov eax, 2
    .ptr: dq .b
    .b: mov ecx, 7
    )");
    CHECK(l.reg(RAX) == 0);
    CHECK(l.reg(RCX) == 7);
}

TEST_CASE("control: near jumps beyond the limit or non-canonical are #GP", "[control][exception]") {
    Machine r(Mode::Real);
    r.run("mov si, .j\n .j: jmp dword 0x10000");  // 66 E9: the target is beyond CS.limit 0xffff
    CHECK(r.lastVector() == kGP);
    CHECK(r.stack(0, 2) == r.reg(RSI));  // IP of the JMP itself

    Machine l(Mode::Long);
    l.run("mov rax, 0x0000800000000000\n lea rbx, [rel .j]\n .j: jmp rax");
    CHECK(l.lastVector() == kGP);
    CHECK(l.stack(0, 8) == 0);           // error code
    CHECK(l.stack(1, 8) == l.reg(RBX));  // RIP of the JMP itself
}

TEST_CASE("control: CALL and RET near", "[control]") {
    SECTION("32-bit") {
        Machine m(Mode::Protected);
        m.run(R"(
            call .f                 ; E8
        .r1:
            mov [DATA], ebx
            mov eax, .f
            call eax                ; FF /2 register
            mov dword [DATA+4], .f
            call [DATA+4]           ; FF /2 memory
            push 0x11
            push 0x22
            call .g
            mov ecx, esp
            jmp .end
        .f: mov ebx, [esp]
            ret                     ; C3
        .g: mov edx, [esp+4]
            ret 8                   ; C2: pops the two arguments
        .end:
            mov esi, .r1
        )");
        CHECK(m.read(Machine::kData, 4) == m.reg(RSI));
        CHECK(m.reg(RDX) == 0x22);
        CHECK(m.reg(RCX) == Machine::kStackTop);
    }
    SECTION("16-bit") {
        Machine m(Mode::Real);
        m.run(R"(
            call .f
        .r: mov cx, sp
            push 1
            call .g
            mov dx, sp
            jmp .end
        .f: mov bx, sp
            mov ax, [bx]
            ret
        .g: ret 2
        .end: mov si, .r
        )");
        CHECK(m.reg(RAX) == m.reg(RSI));
        CHECK(m.reg(RBX) == Machine::kStackTop - 2);
        CHECK(m.reg(RCX) == Machine::kStackTop);
        CHECK(m.reg(RDX) == Machine::kStackTop);
    }
    SECTION("64-bit") {
        Machine m(Mode::Long);
        m.run(R"(
            call .f
        .r: lea rsi, [rel .r]
            lea rax, [rel .g]
            push 1
            push 2
            call rax
            mov rcx, rsp
            jmp .end
        .f: mov rbx, [rsp]
            mov rdx, rsp
            ret
        .g: ret 16
        .end:
        )");
        CHECK(m.reg(RBX) == m.reg(RSI));
        CHECK(m.reg(RDX) == Machine::kStackTop - 8);
        CHECK(m.reg(RCX) == Machine::kStackTop);
    }
}

TEST_CASE("control: LOOP, LOOPE, LOOPNE and JCXZ", "[control]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov ecx, 5\n xor eax, eax\n .l1: inc eax\n loop .l1",                                   // 0
        "mov ecx, 10\n xor eax, eax\n .l2: inc eax\n cmp eax, 3\n loopne .l2",                    // 1
        "mov ecx, 10\n xor eax, eax\n .l3: inc eax\n cmp eax, 4\n setb bl\n cmp bl, 1\n loope .l3",  // 2
        "mov ecx, 0\n mov eax, 1\n jecxz .z4\n mov eax, 2\n .z4:",                                // 3
        "mov ecx, 1\n mov eax, 1\n jecxz .z5\n mov eax, 2\n .z5:",                                // 4
        "mov ecx, 0x10000\n mov eax, 1\n a16 loop .t6\n mov eax, 2\n .t6:",                       // 5: CX only
        "mov ecx, 0x10000\n mov eax, 1\n jcxz .t7\n mov eax, 2\n .t7:",                           // 6: 67 E3
        "mov ecx, 1\n mov eax, 1\n loop .t8\n mov eax, 2\n .t8:",                                 // 7: not taken
    });
    CHECK(r[0].rax == 5);
    CHECK(r[0].rcx == 0);
    CHECK(r[1].rax == 3);
    CHECK(r[1].rcx == 7);
    CHECK(r[2].rax == 4);
    CHECK(r[2].rcx == 6);
    CHECK(r[3].rax == 1);
    CHECK(r[4].rax == 2);
    CHECK(r[5].rax == 1);
    CHECK(r[5].rcx == 0x1ffff);
    CHECK(r[6].rax == 1);
    CHECK(r[7].rax == 2);
    CHECK(r[7].rcx == 0);

    Machine real(Mode::Real);
    real.run("mov ecx, 0x12340003\n xor ax, ax\n .l: inc ax\n loop .l\n mov ebx, 0\n jcxz .z\n mov ebx, 1\n .z:");
    CHECK(real.reg(RAX) == 3);
    CHECK(real.reg(RCX) == 0x12340000);
    CHECK(real.reg(RBX) == 0);

    Machine l(Mode::Long);
    l.run(R"(
        mov rcx, 0x100000000
        mov eax, 1
        loop .t             ; RCX: 0xffffffff is not zero
        mov eax, 2
    .t: mov rbx, rcx
        mov rcx, 0x100000000
        mov edx, 1
        jrcxz .u            ; not taken: RCX is not zero
        mov edx, 2
    .u: jecxz .v            ; 67 E3: ECX is zero
        mov edx, 3
    .v:
    )");
    CHECK(l.reg(RAX) == 1);
    CHECK(l.reg(RBX) == 0xffffffffull);
    CHECK(l.reg(RDX) == 2);
}

TEST_CASE("control: far JMP, CALL and RETF in real mode", "[control][far]") {
    Machine m(Mode::Real);
    m.run(R"(
        jmp 0x0100:(.a - 0x1000)      ; EA: CS = 0x100, base 0x1000
    .a: mov ax, cs
        mov [DATA], ax
        jmp 0x0000:.b                 ; back to CS = 0
    .b: call 0x0200:(.f - 0x2000)     ; 9A
        mov bx, sp
        mov word [DATA+4], .g
        mov word [DATA+6], 0
        push 7
        call far [DATA+4]             ; FF /3 m16:16
        mov cx, sp
        mov word [DATA+8], .h - 0x3000
        mov word [DATA+10], 0x0300
        jmp far [DATA+8]              ; FF /5
        mov dx, 0xbad
    .f: mov si, cs
        mov di, sp
        mov bp, [ss:0x7000 - 2]       ; the pushed CS
        retf                          ; CB
    .g: retf 2                        ; CA: also drops the pushed 7
    .h: mov dx, cs
    )");
    CHECK(m.read(Machine::kData, 2) == 0x0100);
    CHECK(m.reg(RSI) == 0x0200);
    CHECK(m.reg(RDI) == Machine::kStackTop - 4);
    CHECK(m.reg(RBP) == 0);
    CHECK(m.reg(RBX) == Machine::kStackTop);
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.reg(RDX) == 0x0300);
    CHECK(m.s.seg[CS].selector == 0x0300);
    CHECK(m.s.seg[CS].base == 0x3000);
}

TEST_CASE("control: real-mode code with a non-zero CS", "[control][far]") {
    Machine m(Mode::Real, 0x0800);  // CS = 0x800, IP = 0 at physical kCode
    CHECK(m.s.rip == 0);
    m.run(R"(
        call .f
        jmp .end
    .f: mov bx, sp
        mov ax, [ss:bx]
        ret
    .end: mov cx, cs
    )");
    CHECK(m.reg(RAX) == 3);  // the return address is an offset within CS
    CHECK(m.reg(RCX) == 0x0800);
}

TEST_CASE("control: far transfers between 32- and 16-bit code in protected mode", "[control][far]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 0xffffffff
        jmp 0x18:.code16                ; EA to the 16-bit code segment
    bits 16
    .code16:
        mov ax, 0                       ; 16-bit operand size by default
        mov bx, cs
        jmp 0x08:.code32
    bits 32
    .code32:
        call 0x08:.far                  ; 9A: pushes CS and EIP (4 bytes each)
        mov ecx, esp
        mov dword [DATA], .far2
        mov word [DATA+4], 0x08
        call far [DATA]                 ; FF /3 m16:32
        jmp .end
    .far:
        mov edx, [esp+4]
        retf
    .far2:
        retf
    .end:
    )");
    CHECK(m.reg(RAX) == 0xffff0000);
    CHECK(m.reg(RBX) == Machine::kCode16);
    CHECK(m.reg(RDX) == Machine::kCode32);
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.s.seg[CS].selector == Machine::kCode32);
    CHECK(m.lastVector() == -1);
}

TEST_CASE("control: far JMP to a bad selector faults", "[control][far][exception]") {
    struct Case {
        const char* code;
        int vector;
        uint32_t error;
    };
    const Case cases[] = {
        {"jmp 0x10:0", kGP, 0x10},   // a data segment
        {"jmp 0x00:0", kGP, 0},      // null
        {"jmp 0x58:0", kGP, 0x58},   // beyond the GDT limit
        {"jmp 0x33:0", kGP, 0x30},   // ring-3 code from ring 0 (non-conforming: DPL != CPL)
        {"jmp 0x50:0", kNP, 0x50},   // not present (descriptor written below)
        {"jmp 0x48:0", kGP, 0x48},   // a TSS: task switches are not supported
    };
    std::vector<std::string> programs;
    for (const Case& c : cases) programs.push_back(c.code);
    preassemble(Mode::Protected, programs);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(Mode::Protected);
        m.write(Machine::kGdt + 0x50, 8, 0x00cf1b000000ffffull);  // code, P = 0
        m.run(c.code);
        CHECK(m.lastVector() == c.vector);
        CHECK(m.stack(0, 4) == c.error);
        CHECK(m.s.seg[CS].selector == Machine::kCode32);
    }
}

TEST_CASE("control: long mode far transfers to compatibility mode and back", "[control][far]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov rax, 0x1111111111111111
        jmp far dword [rel .to32]       ; FF /5 m16:32
    .to32: dd .compat
           dw 0x08
    bits 32
    .compat:
        mov eax, 5
        db 0x48                         ; DEC EAX here (a REX prefix in 64-bit code)
        mov ebx, cs
        jmp 0x28:.back                  ; EA works in compatibility mode
    bits 64
    .back:
        mov rcx, 0x2222222222222222
        call far dword [rel .call32]    ; FF /3 m16:32 to compatibility mode
        mov rdx, rsp
        call far qword [rel .call64]    ; REX.W FF /3 m16:64 stays in 64-bit mode
        jmp .end
    .call32: dd .f32
             dw 0x08
    .call64: dq .f64
             dw 0x28
    bits 32
    .f32:
        mov esi, [esp+4]                ; the pushed CS
        retf                            ; 32-bit RETF back to the 64-bit code segment
    bits 64
    .f64:
        mov rdi, [rsp+8]
        retfq
    .end:
    )");
    CHECK(m.reg(RAX) == 4);  // the 32-bit write in compatibility mode cleared the upper half
    CHECK(m.reg(RBX) == Machine::kCode32);
    CHECK(m.reg(RSI) == Machine::kCode64);
    CHECK(m.reg(RDI) == Machine::kCode64);
    CHECK(m.reg(RDX) == Machine::kStackTop);
    CHECK(m.reg(RSP) == Machine::kStackTop);
    CHECK(m.s.mode() == CpuMode::Long64);
}

TEST_CASE("control: INT n and IRET in real mode", "[control][interrupt]") {
    Machine m(Mode::Real);
    m.run(R"(
        mov word [0x80*4], .handler
        mov word [0x80*4+2], 0
        sti
        stc
        int 0x80
    .ret:
        pushf
        pop dx
        jmp .end
    .handler:
        pushf
        pop ax                 ; flags inside: IF cleared
        mov bx, sp
        mov si, [bx]           ; pushed IP
        mov di, [bx+4]         ; pushed FLAGS
        clc
        iret
    .end:
        mov cx, .ret
    )");
    CHECK((m.reg(RAX) & rflag::IF) == 0);
    CHECK((m.reg(RAX) & rflag::CF) != 0);
    CHECK(m.reg(RSI) == m.reg(RCX));
    CHECK((m.reg(RDI) & (rflag::IF | rflag::CF)) == (rflag::IF | rflag::CF));
    CHECK((m.reg(RDX) & (rflag::IF | rflag::CF)) == (rflag::IF | rflag::CF));  // IRET restored both
    CHECK(m.reg(RBX) == Machine::kStackTop - 6);
    CHECK(m.reg(RSP) == Machine::kStackTop);
}

TEST_CASE("control: INT3 and INTO are traps through the IVT/IDT", "[control][interrupt]") {
    Machine r(Mode::Real);
    r.run("int3\n .after: mov ax, 1");
    CHECK(r.lastVector() == kBP);
    CHECK(r.stack(0, 2) == Machine::kCode + 1);  // IP after the one-byte INT3

    Machine p(Mode::Protected);
    p.run("mov al, 0x7f\n into\n add al, 1\n mov esi, .after\n into\n .after: nop");
    CHECK(p.lastVector() == kOF);
    CHECK(p.stack(0, 4) == p.reg(RSI));  // EIP after INTO
    CHECK(p.stack(1, 4) == Machine::kCode32);

    Machine l(Mode::Long);
    l.run("lea rbx, [rel .after]\n int3\n .after: nop");
    CHECK(l.lastVector() == kBP);
    CHECK(l.stack(0, 8) == l.reg(RBX));
}

TEST_CASE("control: INT n and IRETD through the protected-mode IDT", "[control][interrupt]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, .handler
        mov [0x2000 + 0x30*8], ax       ; the IDT gate's offset (selector and type are preset)
        shr eax, 16
        mov [0x2000 + 0x30*8 + 6], ax
        sti
        int 0x30
    .ret:
        pushfd
        pop edx
        jmp .end
    .handler:
        pushfd
        pop eax
        mov esi, [esp]                  ; EIP
        mov edi, [esp+4]                ; CS
        mov ebp, esp
        iretd
    .end:
        mov ecx, .ret
    )");
    CHECK((m.reg(RAX) & rflag::IF) == 0);  // interrupt gate
    CHECK(m.reg(RSI) == m.reg(RCX));
    CHECK(m.reg(RDI) == Machine::kCode32);
    CHECK(m.reg(RBP) == Machine::kStackTop - 12);
    CHECK((m.reg(RDX) & rflag::IF) != 0);
    CHECK(m.reg(RSP) == Machine::kStackTop);
}

TEST_CASE("control: INT n from ring 3 needs gate DPL 3", "[control][interrupt]") {
    Machine m(Mode::Protected);
    m.enterUser();
    m.run("int 0x30");
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 4) == 0x30 * 8 + 2);      // IDT selector error code
    CHECK(m.stack(2, 4) == Machine::kUserCode32);
    CHECK(m.stack(4, 4) == Machine::kStackTop);  // the user ESP, saved by the privilege change
    CHECK(m.stack(5, 4) == Machine::kUserData);  // the user SS
    CHECK(m.reg(RSP) == Machine::kRing0StackTop - 24);

    Machine ok(Mode::Protected);
    ok.setGate(0x30, ok.handlerAddress(0x30), 0xee);  // DPL 3
    ok.enterUser();
    ok.run("int 0x30");
    CHECK(ok.lastVector() == 0x30);
    CHECK(ok.stack(1, 4) == Machine::kUserCode32);  // no error code for INT n
    CHECK(ok.s.cpl() == 0);
}

TEST_CASE("control: IRET to ring 3 and back through an exception", "[control][interrupt]") {
    Machine m(Mode::Protected);
    m.run(R"(
        push 0x3b               ; SS
        push 0x6000             ; ESP
        push 0x3002             ; EFLAGS: IOPL 3
        push 0x33               ; CS
        push .user
        iretd
    .user:
        mov edx, cs
        mov ebx, ss
        mov ecx, esp
        in al, 0x80             ; allowed: IOPL 3
        hlt                     ; privileged: #GP
    )");
    CHECK(m.reg(RBX) == Machine::kUserData);
    CHECK(m.reg(RCX) == 0x6000);
    CHECK(m.reg(RDX) == Machine::kUserCode32);
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(2, 4) == Machine::kUserCode32);
    CHECK(m.stack(4, 4) == 0x6000);
    CHECK(m.s.seg[DS].selector == 0);  // DPL-0 data segments were nulled on the way out
    CHECK(m.s.seg[ES].selector == 0);
    REQUIRE(m.ports.size() == 1);
    CHECK(m.ports[0].port == 0x80);
}

TEST_CASE("control: INT n and IRETQ in long mode, and IRETQ to ring 3", "[control][interrupt]") {
    Machine m(Mode::Long);
    m.run(R"(
        lea rax, [rel .handler]
        mov [0x2000 + 0x40*16], ax
        shr rax, 16
        mov [0x2000 + 0x40*16 + 6], ax
        shr rax, 16
        mov [0x2000 + 0x40*16 + 8], eax
        mov rsp, 0x6ff8                 ; misaligned on purpose: the frame is 16-byte aligned
        int 0x40
    .ret:
        mov rdx, rsp
        jmp .next
    .handler:
        mov rsi, [rsp]                  ; RIP
        mov rdi, [rsp+8]                ; CS
        mov rbx, [rsp+24]               ; RSP
        mov rbp, rsp
        iretq
    .next:
        lea rcx, [rel .ret]
        push 0x3b                       ; SS
        push 0x5000                     ; RSP
        push 0x2                        ; RFLAGS
        push 0x43                       ; CS: 64-bit ring 3
        lea rax, [rel .user]
        push rax
        iretq
    .user:
        mov r8, rsp
        cli                             ; #GP at CPL 3
    )");
    CHECK(m.reg(RSI) == m.reg(RCX));
    CHECK(m.reg(RDI) == Machine::kCode64);
    CHECK(m.reg(RBX) == 0x6ff8);
    CHECK(m.reg(RBP) == 0x6ff0 - 40);
    CHECK(m.reg(RDX) == 0x6ff8);
    CHECK(m.reg(R8) == 0x5000);
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(2, 8) == Machine::kUserCode64);
    CHECK(m.stack(4, 8) == 0x5000);                     // user RSP
    CHECK(m.stack(5, 8) == Machine::kUserData);         // user SS
    CHECK(m.reg(RSP) == Machine::kRing0StackTop - 48);  // RSP0 from the TSS
    CHECK(m.s.seg[SS].selector == 0);                   // SS is null in ring 0 after the change
}

TEST_CASE("control: 32-bit operand size far CALL/RETF and IRETD in real mode", "[control][far]") {
    Machine m(Mode::Real);
    m.run(R"(
        call dword 0x0000:.f          ; 66 9A: pushes CS and EIP as dwords
        mov cx, sp
        mov word [0x81*4], .h
        mov word [0x81*4+2], 0
        int 0x81
        jmp .end
    .f: mov bx, sp
        mov esi, [bx]                 ; the pushed EIP
        mov edi, [bx+4]               ; the pushed CS, zero-extended
        o32 retf
    .h: push dword 0x00040cd7         ; AC and all arithmetic flags
        push dword 0                  ; CS
        push dword .ret               ; EIP
        iretd
    .ret:
        pushfd
        pop eax
        add sp, 6                     ; drop the 16-bit frame INT pushed
        mov dx, sp
    .end:
    )");
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.reg(RDI) == 0);
    CHECK(m.reg(RSI) == Machine::kCode + 8);  // after the 8-byte CALL
    CHECK(m.reg(RAX) == 0x00040cd7);
    CHECK(m.reg(RDX) == Machine::kStackTop);
}

TEST_CASE("control: IRETQ from 64-bit code to compatibility mode", "[control][interrupt]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov rax, rsp
        push 0x10                       ; SS
        push rax                        ; RSP
        push 0x2                        ; RFLAGS
        push 0x08                       ; CS: 32-bit code
        lea rax, [rel .compat]
        push rax
        iretq
    bits 32
    .compat:
        mov ebx, cs
        db 0x48                         ; DEC EAX in compatibility mode
        mov ecx, esp
    )");
    CHECK(m.reg(RBX) == Machine::kCode32);
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.s.mode() == CpuMode::Compat32);
}
