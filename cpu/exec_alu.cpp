// Integer arithmetic and logic: the classic ALU forms, group 1, TEST, INC/DEC, NOT/NEG,
// MUL/IMUL/DIV/IDIV, shifts and rotates, CBW/CWD families.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

template <Alu op>
void aluForm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    switch (i.opcode & 7) {
        case 0:
        case 1: {  // op r/m, reg
            const uint64_t r = alu(cpu, op, size, cpu.readRm(i, size), cpu.readReg(i, i.reg, size));
            if (op != Alu::Cmp) cpu.writeRm(i, size, r);
            break;
        }
        case 2:
        case 3: {  // op reg, r/m
            const uint64_t r = alu(cpu, op, size, cpu.readReg(i, i.reg, size), cpu.readRm(i, size));
            if (op != Alu::Cmp) cpu.writeReg(i, i.reg, size, r);
            break;
        }
        default: {  // op AL/eAX, imm
            const uint64_t r = alu(cpu, op, size, cpu.readReg(i, RAX, size), i.imm);
            if (op != Alu::Cmp) cpu.writeReg(i, RAX, size, r);
            break;
        }
    }
}

template <Alu op>
void aluRmImm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t r = alu(cpu, op, size, cpu.readRm(i, size), i.imm);
    if (op != Alu::Cmp) cpu.writeRm(i, size, r);
}

// Explicit instantiations for the opcode table.
template void aluForm<Alu::Add>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Or>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Adc>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Sbb>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::And>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Sub>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Xor>(Interpreter&, const DecodedInsn&);
template void aluForm<Alu::Cmp>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Add>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Or>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Adc>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Sbb>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::And>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Sub>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Xor>(Interpreter&, const DecodedInsn&);
template void aluRmImm<Alu::Cmp>(Interpreter&, const DecodedInsn&);

void testForm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    uint64_t a, b;
    if (i.opcode == 0x84 || i.opcode == 0x85) {
        a = cpu.readRm(i, size);
        b = cpu.readReg(i, i.reg, size);
    } else if (i.opcode == 0xa8 || i.opcode == 0xa9) {
        a = cpu.readReg(i, RAX, size);
        b = i.imm;
    } else {  // F6/F7 /0 /1
        a = cpu.readRm(i, size);
        b = i.imm;
    }
    cpu.s.flags.setLogic(size, (a & b) & Interpreter::sizeMask(size));
}

void incDecReg(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned reg = i.opcode & 7;
    const uint64_t a = cpu.readReg(i, reg, i.opSize);
    const bool dec = i.opcode & 8;
    const uint64_t r = dec ? a - 1 : a + 1;
    cpu.s.flags.setArith(dec ? FlagOp::Dec : FlagOp::Inc, i.opSize, a, 1, r);
    cpu.writeReg(i, reg, i.opSize, r);
}

void incRm(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t a = cpu.readRm(i, i.opSize);
    const uint64_t r = a + 1;
    cpu.s.flags.setArith(FlagOp::Inc, i.opSize, a, 1, r);
    cpu.writeRm(i, i.opSize, r);
}

void decRm(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t a = cpu.readRm(i, i.opSize);
    const uint64_t r = a - 1;
    cpu.s.flags.setArith(FlagOp::Dec, i.opSize, a, 1, r);
    cpu.writeRm(i, i.opSize, r);
}

void notRm(Interpreter& cpu, const DecodedInsn& i) { cpu.writeRm(i, i.opSize, ~cpu.readRm(i, i.opSize)); }

void negRm(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t a = cpu.readRm(i, i.opSize);
    const uint64_t r = alu(cpu, Alu::Sub, i.opSize, 0, a);
    cpu.writeRm(i, i.opSize, r);
}

