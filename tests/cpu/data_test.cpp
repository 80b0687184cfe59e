// Data movement: MOV in all its forms (registers, memory, segment registers, moffs,
// immediates), MOVZX/MOVSX/MOVSXD, LEA, XCHG, BSWAP, SETcc/CMOVcc for all conditions,
// LAHF/SAHF, the flag instructions and the NOP family.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {

// The sixteen conditions, from the flags (an independent restatement of SDM table B-1).
bool conditionHolds(unsigned cc, uint64_t f) {
    const bool cf = f & rflag::CF, pf = f & rflag::PF, zf = f & rflag::ZF, sf = f & rflag::SF, of = f & rflag::OF;
    switch (cc) {
        case 0x0: return of;                    // O
        case 0x1: return !of;                   // NO
        case 0x2: return cf;                    // B/C/NAE
        case 0x3: return !cf;                   // AE/NB/NC
        case 0x4: return zf;                    // E/Z
        case 0x5: return !zf;                   // NE/NZ
        case 0x6: return cf || zf;              // BE/NA
        case 0x7: return !cf && !zf;            // A/NBE
        case 0x8: return sf;                    // S
        case 0x9: return !sf;                   // NS
        case 0xa: return pf;                    // P/PE
        case 0xb: return !pf;                   // NP/PO
        case 0xc: return sf != of;              // L/NGE
        case 0xd: return sf == of;              // GE/NL
        case 0xe: return zf || sf != of;        // LE/NG
        default: return !zf && sf == of;        // G/NLE
    }
}

const char* const kCc[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};

// All 32 combinations of CF, PF, ZF, SF and OF.
std::vector<uint64_t> flagStates() {
    const uint64_t bits[] = {rflag::CF, rflag::PF, rflag::ZF, rflag::SF, rflag::OF};
    std::vector<uint64_t> out;
    for (unsigned n = 0; n < 32; ++n) {
        uint64_t f = rflag::RESERVED1;
        for (unsigned b = 0; b < 5; ++b)
            if (n & (1u << b)) f |= bits[b];
        out.push_back(f);
    }
    return out;
}

}  // namespace

TEST_CASE("data: MOV between registers and memory (88/89/8A/8B)", "[data]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rax, 0x1111111111111111\n mov rbx, 0x2222222222222233\n mov al, bl",     // 0: 88, low byte only
        "mov rax, 0x1111111111111111\n mov rbx, 0x2222222222224433\n mov al, bh",     // 1: BH without REX
        "mov rax, 0x1111111111111111\n mov rsi, 0x55\n mov al, sil",                  // 2: SIL needs REX
        "mov rax, -1\n mov ebx, 0x12345678\n mov eax, ebx",                            // 3: 32-bit zero-extends
        "mov rax, -1\n mov ebx, 0x1234\n mov ax, bx",                                  // 4: 16-bit preserves
        "mov r8, 0x8877665544332211\n mov rax, r8",                                    // 5: REX.R
        "mov rax, 0\n mov r9b, 0x7f\n mov al, r9b",                                    // 6: R9B
        "mov rbx, 0x0102030405060708\n mov [DATA], rbx",                               // 7: 89 to memory
        "mov rax, 0\n mov rax, [DATA]",                                                // 8: 8B from memory
        "mov rax, 0xaabb\n mov [DATA], ah",                                            // 9: 88 with AH
        "mov rax, 0\n mov ah, [DATA]",                                                 // 10: 8A into AH
        "mov r12, DATA\n mov r13, 1\n mov byte [r12 + r13*2], 0x99\n mov rax, 0",      // 11: SIB with REX.B/X
    });
    CHECK(r[0].rax == 0x1111111111111133ull);
    CHECK(r[1].rax == 0x1111111111111144ull);
    CHECK(r[2].rax == 0x1111111111111155ull);
    CHECK(r[3].rax == 0x12345678ull);
    CHECK(r[4].rax == 0xffffffffffff1234ull);
    CHECK(r[5].rax == 0x8877665544332211ull);
    CHECK(r[6].rax == 0x7f);
    CHECK(r[7].mem == 0x0102030405060708ull);
    CHECK(r[8].rax == 0x0102030405060708ull);
    CHECK(r[9].mem == 0x01020304050607aaull);
    CHECK(r[10].rax == 0xaa00);
    CHECK(r[11].mem == 0x01020304059907aaull);
}

