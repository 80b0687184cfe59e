// Far CALL/JMP through call gates (16- and 32-bit gates in protected mode, 64-bit gates in
// IA-32e mode), the stack switch with parameter copying, and RETF to an outer privilege level.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

constexpr uint64_t gate(uint16_t selector, uint32_t offset, uint8_t access, uint8_t params = 0) {
    return (offset & 0xffff) | (static_cast<uint64_t>(selector) << 16) | (static_cast<uint64_t>(params & 0x1f) << 32) |
           (static_cast<uint64_t>(access) << 40) | (static_cast<uint64_t>(offset >> 16) << 48);
}

// Handlers live at fixed offsets in the program so the gates can point at them.
constexpr uint64_t kHandlerA = Machine::kCode + 0x200, kHandlerB = Machine::kCode + 0x300;

// The program text up to `offset` bytes from kCode (pads with NOPs).
std::string at(uint64_t address) { return fmt::format("times {:#x} - ($ - $$) nop\n", address - Machine::kCode); }

}  // namespace

TEST_CASE("gates: CALL from ring 3 through a 32-bit call gate copies parameters; RETF n returns", "[gates]") {
    Machine m(Mode::Protected);
    m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode32, kHandlerA, 0xec, 2));  // DPL 3, 2 dwords
    m.s.gdtr.limit = 0x5f;
    m.enterUser();
    m.run(R"(
        push dword 0x1111
        push dword 0x2222
        call 0x5b:0x12345678            ; the offset is ignored for a gate
        mov ecx, esp
        mov edx, cs
        mov esi, ss
        mov edi, es
        mov ebp, fs
        hlt                             ; #GP at ring 3 ends the test
    )" + at(kHandlerA) + R"(
        mov eax, [esp]
        mov [DATA], eax                 ; return EIP
        mov eax, [esp+4]
        mov [DATA+4], eax               ; caller CS
        mov eax, [esp+8]
        mov [DATA+8], eax               ; parameters, in the caller's order
        mov eax, [esp+12]
        mov [DATA+12], eax
        mov eax, [esp+16]
        mov [DATA+16], eax              ; caller ESP
        mov eax, [esp+20]
        mov [DATA+20], eax              ; caller SS
        mov [DATA+24], esp
        mov eax, cs
        mov [DATA+28], eax
        mov eax, ss
        mov [DATA+32], eax
        mov eax, 0x10                   ; a DPL-0 data segment in ES: nulled on the way out
        mov es, eax
        retf 8
    )");
    CHECK(m.read(Machine::kData + 4, 4) == Machine::kUserCode32);
    CHECK(m.read(Machine::kData + 8, 4) == 0x2222);
    CHECK(m.read(Machine::kData + 12, 4) == 0x1111);
    CHECK(m.read(Machine::kData + 16, 4) == Machine::kStackTop - 8);
    CHECK(m.read(Machine::kData + 20, 4) == Machine::kUserData);
    CHECK(m.read(Machine::kData + 24, 4) == Machine::kRing0StackTop - 24);
    CHECK(m.read(Machine::kData + 28, 4) == Machine::kCode32);
    CHECK(m.read(Machine::kData + 32, 4) == Machine::kData32);
    // Back at ring 3 with the parameters released on the caller's stack too.
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.reg(RDX) == Machine::kUserCode32);
    CHECK(m.reg(RSI) == Machine::kUserData);
    CHECK(m.reg(RDI) == 0);                   // ES was nulled
    CHECK(m.reg(RBP) == Machine::kUserData);  // FS (DPL 3) kept
    CHECK(m.lastVector() == kGP);
    CHECK(m.read(m.stack(1, 4), 1) == 0xf4);  // the #GP is the final HLT
}

TEST_CASE("gates: a 16-bit call gate pushes a 16-bit frame", "[gates]") {
    Machine m(Mode::Protected);
    m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode32, kHandlerA, 0xe4, 1));  // 16-bit gate, 1 word
    m.s.gdtr.limit = 0x5f;
    m.enterUser();
    m.run(R"(
        push word 0x4444
        call 0x5b:0
        mov ecx, esp
        mov edx, cs
        hlt
    )" + at(kHandlerA) + R"(
        mov eax, [esp]
        mov [DATA], eax                 ; IP, CS
        mov eax, [esp+4]
        mov [DATA+4], eax               ; the parameter, SP
        mov ax, [esp+8]
        mov [DATA+8], ax                ; SS
        mov [DATA+12], esp
        o16 retf 2
    )");
    CHECK(m.read(Machine::kData + 2, 2) == Machine::kUserCode32);
    CHECK(m.read(Machine::kData + 4, 2) == 0x4444);
    CHECK(m.read(Machine::kData + 6, 2) == Machine::kStackTop - 2);
    CHECK(m.read(Machine::kData + 8, 2) == Machine::kUserData);
    CHECK(m.read(Machine::kData + 12, 4) == Machine::kRing0StackTop - 10);
    CHECK(m.reg(RCX) == Machine::kStackTop);
    CHECK(m.reg(RDX) == Machine::kUserCode32);
}

