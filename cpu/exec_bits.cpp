// Bit instructions: BT/BTS/BTR/BTC (register and immediate bit offsets), BSF/BSR and the
// double-precision shifts SHLD/SHRD.
#include <bit>

#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

enum class BitOp : uint8_t { Test, Set, Reset, Complement };

// A register bit offset with a memory operand selects any bit relative to the operand's
// address: the signed offset picks the operand-sized unit (SDM vol. 1, 3.4.1 "bit base, bit
// offset"); an immediate offset is taken modulo the operand size.
void bitOperation(Interpreter& cpu, const DecodedInsn& i, BitOp op, uint64_t offset, bool immediate) {
    const unsigned size = i.opSize;
    const unsigned bits = size * 8;
    const unsigned bit = static_cast<unsigned>(offset & (bits - 1));
    uint64_t value;
    uint64_t ea = 0;
    if (i.mod == 3) {
        value = cpu.readReg(i, i.rm, size);
    } else {
        ea = cpu.effectiveAddress(i);
        if (!immediate) {
            const int64_t unit = static_cast<int64_t>(signExtend(offset, size)) >> std::countr_zero(bits);
            ea = (ea + static_cast<uint64_t>(unit) * size) & Interpreter::sizeMask(i.addrSize);
        }
        value = cpu.readMem(i.segment, ea, size);
    }
    const bool cf = (value >> bit) & 1;
    if (op != BitOp::Test) {
        const uint64_t m = 1ull << bit;
        const uint64_t nv = op == BitOp::Set ? value | m : op == BitOp::Reset ? value & ~m : value ^ m;
        if (i.mod == 3)
            cpu.writeReg(i, i.rm, size, nv);
        else
            cpu.writeMem(i.segment, ea, size, nv);
    }
    // CF is the bit; ZF is unaffected and OF/SF/AF/PF are undefined (left as they were).
    cpu.s.flags.set(rflag::CF, cf);
}

}  // namespace

void btRmReg(Interpreter& cpu, const DecodedInsn& i) {
    // 0F A3 BT, AB BTS, B3 BTR, BB BTC: bits 4:3 of the opcode.
    const BitOp op = static_cast<BitOp>((i.opcode >> 3) & 3);
    bitOperation(cpu, i, op, cpu.readReg(i, i.reg, i.opSize), false);
}

void btRmImm(Interpreter& cpu, const DecodedInsn& i) {
    // 0F BA /4 BT, /5 BTS, /6 BTR, /7 BTC (the table makes /0-/3 #UD).
    const BitOp op = static_cast<BitOp>((i.reg & 7) - 4);
    bitOperation(cpu, i, op, i.imm & 0xff, true);
}

// BSF/BSR (0F BC/BD; with F3 they would be TZCNT/LZCNT, which this CPU does not advertise,
// so F3 is ignored as on processors without BMI1/ABM). A zero source sets ZF and leaves the
// destination as it was; Intel parts still write a 32-bit destination, clearing bits 63:32.
void bitScan(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t src = cpu.readRm(i, size);
    LazyFlags& f = cpu.s.flags;
    if (src == 0) {
        if (size == 4) cpu.writeReg(i, i.reg, 4, cpu.readReg(i, i.reg, 4));
        f.set(rflag::ZF, true);
        return;
    }
    const unsigned index = i.opcode == 0xbc ? static_cast<unsigned>(std::countr_zero(src))
                                            : 63u - static_cast<unsigned>(std::countl_zero(src));
    cpu.writeReg(i, i.reg, size, index);
    // The undefined flags follow the result as a logical operation would (CF = OF = AF = 0).
    f.setLogic(size, index);
    f.assign(f.materialize() & ~rflag::ZF);
}

// SHLD (0F A4 ib, A5 CL) and SHRD (0F AC ib, AD CL): shift r/m, filling from the register.
void doubleShift(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const unsigned bits = size * 8;
    const bool left = i.opcode < 0xa8;
    const unsigned raw = (i.opcode & 1) ? static_cast<unsigned>(cpu.s.gpr[RCX]) : static_cast<unsigned>(i.imm);
    const unsigned count = raw & (size == 8 ? 0x3f : 0x1f);
    const uint64_t dst = cpu.readRm(i, size);
    if (count == 0) {  // flags unchanged; a 32-bit register destination is still zero-extended
        if (i.mod == 3 && size == 4) cpu.writeReg(i, i.rm, 4, dst);
        return;
    }
    const uint64_t src = cpu.readReg(i, i.reg, size);
    const uint64_t mask = Interpreter::sizeMask(size);
    const uint64_t top = 1ull << (bits - 1);
    uint64_t r;
    bool cf;
    if (size == 2) {
        // A 16-bit count above 16 is undefined: Intel parts shift the 48-bit value
        // dst:src:dst and keep the upper (SHLD) or lower (SHRD) 16 bits.
        const uint64_t wide = (dst << 32) | (src << 16) | dst;
        if (left) {
            r = ((wide << count) >> 32) & 0xffff;
            cf = (wide >> (48 - count)) & 1;
        } else {
            r = (wide >> count) & 0xffff;
            cf = (wide >> (count - 1)) & 1;
        }
    } else if (left) {
        r = ((dst << count) | (src >> (bits - count))) & mask;
        cf = (dst >> (bits - count)) & 1;
    } else {
        r = ((dst >> count) | (src << (bits - count))) & mask;
        cf = (dst >> (count - 1)) & 1;
    }
    cpu.writeRm(i, size, r);
    // CF: the last bit shifted out. OF (defined for a count of 1): the sign changed, i.e.
    // SHLD: CF != new MSB; SHRD: the two top bits of the result differ. AF cleared.
    const bool of = left ? (((r & top) != 0) != cf) : (((r ^ (r << 1)) & top) != 0);
    LazyFlags& f = cpu.s.flags;
    f.setLogic(size, r);
    uint64_t v = f.materialize() & ~(rflag::CF | rflag::OF);
    if (cf) v |= rflag::CF;
    if (of) v |= rflag::OF;
    f.assign(v);
}

}  // namespace hvlab::cpu::exec
