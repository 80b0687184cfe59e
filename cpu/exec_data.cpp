// Data movement: MOV forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP, flags transfers,
// SETcc/CMOVcc, BSWAP, NOP.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

void movRmReg(Interpreter& cpu, const DecodedInsn& i) { cpu.writeRm(i, i.opSize, cpu.readReg(i, i.reg, i.opSize)); }

void movRegRm(Interpreter& cpu, const DecodedInsn& i) { cpu.writeReg(i, i.reg, i.opSize, cpu.readRm(i, i.opSize)); }

void movRmSreg(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned sreg = i.reg & 7;
    if (sreg >= kSegCount) cpu.fault(kUD);
    const uint16_t sel = cpu.s.seg[sreg].selector;
    // To a register: zero-extended to the operand size; to memory: always 16 bits.
    if (i.mod == 3)
        cpu.writeReg(i, i.rm, i.opSize, sel);
    else
        cpu.writeRm(i, 2, sel);
}

void movSregRm(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned sreg = i.reg & 7;
    if (sreg >= kSegCount || sreg == CS) cpu.fault(kUD);
    const uint16_t sel = static_cast<uint16_t>(cpu.readRm(i, 2));
    cpu.loadSegment(sreg, sel);
    if (sreg == SS) cpu.startInterruptShadow();  // MOV SS blocks interrupts for one instruction
}

void movAccMoffs(Interpreter& cpu, const DecodedInsn& i) {
    const bool toMemory = i.opcode & 2;
    const unsigned seg = i.segOverride != 0xff ? i.segOverride : static_cast<unsigned>(DS);
    if (toMemory)
        cpu.writeMem(seg, i.imm, i.opSize, cpu.readReg(i, RAX, i.opSize));
    else
        cpu.writeReg(i, RAX, i.opSize, cpu.readMem(seg, i.imm, i.opSize));
}

void movRegImm(Interpreter& cpu, const DecodedInsn& i) { cpu.writeReg(i, opcodeReg(i), i.opSize, i.imm); }

void movRmImm(Interpreter& cpu, const DecodedInsn& i) { cpu.writeRm(i, i.opSize, i.imm); }

void movzx(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned srcSize = (i.opcode & 1) ? 2 : 1;
    cpu.writeReg(i, i.reg, i.opSize, cpu.readRm(i, srcSize));
}

void movsx(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned srcSize = (i.opcode & 1) ? 2 : 1;
    cpu.writeReg(i, i.reg, i.opSize, signExtend(cpu.readRm(i, srcSize), srcSize));
}

void movsxd(Interpreter& cpu, const DecodedInsn& i) {
    if (!i.mode64) cpu.fault(kUD);  // ARPL outside 64-bit mode: not implemented as such
    const unsigned srcSize = i.opSize == 8 ? 4 : i.opSize;
    cpu.writeReg(i, i.reg, i.opSize, signExtend(cpu.readRm(i, srcSize), srcSize));
}

void lea(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mod == 3) cpu.fault(kUD);
    cpu.writeReg(i, i.reg, i.opSize, cpu.effectiveAddress(i));
}

void xchgRmReg(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t a = cpu.readRm(i, i.opSize);
    const uint64_t b = cpu.readReg(i, i.reg, i.opSize);
    cpu.writeRm(i, i.opSize, b);
    cpu.writeReg(i, i.reg, i.opSize, a);
}

void xchgAcc(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned reg = opcodeReg(i);
    if (reg == RAX) return;  // 90: NOP (and PAUSE with F3); with REX.B it is XCHG R8, RAX
    const uint64_t a = cpu.readReg(i, RAX, i.opSize);
    cpu.writeReg(i, RAX, i.opSize, cpu.readReg(i, reg, i.opSize));
    cpu.writeReg(i, reg, i.opSize, a);
}

void pushReg(Interpreter& cpu, const DecodedInsn& i) { cpu.push(cpu.readReg(i, opcodeReg(i), i.opSize), i.opSize); }

void popReg(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t v = cpu.pop(i.opSize);
    cpu.writeReg(i, opcodeReg(i), i.opSize, v);
}

void pushImm(Interpreter& cpu, const DecodedInsn& i) { cpu.push(i.imm & Interpreter::sizeMask(i.opSize), i.opSize); }

void pushRm(Interpreter& cpu, const DecodedInsn& i) { cpu.push(cpu.readRm(i, i.opSize), i.opSize); }

void popRm(Interpreter& cpu, const DecodedInsn& i) {
    // The destination address is computed with RSP already incremented (SDM: POP).
    const uint64_t savedRsp = cpu.s.gpr[RSP];
    const uint64_t v = cpu.pop(i.opSize);
    try {
        cpu.writeRm(i, i.opSize, v);
    } catch (...) {
        cpu.s.gpr[RSP] = savedRsp;
        throw;
    }
}