TEST_CASE("data: byte registers 4-7 are AH..BH without REX, SPL..DIL with it", "[data]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov rax, 0x1111
        mov rsp, 0x7000
        mov rbp, 0x2222
        mov rsi, 0x3333
        mov rdi, 0x4444
        mov ah, 0xa1        ; no REX: AH
        mov ch, 0xa2
        mov dh, 0xa3
        mov bh, 0xa4
        mov bpl, 0xb1       ; REX: BPL
        mov sil, 0xb2
        mov dil, 0xb3
        mov r8, rsp
        mov spl, 0x10       ; REX: SPL
        xchg r8, rsp
    )");
    CHECK(m.reg(RAX) == 0xa111);
    CHECK(m.reg(RCX) == 0xa200);
    CHECK(m.reg(RDX) == 0xa300);
    CHECK(m.reg(RBX) == 0xa400);
    CHECK(m.reg(RBP) == 0x22b1);
    CHECK(m.reg(RSI) == 0x33b2);
    CHECK(m.reg(RDI) == 0x44b3);
    CHECK(m.reg(R8) == 0x7010);
    CHECK(m.reg(RSP) == 0x7000);
}

TEST_CASE("data: MOV with segment registers (8C/8E) in real mode", "[data][segment]") {
    Machine m(Mode::Real);
    m.run(R"(
        mov ax, 0x0c00
        mov ds, ax          ; DS.base = 0xc000
        mov word [0x10], 0xbeef
        mov bx, ds
        mov es, [0x10]      ; 8E from memory
        mov [0x20], es      ; 8C to memory: 16 bits
        mov ecx, 0xffffffff
        mov ecx, ss         ; 8C to a 32-bit register: zero-extended
        xor ax, ax
        mov ds, ax
    )");
    CHECK(m.read(Machine::kData + 0x10, 2) == 0xbeef);
    CHECK(m.reg(RBX) == 0x0c00);
    CHECK(m.s.seg[ES].selector == 0xbeef);
    CHECK(m.s.seg[ES].base == 0xbeef0);
    CHECK(m.read(Machine::kData + 0x20, 2) == 0xbeef);
    CHECK(m.read(Machine::kData + 0x22, 2) == 0);
    CHECK(m.reg(RCX) == 0);
    CHECK(m.s.seg[DS].base == 0);
}

