// A small table-free x86-64 encoder for the differential tester: an instruction is built from
// operands (registers, memory references, immediates, branch targets) plus the opcode bytes,
// and can be encoded at any address and printed as nasm source. The generator picks every
// encoding itself (ModRM direction, imm8 vs imm32 forms, ...), so the printed text says when
// nasm would pick a different encoding for the same instruction (`nasmExact`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hvlab::difftest {

constexpr uint8_t kNoReg = 0xff;

// Flag bits (the arithmetic part of RFLAGS).
namespace fl {
constexpr uint16_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7, OF = 1u << 11;
constexpr uint16_t ALL = CF | PF | AF | ZF | SF | OF;
}  // namespace fl
std::string flagNames(uint64_t bits);  // "{CF ZF}"

struct Reg {
    uint8_t num = 0;    // 0-15 (RAX..R15)
    uint8_t size = 8;   // 1, 2, 4, 8
    bool high = false;  // AH, CH, DH, BH (num 0-3): only without a REX prefix
};

struct Mem {
    uint8_t size = 8;  // operand size for the size keyword; 0: none (LEA)
    uint8_t base = kNoReg, index = kNoReg, scale = 0;  // scale: log2 (0-3)
    int64_t disp = 0;
    bool rip = false;     // [rel target]
    bool abs = false;     // [abs disp32]: SIB without base and index
    bool addr32 = false;  // 0x67: 32-bit address size
    bool disp32 = false;  // force a 32-bit displacement
    uint8_t seg = 0;      // segment-override prefix byte (0x64 = FS, ...), 0: none
    uint64_t target = 0;  // rip: the address referenced
};

enum class OpKind : uint8_t { Reg, Mem, Imm, Target, Moffs };

struct Operand {
    OpKind kind = OpKind::Reg;
    Reg reg;
    Mem mem;
    int64_t imm = 0;                   // Imm: the value as printed
    bool unsignedHex = false;          // Imm: print as an unsigned bit pattern
    const char* keyword = nullptr;     // Imm: "strict dword", ...; Target: "short", "near"
    uint64_t target = 0;               // Target: branch target; Moffs: the address
    uint8_t moffsSize = 0;             // Moffs: operand size (text only)

    static Operand r(Reg reg) { Operand o; o.kind = OpKind::Reg; o.reg = reg; return o; }
    static Operand m(Mem mem) { Operand o; o.kind = OpKind::Mem; o.mem = mem; return o; }
    static Operand i(int64_t value, const char* keyword = nullptr) {
        Operand o; o.kind = OpKind::Imm; o.imm = value; o.keyword = keyword; return o;
    }
    static Operand u(uint64_t value, const char* keyword = nullptr) {
        Operand o = i(static_cast<int64_t>(value), keyword); o.unsignedHex = true; return o;
    }
    static Operand t(uint64_t target, const char* keyword = nullptr) {
        Operand o; o.kind = OpKind::Target; o.target = target; o.keyword = keyword; return o;
    }
};

// What an instruction does to the arithmetic flags and the stack, for the generator's
// bookkeeping of which flags are undefined (SDM vol. 2, each instruction's "Flags Affected").
struct Effects {
    uint16_t read = 0;    // flags the instruction reads: they must be defined
    uint16_t def = 0;     // flags set to a defined value
    uint16_t undef = 0;   // flags left undefined
    bool maybeUnchanged = false;  // a run-time count may be 0: then no flag changes
    int16_t stack = 0;    // net change of RSP in bytes
    bool usesStack = false;  // PUSH/POP/CALL/RET or an RSP-based memory operand
};

struct Insn {
    std::string mnemonic;
    std::vector<Operand> ops;  // Intel order, as printed

    // Encoding.
    std::vector<uint8_t> opcode;  // opcode bytes (with 0F), no prefixes
    std::vector<uint8_t> prefixes;  // extra legacy prefixes (F0 LOCK, 67 for JECXZ), first
    bool p66 = false;
    bool rexW = false;
    int8_t rmOp = -1;     // operand encoded in ModRM.rm (Reg or Mem)
    int8_t regOp = -1;    // register operand encoded in ModRM.reg (else `digit`)
    uint8_t digit = 0;    // ModRM.reg when regOp < 0 (the /digit)
    bool modrm = false;
    int8_t plusOp = -1;   // register added to the last opcode byte (50+r, B8+r, ...)
    uint8_t immSize = 0;  // immediate bytes
    uint64_t imm = 0;
    uint8_t relSize = 0;  // branch displacement bytes (1 or 4), target from `targetOp`
    int8_t targetOp = -1;
    int8_t moffsOp = -1;  // 8-byte absolute address (A0-A3)
    bool nasmExact = true;  // nasm assembles the text to exactly these bytes
    uint8_t label = 0;      // for the generator's layout: the target is a label (see generator.cpp)
    bool optional = false;  // generated only if the interpreter implements it (its decoder says so)

    Effects fx;
};

// Encodes `insn` at `address`. Throws std::logic_error for an impossible encoding (a high
// byte register with REX, a displacement out of range unless `checkRanges` is false).
std::vector<uint8_t> encode(const Insn& insn, uint64_t address, bool checkRanges = true);
size_t encodedLength(const Insn& insn);
// True when the encoding is possible (no high byte register together with REX).
bool encodable(const Insn& insn);

// The instruction as text: nasm syntax with absolute addresses ("jz short 0x10040",
// "[rel 0x20010]"). For nasm source (`nasm`), addresses are relative to the code's origin
// `origin` ("$$+0x40") and an instruction nasm would encode differently is given as `db`.
std::string render(const Insn& insn, uint64_t address, bool nasm = false, uint64_t origin = 0);

const char* regName(unsigned num, unsigned size, bool high = false);
std::string hexBytes(const std::vector<uint8_t>& bytes);

}  // namespace hvlab::difftest
