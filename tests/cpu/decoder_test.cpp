// Decoder unit tests on raw bytes: prefixes, REX, ModRM/SIB in 16/32/64-bit addressing,
// operand-size rules, every immediate form, lengths, the 15-byte limit and the status codes.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/decoder.hpp"

using namespace hvlab::cpu;

namespace {

constexpr uint8_t kNone = 0xff;

struct Decoded {
    DecodeStatus status;
    DecodedInsn d;
};

Decoded dec(const std::vector<uint8_t>& bytes, CodeSize size = CodeSize::Bits32) {
    Decoded r;
    r.status = decode(bytes.data(), bytes.size(), size, r.d);
    return r;
}

// Decodes and requires success.
DecodedInsn ok(const std::vector<uint8_t>& bytes, CodeSize size = CodeSize::Bits32) {
    Decoded r = dec(bytes, size);
    INFO("status " << static_cast<int>(r.status));
    REQUIRE(r.status == DecodeStatus::Ok);
    return r.d;
}

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<uint8_t> repeat(uint8_t byte, size_t n) { return std::vector<uint8_t>(n, byte); }

constexpr CodeSize B16 = CodeSize::Bits16, B32 = CodeSize::Bits32, B64 = CodeSize::Bits64;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Legacy prefixes

TEST_CASE("decoder: 66 toggles the operand size in 16- and 32-bit code", "[decoder]") {
    DecodedInsn d = ok({0x01, 0xd8}, B32);  // add eax, ebx
    CHECK(d.opSize == 4);
    CHECK_FALSE(d.opSizePrefix);
    CHECK(d.length == 2);
    CHECK(d.hasModrm);
    CHECK(d.mod == 3);
    CHECK(d.reg == RBX);
    CHECK(d.rm == RAX);

    d = ok({0x66, 0x01, 0xd8}, B32);  // add ax, bx
    CHECK(d.opSize == 2);
    CHECK(d.opSizePrefix);
    CHECK(d.length == 3);

    CHECK(ok({0x01, 0xd8}, B16).opSize == 2);
    CHECK(ok({0x66, 0x01, 0xd8}, B16).opSize == 4);
    CHECK(ok({0x66, 0x66, 0x01, 0xd8}, B16).opSize == 4);  // repeated prefix: still one toggle
}

TEST_CASE("decoder: 67 toggles the address size", "[decoder]") {
    DecodedInsn d = ok({0x8b, 0x07}, B32);  // mov eax, [edi]
    CHECK(d.addrSize == 4);
    CHECK(d.base == RDI);

    d = ok({0x67, 0x8b, 0x07}, B32);  // mov eax, [bx]
    CHECK(d.addrSize == 2);
    CHECK(d.base == RBX);
    CHECK(d.index == kNone);
    CHECK(d.length == 3);

    d = ok({0x67, 0x8b, 0x07}, B16);  // mov ax, [edi]
    CHECK(d.addrSize == 4);
    CHECK(d.opSize == 2);
    CHECK(d.base == RDI);

    CHECK(ok({0x8b, 0x07}, B64).addrSize == 8);
    d = ok({0x67, 0x8b, 0x07}, B64);
    CHECK(d.addrSize == 4);
    CHECK(d.opSize == 4);
}

TEST_CASE("decoder: segment override prefixes select the memory operand's segment", "[decoder]") {
    const std::pair<uint8_t, unsigned> prefixes[] = {{0x26, ES}, {0x2e, CS}, {0x36, SS},
                                                     {0x3e, DS}, {0x64, FS}, {0x65, GS}};
    for (auto [prefix, seg] : prefixes) {
        INFO("prefix " << std::hex << int(prefix));
        DecodedInsn d = ok({prefix, 0x8b, 0x00});  // mov eax, [eax]
        CHECK(d.segment == seg);
        CHECK(d.segOverride == seg);
        CHECK(d.length == 3);
    }
    // Defaults: DS, and SS for EBP/ESP bases; an override beats the default.
    CHECK(ok({0x8b, 0x00}).segment == DS);
    CHECK(ok({0x8b, 0x00}).segOverride == kNone);
    CHECK(ok({0x8b, 0x45, 0x00}).segment == SS);
    CHECK(ok({0x3e, 0x8b, 0x45, 0x00}).segment == DS);
    // The last segment override wins.
    CHECK(ok({0x26, 0x64, 0x8b, 0x00}).segment == FS);
}

TEST_CASE("decoder: 64-bit code ignores ES/CS/SS/DS overrides but keeps FS/GS", "[decoder]") {
    for (uint8_t prefix : {0x26, 0x2e, 0x36, 0x3e}) {
        INFO("prefix " << std::hex << int(prefix));
        DecodedInsn d = ok({prefix, 0x8b, 0x00}, B64);  // mov eax, [rax]
        CHECK(d.segOverride == kNone);
        CHECK(d.segment == DS);
        CHECK(d.length == 3);
        d = ok({prefix, 0x8b, 0x45, 0x00}, B64);  // [rbp]: the default SS stays
        CHECK(d.segment == SS);
    }
    CHECK(ok({0x64, 0x8b, 0x00}, B64).segment == FS);
    CHECK(ok({0x65, 0x8b, 0x45, 0x00}, B64).segment == GS);
    CHECK(ok({0x64, 0x3e, 0x8b, 0x00}, B64).segment == FS);  // the ignored DS does not cancel FS
}

TEST_CASE("decoder: LOCK and REP prefixes; F2/F3 last one wins", "[decoder]") {
    DecodedInsn d = ok({0xf0, 0x01, 0x18});  // lock add [eax], ebx
    CHECK(d.lock);
    CHECK(d.rep == 0);
    CHECK(d.length == 3);

    CHECK(ok({0xa4}).rep == 0);
    CHECK(ok({0xf3, 0xa4}).rep == 0xf3);
    CHECK(ok({0xf2, 0xa6}).rep == 0xf2);
    CHECK(ok({0xf2, 0xf3, 0xa4}).rep == 0xf3);
    CHECK(ok({0xf3, 0xf2, 0xa4}).rep == 0xf2);

    d = ok({0xf3, 0x66, 0x67, 0x26, 0xf0, 0x01, 0x07}, B32);  // all kinds at once: lock add [es:bx], ax
    CHECK(d.rep == 0xf3);
    CHECK(d.opSize == 2);
    CHECK(d.addrSize == 2);
    CHECK(d.segOverride == ES);
    CHECK(d.lock);
    CHECK(d.length == 7);
}

// ---------------------------------------------------------------------------------------------
// REX

TEST_CASE("decoder: REX.W/R/X/B extend size and registers in 64-bit code", "[decoder][rex]") {
    DecodedInsn d = ok({0x48, 0x01, 0xd8}, B64);  // add rax, rbx
    CHECK(d.rex == 0x48);
    CHECK(d.opSize == 8);
    CHECK(d.reg == RBX);
    CHECK(d.rm == RAX);
    CHECK(d.length == 3);

    d = ok({0x4c, 0x01, 0xc0}, B64);  // add rax, r8 (REX.W+R)
    CHECK(d.reg == R8);
    CHECK(d.rm == RAX);

    d = ok({0x49, 0x01, 0xc0}, B64);  // add r8, rax (REX.W+B)
    CHECK(d.reg == RAX);
    CHECK(d.rm == R8);

    d = ok({0x4a, 0x8b, 0x04, 0x08}, B64);  // mov rax, [rax + r9] (REX.W+X)
    CHECK(d.index == R9);
    CHECK(d.base == RAX);
    CHECK(d.scale == 0);

    d = ok({0x4f, 0x8b, 0x3c, 0x09}, B64);  // mov r15, [r9 + r9]
    CHECK(d.reg == R15);
    CHECK(d.base == R9);
    CHECK(d.index == R9);

    d = ok({0x41, 0x50}, B64);  // push r8: REX.B extends the opcode register (the handler reads it)
    CHECK(d.rex == 0x41);
    CHECK(d.opcode == 0x50);
    CHECK(d.opSize == 8);

    d = ok({0x44, 0x89, 0xc0}, B64);  // mov eax, r8d: REX without W keeps 32 bits
    CHECK(d.opSize == 4);
    CHECK(d.reg == R8);
}

TEST_CASE("decoder: a REX followed by a legacy prefix is ignored", "[decoder][rex]") {
    DecodedInsn d = ok({0x48, 0x66, 0x01, 0xd8}, B64);  // the REX.W is dropped: add ax, bx
    CHECK(d.rex == 0);
    CHECK(d.opSize == 2);
    CHECK(d.length == 4);

    d = ok({0x66, 0x48, 0x01, 0xd8}, B64);  // REX.W after 66 applies, and wins over 66
    CHECK(d.rex == 0x48);
    CHECK(d.opSize == 8);

    d = ok({0x41, 0x3e, 0x01, 0xc0}, B64);  // REX.B dropped: rm is EAX, not R8D
    CHECK(d.rm == RAX);

    d = ok({0x4c, 0x41, 0x01, 0xc0}, B64);  // two REX bytes: only the last counts
    CHECK(d.rex == 0x41);
    CHECK(d.reg == RAX);
    CHECK(d.rm == R8);
    CHECK(d.opSize == 4);
}

TEST_CASE("decoder: 40-4F are INC/DEC outside 64-bit code", "[decoder][rex]") {
    DecodedInsn d = ok({0x40}, B32);
    CHECK(d.opcode == 0x40);
    CHECK(d.rex == 0);
    CHECK(d.length == 1);
    d = ok({0x4f}, B16);
    CHECK(d.opcode == 0x4f);
    CHECK(d.opSize == 2);
}

TEST_CASE("decoder: byte registers 4-7 are AH..BH without REX and SPL..DIL with it", "[decoder][rex]") {
    // The decoder reports register 4 both times; the REX byte tells the interpreter which.
    DecodedInsn d = ok({0x88, 0xe0}, B64);  // mov al, ah
    CHECK(d.opSize == 1);
    CHECK(d.reg == 4);
    CHECK(d.rex == 0);
    d = ok({0x40, 0x88, 0xe0}, B64);  // mov al, spl
    CHECK(d.opSize == 1);
    CHECK(d.reg == 4);
    CHECK(d.rex == 0x40);
    d = ok({0x40, 0xb7, 0x12}, B64);  // mov dil, 0x12
    CHECK(d.rex == 0x40);
    CHECK(d.opcode == 0xb7);
    CHECK(d.imm == 0x12);
    CHECK(d.length == 3);
    // REX.W does not widen a byte operation.
    CHECK(ok({0x48, 0x88, 0xe0}, B64).opSize == 1);
}

// ---------------------------------------------------------------------------------------------
// ModRM / SIB: 16-bit addressing

TEST_CASE("decoder: 16-bit ModRM, all eight r/m forms", "[decoder][modrm]") {
    struct Form {
        uint8_t rm;
        uint8_t base, index;
        unsigned seg;
    };
    const Form forms[] = {
        {0, RBX, RSI, DS}, {1, RBX, RDI, DS}, {2, RBP, RSI, SS}, {3, RBP, RDI, SS},
        {4, RSI, kNone, DS}, {5, RDI, kNone, DS}, {6, RBP, kNone, SS}, {7, RBX, kNone, DS},
    };
    for (const Form& f : forms) {
        INFO("rm " << int(f.rm));
        // mod 1: disp8, sign-extended.
        DecodedInsn d = ok({0x8b, static_cast<uint8_t>(0x40 | f.rm), 0xfe}, B16);
        CHECK(d.mod == 1);
        CHECK(d.base == f.base);
        CHECK(d.index == f.index);
        CHECK(d.segment == f.seg);
        CHECK(d.disp == -2);
        CHECK(d.length == 3);
        // mod 2: disp16, sign-extended.
        d = ok({0x8b, static_cast<uint8_t>(0x80 | f.rm), 0x00, 0x80}, B16);
        CHECK(d.base == f.base);
        CHECK(d.index == f.index);
        CHECK(d.disp == -0x8000);
        CHECK(d.length == 4);
        // mod 0 (except rm 6): no displacement.
        if (f.rm != 6) {
            d = ok({0x8b, f.rm}, B16);
            CHECK(d.base == f.base);
            CHECK(d.index == f.index);
            CHECK(d.segment == f.seg);
            CHECK(d.disp == 0);
            CHECK(d.length == 2);
        }
    }
}

TEST_CASE("decoder: 16-bit mod 0 r/m 6 is a bare disp16 in DS", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x06, 0x34, 0x12}, B16);  // mov ax, [0x1234]
    CHECK(d.base == kNone);
    CHECK(d.index == kNone);
    CHECK(d.disp == 0x1234);
    CHECK(d.segment == DS);
    CHECK(d.length == 4);
    CHECK(d.memOperand());
    // With mod 3 there is no memory operand and no displacement.
    d = ok({0x8b, 0xc6}, B16);
    CHECK_FALSE(d.memOperand());
    CHECK(d.length == 2);
}