TEST_CASE("data: MOV Sreg loads descriptors in protected mode", "[data][segment]") {
    SECTION("a data selector loads base, limit and access rights") {
        Machine m(Mode::Protected);
        m.run("mov ax, 0x20\n mov es, ax\n mov ax, 0x10\n mov fs, ax\n mov ebx, 0\n mov bx, es");
        CHECK(m.s.seg[ES].selector == Machine::kData16);
        CHECK(m.s.seg[ES].limit == 0xffff);
        CHECK(m.s.seg[ES].attributes == 0x0093);
        CHECK(m.s.seg[FS].limit == 0xffffffff);
        CHECK(m.s.seg[FS].attributes == 0xc093);
        CHECK(m.reg(RBX) == 0x20);
    }
    SECTION("the new limit is enforced: #GP(0) beyond it") {
        Machine m(Mode::Protected);
        m.run("mov ax, 0x20\n mov es, ax\n mov byte [es:0xfffe], 1\n mov byte [DATA], 1\n mov eax, [es:0xfffe]");
        CHECK(m.read(0xfffe, 1) == 1);
        CHECK(m.lastVector() == kGP);
        CHECK(m.stack(0, 4) == 0);  // error code
    }
    SECTION("MOV to CS and to register 6/7 are #UD") {
        const std::vector<std::string> codes = {"db 0x8e, 0xc8", "db 0x8e, 0xf0", "db 0x8c, 0xf8"};
        preassemble(Mode::Protected, codes);
        for (const std::string& bytes : codes) {
            Machine m(Mode::Protected);
            m.run(bytes);
            CHECK(m.lastVector() == kUD);
        }
    }
    SECTION("bad selectors are #GP with the selector as error code") {
        struct Case {
            const char* code;
            uint32_t error;
        };
        const Case cases[] = {
            {"xor eax, eax\n mov ss, ax", 0},        // null SS
            {"mov ax, 0x58\n mov ds, ax", 0x58},     // beyond the GDT limit
            {"mov ax, 0x13\n mov ds, ax", 0x10},     // RPL 3 > DPL 0
            {"mov ax, 0x08\n mov ss, ax", 0x08},     // code segment into SS
            {"mov ax, 0x3b\n mov ss, ax", 0x38},     // SS with DPL 3 at CPL 0
            {"mov ax, 0x48\n mov ds, ax", 0x48},     // a TSS is a system segment
        };
        std::vector<std::string> programs;
        for (const Case& c : cases) programs.push_back(c.code);
        preassemble(Mode::Protected, programs);
        for (const Case& c : cases) {
            INFO(c.code);
            Machine m(Mode::Protected);
            m.run(c.code);
            CHECK(m.lastVector() == kGP);
            CHECK(m.stack(0, 4) == c.error);
        }
    }
    SECTION("a null selector is fine in DS, faulting on use") {
        Machine m(Mode::Protected);
        m.run("xor eax, eax\n mov ds, ax\n mov ebx, 1\n mov eax, [ebx]");
        CHECK(m.s.seg[DS].selector == 0);
        CHECK(m.lastVector() == kGP);
    }
    SECTION("a readable code segment may be loaded into DS") {
        Machine m(Mode::Protected);
        m.run("mov ax, 0x08\n mov ds, ax\n mov eax, [DATA]");
        CHECK(m.lastVector() == -1);
        CHECK(m.s.seg[DS].isCode());
    }
}

TEST_CASE("data: MOV with moffs (A0-A3)", "[data]") {
    Machine p(Mode::Protected);
    p.write(Machine::kData, 8, 0x8877665544332211ull);
    p.run("mov al, [DATA]\n mov ebx, eax\n mov eax, [DATA+4]\n mov [DATA+8], eax\n mov ax, 0xabcd\n mov [DATA+12], al");
    CHECK(p.reg(RBX) == 0x11);
    CHECK(p.read(Machine::kData + 8, 4) == 0x88776655);
    CHECK(p.read(Machine::kData + 12, 1) == 0xcd);
    CHECK(p.read(Machine::kCode, 1) == 0xa0);  // the encoding really is the moffs form

    Machine r(Mode::Real);
    r.write(Machine::kData + 0x10, 2, 0x4321);
    r.run("mov ax, 0x0c00\n mov es, ax\n mov ax, [es:0x10]\n mov [es:0x12], ax");
    CHECK((r.reg(RAX) & 0xffff) == 0x4321);
    CHECK(r.read(Machine::kData + 0x12, 2) == 0x4321);

    Machine l(Mode::Long);
    l.write(Machine::kData, 8, 0x0102030405060708ull);
    l.write(Machine::kData2 + 0x10, 4, 0xcafef00d);
    l.s.seg[GS].base = Machine::kData2;
    l.run(R"(
        mov rax, [qword DATA]         ; 48 A1 moffs64
        mov rbx, rax
        mov eax, 0x99887766
        mov [qword DATA+8], eax       ; A3 moffs64
        mov eax, [gs:qword 0x10]      ; GS base applies
        mov ecx, eax
        mov al, [qword DATA+1]        ; A0
    )");
    CHECK(l.reg(RBX) == 0x0102030405060708ull);
    CHECK(l.read(Machine::kData + 8, 4) == 0x99887766);
    CHECK(l.reg(RCX) == 0xcafef00d);
    CHECK(l.reg(RAX) == 0xcafef007);
}