namespace {

// Multiplication results: CF = OF = "the high half is significant"; SF/ZF/PF from the low
// half and AF cleared, as Intel parts leave these architecturally undefined flags.
void setMulFlags(Interpreter& cpu, unsigned size, uint64_t low, bool significant) {
    cpu.s.flags.setLogic(size, low);
    uint64_t f = cpu.s.flags.materialize() & ~(rflag::CF | rflag::OF);
    if (significant) f |= rflag::CF | rflag::OF;
    cpu.s.flags.assign(f);
}

// Reads the implicit dividend / writes the product in AX, DX:AX, EDX:EAX or RDX:RAX.
uint128 readWide(Interpreter& cpu, const DecodedInsn& i, unsigned size) {
    if (size == 1) return cpu.readReg(i, RAX, 2);
    return (static_cast<uint128>(cpu.readReg(i, RDX, size)) << (size * 8)) | cpu.readReg(i, RAX, size);
}

void writeWide(Interpreter& cpu, const DecodedInsn& i, unsigned size, uint128 v) {
    if (size == 1) {
        cpu.writeReg(i, RAX, 2, static_cast<uint64_t>(v));
        return;
    }
    cpu.writeReg(i, RAX, size, static_cast<uint64_t>(v));
    cpu.writeReg(i, RDX, size, static_cast<uint64_t>(v >> (size * 8)));
}

}  // namespace

void mulRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint128 p = static_cast<uint128>(cpu.readReg(i, RAX, size)) * cpu.readRm(i, size);
    writeWide(cpu, i, size, p);
    setMulFlags(cpu, size, static_cast<uint64_t>(p) & Interpreter::sizeMask(size), (p >> (size * 8)) != 0);
}

void imulRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const int128 a = static_cast<int64_t>(signExtend(cpu.readReg(i, RAX, size), size));
    const int128 b = static_cast<int64_t>(signExtend(cpu.readRm(i, size), size));
    const int128 p = a * b;
    writeWide(cpu, i, size, static_cast<uint128>(p));
    const uint64_t low = static_cast<uint64_t>(p) & Interpreter::sizeMask(size);
    setMulFlags(cpu, size, low, static_cast<int128>(static_cast<int64_t>(signExtend(low, size))) != p);
}

namespace {
uint64_t imulTruncated(Interpreter& cpu, unsigned size, uint64_t x, uint64_t y) {
    const int128 p = static_cast<int128>(static_cast<int64_t>(signExtend(x, size))) *
                       static_cast<int64_t>(signExtend(y, size));
    const uint64_t low = static_cast<uint64_t>(p) & Interpreter::sizeMask(size);
    setMulFlags(cpu, size, low, static_cast<int128>(static_cast<int64_t>(signExtend(low, size))) != p);
    return low;
}
}  // namespace

void imulRegRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    cpu.writeReg(i, i.reg, size, imulTruncated(cpu, size, cpu.readReg(i, i.reg, size), cpu.readRm(i, size)));
}

void imulRegRmImm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    cpu.writeReg(i, i.reg, size, imulTruncated(cpu, size, cpu.readRm(i, size), i.imm));
}

void divRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t divisor = cpu.readRm(i, size);
    if (divisor == 0) cpu.fault(kDE);
    const uint128 dividend = readWide(cpu, i, size);
    const uint128 q = dividend / divisor;
    const uint64_t rem = static_cast<uint64_t>(dividend % divisor);
    if (q > Interpreter::sizeMask(size)) cpu.fault(kDE);
    if (size == 1) {
        cpu.writeReg(i, RAX, 2, (static_cast<uint64_t>(q) & 0xff) | (rem << 8));
    } else {
        cpu.writeReg(i, RAX, size, static_cast<uint64_t>(q));
        cpu.writeReg(i, RDX, size, rem);
    }
}

void idivRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const int64_t divisor = static_cast<int64_t>(signExtend(cpu.readRm(i, size), size));
    if (divisor == 0) cpu.fault(kDE);
    const unsigned bits = size * 16;  // dividend width
    uint128 raw = readWide(cpu, i, size);
    int128 dividend;
    if (bits == 128) {
        dividend = static_cast<int128>(raw);
    } else {
        const unsigned shift = 128 - bits;
        dividend = static_cast<int128>(raw << shift) >> shift;
    }
    // INT_MIN / -1 overflows the quotient, as does any quotient outside the signed range.
    const int128 int128Min = static_cast<int128>(static_cast<uint128>(1) << 127);
    if (divisor == -1 && dividend == int128Min) cpu.fault(kDE);
    const int128 q = dividend / divisor;
    const int128 r = dividend % divisor;
    const int128 maxQ = (static_cast<int128>(1) << (size * 8 - 1)) - 1;
    if (q > maxQ || q < -maxQ - 1) cpu.fault(kDE);
    if (size == 1) {
        cpu.writeReg(i, RAX, 2, (static_cast<uint64_t>(q) & 0xff) | ((static_cast<uint64_t>(r) & 0xff) << 8));
    } else {
        cpu.writeReg(i, RAX, size, static_cast<uint64_t>(q));
        cpu.writeReg(i, RDX, size, static_cast<uint64_t>(r));
    }
}