// ---------------------------------------------------------------------------------------------
// ModRM / SIB: 32-bit addressing

TEST_CASE("decoder: 32-bit SIB with scale, index and base", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x04, 0x8b});  // mov eax, [ebx + ecx*4]
    CHECK(d.base == RBX);
    CHECK(d.index == RCX);
    CHECK(d.scale == 2);
    CHECK(d.segment == DS);
    CHECK(d.length == 3);

    d = ok({0x8b, 0x44, 0xf0, 0x10});  // mov eax, [eax + esi*8 + 0x10]
    CHECK(d.base == RAX);
    CHECK(d.index == RSI);
    CHECK(d.scale == 3);
    CHECK(d.disp == 0x10);
    CHECK(d.length == 4);

    d = ok({0x8b, 0x84, 0x4f, 0x00, 0x01, 0x00, 0x00});  // mov eax, [edi + ecx*2 + 0x100]
    CHECK(d.base == RDI);
    CHECK(d.index == RCX);
    CHECK(d.scale == 1);
    CHECK(d.disp == 0x100);
    CHECK(d.length == 7);
}

TEST_CASE("decoder: 32-bit SIB index 100 means no index; ESP base defaults to SS", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x04, 0x24});  // mov eax, [esp]
    CHECK(d.base == RSP);
    CHECK(d.index == kNone);
    CHECK(d.segment == SS);
    CHECK(d.length == 3);

    d = ok({0x8b, 0x44, 0x24, 0x04});  // [esp + 4]
    CHECK(d.base == RSP);
    CHECK(d.disp == 4);
    CHECK(d.segment == SS);

    d = ok({0x8b, 0x04, 0xa4});  // scale bits with index 100: still no index
    CHECK(d.index == kNone);
    CHECK(d.base == RSP);
}