TEST_CASE("data: MOV immediates (B0-BF, C6/C7)", "[data]") {
    Machine l(Mode::Long);
    const auto r = l.snapshots({
        "mov rax, -1\n mov al, 0x12\n mov ah, 0x34",                    // B0, B4
        "mov rax, -1\n mov ax, 0x5678",                                 // 66 B8
        "mov rax, -1\n mov eax, 0x9abcdef0",                            // B8: zero-extends
        "mov rax, 0x123456789abcdef0",                                  // REX.W B8 imm64
        "mov rax, -2",                                                  // REX.W C7 /0: imm32 sign-extended
        "mov qword [DATA], -1\n mov byte [DATA], 0x42",                 // C6 /0
        "mov qword [DATA], -1\n mov dword [DATA], 0x80000000",          // C7 /0
        "mov qword [DATA], 0\n mov qword [DATA], -3",                   // REX.W C7 /0 on memory
        "mov qword [DATA], 0\n mov word [DATA], 0xbeef",                // 66 C7 /0
        "mov r15, 0x0fedcba987654321\n mov rax, r15",                   // REX.WB B8+7
        "mov rbx, 0\n mov bl, 0x80\n mov bh, 0x7f\n mov rax, rbx",      // B3, B7
    });
    CHECK(r[0].rax == 0xffffffffffff3412ull);
    CHECK(r[1].rax == 0xffffffffffff5678ull);
    CHECK(r[2].rax == 0x9abcdef0ull);
    CHECK(r[3].rax == 0x123456789abcdef0ull);
    CHECK(r[4].rax == static_cast<uint64_t>(-2));
    CHECK(r[5].mem == 0xffffffffffffff42ull);
    CHECK(r[6].mem == 0xffffffff80000000ull);
    CHECK(r[7].mem == static_cast<uint64_t>(-3));
    CHECK(r[8].mem == 0xbeef);
    CHECK(r[9].rax == 0x0fedcba987654321ull);
    CHECK(r[10].rax == 0x7f80);

    Machine real(Mode::Real);
    real.run("mov bx, 0x1234\n mov cl, 0x56\n mov dword [DATA], 0x11223344");
    CHECK(real.reg(RBX) == 0x1234);
    CHECK(real.reg(RCX) == 0x56);
    CHECK(real.read(Machine::kData, 4) == 0x11223344);
}

TEST_CASE("data: MOVZX and MOVSX from bytes and words", "[data]") {
    Machine l(Mode::Long);
    l.write(Machine::kData, 8, 0x000000000000f080ull);
    const auto r = l.snapshots({
        "mov rax, -1\n mov ebx, 0x80\n movzx eax, bl",          // 0F B6 r32
        "mov rax, -1\n mov ebx, 0x8000\n movzx eax, bx",        // 0F B7
        "mov rax, -1\n mov ebx, 0x80\n movsx eax, bl",          // 0F BE
        "mov rax, -1\n mov ebx, 0x8000\n movsx eax, bx",        // 0F BF
        "mov rax, -1\n movzx rax, byte [DATA]",                 // REX.W 0F B6 from memory
        "mov rax, 0\n movsx rax, word [DATA]",                  // REX.W 0F BF from memory
        "mov rax, 0x1111111111111111\n mov ebx, 0xff\n movsx ax, bl",  // 66 0F BE: 16-bit destination
        "mov rax, 0\n mov ebx, 0x9000\n movzx eax, bh",         // BH without REX
        "mov rax, 0\n mov esi, 0x90\n movsx rax, sil",          // SIL with REX
    });
    CHECK(r[0].rax == 0x80);
    CHECK(r[1].rax == 0x8000);
    CHECK(r[2].rax == 0xffffff80ull);
    CHECK(r[3].rax == 0xffff8000ull);
    CHECK(r[4].rax == 0x80);
    CHECK(r[5].rax == 0xfffffffffffff080ull);
    CHECK(r[6].rax == 0x111111111111ffffull);
    CHECK(r[7].rax == 0x90);
    CHECK(r[8].rax == 0xffffffffffffff90ull);

    Machine p(Mode::Protected);
    p.write(Machine::kData, 1, 0x9c);
    p.run("mov ebx, 0x1234fe\n movsx cx, bl\n movzx edx, cx\n movsx eax, byte [ebx - 0x1234fe + DATA]");
    CHECK(p.reg(RCX) == 0xfffe);
    CHECK(p.reg(RDX) == 0xfffe);
    CHECK(p.reg(RAX) == 0xffffff9c);
}

