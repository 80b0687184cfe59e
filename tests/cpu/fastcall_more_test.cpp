// Fast system calls: SYSCALL/SYSRET (64-bit mode only, as on Intel parts) and
// SYSENTER/SYSEXIT (32- and 64-bit forms), with their #UD and #GP rules.
#include <string>
#include <vector>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

// Ring-0 64-bit setup: EFER.SCE, STAR (kernel CS 0x28 / SS 0x30; user base 0x30, so SYSRET
// gives CS 0x43 (64-bit) or 0x33 (compatibility) and SS 0x3b, the harness selectors),
// LSTAR = .entry, SFMASK = IF | DF | AC.
const char* kSyscallSetup = R"(
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1
        wrmsr
        mov ecx, 0xc0000081
        xor eax, eax
        mov edx, 0x00300028
        wrmsr
        mov ecx, 0xc0000082
        mov rax, .entry
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov ecx, 0xc0000084
        mov eax, 0x40600
        xor edx, edx
        wrmsr
)";

}  // namespace

TEST_CASE("fastcall: SYSRET to 64-bit ring 3 and SYSCALL back", "[fastcall]") {
    Machine m(Mode::Long);
    m.run(std::string(kSyscallSetup) + R"(
        mov rcx, .user
        mov r11, 0x40ed7                ; AC DF ... and the arithmetic flags; RF/VM are dropped
        or r11, 0x30000
        o64 sysret
    .user:
        mov r12, cs
        mov r13, ss
        mov r9, rsp
        pushfq
        pop r10
        syscall
    .after:
        hlt
    .entry:
        mov r14, cs
        mov r15, ss
        pushfq
        pop rbx
        mov rsi, .after
    )");
    CHECK(m.reg(R12) == 0x43);
    CHECK(m.reg(R13) == 0x3b);
    CHECK(m.reg(R9) == Machine::kStackTop);
    CHECK(m.reg(R10) == (0x40ed7 | 2));  // R11 without RF (bit 16) and VM (bit 17)
    CHECK(m.reg(R14) == 0x28);
    CHECK(m.reg(R15) == 0x30);
    CHECK(m.reg(RCX) == m.reg(RSI));     // the return RIP
    CHECK(m.reg(R11) == (0x40ed7 | 2));  // RFLAGS at the SYSCALL
    CHECK(m.reg(RBX) == ((0x40ed7 | 2) & ~0x40600ull));  // masked by SFMASK
    CHECK(m.s.cpl() == 0);
    CHECK(m.s.seg[CS].longMode());
    CHECK(m.lastVector() == -1);
}

TEST_CASE("fastcall: SYSRET without REX.W returns to compatibility mode", "[fastcall]") {
    Machine m(Mode::Long);
    m.run(std::string(kSyscallSetup) + R"(
        mov rcx, 0xffffffff00000000 + .compat   ; only ECX counts
        mov r11, 0x2
        sysret
    bits 32
    .compat:
        mov eax, cs
        mov ebx, ss
        hlt                             ; #GP at CPL 3
    bits 64
    .entry:
    )");
    CHECK(m.reg(RAX) == 0x33);
    CHECK(m.reg(RBX) == 0x3b);
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(2, 8) == 0x33);  // the CS in the #GP frame
}

TEST_CASE("fastcall: SYSCALL/SYSRET faults", "[fastcall][exception]") {
    // EFER.SCE clear: #UD.
    Machine a(Mode::Long);
    a.run("syscall");
    CHECK(a.lastVector() == kUD);
    // SCE set but in compatibility mode: #UD on Intel.
    Machine b(Mode::Long);
    b.s.efer |= efer::SCE;
    b.run(R"(
        jmp far dword [rel .to32]
    .to32: dd .compat
           dw 0x08
    bits 32
    .compat:
        syscall
    )");
    CHECK(b.lastVector() == kUD);
    // Legacy protected mode: #UD (EFER.SCE cannot make it work there either).
    Machine c(Mode::Protected);
    c.run("syscall");
    CHECK(c.lastVector() == kUD);
    Machine c2(Mode::Protected);
    c2.run("sysret");
    CHECK(c2.lastVector() == kUD);
    // SYSRET at CPL 3: #GP(0).
    Machine d(Mode::Long);
    d.s.efer |= efer::SCE;
    d.enterUser();
    d.run("o64 sysret");
    CHECK(d.lastVector() == kGP);
    CHECK(d.stack(0, 8) == 0);
    // SYSRET to a non-canonical RCX: #GP(0) at CPL 0, nothing changed.
    Machine e(Mode::Long);
    e.s.efer |= efer::SCE;
    e.run("mov rcx, 0x0000800000000000\n mov r11, 2\n o64 sysret");
    CHECK(e.lastVector() == kGP);
    CHECK(e.stack(2, 8) == Machine::kCode64);
    CHECK(e.s.cpl() == 0);
}