TEST_CASE("decoder: 32-bit base 101 with mod 0 is disp32 without a base", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x04, 0x8d, 0x78, 0x56, 0x34, 0x12});  // mov eax, [ecx*4 + 0x12345678]
    CHECK(d.base == kNone);
    CHECK(d.index == RCX);
    CHECK(d.scale == 2);
    CHECK(d.disp == 0x12345678);
    CHECK(d.segment == DS);
    CHECK(d.length == 7);

    d = ok({0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00});  // [0x1000] via SIB, neither base nor index
    CHECK(d.base == kNone);
    CHECK(d.index == kNone);
    CHECK(d.disp == 0x1000);

    d = ok({0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff});  // mov eax, [0xfffffff0]: no RIP-relative outside 64-bit
    CHECK(d.base == kNone);
    CHECK_FALSE(d.ripRelative);
    CHECK(d.disp == -16);
    CHECK(d.length == 6);

    d = ok({0x8b, 0x44, 0x25, 0x08});  // SIB base 101 with mod 1 is EBP + disp8, in SS
    CHECK(d.base == RBP);
    CHECK(d.disp == 8);
    CHECK(d.segment == SS);
}

TEST_CASE("decoder: 32-bit EBP base defaults to SS, other bases to DS", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x45, 0x08});  // [ebp + 8]
    CHECK(d.base == RBP);
    CHECK(d.segment == SS);
    CHECK(d.disp == 8);
    d = ok({0x8b, 0x85, 0x00, 0xff, 0xff, 0xff});  // [ebp - 0x100]
    CHECK(d.disp == -0x100);
    CHECK(d.segment == SS);
    d = ok({0x8b, 0x04, 0x2e});  // [esi + ebp]: base ESI, so DS
    CHECK(d.base == RSI);
    CHECK(d.index == RBP);
    CHECK(d.segment == DS);
    d = ok({0x8b, 0x04, 0x35, 0, 0, 0, 0});  // [esi*1 + 0]: no base
    CHECK(d.base == kNone);
    CHECK(d.index == RSI);
}