TEST_CASE("data: MOVSXD sign-extends a dword", "[data]") {
    Machine l(Mode::Long);
    l.write(Machine::kData, 4, 0x80000001);
    const auto r = l.snapshots({
        "mov ebx, 0x80000000\n movsxd rax, ebx",
        "mov ebx, 0x7fffffff\n movsxd rax, ebx",
        "movsxd rax, dword [DATA]",
        "mov rax, -1\n mov rbx, 0xffffffff80000000\n db 0x63, 0xc3",  // without REX.W: a 32-bit move
    });
    CHECK(r[0].rax == 0xffffffff80000000ull);
    CHECK(r[1].rax == 0x7fffffff);
    CHECK(r[2].rax == 0xffffffff80000001ull);
    CHECK(r[3].rax == 0x80000000ull);
}

TEST_CASE("data: LEA with 16-, 32- and 64-bit addressing", "[data]") {
    Machine real(Mode::Real);
    const auto r16 = real.snapshots({
        "mov bx, 0x100\n mov si, 0x20\n lea ax, [bx+si+0x10]",
        "mov bx, 0\n lea ax, [bx-1]",                  // wraps at 16 bits
        "mov bp, 0xfff0\n mov di, 0x20\n lea ax, [bp+di]",
        "mov eax, 0xffffffff\n mov bx, 0x1234\n lea eax, [bx]",   // 32-bit operand, 16-bit address: zero-extended
        "mov ebx, 0x12345678\n mov ecx, 2\n lea ax, [ebx+ecx*4]",  // 16-bit operand truncates
    });
    CHECK(r16[0].rax == 0x130);
    CHECK((r16[1].rax & 0xffff) == 0xffff);
    CHECK((r16[2].rax & 0xffff) == 0x0010);
    CHECK(r16[3].rax == 0x1234);
    CHECK((r16[4].rax & 0xffff) == 0x5680);

    Machine p(Mode::Protected);
    const auto r32 = p.snapshots({
        "mov ebx, 0x1000\n mov ecx, 3\n lea eax, [ebx+ecx*4+8]",
        "mov ecx, 0x10\n lea eax, [ecx*8]",
        "mov ebx, 0xffffffff\n lea eax, [ebx+2]",      // wraps at 32 bits
        "mov esp, 0x7000\n lea eax, [esp+0x10]",
        "mov eax, 0\n mov ebx, 0x10000\n mov esi, 0x10\n lea eax, [bx+si]",  // 67: 16-bit address
    });
    CHECK(r32[0].rax == 0x1014);
    CHECK(r32[1].rax == 0x80);
    CHECK(r32[2].rax == 1);
    CHECK(r32[3].rax == 0x7010);
    CHECK(r32[4].rax == 0x10);

    Machine l(Mode::Long);
    l.run(R"(
        lea rax, [rel target]
        mov rbx, target
        mov r12, 0x1000
        mov r13, 0x100
        lea rcx, [r12 + r13*2 + 5]
        mov rsi, 0xffffffff
        mov rdi, 2
        lea edx, [rsi + rdi]           ; 32-bit destination truncates
        lea r8, [esi + edi]            ; 67: the address wraps at 32 bits
        lea r9, [rsi + rdi]
        jmp target
        nop
    target:
    )");
    CHECK(l.reg(RAX) == l.reg(RBX));
    CHECK(l.reg(RCX) == 0x1205);
    CHECK(l.reg(RDX) == 1);
    CHECK(l.reg(R8) == 1);
    CHECK(l.reg(R9) == 0x100000001ull);

    Machine u(Mode::Protected);
    u.run("db 0x8d, 0xc0");  // LEA with a register operand
    CHECK(u.lastVector() == kUD);
}