void shiftGroup(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const unsigned bits = size * 8;
    unsigned count;
    if (i.opcode == 0xd0 || i.opcode == 0xd1)
        count = 1;
    else if (i.opcode == 0xd2 || i.opcode == 0xd3)
        count = static_cast<unsigned>(cpu.s.gpr[RCX] & 0xff);
    else
        count = static_cast<unsigned>(i.imm & 0xff);
    count &= size == 8 ? 0x3f : 0x1f;  // the count is masked to 5 (6 for 64-bit) bits
    const unsigned op = (i.reg & 7);
    if (count == 0) {
        // Flags and value are unchanged, but the operand is still read (and may fault), and a
        // 32-bit register destination is written back, which clears its upper half.
        const uint64_t value = cpu.readRm(i, size);
        if (i.mod == 3 && size == 4) cpu.writeReg(i, i.rm, 4, value);
        return;
    }
    const uint64_t mask = Interpreter::sizeMask(size);
    const uint64_t a = cpu.readRm(i, size);
    uint64_t r = 0;
    uint64_t f = cpu.s.flags.materialize();
    bool cf = f & rflag::CF;
    bool of = f & rflag::OF;
    const uint64_t top = 1ull << (bits - 1);
    bool arith = false;  // SF/ZF/PF from the result
    switch (op) {
        case 0: {  // ROL
            const unsigned c = count % bits;
            r = c ? ((a << c) | (a >> (bits - c))) & mask : a;
            cf = r & 1;
            of = ((r & top) != 0) != cf;
            break;
        }
        case 1: {  // ROR
            const unsigned c = count % bits;
            r = c ? ((a >> c) | (a << (bits - c))) & mask : a;
            cf = r & top;
            of = ((r & top) != 0) != ((r & (top >> 1)) != 0);
            break;
        }
        case 2: {  // RCL: rotate through carry, modulo size + 1
            const unsigned c = count % (bits + 1);
            r = a;
            for (unsigned k = 0; k < c; ++k) {
                const bool out = r & top;
                r = ((r << 1) | (cf ? 1 : 0)) & mask;
                cf = out;
            }
            of = ((r & top) != 0) != cf;
            break;
        }
        case 3: {  // RCR
            const unsigned c = count % (bits + 1);
            r = a;
            of = ((r & top) != 0) != cf;
            for (unsigned k = 0; k < c; ++k) {
                const bool out = r & 1;
                r = (r >> 1) | (cf ? top : 0);
                cf = out;
            }
            break;
        }
        case 4:
        case 6: {  // SHL/SAL
            r = count < 64 ? (a << count) & mask : 0;
            cf = count <= bits ? (a >> (bits - count)) & 1 : false;
            of = ((r & top) != 0) != cf;
            arith = true;
            break;
        }
        case 5: {  // SHR
            r = count < 64 ? a >> count : 0;
            cf = (a >> (count - 1)) & 1;
            of = a & top;
            arith = true;
            break;
        }
        default: {  // SAR
            const int64_t sa = static_cast<int64_t>(signExtend(a, size));
            r = static_cast<uint64_t>(sa >> (count < 64 ? count : 63)) & mask;
            cf = (sa >> (count - 1 < 63 ? count - 1 : 63)) & 1;
            of = false;
            arith = true;
            break;
        }
    }
    cpu.writeRm(i, size, r);
    if (arith) {
        cpu.s.flags.setLogic(size, r);
        f = cpu.s.flags.materialize();
    }
    f = (f & ~(rflag::CF | rflag::OF)) | (cf ? rflag::CF : 0) | (of ? rflag::OF : 0);
    cpu.s.flags.assign(f);
}

void cbwFamily(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t v = signExtend(cpu.readReg(i, RAX, size / 2), size / 2);
    cpu.writeReg(i, RAX, size, v);
}

void cwdFamily(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const bool negative = (cpu.readReg(i, RAX, size) >> (size * 8 - 1)) & 1;
    cpu.writeReg(i, RDX, size, negative ? ~0ull : 0);
}

}  // namespace hvlab::cpu::exec