// ---------------------------------------------------------------------------------------------
// ModRM / SIB: 64-bit addressing

TEST_CASE("decoder: RIP-relative addressing in 64-bit code", "[decoder][modrm]") {
    DecodedInsn d = ok({0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, B64);  // mov eax, [rip + 0x10]
    CHECK(d.ripRelative);
    CHECK(d.base == kNone);
    CHECK(d.index == kNone);
    CHECK(d.disp == 0x10);
    CHECK(d.length == 6);

    d = ok({0x48, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, B64);
    CHECK(d.ripRelative);
    CHECK(d.disp == -16);

    d = ok({0x41, 0x8b, 0x05, 0, 0, 0, 0}, B64);  // REX.B does not turn it into [r13]
    CHECK(d.ripRelative);
    CHECK(d.base == kNone);

    d = ok({0x67, 0x8b, 0x05, 4, 0, 0, 0}, B64);  // EIP-relative with 67
    CHECK(d.ripRelative);
    CHECK(d.addrSize == 4);

    d = ok({0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00}, B64);  // SIB no-base form is absolute
    CHECK_FALSE(d.ripRelative);
    CHECK(d.base == kNone);
    CHECK(d.disp == 0x1000);

    // An immediate after the displacement still counts in the length (RIP is the next insn).
    d = ok({0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12}, B64);  // mov dword [rip+16], imm32
    CHECK(d.ripRelative);
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 10);
}

TEST_CASE("decoder: R12 needs a SIB and R13 a displacement, as RSP and RBP do", "[decoder][modrm]") {
    DecodedInsn d = ok({0x49, 0x8b, 0x04, 0x24}, B64);  // mov rax, [r12]
    CHECK(d.base == R12);
    CHECK(d.index == kNone);
    CHECK(d.segment == DS);  // unlike RSP, R12 does not default to SS
    CHECK(d.length == 4);

    d = ok({0x49, 0x8b, 0x45, 0x00}, B64);  // mov rax, [r13 + 0]
    CHECK(d.base == R13);
    CHECK(d.disp == 0);
    CHECK(d.segment == DS);
    CHECK_FALSE(d.ripRelative);
    CHECK(d.length == 4);

    d = ok({0x41, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00}, B64);  // SIB base 101, mod 0, REX.B: still no base
    CHECK(d.base == kNone);
    CHECK(d.disp == 0x2000);
    CHECK(d.length == 8);

    d = ok({0x49, 0x8b, 0x44, 0x25, 0x08}, B64);  // [r13 + 8] via SIB
    CHECK(d.base == R13);
    CHECK(d.disp == 8);
}

TEST_CASE("decoder: REX.X makes R12 a valid index; index 100 without it is none", "[decoder][modrm]") {
    DecodedInsn d = ok({0x4a, 0x8b, 0x04, 0x20}, B64);  // mov rax, [rax + r12]
    CHECK(d.index == R12);
    CHECK(d.base == RAX);
    d = ok({0x48, 0x8b, 0x04, 0x20}, B64);  // mov rax, [rax]
    CHECK(d.index == kNone);
    CHECK(d.base == RAX);
    d = ok({0x4b, 0x8b, 0x44, 0xec, 0x10}, B64);  // mov rax, [r12 + r13*8 + 16]
    CHECK(d.base == R12);
    CHECK(d.index == R13);
    CHECK(d.scale == 3);
    CHECK(d.disp == 16);
}

// ---------------------------------------------------------------------------------------------
// Operand size

TEST_CASE("decoder: operand size defaults by code size", "[decoder][opsize]") {
    CHECK(ok({0x89, 0xc0}, B16).opSize == 2);
    CHECK(ok({0x89, 0xc0}, B32).opSize == 4);
    CHECK(ok({0x89, 0xc0}, B64).opSize == 4);
    CHECK(ok({0x66, 0x89, 0xc0}, B64).opSize == 2);
    CHECK(ok({0x48, 0x89, 0xc0}, B64).opSize == 8);
    CHECK(ok({0x66, 0x48, 0x89, 0xc0}, B64).opSize == 8);  // REX.W over 66
    CHECK(ok({0x88, 0xc0}, B64).opSize == 1);
}

TEST_CASE("decoder: stack operations default to 64 bits in long mode", "[decoder][opsize]") {
    for (const std::vector<uint8_t>& insn : std::vector<std::vector<uint8_t>>{
             {0x50}, {0x58}, {0x68, 0, 0, 0, 0}, {0x6a, 0}, {0x8f, 0xc0}, {0xff, 0xf0}, {0x9c}, {0x9d},
             {0x0f, 0xa0}, {0x0f, 0xa9}}) {
        INFO("opcode " << std::hex << int(insn[0]) << " " << int(insn.size() > 1 ? insn[1] : 0));
        CHECK(ok(insn, B64).opSize == 8);
        CHECK(ok(std::vector<uint8_t>{0x66} + insn, B64).opSize == 2);
        CHECK(ok(insn, B32).opSize == 4);
        CHECK(ok(insn, B16).opSize == 2);
    }
    CHECK(ok({0x66, 0x68, 0x34, 0x12}, B64).length == 4);  // push imm16
}

TEST_CASE("decoder: near branches are always 64-bit in long mode", "[decoder][opsize]") {
    // 66 does not shrink them (Intel): the displacement stays 32 bits.
    DecodedInsn d = ok({0x66, 0xe8, 0x00, 0x00, 0x00, 0x00}, B64);
    CHECK(d.opSize == 8);
    CHECK(d.length == 6);
    d = ok({0x66, 0xe9, 0x10, 0x00, 0x00, 0x00}, B64);
    CHECK(d.opSize == 8);
    CHECK(d.imm == 0x10);
    CHECK(ok({0xeb, 0xfe}, B64).opSize == 8);
    CHECK(ok({0x74, 0x00}, B64).opSize == 8);
    CHECK(ok({0x0f, 0x84, 0, 0, 0, 0}, B64).opSize == 8);
    CHECK(ok({0xc3}, B64).opSize == 8);
    CHECK(ok({0xc2, 8, 0}, B64).opSize == 8);
    CHECK(ok({0xe2, 0xfe}, B64).opSize == 8);
    CHECK(ok({0xff, 0xd0}, B64).opSize == 8);        // call rax
    CHECK(ok({0x66, 0xff, 0xe0}, B64).opSize == 8);  // jmp rax
    // In 32-bit code 66 makes them 16-bit.
    d = ok({0x66, 0xe8, 0x00, 0x00}, B32);
    CHECK(d.opSize == 2);
    CHECK(d.length == 4);
    // Far returns and IRET are not forced: 32 bits unless REX.W.
    CHECK(ok({0xcb}, B64).opSize == 4);
    CHECK(ok({0x48, 0xcb}, B64).opSize == 8);
    CHECK(ok({0x48, 0xcf}, B64).opSize == 8);
}

// ---------------------------------------------------------------------------------------------
// Immediates

TEST_CASE("decoder: ib is sign-extended", "[decoder][imm]") {
    DecodedInsn d = ok({0x83, 0xc0, 0xff});  // add eax, -1
    CHECK(d.imm == ~0ull);
    CHECK(d.length == 3);
    CHECK(ok({0x6a, 0x80}).imm == 0xffffffffffffff80ull);
    CHECK(ok({0x6a, 0x7f}).imm == 0x7f);
    CHECK(ok({0x04, 0x90}).imm == 0xffffffffffffff90ull);  // add al, 0x90: masked by the handler
    d = ok({0xc1, 0xe0, 0x04});                             // shl eax, 4
    CHECK(d.imm == 4);
    CHECK(d.length == 3);
    d = ok({0x6b, 0xc3, 0xfd});  // imul eax, ebx, -3
    CHECK(d.imm == static_cast<uint64_t>(-3));
    CHECK(d.length == 3);
}

TEST_CASE("decoder: iw is zero-extended", "[decoder][imm]") {
    DecodedInsn d = ok({0xc2, 0x10, 0x00});  // ret 0x10
    CHECK(d.imm == 0x10);
    CHECK(d.length == 3);
    CHECK(ok({0xc2, 0xff, 0xff}).imm == 0xffff);
    CHECK(ok({0xca, 0x04, 0x00}, B64).length == 3);
}

TEST_CASE("decoder: iz is 16 or 32 bits by operand size, sign-extended", "[decoder][imm]") {
    DecodedInsn d = ok({0x05, 0x78, 0x56, 0x34, 0x12});  // add eax, 0x12345678
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 5);
    d = ok({0x66, 0x05, 0x34, 0x12});  // add ax, 0x1234
    CHECK(d.imm == 0x1234);
    CHECK(d.length == 4);
    CHECK(ok({0x05, 0x00, 0x00, 0x00, 0x80}).imm == 0xffffffff80000000ull);
    d = ok({0x48, 0x05, 0xff, 0xff, 0xff, 0xff}, B64);  // add rax, -1: still a 32-bit immediate
    CHECK(d.imm == ~0ull);
    CHECK(d.length == 6);
    d = ok({0x48, 0xc7, 0xc0, 0x00, 0x00, 0x00, 0x80}, B64);  // mov rax, imm32 (sign-extended)
    CHECK(d.imm == 0xffffffff80000000ull);
    CHECK(d.length == 7);
    CHECK(ok({0x69, 0xc0, 0x10, 0x27, 0x00, 0x00}).length == 6);  // imul eax, eax, 10000
    CHECK(ok({0x05, 0x34, 0x12}, B16).length == 3);
}