TEST_CASE("data: XCHG forms and NOP", "[data]") {
    Machine p(Mode::Protected);
    const auto r = p.snapshots({
        "mov eax, 0x11\n mov ebx, 0x2233\n xchg al, bh",                 // 86
        "mov eax, 1\n mov dword [DATA], 2\n xchg eax, [DATA]",           // 87 with memory
        "mov eax, 5\n mov ecx, 6\n xchg eax, ecx\n mov ebx, ecx",        // 91
        "mov eax, 0x11110001\n mov edx, 0x22220002\n xchg ax, dx",       // 66 92
        "mov eax, 7\n nop",                                              // 90
        "mov eax, 8\n pause",                                            // F3 90
        "mov byte [DATA], 0x44\n mov ebx, 0x55\n xchg [DATA], bl",       // 86 with memory
    });
    CHECK(r[0].rax == 0x22);
    CHECK(r[0].rbx == 0x1133);
    CHECK(r[1].rax == 2);
    CHECK(r[1].mem == 1);
    CHECK(r[2].rax == 6);
    CHECK(r[2].rbx == 5);
    CHECK(r[3].rax == 0x11110002);
    CHECK(r[3].rdx == 0x22220001);
    CHECK(r[4].rax == 7);
    CHECK(r[5].rax == 8);
    CHECK(r[6].mem == 0x55);
    CHECK(r[6].rbx == 0x44);

    Machine l(Mode::Long);
    l.run(R"(
        mov rax, 0x1111111111111111
        mov r8, 0x2222222222222222
        xchg rax, r8                   ; 49 90: not a NOP
        mov rbx, 0xffffffff00000005
        mov rdx, rbx
        nop                            ; 90 leaves RAX alone
        db 0x87, 0xdb                  ; xchg ebx, ebx: zero-extends RBX
        mov rcx, -1
        mov rsi, 3
        xchg ecx, esi                  ; 87: both zero-extended
    )");
    CHECK(l.reg(RAX) == 0x2222222222222222ull);
    CHECK(l.reg(R8) == 0x1111111111111111ull);
    CHECK(l.reg(RBX) == 5);
    CHECK(l.reg(RDX) == 0xffffffff00000005ull);
    CHECK(l.reg(RCX) == 3);
    CHECK(l.reg(RSI) == 0xffffffffull);
}

TEST_CASE("data: BSWAP in 32 and 64 bits", "[data]") {
    Machine l(Mode::Long);
    l.run(R"(
        mov eax, 0x11223344
        bswap eax
        mov rbx, 0x0102030405060708
        bswap rbx
        mov r9, 0xffffffff12345678
        bswap r9d                      ; zero-extends R9
        mov r15, 0x1122334455667788
        bswap r15
    )");
    CHECK(l.reg(RAX) == 0x44332211);
    CHECK(l.reg(RBX) == 0x0807060504030201ull);
    CHECK(l.reg(R9) == 0x78563412);
    CHECK(l.reg(R15) == 0x8877665544332211ull);

    Machine p(Mode::Protected);
    p.run("mov edi, 0xdeadbeef\n bswap edi\n mov ecx, 0x01020304\n bswap ecx");
    CHECK(p.reg(RDI) == 0xefbeadde);
    CHECK(p.reg(RCX) == 0x04030201);
}

TEST_CASE("data: SETcc for all 16 conditions over all flag combinations", "[data][cc]") {
    Machine m(Mode::Protected);
    const auto states = flagStates();
    std::string program;
    for (size_t k = 0; k < states.size(); ++k) {
        program += fmt::format("push {:#x}\npopfd\n", states[k]);
        for (unsigned cc = 0; cc < 16; ++cc)
            program += fmt::format("set{} byte [DATA2 + {}]\n", kCc[cc], k * 16 + cc);
    }
    m.run(program);
    for (size_t k = 0; k < states.size(); ++k)
        for (unsigned cc = 0; cc < 16; ++cc) {
            INFO("set" << kCc[cc] << " with " << flagNames(states[k]));
            CHECK(m.read(Machine::kData2 + k * 16 + cc, 1) == (conditionHolds(cc, states[k]) ? 1u : 0u));
        }
}

TEST_CASE("data: SETcc to byte registers", "[data][cc]") {
    Machine l(Mode::Long);
    l.run(R"(
        mov rax, -1
        mov rsi, -1
        xor ecx, ecx          ; ZF = 1
        mov rcx, -1
        sete al
        setne ah
        sete sil
        mov r10, -1
        setz r10b
    )");
    CHECK(l.reg(RAX) == 0xffffffffffff0001ull);
    CHECK(l.reg(RSI) == 0xffffffffffffff01ull);
    CHECK(l.reg(R10) == 0xffffffffffffff01ull);
}

