// Decimal arithmetic: DAA, DAS, AAA, AAS, AAM, AAD (all #UD in 64-bit mode, by the table).
//
// The SDM leaves some of their flags undefined. They are set here as Intel hardware sets
// them, checked against the recorded 80286 results (tests/differential, 27/2F/37/3F/D4/D5):
//   DAA/DAS  OF: the signed overflow of the adjustment as an addition/subtraction (AL -> AL').
//   AAA/AAS  SF/ZF/PF/OF: from the byte adjustment AL +/- 6 before the high nibble is cleared
//            (when no adjustment is made: from AL unchanged, OF clear).
//   AAM      CF/AF/OF clear.
//   AAD      CF/AF from the final byte addition AL + AH * imm8; OF equals that carry.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

// SF, ZF and PF of a byte.
uint64_t byteFlags(uint8_t v) {
    uint64_t f = 0;
    if (v == 0) f |= rflag::ZF;
    if (v & 0x80) f |= rflag::SF;
    if ((__builtin_popcount(v) & 1) == 0) f |= rflag::PF;
    return f;
}

// Replaces the six arithmetic flags.
void setArithFlags(Interpreter& cpu, uint64_t arith) {
    cpu.s.flags.assign((cpu.s.flags.materialize() & ~rflag::ARITH) | arith);
}

uint8_t al(const Interpreter& cpu) { return static_cast<uint8_t>(cpu.s.gpr[RAX]); }

void setAl(Interpreter& cpu, uint8_t v) { cpu.s.gpr[RAX] = (cpu.s.gpr[RAX] & ~0xffull) | v; }

void setAx(Interpreter& cpu, uint16_t v) { cpu.s.gpr[RAX] = (cpu.s.gpr[RAX] & ~0xffffull) | v; }

}  // namespace

void daa(Interpreter& cpu, const DecodedInsn&) {
    const LazyFlags& f = cpu.s.flags;
    const uint8_t old = al(cpu);
    const bool oldCf = f.cf();
    uint8_t r = old;
    bool cf = false, af = false;
    if ((old & 0x0f) > 9 || f.af()) {
        cf = oldCf || old > 0xf9;  // the carry out of AL + 6
        r = static_cast<uint8_t>(r + 6);
        af = true;
    }
    if (old > 0x99 || oldCf) {
        r = static_cast<uint8_t>(r + 0x60);
        cf = true;
    }
    setAl(cpu, r);
    uint64_t out = byteFlags(r) | (cf ? rflag::CF : 0) | (af ? rflag::AF : 0);
    if (~old & r & 0x80) out |= rflag::OF;
    setArithFlags(cpu, out);
}

void das(Interpreter& cpu, const DecodedInsn&) {
    const LazyFlags& f = cpu.s.flags;
    const uint8_t old = al(cpu);
    const bool oldCf = f.cf();
    uint8_t r = old;
    bool cf = false, af = false;
    if ((old & 0x0f) > 9 || f.af()) {
        cf = oldCf || old < 6;  // the borrow out of AL - 6
        r = static_cast<uint8_t>(r - 6);
        af = true;
    }
    if (old > 0x99 || oldCf) {
        r = static_cast<uint8_t>(r - 0x60);
        cf = true;
    }
    setAl(cpu, r);
    uint64_t out = byteFlags(r) | (cf ? rflag::CF : 0) | (af ? rflag::AF : 0);
    if (old & ~r & 0x80) out |= rflag::OF;
    setArithFlags(cpu, out);
}

namespace {

// AAA (add) and AAS (subtract): AX +/- 106h when the low digit needs adjusting, then AL &= 0Fh.
void asciiAdjust(Interpreter& cpu, bool subtract) {
    const uint8_t old = al(cpu);
    const uint16_t ax = static_cast<uint16_t>(cpu.s.gpr[RAX]);
    uint64_t out;
    if ((old & 0x0f) > 9 || cpu.s.flags.af()) {
        const uint8_t adjusted = static_cast<uint8_t>(subtract ? old - 6 : old + 6);
        const uint16_t nax = static_cast<uint16_t>(subtract ? ax - 0x106 : ax + 0x106);
        setAx(cpu, static_cast<uint16_t>(nax & 0xff0f));
        out = byteFlags(adjusted) | rflag::CF | rflag::AF;
        const bool overflow = subtract ? (old & ~adjusted & 0x80) : (~old & adjusted & 0x80);
        if (overflow) out |= rflag::OF;
    } else {
        setAx(cpu, static_cast<uint16_t>(ax & 0xff0f));
        out = byteFlags(old);
    }
    setArithFlags(cpu, out);
}

}  // namespace

void aaa(Interpreter& cpu, const DecodedInsn&) { asciiAdjust(cpu, false); }

void aas(Interpreter& cpu, const DecodedInsn&) { asciiAdjust(cpu, true); }

void aam(Interpreter& cpu, const DecodedInsn& i) {
    const uint8_t base = static_cast<uint8_t>(i.imm);
    if (base == 0) cpu.fault(kDE);
    const uint8_t v = al(cpu);
    const uint8_t lo = static_cast<uint8_t>(v % base);
    setAx(cpu, static_cast<uint16_t>(((v / base) << 8) | lo));
    setArithFlags(cpu, byteFlags(lo));
}

void aad(Interpreter& cpu, const DecodedInsn& i) {
    const uint8_t base = static_cast<uint8_t>(i.imm);
    const uint16_t ax = static_cast<uint16_t>(cpu.s.gpr[RAX]);
    const uint8_t lo = static_cast<uint8_t>(ax);
    const uint8_t product = static_cast<uint8_t>((ax >> 8) * base);
    const unsigned sum = lo + product;
    const uint8_t r = static_cast<uint8_t>(sum);
    setAx(cpu, r);  // AH = 0
    uint64_t out = byteFlags(r);
    if (sum > 0xff) out |= rflag::CF | rflag::OF;
    if ((lo ^ product ^ r) & 0x10) out |= rflag::AF;
    setArithFlags(cpu, out);
}

}  // namespace hvlab::cpu::exec