TEST_CASE("decoder: iv follows the operand size, up to imm64", "[decoder][imm]") {
    DecodedInsn d = ok({0xb8, 0x78, 0x56, 0x34, 0x12});
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 5);
    d = ok({0x66, 0xb8, 0x34, 0x12});
    CHECK(d.imm == 0x1234);
    CHECK(d.length == 4);
    d = ok({0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}, B64);  // movabs rax, imm64
    CHECK(d.imm == 0x1122334455667788ull);
    CHECK(d.length == 10);
    d = ok({0xb8, 0x00, 0x00, 0x00, 0x80}, B64);  // mov eax, imm32 is zero-extended
    CHECK(d.imm == 0x80000000ull);
    CHECK(d.length == 5);
    d = ok({0x49, 0xbf, 1, 2, 3, 4, 5, 6, 7, 8}, B64);  // mov r15, imm64
    CHECK(d.imm == 0x0807060504030201ull);
    CHECK(d.length == 10);
    d = ok({0xb4, 0x12});  // mov ah, 0x12
    CHECK(d.opSize == 1);
    CHECK(d.imm == 0x12);
}

TEST_CASE("decoder: far pointers are offset then selector", "[decoder][imm]") {
    DecodedInsn d = ok({0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00});  // jmp 0x08:0x12345678
    CHECK(d.imm == 0x12345678);
    CHECK(d.imm2 == 0x08);
    CHECK(d.length == 7);
    d = ok({0xea, 0x00, 0x7c, 0x00, 0xf0}, B16);  // jmp 0xf000:0x7c00
    CHECK(d.imm == 0x7c00);
    CHECK(d.imm2 == 0xf000);
    CHECK(d.length == 5);
    d = ok({0x66, 0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00}, B16);  // 32-bit offset from 16-bit code
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 8);
    d = ok({0x9a, 0x34, 0x12, 0x00, 0x10}, B16);  // call 0x1000:0x1234
    CHECK(d.imm == 0x1234);
    CHECK(d.imm2 == 0x1000);
}