TEST_CASE("data: CMOVcc for all 16 conditions over all flag combinations", "[data][cc]") {
    Machine m(Mode::Protected);
    const auto states = flagStates();
    std::string program = "mov ebx, 0x22\n";
    for (size_t k = 0; k < states.size(); ++k) {
        for (unsigned cc = 0; cc < 16; ++cc) {
            program += fmt::format("mov eax, 0x11\npush {:#x}\npopfd\ncmov{} eax, ebx\n", states[k], kCc[cc]);
            program += fmt::format("mov [DATA2 + {}], al\n", k * 16 + cc);
        }
    }
    m.run(program);
    for (size_t k = 0; k < states.size(); ++k)
        for (unsigned cc = 0; cc < 16; ++cc) {
            INFO("cmov" << kCc[cc] << " with " << flagNames(states[k]));
            CHECK(m.read(Machine::kData2 + k * 16 + cc, 1) == (conditionHolds(cc, states[k]) ? 0x22u : 0x11u));
        }
}

TEST_CASE("data: CMOVcc operand sizes, memory source and zero-extension", "[data][cc]") {
    Machine l(Mode::Long);
    l.write(Machine::kData, 8, 0x1122334455667788ull);
    const auto r = l.snapshots({
        "mov rax, -1\n stc\n cmovc rax, [DATA]",          // taken, 64-bit from memory
        "mov rax, -1\n clc\n cmovc rax, [DATA]",          // not taken: untouched
        "mov rax, -1\n clc\n cmovc eax, [DATA]",          // not taken, 32-bit: upper half still cleared
        "mov rax, -1\n clc\n cmovc ax, [DATA]",           // not taken, 16-bit: untouched
        "mov rax, -1\n stc\n cmovc ax, [DATA]",           // taken, 16-bit
    });
    CHECK(r[0].rax == 0x1122334455667788ull);
    CHECK(r[1].rax == ~0ull);
    CHECK(r[2].rax == 0xffffffffull);
    CHECK(r[3].rax == ~0ull);
    CHECK(r[4].rax == 0xffffffffffff7788ull);

    // The source is read even when the condition is false: an unmapped page faults.
    Machine f(Mode::Long);
    f.run("clc\n cmovc eax, [0x400000]");
    CHECK(f.lastVector() == kPF);
    CHECK(f.s.cr2 == 0x400000);
}

TEST_CASE("data: LAHF and SAHF", "[data][flags]") {
    Machine p(Mode::Protected);
    const auto r = p.snapshots({
        "push 0x8d5\n popfd\n mov eax, 0\n lahf",          // all arithmetic flags set
        "push 0\n popfd\n mov eax, 0xffffffff\n lahf",     // none set: only bit 1 reads as 1
        "push 0x800\n popfd\n mov eax, 0xff00\n sahf",     // sets SF ZF AF PF CF, keeps OF
        "mov eax, 0x0000\n sahf",                          // clears them, keeps OF
    });
    CHECK(r[0].rax == 0xd700);
    CHECK(r[1].rax == 0xffff02ff);
    CHECK(r[2].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[3].arith() == OF);

    Machine l(Mode::Long);
    const auto q = l.snapshots({
        "push 0x41\n popfq\n mov rax, -1\n lahf",            // ZF CF
        "push 0x41\n popfq\n mov rax, -1\n mov rsp, 0x6f00\n db 0x40, 0x9f\n mov rsp, 0x7000",  // REX LAHF: still AH
        "push 0\n popfq\n mov rax, 0x8000\n sahf",
    });
    CHECK(q[0].rax == 0xffffffffffff43ffull);
    CHECK(q[1].rax == 0xffffffffffff43ffull);
    CHECK(q[2].arith() == SF);
}

