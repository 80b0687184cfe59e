// Helpers shared by the instruction handlers (cpu/exec_*.cpp).
#pragma once

#include "cpu/interpreter.hpp"

namespace hvlab::cpu::exec {

// 128-bit integers for wide multiply/divide (a GCC/Clang extension).
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

enum class Alu : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp };

// Performs an ALU operation at `size` bytes and records its flags. Returns the result.
inline uint64_t alu(Interpreter& cpu, Alu op, unsigned size, uint64_t a, uint64_t b) {
    const uint64_t mask = Interpreter::sizeMask(size);
    a &= mask;
    b &= mask;
    uint64_t r;
    LazyFlags& f = cpu.s.flags;
    switch (op) {
        case Alu::Add: r = a + b; f.setArith(FlagOp::Add, size, a, b, r); break;
        case Alu::Adc: r = a + b + (f.cf() ? 1 : 0); f.setArith(FlagOp::Add, size, a, b, r); break;
        case Alu::Sub:
        case Alu::Cmp: r = a - b; f.setArith(FlagOp::Sub, size, a, b, r); break;
        case Alu::Sbb: r = a - b - (f.cf() ? 1 : 0); f.setArith(FlagOp::Sub, size, a, b, r); break;
        case Alu::And: r = a & b; f.setLogic(size, r); break;
        case Alu::Or: r = a | b; f.setLogic(size, r); break;
        case Alu::Xor: r = a ^ b; f.setLogic(size, r); break;
        default: r = 0; break;
    }
    return r & mask;
}

// The Jcc/SETcc/CMOVcc condition `cc` (0-15).
inline bool condition(const LazyFlags& f, unsigned cc) {
    bool r;
    switch (cc >> 1) {
        case 0: r = f.of(); break;
        case 1: r = f.cf(); break;
        case 2: r = f.zf(); break;
        case 3: r = f.cf() || f.zf(); break;
        case 4: r = f.sf(); break;
        case 5: r = f.pf(); break;
        case 6: r = f.sf() != f.of(); break;
        default: r = f.zf() || (f.sf() != f.of()); break;
    }
    return (cc & 1) ? !r : r;
}

inline uint64_t signExtend(uint64_t v, unsigned size) {
    const unsigned shift = 64 - size * 8;
    return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
}

// The register encoded in the low three opcode bits (plus REX.B).
inline unsigned opcodeReg(const DecodedInsn& i) { return (i.opcode & 7) | ((i.rex & 1) ? 8 : 0); }

// Instructions that need CPL 0 (in protected mode) raise #GP(0) otherwise.
inline void requireCpl0(Interpreter& cpu) {
    if (cpu.s.cpl() != 0) cpu.fault(kGP, 0);
}

}  // namespace hvlab::cpu::exec