TEST_CASE("gates: CALL and JMP through a gate at the same privilege level", "[gates]") {
    Machine m(Mode::Protected);
    m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode32, kHandlerA, 0x8c));  // DPL 0
    m.write(Machine::kGdt + 0x60, 8, gate(Machine::kCode32, kHandlerB, 0x8c));
    m.s.gdtr.limit = 0x67;
    m.run(R"(
        call 0x58:0
        mov ebx, eax
        jmp 0x60:0
    )" + at(kHandlerA) + R"(
        mov eax, [esp+4]                ; the pushed CS
        mov edx, esp
        retf
    )" + at(kHandlerB) + R"(
        mov ecx, esp
    )");
    CHECK(m.reg(RBX) == Machine::kCode32);
    CHECK(m.reg(RDX) == Machine::kStackTop - 8);
    CHECK(m.reg(RCX) == Machine::kStackTop);  // JMP pushes nothing
    CHECK(m.lastVector() == -1);
}

TEST_CASE("gates: faults of far transfers through gates", "[gates][exception]") {
    struct Case {
        const char* code;
        int vector;
        uint32_t error;
    };
    const Case cases[] = {
        {"call 0x73:0", kGP, 0x70},  // gate DPL 0 < CPL 3
        {"call 0x5b:0", -1, 0},      // fine (control case)
        {"call 0x7b:0", kNP, 0x78},  // gate not present
        {"call 0x83:0", kGP, 0x80},  // task gate: task switches are not implemented
        {"jmp 0x5b:0", kGP, 0x08},   // JMP cannot enter a more privileged segment
        {"call 0x8b:0", kGP, 0x10},  // the gate points at a data segment
        {"call 0x93:0", kGP, 0x00},  // the gate's selector is null
        {"call 0x4b:0", kGP, 0x48},  // a TSS (task switch)
    };
    std::vector<std::string> programs;
    for (const Case& c : cases) programs.push_back(std::string(c.code) + "\n" + at(kHandlerA) + "mov eax, 0x99");
    preassemble(Mode::Protected, programs);
    for (size_t k = 0; k < std::size(cases); ++k) {
        const Case& c = cases[k];
        INFO(c.code);
        Machine m(Mode::Protected);
        m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode32, kHandlerA, 0xec));
        m.write(Machine::kGdt + 0x70, 8, gate(Machine::kCode32, kHandlerA, 0x8c));
        m.write(Machine::kGdt + 0x78, 8, gate(Machine::kCode32, kHandlerA, 0x6c));
        m.write(Machine::kGdt + 0x80, 8, gate(Machine::kTssSel, 0, 0xe5));
        m.write(Machine::kGdt + 0x88, 8, gate(Machine::kData32, kHandlerA, 0xec));
        m.write(Machine::kGdt + 0x90, 8, gate(0, kHandlerA, 0xec));
        m.write(Machine::kGdt + 0x48, 8, 0x0000e90030000067ull);  // the TSS with DPL 3
        m.s.gdtr.limit = 0x97;
        m.enterUser();
        m.run(programs[k]);
        if (c.vector < 0) {
            CHECK(m.reg(RAX) == 0x99);
            continue;
        }
        CHECK(m.lastVector() == c.vector);
        CHECK(m.stack(0, 4) == c.error);
        CHECK(m.stack(1, 4) == Machine::kCode);          // the faulting instruction
        CHECK(m.stack(2, 4) == Machine::kUserCode32);
        CHECK(m.stack(4, 4) == Machine::kStackTop);      // the user ESP, unchanged
    }
}

TEST_CASE("gates: RETF to an outer level checks the popped SS", "[gates][exception]") {
    // Ring 0 builds a return frame to ring 3 with a DPL-0 SS: #GP(SS selector).
    Machine m(Mode::Protected);
    m.run(R"(
        push dword 0x10                 ; SS: DPL 0, RPL 0, but the return is to ring 3
        push dword 0x6000
        push dword 0x33
        push dword .user
        retf
    .user:
        hlt
    )");
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 4) == 0x10);
    CHECK(m.s.cpl() == 0);

    // A correct one: SS:ESP popped, CS loaded with RPL 3.
    Machine ok(Mode::Protected);
    ok.run(R"(
        push dword 0x3b
        push dword 0x6000
        push dword 0x33
        push dword .user
        retf
    .user:
        mov eax, esp
        mov ebx, ss
        mov ecx, ds                     ; was the DPL-0 0x10: now null
        hlt
    )");
    CHECK(ok.reg(RAX) == 0x6000);
    CHECK(ok.reg(RBX) == 0x3b);
    CHECK(ok.reg(RCX) == 0);
    CHECK(ok.lastVector() == kGP);

    // Returning to a more privileged level is #GP(CS selector).
    Machine in(Mode::Protected);
    in.enterUser();
    in.run("push dword 0x08\n push dword 0x9000\n retf");
    CHECK(in.lastVector() == kGP);
    CHECK(in.stack(0, 4) == 0x08);
}