TEST_CASE("data: CLC STC CMC CLD STD", "[data][flags]") {
    Machine p(Mode::Protected);
    const auto r = p.snapshots({
        "push 0x8d4\n popfd\n stc",
        "clc",
        "cmc",
        "cmc",
        "std",
        "cld",
        "mov eax, 0xffffffff\n add eax, 1\n cmc",  // CMC on lazily computed flags
    });
    CHECK(r[0].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[1].arith() == (PF | AF | ZF | SF | OF));
    CHECK(r[2].arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(r[3].arith() == (PF | AF | ZF | SF | OF));
    CHECK((r[4].rflags & rflag::DF) != 0);
    CHECK(r[4].arith() == (PF | AF | ZF | SF | OF));
    CHECK((r[5].rflags & rflag::DF) == 0);
    CHECK(r[6].arith() == (PF | AF | ZF));
}

TEST_CASE("data: NOP, hint NOPs and prefetches change nothing", "[data]") {
    Machine p(Mode::Protected);
    p.run(R"(
        mov eax, 0x12345678
        push 0x8d5
        popfd
        nop
        db 0x0f, 0x1f, 0x00                                  ; nop dword [eax]
        db 0x0f, 0x1f, 0x44, 0x00, 0x00                      ; 5-byte NOP
        db 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00  ; 9-byte NOP
        db 0x0f, 0x19, 0xc0                                  ; hint NOP
        db 0x0f, 0x1e, 0xfb                                  ; endbr32 encoding (hint NOP space)
        prefetcht0 [eax]                                     ; 0F 18 /1: no access to that address
        db 0x0f, 0x0d, 0x08                                  ; prefetchw [eax]
        mov ebx, 1
    )");
    CHECK(p.reg(RAX) == 0x12345678);
    CHECK(p.reg(RBX) == 1);
    CHECK(p.arith() == (CF | PF | AF | ZF | SF | OF));
    CHECK(p.lastVector() == -1);
}

TEST_CASE("data: every register form of MOV imm, XCHG eAX and BSWAP", "[data]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 0x11111111
        mov ecx, 0x22222222
        mov edx, 0x33333333
        mov ebx, 0x44444444
        mov esp, 0x55555555
        mov ebp, 0x66666666
        mov esi, 0x77777777
        mov edi, 0x88888888
        mov al, 0xa0            ; B0-B7
        mov cl, 0xa1
        mov dl, 0xa2
        mov bl, 0xa3
        mov ah, 0xa4
        mov ch, 0xa5
        mov dh, 0xa6
        mov bh, 0xa7
        xchg eax, ecx           ; 91-97
        xchg eax, edx
        xchg eax, ebx
        xchg eax, esp
        xchg eax, ebp
        xchg eax, esi
        xchg eax, edi
        bswap eax               ; 0F C8-CF
        bswap ecx
        bswap edx
        bswap ebx
        bswap esp
        bswap ebp
        bswap esi
        bswap edi
        bswap esp
        mov esp, 0x7000
    )");
    // After the MOVs: EAX a4a0, ECX a5a1, EDX a6a2, EBX a7a3 (upper halves kept), then the
    // XCHG chain rotates EAX through every register.
    CHECK(m.reg(RCX) == __builtin_bswap32(0x1111a4a0));
    CHECK(m.reg(RDX) == __builtin_bswap32(0x2222a5a1));
    CHECK(m.reg(RBX) == __builtin_bswap32(0x3333a6a2));
    CHECK(m.reg(RBP) == __builtin_bswap32(0x55555555));
    CHECK(m.reg(RSI) == __builtin_bswap32(0x66666666));
    CHECK(m.reg(RDI) == __builtin_bswap32(0x77777777));
    CHECK(m.reg(RAX) == __builtin_bswap32(0x88888888));
}

TEST_CASE("data: all hint NOPs 0F 19-1F", "[data]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov rax, 0x1234
        db 0x0f, 0x19, 0x00
        db 0x0f, 0x1a, 0x00
        db 0x0f, 0x1b, 0x00
        db 0x0f, 0x1c, 0x00
        db 0x0f, 0x1d, 0x00
        db 0x0f, 0x1e, 0x00
        db 0x0f, 0x1f, 0x00
        db 0x0f, 0x18, 0x00
        db 0x0f, 0x0d, 0x00
        mov rbx, rax
    )");
    CHECK(m.reg(RBX) == 0x1234);
    CHECK(m.lastVector() == -1);
}
