// The opcode tables: for every opcode, its operand form and handler. An entry with no handler
// is a valid instruction the interpreter does not implement yet (reported, never skipped);
// `ud` marks encodings that are architecturally invalid (#UD).
#include <array>

#include "cpu/decoder.hpp"
#include "cpu/handlers.hpp"

namespace hvlab::cpu {

namespace {

using namespace exec;
using Table = std::array<OpcodeEntry, 256>;
using Group = std::array<OpcodeEntry, 8>;

enum GroupId : uint8_t {
    kG1, kG2, kG3b, kG3v, kG4, kG5, kG11, kG1a, kG6, kG7, kG8, kG9, kGroupCount
};

constexpr uint16_t M = kModrm;
constexpr uint16_t L = kLockable;  // LOCK allowed (with a memory destination)

template <Alu op>
void setAluRow(Table& t, uint8_t base, const char* name) {
    constexpr uint16_t lock = op == Alu::Cmp ? 0 : L;  // op r/m, reg: a read-modify-write of r/m
    t[base + 0] = {aluForm<op>, M | kByteOp | lock, 0, name};
    t[base + 1] = {aluForm<op>, M | lock, 0, name};
    t[base + 2] = {aluForm<op>, M | kByteOp, 0, name};
    t[base + 3] = {aluForm<op>, M, 0, name};
    t[base + 4] = {aluForm<op>, kImm8 | kByteOp, 0, name};
    t[base + 5] = {aluForm<op>, kImmZ, 0, name};
}

Table buildOneByte() {
    Table t{};
    setAluRow<Alu::Add>(t, 0x00, "add");
    setAluRow<Alu::Or>(t, 0x08, "or");
    setAluRow<Alu::Adc>(t, 0x10, "adc");
    setAluRow<Alu::Sbb>(t, 0x18, "sbb");
    setAluRow<Alu::And>(t, 0x20, "and");
    setAluRow<Alu::Sub>(t, 0x28, "sub");
    setAluRow<Alu::Xor>(t, 0x30, "xor");
    setAluRow<Alu::Cmp>(t, 0x38, "cmp");
    t[0x06] = {pushSeg, kInvalid64, 0, "push es"};
    t[0x07] = {popSeg, kInvalid64, 0, "pop es"};
    t[0x0e] = {pushSeg, kInvalid64, 0, "push cs"};
    t[0x16] = {pushSeg, kInvalid64, 0, "push ss"};
    t[0x17] = {popSeg, kInvalid64, 0, "pop ss"};
    t[0x1e] = {pushSeg, kInvalid64, 0, "push ds"};
    t[0x1f] = {popSeg, kInvalid64, 0, "pop ds"};
    t[0x27] = {daa, kInvalid64, 0, "daa"};
    t[0x2f] = {das, kInvalid64, 0, "das"};
    t[0x37] = {aaa, kInvalid64, 0, "aaa"};
    t[0x3f] = {aas, kInvalid64, 0, "aas"};
    for (unsigned op = 0x40; op < 0x50; ++op) t[op] = {incDecReg, 0, 0, op < 0x48 ? "inc" : "dec"};
    for (unsigned op = 0x50; op < 0x58; ++op) t[op] = {pushReg, kDefault64, 0, "push"};
    for (unsigned op = 0x58; op < 0x60; ++op) t[op] = {popReg, kDefault64, 0, "pop"};
    t[0x60] = {pusha, kInvalid64, 0, "pusha"};
    t[0x61] = {popa, kInvalid64, 0, "popa"};
    t[0x62] = {bound, M | kInvalid64, 0, "bound"};
    t[0x63] = {arpl, M, 0, "movsxd"};  // ARPL outside 64-bit mode
    t[0x68] = {pushImm, kImmZ | kDefault64, 0, "push"};
    t[0x69] = {imulRegRmImm, M | kImmZ, 0, "imul"};
    t[0x6a] = {pushImm, kImm8 | kDefault64, 0, "push"};
    t[0x6b] = {imulRegRmImm, M | kImm8, 0, "imul"};
    t[0x6c] = {ins, kByteOp, 0, "insb"};
    t[0x6d] = {ins, 0, 0, "ins"};
    t[0x6e] = {outs, kByteOp, 0, "outsb"};
    t[0x6f] = {outs, 0, 0, "outs"};
    for (unsigned op = 0x70; op < 0x80; ++op) t[op] = {jccRel, kImm8 | kForce64, 0, "jcc"};
    t[0x80] = {nullptr, M | kGroup | kImm8 | kByteOp, kG1, "grp1"};
    t[0x81] = {nullptr, M | kGroup | kImmZ, kG1, "grp1"};
    t[0x82] = {nullptr, M | kGroup | kImm8 | kByteOp | kInvalid64, kG1, "grp1"};
    t[0x83] = {nullptr, M | kGroup | kImm8, kG1, "grp1"};
    t[0x84] = {testForm, M | kByteOp, 0, "test"};
    t[0x85] = {testForm, M, 0, "test"};
    t[0x86] = {xchgRmReg, M | kByteOp | L, 0, "xchg"};
    t[0x87] = {xchgRmReg, M | L, 0, "xchg"};
    t[0x88] = {movRmReg, M | kByteOp, 0, "mov"};
    t[0x89] = {movRmReg, M, 0, "mov"};
    t[0x8a] = {movRegRm, M | kByteOp, 0, "mov"};
    t[0x8b] = {movRegRm, M, 0, "mov"};
    t[0x8c] = {movRmSreg, M, 0, "mov"};
    t[0x8d] = {lea, M, 0, "lea"};
    t[0x8e] = {movSregRm, M, 0, "mov"};
    t[0x8f] = {nullptr, M | kGroup | kDefault64, kG1a, "grp1a"};
    for (unsigned op = 0x90; op < 0x98; ++op) t[op] = {xchgAcc, 0, 0, op == 0x90 ? "nop" : "xchg"};
    t[0x98] = {cbwFamily, 0, 0, "cbw"};
    t[0x99] = {cwdFamily, 0, 0, "cwd"};
    t[0x9a] = {callFarPtr, kFarPtr | kInvalid64, 0, "call far"};
    t[0x9b] = {nullptr, 0, 0, "fwait"};
    t[0x9c] = {pushf, kDefault64, 0, "pushf"};
    t[0x9d] = {popf, kDefault64, 0, "popf"};
    t[0x9e] = {sahf, 0, 0, "sahf"};
    t[0x9f] = {lahf, 0, 0, "lahf"};
    t[0xa0] = {movAccMoffs, kMoffs | kByteOp, 0, "mov"};
    t[0xa1] = {movAccMoffs, kMoffs, 0, "mov"};
    t[0xa2] = {movAccMoffs, kMoffs | kByteOp, 0, "mov"};
    t[0xa3] = {movAccMoffs, kMoffs, 0, "mov"};
    t[0xa4] = {movs, kByteOp, 0, "movsb"};
    t[0xa5] = {movs, 0, 0, "movs"};
    t[0xa6] = {cmps, kByteOp, 0, "cmpsb"};
    t[0xa7] = {cmps, 0, 0, "cmps"};
    t[0xa8] = {testForm, kImm8 | kByteOp, 0, "test"};
    t[0xa9] = {testForm, kImmZ, 0, "test"};
    t[0xaa] = {stos, kByteOp, 0, "stosb"};
    t[0xab] = {stos, 0, 0, "stos"};
    t[0xac] = {lods, kByteOp, 0, "lodsb"};
    t[0xad] = {lods, 0, 0, "lods"};
    t[0xae] = {scas, kByteOp, 0, "scasb"};
    t[0xaf] = {scas, 0, 0, "scas"};
    for (unsigned op = 0xb0; op < 0xb8; ++op) t[op] = {movRegImm, kImm8 | kByteOp, 0, "mov"};
    for (unsigned op = 0xb8; op < 0xc0; ++op) t[op] = {movRegImm, kImmV, 0, "mov"};
    t[0xc0] = {nullptr, M | kGroup | kImm8 | kByteOp, kG2, "grp2"};
    t[0xc1] = {nullptr, M | kGroup | kImm8, kG2, "grp2"};
    t[0xc2] = {retNear, kImm16 | kForce64, 0, "ret"};
    t[0xc3] = {retNear, kForce64, 0, "ret"};
    t[0xc4] = {loadFarPointer, M | kInvalid64, 0, "les"};
    t[0xc5] = {loadFarPointer, M | kInvalid64, 0, "lds"};
    t[0xc6] = {nullptr, M | kGroup | kByteOp | kImm8, kG11, "grp11"};
    t[0xc7] = {nullptr, M | kGroup | kImmZ, kG11, "grp11"};
    t[0xc8] = {enter, kImmEnter | kDefault64, 0, "enter"};
    t[0xc9] = {leave, kDefault64, 0, "leave"};
    t[0xca] = {retFar, kImm16, 0, "retf"};
    t[0xcb] = {retFar, 0, 0, "retf"};
    t[0xcc] = {int3, 0, 0, "int3"};
    t[0xcd] = {intImm, kImm8, 0, "int"};
    t[0xce] = {into, kInvalid64, 0, "into"};
    t[0xcf] = {iret, 0, 0, "iret"};
    t[0xd0] = {nullptr, M | kGroup | kByteOp, kG2, "grp2"};
    t[0xd1] = {nullptr, M | kGroup, kG2, "grp2"};
    t[0xd2] = {nullptr, M | kGroup | kByteOp, kG2, "grp2"};
    t[0xd3] = {nullptr, M | kGroup, kG2, "grp2"};
    t[0xd4] = {aam, kImm8 | kInvalid64, 0, "aam"};
    t[0xd5] = {aad, kImm8 | kInvalid64, 0, "aad"};
    t[0xd6] = {ud, kInvalid64, 0, "salc"};  // undocumented; not modelled: #UD
    t[0xd7] = {xlat, 0, 0, "xlat"};
    for (unsigned op = 0xd8; op < 0xe0; ++op) t[op] = {nullptr, M, 0, "x87"};
    t[0xe0] = {loopFamily, kImm8 | kForce64, 0, "loopne"};
    t[0xe1] = {loopFamily, kImm8 | kForce64, 0, "loope"};
    t[0xe2] = {loopFamily, kImm8 | kForce64, 0, "loop"};
    t[0xe3] = {loopFamily, kImm8 | kForce64, 0, "jcxz"};
    t[0xe4] = {inImm, kImm8 | kByteOp, 0, "in"};
    t[0xe5] = {inImm, kImm8, 0, "in"};
    t[0xe6] = {outImm, kImm8 | kByteOp, 0, "out"};
    t[0xe7] = {outImm, kImm8, 0, "out"};
    t[0xe8] = {callRel, kImmZ | kForce64, 0, "call"};
    t[0xe9] = {jmpRel, kImmZ | kForce64, 0, "jmp"};
    t[0xea] = {jmpFarPtr, kFarPtr | kInvalid64, 0, "jmp far"};
    t[0xeb] = {jmpRel, kImm8 | kForce64, 0, "jmp"};
    t[0xec] = {inDx, kByteOp, 0, "in"};
    t[0xed] = {inDx, 0, 0, "in"};
    t[0xee] = {outDx, kByteOp, 0, "out"};
    t[0xef] = {outDx, 0, 0, "out"};
    t[0xf1] = {int1, 0, 0, "int1"};
    t[0xf4] = {hlt, 0, 0, "hlt"};
    t[0xf5] = {flagOp, 0, 0, "cmc"};
    t[0xf6] = {nullptr, M | kGroup | kByteOp, kG3b, "grp3"};
    t[0xf7] = {nullptr, M | kGroup, kG3v, "grp3"};
    t[0xf8] = {flagOp, 0, 0, "clc"};
    t[0xf9] = {flagOp, 0, 0, "stc"};
    t[0xfa] = {cli, 0, 0, "cli"};
    t[0xfb] = {sti, 0, 0, "sti"};
    t[0xfc] = {flagOp, 0, 0, "cld"};
    t[0xfd] = {flagOp, 0, 0, "std"};
    t[0xfe] = {nullptr, M | kGroup | kByteOp, kG4, "grp4"};
    t[0xff] = {nullptr, M | kGroup, kG5, "grp5"};
    return t;
}

Table buildTwoByte() {
    Table t{};
    t[0x00] = {nullptr, M | kGroup, kG6, "grp6"};
    t[0x01] = {group7, M, 0, "grp7"};
    t[0x02] = {larLsl, M, 0, "lar"};
    t[0x03] = {larLsl, M, 0, "lsl"};
    t[0x05] = {syscall, 0, 0, "syscall"};
    t[0x06] = {clts, 0, 0, "clts"};
    t[0x07] = {sysret, 0, 0, "sysret"};
    t[0x08] = {cacheControl, 0, 0, "invd"};
    t[0x09] = {cacheControl, 0, 0, "wbinvd"};
    t[0x0b] = {ud, 0, 0, "ud2"};
    t[0x0d] = {nop, M, 0, "prefetch"};
    t[0x18] = {nop, M, 0, "prefetch"};
    for (unsigned op = 0x19; op < 0x20; ++op) t[op] = {nop, M, 0, "nop"};  // hint NOPs
    t[0x20] = {movFromCr, M, 0, "mov"};
    t[0x21] = {movDr, M, 0, "mov dr"};
    t[0x22] = {movToCr, M, 0, "mov"};
    t[0x23] = {movDr, M, 0, "mov dr"};
    t[0x30] = {wrmsr, 0, 0, "wrmsr"};
    t[0x31] = {rdtsc, 0, 0, "rdtsc"};
    t[0x32] = {rdmsr, 0, 0, "rdmsr"};
    t[0x33] = {rdpmc, 0, 0, "rdpmc"};
    t[0x34] = {sysenter, 0, 0, "sysenter"};
    t[0x35] = {sysexit, 0, 0, "sysexit"};
    for (unsigned op = 0x40; op < 0x50; ++op) t[op] = {cmovcc, M, 0, "cmovcc"};
    for (unsigned op = 0x80; op < 0x90; ++op) t[op] = {jccRel, kImmZ | kForce64, 0, "jcc"};
    for (unsigned op = 0x90; op < 0xa0; ++op) t[op] = {setcc, M | kByteOp, 0, "setcc"};
    t[0xa0] = {pushSeg, kDefault64, 0, "push fs"};
    t[0xa1] = {popSeg, kDefault64, 0, "pop fs"};
    t[0xa2] = {cpuid, 0, 0, "cpuid"};
    t[0xa3] = {btRmReg, M, 0, "bt"};
    t[0xa4] = {doubleShift, M | kImm8, 0, "shld"};
    t[0xa5] = {doubleShift, M, 0, "shld"};
    t[0xa8] = {pushSeg, kDefault64, 0, "push gs"};
    t[0xa9] = {popSeg, kDefault64, 0, "pop gs"};
    t[0xab] = {btRmReg, M | L, 0, "bts"};
    t[0xac] = {doubleShift, M | kImm8, 0, "shrd"};
    t[0xad] = {doubleShift, M, 0, "shrd"};
    t[0xae] = {fences, M, 0, "fence"};
    t[0xaf] = {imulRegRm, M, 0, "imul"};
    t[0xb0] = {cmpxchg, M | kByteOp | L, 0, "cmpxchg"};
    t[0xb1] = {cmpxchg, M | L, 0, "cmpxchg"};
    t[0xb2] = {loadFarPointer, M, 0, "lss"};
    t[0xb3] = {btRmReg, M | L, 0, "btr"};
    t[0xb4] = {loadFarPointer, M, 0, "lfs"};
    t[0xb5] = {loadFarPointer, M, 0, "lgs"};
    t[0xb6] = {movzx, M, 0, "movzx"};
    t[0xb7] = {movzx, M, 0, "movzx"};
    t[0xb9] = {ud, M, 0, "ud1"};
    t[0xba] = {nullptr, M | kGroup | kImm8, kG8, "grp8"};
    t[0xbb] = {btRmReg, M | L, 0, "btc"};
    t[0xbc] = {bitScan, M, 0, "bsf"};  // F3 0F BC (TZCNT) is BSF: BMI1 is not advertised
    t[0xbd] = {bitScan, M, 0, "bsr"};  // F3 0F BD (LZCNT) is BSR: ABM is not advertised
    t[0xbe] = {movsx, M, 0, "movsx"};
    t[0xbf] = {movsx, M, 0, "movsx"};
    t[0xc0] = {xadd, M | kByteOp | L, 0, "xadd"};
    t[0xc1] = {xadd, M | L, 0, "xadd"};
    t[0xc7] = {nullptr, M | kGroup, kG9, "grp9"};
    for (unsigned op = 0xc8; op < 0xd0; ++op) t[op] = {bswap, 0, 0, "bswap"};
    t[0xff] = {ud, M, 0, "ud0"};
    return t;
}

std::array<Group, kGroupCount> buildGroups() {
    std::array<Group, kGroupCount> g{};
    g[kG1] = {{{aluRmImm<Alu::Add>, L, 0, "add"}, {aluRmImm<Alu::Or>, L, 0, "or"},
               {aluRmImm<Alu::Adc>, L, 0, "adc"}, {aluRmImm<Alu::Sbb>, L, 0, "sbb"},
               {aluRmImm<Alu::And>, L, 0, "and"}, {aluRmImm<Alu::Sub>, L, 0, "sub"},
               {aluRmImm<Alu::Xor>, L, 0, "xor"}, {aluRmImm<Alu::Cmp>, 0, 0, "cmp"}}};
    const char* shiftNames[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
    for (unsigned r = 0; r < 8; ++r) g[kG2][r] = {shiftGroup, 0, 0, shiftNames[r]};
    g[kG3b] = {{{testForm, kImm8, 0, "test"}, {testForm, kImm8, 0, "test"}, {notRm, L, 0, "not"},
                {negRm, L, 0, "neg"}, {mulRm, 0, 0, "mul"}, {imulRm, 0, 0, "imul"},
                {divRm, 0, 0, "div"}, {idivRm, 0, 0, "idiv"}}};
    g[kG3v] = g[kG3b];
    g[kG3v][0].form = g[kG3v][1].form = kImmZ;
    g[kG4] = {{{incRm, L, 0, "inc"}, {decRm, L, 0, "dec"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"},
               {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}}};
    g[kG5] = {{{incRm, L, 0, "inc"}, {decRm, L, 0, "dec"}, {callRm, kForce64, 0, "call"},
               {callFarMem, 0, 0, "call far"}, {jmpRm, kForce64, 0, "jmp"}, {jmpFarMem, 0, 0, "jmp far"},
               {pushRm, kDefault64, 0, "push"}, {ud, 0, 0, "(bad)"}}};
    g[kG11] = {{{movRmImm, 0, 0, "mov"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"},
                {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}}};
    g[kG1a] = {{{popRm, 0, 0, "pop"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"},
                {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}}};
    g[kG6] = {{{group6, 0, 0, "sldt"}, {group6, 0, 0, "str"}, {group6, 0, 0, "lldt"}, {group6, 0, 0, "ltr"},
               {verrVerw, 0, 0, "verr"}, {verrVerw, 0, 0, "verw"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}}};
    g[kG8] = {{{ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"},
               {btRmImm, 0, 0, "bt"}, {btRmImm, L, 0, "bts"}, {btRmImm, L, 0, "btr"}, {btRmImm, L, 0, "btc"}}};
    // /1 CMPXCHG8B (CMPXCHG16B with REX.W); RDRAND/RDSEED (/6 /7) are not advertised: #UD.
    g[kG9] = {{{ud, 0, 0, "(bad)"}, {cmpxchg8b16b, L, 0, "cmpxchg8b"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"},
               {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}, {ud, 0, 0, "(bad)"}}};
    return g;
}

const Table kOneByte = buildOneByte();
const Table kTwoByte = buildTwoByte();
const std::array<Group, kGroupCount> kGroups = buildGroups();

}  // namespace

const OpcodeEntry& oneByteEntry(uint8_t opcode) { return kOneByte[opcode]; }
const OpcodeEntry& twoByteEntry(uint8_t opcode) { return kTwoByte[opcode]; }
const OpcodeEntry& groupEntry(uint8_t group, uint8_t reg) { return kGroups[group][reg & 7]; }

}  // namespace hvlab::cpu