TEST_CASE("gates: 64-bit call gates in IA-32e mode and RETFQ to ring 3", "[gates]") {
    Machine m(Mode::Long);
    // A 16-byte gate at 0x58 to the 64-bit ring-0 code segment, DPL 3.
    m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode64, static_cast<uint32_t>(kHandlerA), 0xec, 3));
    m.write(Machine::kGdt + 0x60, 8, 0);  // offset 63:32 = 0, type field 0
    m.s.gdtr.limit = 0x67;
    m.enterUser();
    m.run(R"(
        mov rbx, rsp
        call far dword [rel .gate]
        mov r12, rsp
        mov r13, cs
        mov r14, ss
        hlt
    .gate: dd 0
           dw 0x5b
    )" + at(kHandlerA) + R"(
        mov rax, [rsp]
        mov [DATA], rax                 ; return RIP
        mov rax, [rsp+8]
        mov [DATA+8], rax               ; CS
        mov rax, [rsp+16]
        mov [DATA+16], rax              ; RSP
        mov rax, [rsp+24]
        mov [DATA+24], rax              ; SS
        mov [DATA+32], rsp
        mov eax, ss
        mov [DATA+40], eax              ; a null SS with RPL 0
        mov eax, cs
        mov [DATA+44], eax
        o64 retf
    )");
    CHECK(m.read(Machine::kData + 8, 8) == Machine::kUserCode64);
    CHECK(m.read(Machine::kData + 16, 8) == Machine::kStackTop);
    CHECK(m.read(Machine::kData + 24, 8) == Machine::kUserData);
    CHECK(m.read(Machine::kData + 32, 8) == Machine::kRing0StackTop - 32);
    CHECK(m.read(Machine::kData + 40, 4) == 0);
    CHECK(m.read(Machine::kData + 44, 4) == Machine::kCode64);
    CHECK(m.reg(R12) == Machine::kStackTop);
    CHECK(m.reg(R13) == Machine::kUserCode64);
    CHECK(m.reg(R14) == Machine::kUserData);
    CHECK(m.lastVector() == kGP);

    // The upper half's type field must be 0; the target must be 64-bit code.
    Machine t(Mode::Long);
    t.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode64, static_cast<uint32_t>(kHandlerA), 0xec));
    t.write(Machine::kGdt + 0x60, 8, 0x00000c0000000000ull);
    t.write(Machine::kGdt + 0x68, 8, gate(Machine::kCode32, static_cast<uint32_t>(kHandlerA), 0xec));
    t.write(Machine::kGdt + 0x70, 8, 0);
    t.s.gdtr.limit = 0x77;
    t.run("call far dword [rel .g]\n hlt\n .g: dd 0\n dw 0x58");
    CHECK(t.lastVector() == kGP);
    CHECK(t.stack(0, 8) == 0x58);
    Machine u(Mode::Long);
    u.write(Machine::kGdt + 0x68, 8, gate(Machine::kCode32, static_cast<uint32_t>(kHandlerA), 0xec));
    u.write(Machine::kGdt + 0x70, 8, 0);
    u.s.gdtr.limit = 0x77;
    u.run("call far dword [rel .g]\n hlt\n .g: dd 0\n dw 0x68");
    CHECK(u.lastVector() == kGP);
    CHECK(u.stack(0, 8) == Machine::kCode32);
}

TEST_CASE("gates: a 64-bit call gate from compatibility mode at the same level", "[gates]") {
    Machine m(Mode::Long);
    m.write(Machine::kGdt + 0x58, 8, gate(Machine::kCode64, static_cast<uint32_t>(kHandlerA), 0x8c));
    m.write(Machine::kGdt + 0x60, 8, 0);
    m.s.gdtr.limit = 0x67;
    m.run(R"(
        jmp far dword [rel .to32]
    .to32: dd .compat
           dw 0x08
    bits 32
    .compat:
        call 0x58:0                     ; to 64-bit code: 8-byte pushes
        hlt
    bits 64
    )" + at(kHandlerA) + R"(
        mov rax, [rsp]
        mov rbx, [rsp+8]
        mov rcx, rsp
    )");
    CHECK(m.reg(RBX) == Machine::kCode32);
    CHECK(m.reg(RCX) == Machine::kStackTop - 16);
    CHECK(m.s.mode() == CpuMode::Long64);
}