TEST_CASE("decoder: moffs follows the address size", "[decoder][imm]") {
    DecodedInsn d = ok({0xa1, 0x78, 0x56, 0x34, 0x12});
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 5);
    d = ok({0x67, 0xa1, 0x34, 0x12});
    CHECK(d.imm == 0x1234);
    CHECK(d.length == 4);
    CHECK(d.opSize == 4);
    d = ok({0xa0, 0x34, 0x12}, B16);
    CHECK(d.imm == 0x1234);
    CHECK(d.length == 3);
    d = ok({0xa3, 1, 2, 3, 4, 5, 6, 7, 8}, B64);  // mov [moffs64], eax
    CHECK(d.imm == 0x0807060504030201ull);
    CHECK(d.length == 9);
    d = ok({0x67, 0xa2, 1, 2, 3, 4}, B64);
    CHECK(d.imm == 0x04030201);
    CHECK(d.length == 6);
    CHECK(d.opSize == 1);
    d = ok({0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0}, B64);
    CHECK(d.opSize == 8);
    CHECK(d.length == 10);
}

TEST_CASE("decoder: group 3 has an immediate only for TEST", "[decoder][imm]") {
    DecodedInsn d = ok({0xf6, 0xc0, 0x80});  // test al, 0x80
    CHECK(d.length == 3);
    CHECK((d.imm & 0xff) == 0x80);
    CHECK(std::string(d.entry->mnemonic) == "test");
    d = ok({0xf6, 0xc8, 0x01});  // /1 is an alias of TEST
    CHECK(d.length == 3);
    d = ok({0xf7, 0xc0, 0x78, 0x56, 0x34, 0x12});  // test eax, imm32
    CHECK(d.imm == 0x12345678);
    CHECK(d.length == 6);
    d = ok({0x66, 0xf7, 0xc0, 0x34, 0x12});  // test ax, imm16
    CHECK(d.imm == 0x1234);
    CHECK(d.length == 5);
    d = ok({0x48, 0xf7, 0x05, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, B64);  // test qword [rip], -1
    CHECK(d.imm == ~0ull);
    CHECK(d.length == 11);
    const std::pair<uint8_t, const char*> others[] = {{0xd0, "not"}, {0xd8, "neg"}, {0xe0, "mul"},
                                                      {0xe8, "imul"}, {0xf0, "div"}, {0xf8, "idiv"}};
    for (auto [modrm, name] : others) {
        INFO(name);
        d = ok({0xf7, modrm});
        CHECK(d.length == 2);
        CHECK(std::string(d.entry->mnemonic) == name);
        d = ok({0xf6, modrm});
        CHECK(d.length == 2);
        CHECK(d.opSize == 1);
    }
}

TEST_CASE("decoder: ENTER has iw then ib", "[decoder][imm]") {
    Decoded r = dec({0xc8, 0x10, 0x00, 0x01});
    CHECK(r.status == DecodeStatus::Ok);
    CHECK(r.d.imm == 0x10);
    CHECK(r.d.imm2 == 1);
    CHECK(r.d.length == 4);
}

// ---------------------------------------------------------------------------------------------
// Lengths and limits

TEST_CASE("decoder: lengths of assorted instructions", "[decoder][length]") {
    const std::pair<std::vector<uint8_t>, unsigned> cases32[] = {
        {{0x90}, 1},
        {{0xc3}, 1},
        {{0xcd, 0x80}, 2},
        {{0x0f, 0xa2}, 2},
        {{0x0f, 0x01, 0x15, 0, 0, 0, 0}, 7},                 // lgdt [disp32]
        {{0x0f, 0x20, 0xc0}, 3},                             // mov eax, cr0
        {{0x0f, 0xb6, 0x44, 0x24, 0x08}, 5},                 // movzx eax, byte [esp+8]
        {{0x81, 0x84, 0x88, 1, 0, 0, 0, 2, 0, 0, 0}, 11},    // add dword [eax+ecx*4+1], 2
        {{0xc7, 0x44, 0x24, 0x04, 1, 0, 0, 0}, 8},           // mov dword [esp+4], 1
        {{0x66, 0xc7, 0x05, 0, 0, 0, 0, 0x34, 0x12}, 9},     // mov word [0], 0x1234
        {{0xc6, 0x80, 0, 1, 0, 0, 0x55}, 7},                 // mov byte [eax+0x100], 0x55
        {{0x0f, 0x8f, 0, 0, 0, 0}, 6},                       // jg rel32
        {{0x0f, 0xc8}, 2},                                   // bswap eax
        {{0xd3, 0xe0}, 2},                                   // shl eax, cl
    };
    for (const auto& [bytes, length] : cases32) {
        INFO("first byte " << std::hex << int(bytes[0]) << " " << int(bytes[1 % bytes.size()]));
        CHECK(ok(bytes).length == length);
    }
    CHECK(ok({0x0f, 0x01, 0x16, 0, 0}, B16).length == 5);  // lidt [disp16]
    CHECK(ok({0x0f, 0x01, 0x14, 0x25, 0, 0, 0, 0}, B64).length == 8);
}

TEST_CASE("decoder: 15 bytes are allowed, 16 are #GP (TooLong)", "[decoder][length]") {
    // 13 prefixes + add eax, ebx = 15 bytes.
    Decoded r = dec(repeat(0x3e, 13) + std::vector<uint8_t>{0x01, 0xd8});
    CHECK(r.status == DecodeStatus::Ok);
    CHECK(r.d.length == 15);
    // 14 prefixes + add = 16 bytes.
    CHECK(dec(repeat(0x3e, 14) + std::vector<uint8_t>{0x01, 0xd8}).status == DecodeStatus::TooLong);
    // 15 prefixes and no opcode in sight.
    CHECK(dec(repeat(0x66, 15)).status == DecodeStatus::TooLong);
    CHECK(dec(repeat(0x66, 20)).status == DecodeStatus::TooLong);
    // The limit counts immediates: 5 prefixes + mov [disp32], imm32 (10) = 15 is fine, 6 is not.
    const std::vector<uint8_t> movMemImm{0xc7, 0x05, 0, 0, 0, 0, 1, 2, 3, 4};
    CHECK(dec(repeat(0x2e, 5) + movMemImm).status == DecodeStatus::Ok);
    CHECK(dec(repeat(0x2e, 6) + movMemImm).status == DecodeStatus::TooLong);
    // 64-bit: REX + movabs (10) + 4 prefixes = 15; one more prefix is too long.
    const std::vector<uint8_t> movabs{0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(dec(repeat(0x66, 5) + movabs, B64).status == DecodeStatus::Ok);
    CHECK(dec(repeat(0x66, 6) + movabs, B64).status == DecodeStatus::TooLong);
}

TEST_CASE("decoder: the limit also applies when the opcode or ModRM is the 16th byte", "[decoder][length]") {
    // 14 prefixes, then a two-byte opcode whose second byte is byte 16.
    CHECK(dec(repeat(0x3e, 14) + std::vector<uint8_t>{0x0f, 0xa2}).status == DecodeStatus::TooLong);
    // 14 prefixes, then an opcode whose ModRM is byte 16.
    CHECK(dec(repeat(0x3e, 14) + std::vector<uint8_t>{0x8b, 0xc0}).status == DecodeStatus::TooLong);
    // 13 prefixes + 0F A2 = 15 bytes is fine.
    CHECK(dec(repeat(0x3e, 13) + std::vector<uint8_t>{0x0f, 0xa2}).status == DecodeStatus::Ok);
}

TEST_CASE("decoder: fewer bytes than the instruction needs is Truncated", "[decoder][length]") {
    CHECK(dec({}).status == DecodeStatus::Truncated);
    CHECK(dec({0x66}).status == DecodeStatus::Truncated);
    CHECK(dec({0x0f}).status == DecodeStatus::Truncated);
    CHECK(dec({0x8b}).status == DecodeStatus::Truncated);
    CHECK(dec({0x8b, 0x04}).status == DecodeStatus::Truncated);              // SIB missing
    CHECK(dec({0x8b, 0x05, 0x00, 0x00}).status == DecodeStatus::Truncated);  // disp32 cut short
    CHECK(dec({0xb8, 0x78, 0x56}).status == DecodeStatus::Truncated);
    CHECK(dec({0x48}, B64).status == DecodeStatus::Truncated);
    CHECK(dec({0x48, 0xb8, 1, 2, 3, 4}, B64).status == DecodeStatus::Truncated);
    CHECK(dec({0xea, 0x00, 0x10, 0x00}, B16).status == DecodeStatus::Truncated);  // selector missing
    // The exact length is enough.
    CHECK(dec({0xb8, 0x78, 0x56, 0x34, 0x12}).status == DecodeStatus::Ok);
}

// ---------------------------------------------------------------------------------------------
// Invalid and unimplemented opcodes

TEST_CASE("decoder: holes in the opcode map are InvalidOpcode", "[decoder][status]") {
    for (const std::vector<uint8_t>& bytes : std::vector<std::vector<uint8_t>>{
             {0x0f, 0x04}, {0x0f, 0x0a}, {0x0f, 0x0c}, {0x0f, 0x0e}, {0x0f, 0x24, 0xc0}, {0x0f, 0x38, 0x00, 0xc0},
             {0x0f, 0xa6}, {0x0f, 0xa7}, {0x0f, 0xfe}}) {
        INFO("0f " << std::hex << int(bytes[1]));
        CHECK(dec(bytes).status == DecodeStatus::InvalidOpcode);
    }
}

TEST_CASE("decoder: opcodes removed from 64-bit mode are InvalidOpcode there only", "[decoder][status]") {
    const std::vector<std::vector<uint8_t>> removed = {
        {0x06}, {0x07}, {0x0e}, {0x16}, {0x17}, {0x1e}, {0x1f}, {0x27}, {0x2f}, {0x37}, {0x3f},
        {0x60}, {0x61}, {0x62, 0x00}, {0x82, 0xc0, 0x01}, {0x9a, 0, 0, 0, 0, 0, 0},
        {0xc4, 0x00}, {0xc5, 0x00}, {0xce}, {0xd4, 0x0a}, {0xd5, 0x0a}, {0xd6}, {0xea, 0, 0, 0, 0, 0, 0},
    };
    for (const auto& bytes : removed) {
        INFO("opcode " << std::hex << int(bytes[0]));
        Decoded r64 = dec(bytes, B64);
        CHECK(r64.status == DecodeStatus::InvalidOpcode);
        Decoded r32 = dec(bytes, B32);
        CHECK(r32.status != DecodeStatus::InvalidOpcode);
        CHECK(r32.status != DecodeStatus::Truncated);
        CHECK(r32.d.length == bytes.size());
    }
}

TEST_CASE("decoder: named but unimplemented instructions are Unimplemented", "[decoder][status]") {
    const std::pair<std::vector<uint8_t>, const char*> cases[] = {
        {{0xd9, 0xe8}, "x87"},          // fld1
        {{0xdd, 0x04, 0x24}, "x87"},    // fld qword [esp]
        {{0xdb, 0xe3}, "x87"},          // fninit
        {{0xdf, 0xe0}, "x87"},          // fnstsw ax
        {{0xd8, 0xc1}, "x87"},          // fadd st0, st1
        {{0x9b}, "fwait"},
    };
    for (const auto& [bytes, name] : cases) {
        INFO(name);
        Decoded r = dec(bytes);
        CHECK(r.status == DecodeStatus::Unimplemented);
        CHECK(r.d.length == bytes.size());
        REQUIRE(r.d.entry != nullptr);
        CHECK(std::string(r.d.entry->mnemonic) == name);
    }
}

TEST_CASE("decoder: MOV to/from CRn ignores the mod field (always a register)", "[decoder]") {
    // Intel SDM, MOV - Move to/from Control Registers: "the 2 bits in the mod field are ignored".
    DecodedInsn d = ok({0x0f, 0x20, 0x05});  // mod 00 r/m 101: still mov ebp, cr0, 3 bytes
    CHECK(d.length == 3);
    CHECK(d.rm == RBP);
    CHECK(d.reg == 0);
    CHECK_FALSE(d.memOperand());
    d = ok({0x0f, 0x22, 0x44}, B64);  // mod 01 r/m 100: mov cr0, rsp, no SIB or displacement
    CHECK(d.length == 3);
    CHECK(d.rm == RSP);
    d = ok({0x44, 0x0f, 0x20, 0xc0}, B64);  // REX.R: mov rax, cr8
    CHECK(d.reg == 8);
    CHECK(d.length == 4);
}
