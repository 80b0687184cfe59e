// The read-modify-write exchange instructions: CMPXCHG, XADD, CMPXCHG8B and CMPXCHG16B.
// The interpreter runs one vCPU, so LOCK needs no extra work here; which forms accept it is
// in the opcode table (kLockable), checked by the decoder.
// The memory destination is always written (CMPXCHG writes the old value back when the
// comparison fails, as the SDM's operation says), and it is written before any register, so a
// fault on the write leaves the registers and flags unchanged.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

void cmpxchg(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t temp = cpu.readRm(i, size);
    const uint64_t acc = cpu.readReg(i, RAX, size);
    const bool equal = acc == temp;
    if (equal) {
        cpu.writeRm(i, size, cpu.readReg(i, i.reg, size));
    } else {
        // DEST := TEMP: memory is written back (a failed compare still faults on a read-only
        // page), but a register destination is left untouched, not zero-extended, as hardware does.
        if (i.mod != 3) cpu.writeRm(i, size, temp);
        cpu.writeReg(i, RAX, size, temp);
    }
    alu(cpu, Alu::Cmp, size, acc, temp);  // flags as CMP accumulator, destination
}

void xadd(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned size = i.opSize;
    const uint64_t dst = cpu.readRm(i, size);
    const uint64_t src = cpu.readReg(i, i.reg, size);
    const uint64_t mask = Interpreter::sizeMask(size);
    const uint64_t sum = (dst + src) & mask;
    if (i.mod == 3) {
        cpu.writeReg(i, i.reg, size, dst);  // then the destination, so XADD r, r leaves the sum
        cpu.writeReg(i, i.rm, size, sum);
    } else {
        cpu.writeRm(i, size, sum);
        cpu.writeReg(i, i.reg, size, dst);
    }
    alu(cpu, Alu::Add, size, dst, src);
}

// 0F C7 /1: CMPXCHG8B m64, or with REX.W in 64-bit mode CMPXCHG16B m128. Only ZF changes.
void cmpxchg8b16b(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mod == 3) cpu.fault(kUD);
    CpuState& s = cpu.s;
    const uint64_t ea = cpu.effectiveAddress(i);
    bool equal;
    if (i.mode64 && (i.rex & 8)) {
        // CMPXCHG16B: the operand must be 16-byte aligned (its linear address), else #GP(0).
        const uint64_t linear = cpu.linearAddress(i.segment, ea, 16, AccessType::Read);
        if (linear & 15) cpu.fault(kGP, 0);
        const uint64_t ea2 = (ea + 8) & Interpreter::sizeMask(i.addrSize);
        const uint64_t lo = cpu.readMem(i.segment, ea, 8);
        const uint64_t hi = cpu.readMem(i.segment, ea2, 8);
        equal = lo == s.gpr[RAX] && hi == s.gpr[RDX];
        const uint64_t newLo = equal ? s.gpr[RBX] : lo;
        const uint64_t newHi = equal ? s.gpr[RCX] : hi;
        cpu.linearAddress(i.segment, ea, 16, AccessType::Write);  // both halves writable first
        cpu.probeWrite(linear, 16);
        cpu.writeMem(i.segment, ea, 8, newLo);
        cpu.writeMem(i.segment, ea2, 8, newHi);
        if (!equal) {
            s.gpr[RAX] = lo;
            s.gpr[RDX] = hi;
        }
    } else {
        const uint64_t temp = cpu.readMem(i.segment, ea, 8);
        const uint64_t expected = (s.gpr[RDX] << 32) | (s.gpr[RAX] & 0xffffffffull);
        equal = temp == expected;
        const uint64_t replacement = (s.gpr[RCX] << 32) | (s.gpr[RBX] & 0xffffffffull);
        cpu.writeMem(i.segment, ea, 8, equal ? replacement : temp);
        if (!equal) {
            cpu.writeReg(i, RAX, 4, temp & 0xffffffffull);  // EDX:EAX (zero-extended in 64-bit mode)
            cpu.writeReg(i, RDX, 4, temp >> 32);
        }
    }
    s.flags.set(rflag::ZF, equal);
}

}  // namespace hvlab::cpu::exec