namespace {
unsigned segmentOfPushPop(const DecodedInsn& i) {
    if (i.map == 1) return (i.opcode & 0x08) ? GS : FS;  // 0F A0/A1 FS, 0F A8/A9 GS
    return (i.opcode >> 3) & 3;                          // 06/07 ES, 0E CS, 16/17 SS, 1E/1F DS
}
}  // namespace

void pushSeg(Interpreter& cpu, const DecodedInsn& i) { cpu.push(cpu.s.seg[segmentOfPushPop(i)].selector, i.opSize); }

void popSeg(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned seg = segmentOfPushPop(i);
    const uint64_t savedRsp = cpu.s.gpr[RSP];
    const uint16_t sel = static_cast<uint16_t>(cpu.pop(i.opSize));
    try {
        cpu.loadSegment(seg, sel);
    } catch (...) {
        cpu.s.gpr[RSP] = savedRsp;
        throw;
    }
    if (seg == SS) cpu.startInterruptShadow();
}

void pushf(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    if (s.flags.test(rflag::VM) && ((s.rflags() & rflag::IOPL) >> 12) < 3) cpu.fault(kGP, 0);
    // The image pushed has VM and RF cleared.
    cpu.push(s.rflags() & ~(rflag::VM | rflag::RF) & Interpreter::sizeMask(i.opSize), i.opSize);
}

void popf(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const uint64_t old = s.rflags();
    const unsigned iopl = (old & rflag::IOPL) >> 12;
    if (s.flags.test(rflag::VM) && iopl < 3) cpu.fault(kGP, 0);
    const uint64_t v = cpu.pop(i.opSize);
    // What POPF may change: never VM, RF, VIF, VIP; IOPL only at CPL 0; IF only if CPL <= IOPL.
    uint64_t mask = rflag::ARITH | rflag::TF | rflag::DF | rflag::NT | rflag::AC | rflag::ID;
    const bool real = !s.protectedMode();
    if (real || s.cpl() == 0) mask |= rflag::IOPL;
    if (real || s.cpl() <= iopl) mask |= rflag::IF;
    if (s.flags.test(rflag::VM)) mask &= ~rflag::IOPL;
    if (i.opSize == 2) mask &= 0xffff;
    s.setRflags((old & ~mask) | (v & mask));
    cpu.flagsChanged();
}

void lahf(Interpreter& cpu, const DecodedInsn&) {
    // The destination is always AH, even with a REX prefix (which would make register 4 SPL).
    const uint64_t f = (cpu.s.rflags() & 0xd5) | 2;
    cpu.s.gpr[RAX] = (cpu.s.gpr[RAX] & ~0xff00ull) | (f << 8);
}

void sahf(Interpreter& cpu, const DecodedInsn&) {
    const uint64_t ah = (cpu.s.gpr[RAX] >> 8) & 0xd5;
    cpu.s.setRflags((cpu.s.rflags() & ~0xd5ull) | ah);
}

void flagOp(Interpreter& cpu, const DecodedInsn& i) {
    LazyFlags& f = cpu.s.flags;
    switch (i.opcode) {
        case 0xf5: f.set(rflag::CF, !f.cf()); break;  // CMC
        case 0xf8: f.set(rflag::CF, false); break;     // CLC
        case 0xf9: f.set(rflag::CF, true); break;      // STC
        case 0xfc: f.setSystem(rflag::DF, false); break;
        case 0xfd: f.setSystem(rflag::DF, true); break;
        default: break;
    }
}

void setcc(Interpreter& cpu, const DecodedInsn& i) { cpu.writeRm(i, 1, condition(cpu.s.flags, i.opcode & 15) ? 1 : 0); }

void cmovcc(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t v = cpu.readRm(i, i.opSize);  // the source is read (and may fault) either way
    if (condition(cpu.s.flags, i.opcode & 15))
        cpu.writeReg(i, i.reg, i.opSize, v);
    else if (i.opSize == 4)
        cpu.writeReg(i, i.reg, 4, cpu.readReg(i, i.reg, 4));  // 32-bit destination is zero-extended anyway
}

void bswap(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned reg = opcodeReg(i);
    if (i.opSize == 8)
        cpu.s.gpr[reg] = __builtin_bswap64(cpu.s.gpr[reg]);
    else if (i.opSize == 4)
        cpu.writeReg(i, reg, 4, __builtin_bswap32(static_cast<uint32_t>(cpu.s.gpr[reg])));
    else
        cpu.writeReg(i, reg, 2, 0);  // BSWAP r16 is undefined; real CPUs clear the register
}

void nop(Interpreter&, const DecodedInsn&) {}

}  // namespace hvlab::cpu::exec
