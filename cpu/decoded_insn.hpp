// One decoded instruction and the opcode tables' entry format. The decoder is table-driven:
// every opcode byte has an entry saying which operands follow and which handler executes it.
#pragma once

#include <cstdint>

namespace hvlab::cpu {

class Interpreter;
struct DecodedInsn;
using ExecFn = void (*)(Interpreter&, const DecodedInsn&);

// Operand-form flags of an opcode table entry.
enum OpForm : uint16_t {
    kModrm = 1u << 0,      // a ModRM byte follows
    kImm8 = 1u << 1,       // ib
    kImm16 = 1u << 2,      // iw
    kImmZ = 1u << 3,       // iz: 16 or 32 bits by operand size (sign-extended to 64)
    kImmV = 1u << 4,       // iv: 16/32/64 bits by operand size (MOV r64, imm64)
    kFarPtr = 1u << 5,     // Ap: offset (16/32) then a 16-bit selector
    kMoffs = 1u << 6,      // moffs: an address-size offset
    kDefault64 = 1u << 7,  // operand size defaults to 64 in long mode (stack, near branches)
    kForce64 = 1u << 8,    // operand size is always 64 in long mode (near branches)
    kInvalid64 = 1u << 9,  // #UD in 64-bit mode
    kGroup = 1u << 10,     // the ModRM reg field selects the entry from a group table
    kByteOp = 1u << 11,    // 8-bit operand (the handler may also look at opcode bit 0)
    kImmEnter = 1u << 12,  // iw then ib (ENTER)
    kPrefix = 1u << 13,    // a legacy prefix byte (decoder only)
    kLockable = 1u << 14,  // LOCK is allowed (with a memory destination); otherwise LOCK is #UD
};

struct OpcodeEntry {
    ExecFn exec = nullptr;  // nullptr: not implemented yet
    uint16_t form = 0;
    uint8_t group = 0;      // group table index when kGroup
    const char* mnemonic = nullptr;
};

struct DecodedInsn {
    ExecFn exec = nullptr;
    uint8_t length = 0;
    uint8_t map = 0;  // 0: one-byte opcodes, 1: 0F xx
    uint8_t opcode = 0;
    uint8_t opSize = 4;    // 1, 2, 4 or 8 bytes
    uint8_t addrSize = 4;  // 2, 4 or 8 bytes
    uint8_t segment = 3;   // the segment of the memory operand (default or override); DS = 3
    uint8_t segOverride = 0xff;
    uint8_t rep = 0;       // 0, 0xF3 (REP/REPE) or 0xF2 (REPNE)
    bool lock = false;
    uint8_t rex = 0;       // the REX byte (0x40-0x4F) or 0 when absent
    bool opSizePrefix = false;
    bool mode64 = false;   // decoded as 64-bit code
    uint8_t codeSize = 0;  // the CodeSize it was decoded for (the decode cache checks it)

    // ModRM / SIB, with REX extensions applied.
    bool hasModrm = false;
    uint8_t mod = 0, reg = 0, rm = 0;
    uint8_t base = 0xff, index = 0xff, scale = 0;  // 0xff: none
    bool ripRelative = false;
    int64_t disp = 0;

    uint64_t imm = 0;   // first immediate (sign-extended where the form says so)
    uint64_t imm2 = 0;  // second immediate: far pointer selector, ENTER level

    const OpcodeEntry* entry = nullptr;

    // Links the interpreter keeps between cached instructions of one page: the instruction that
    // follows this one, and the one a taken branch lands on (with its RIP), when they were seen.
    mutable const DecodedInsn* next = nullptr;
    mutable const DecodedInsn* taken = nullptr;
    mutable uint64_t takenRip = 0;

    bool memOperand() const { return hasModrm && mod != 3; }
};

}  // namespace hvlab::cpu