TEST_CASE("fastcall: SYSEXIT to ring 3 and SYSENTER back in 32-bit protected mode", "[fastcall]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov ecx, 0x174                  ; SYSENTER_CS = 0x08: CS 0x08, SS 0x10
        mov eax, 0x08
        xor edx, edx
        wrmsr
        mov ecx, 0x175
        mov eax, 0x6800
        wrmsr
        mov ecx, 0x176
        mov eax, .kernel
        wrmsr
        sti
        mov edx, .user
        mov ecx, 0x5000
        sysexit
    .user:
        mov ebx, cs
        mov esi, ss
        mov edi, esp
        sysenter
    .kernel:
        mov eax, cs
        mov ebp, ss
        pushfd
        pop ecx
    )");
    CHECK(m.reg(RBX) == (0x08 + 16 + 3));
    CHECK(m.reg(RSI) == (0x08 + 24 + 3));
    CHECK(m.reg(RDI) == 0x5000);
    CHECK(m.reg(RAX) == 0x08);
    CHECK(m.reg(RBP) == 0x10);
    CHECK(m.reg(RSP) == 0x6800);
    CHECK((m.reg(RCX) & rflag::IF) == 0);  // SYSENTER clears IF
    CHECK(m.s.cpl() == 0);
    CHECK(m.lastVector() == -1);
}

TEST_CASE("fastcall: SYSENTER and SYSEXIT in IA-32e mode", "[fastcall]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov ecx, 0x174                  ; SYSENTER_CS = 0x28
        mov eax, 0x28
        xor edx, edx
        wrmsr
        mov ecx, 0x175
        mov eax, 0x6800
        wrmsr
        mov ecx, 0x176
        mov rax, .kernel
        mov rdx, rax
        shr rdx, 32
        wrmsr
        mov rdx, .user
        mov rcx, 0x5000
        o64 sysexit                     ; to 64-bit ring 3: CS = 0x28 + 32, SS = + 40
    .user:
        mov r12, cs
        mov r13, ss
        mov r14, rsp
        sysenter
    .kernel:
        mov r8, cs
        mov r9, ss
    )");
    CHECK(m.reg(R12) == 0x28 + 32 + 3);
    CHECK(m.reg(R13) == 0x28 + 40 + 3);
    CHECK(m.reg(R14) == 0x5000);
    CHECK(m.reg(R8) == 0x28);
    CHECK(m.reg(R9) == 0x30);
    CHECK(m.reg(RSP) == 0x6800);
    CHECK(m.s.seg[CS].longMode());

    // SYSEXIT without REX.W goes to compatibility mode: CS = + 16, SS = + 24.
    Machine c(Mode::Long);
    c.s.msrs.sysenterCs = 0x28;
    c.run(R"(
        mov edx, .compat
        mov ecx, 0x5000
        sysexit
    bits 32
    .compat:
        mov eax, cs
        mov ebx, esp
        hlt
    )");
    CHECK(c.reg(RAX) == 0x28 + 16 + 3);
    CHECK(c.reg(RBX) == 0x5000);
    CHECK(c.lastVector() == kGP);
}

TEST_CASE("fastcall: SYSENTER/SYSEXIT faults", "[fastcall][exception]") {
    Machine a(Mode::Protected);  // SYSENTER_CS = 0
    a.run("sysenter");
    CHECK(a.lastVector() == kGP);
    CHECK(a.stack(0, 4) == 0);
    Machine b(Mode::Real);
    b.s.msrs.sysenterCs = 0x08;
    b.run("sysenter");
    CHECK(b.lastVector() == kGP);
    Machine c(Mode::Protected);  // SYSEXIT at CPL 3
    c.s.msrs.sysenterCs = 0x08;
    c.enterUser();
    c.run("sysexit");
    CHECK(c.lastVector() == kGP);
    CHECK(c.stack(1, 4) == Machine::kCode);
    Machine d(Mode::Protected);  // SYSEXIT with SYSENTER_CS = 0
    d.run("sysexit");
    CHECK(d.lastVector() == kGP);
    Machine e(Mode::Long);  // 64-bit SYSEXIT to a non-canonical RDX
    e.s.msrs.sysenterCs = 0x28;
    e.run("mov rdx, 0x0000800000000000\n mov rcx, 0x5000\n o64 sysexit");
    CHECK(e.lastVector() == kGP);
    CHECK(e.s.cpl() == 0);
    // SYSENTER from ring 3 in 32-bit protected mode works (no CPL restriction).
    Machine f(Mode::Protected);
    f.s.msrs.sysenterCs = 0x08;
    f.s.msrs.sysenterEip = Machine::kCode + 2;
    f.s.msrs.sysenterEsp = 0x6000;
    f.enterUser();
    f.run("sysenter\n mov eax, cs");
    CHECK(f.reg(RAX) == 0x08);
    CHECK(f.reg(RSP) == 0x6000);
    CHECK(f.lastVector() == -1);
}
