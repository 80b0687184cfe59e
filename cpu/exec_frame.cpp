// Stack frames and table lookups: ENTER, LEAVE, PUSHA/PUSHAD, POPA/POPAD, BOUND, XLAT.
// Multi-step stack instructions restore RSP/RBP when a step faults, so they either complete
// or leave the registers as they were.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

// Sets the stack pointer to `sp`, by the stack address size (SP, ESP or RSP).
void setStackPointer(Interpreter& cpu, uint64_t sp) {
    const unsigned as = cpu.stackAddrSize();
    const uint64_t m = Interpreter::sizeMask(as);
    cpu.s.gpr[RSP] = as == 8 ? sp : (cpu.s.gpr[RSP] & ~m) | (sp & m);
}

}  // namespace

// ENTER imm16, imm8 (SDM: ENTER): push rBP, copy level-1 frame pointers from the enclosing
// frame, push the new frame pointer, then allocate imm16 bytes.
void enter(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned size = i.opSize;
    const unsigned as = cpu.stackAddrSize();
    const uint64_t smask = Interpreter::sizeMask(as);
    const uint64_t alloc = i.imm & 0xffff;
    const unsigned level = static_cast<unsigned>(i.imm2 & 31);
    const uint64_t savedRsp = s.gpr[RSP];
    try {
        cpu.push(cpu.readReg(i, RBP, size), size);
        const uint64_t frameTemp = s.gpr[RSP] & Interpreter::sizeMask(size);
        if (level > 0) {
            uint64_t bp = s.gpr[RBP];
            for (unsigned k = 1; k < level; ++k) {
                bp = (bp - size) & smask;
                cpu.push(cpu.readMem(SS, bp, size), size);
            }
            cpu.push(frameTemp, size);
        }
        // A write at the final stack pointer must be possible (#SS beyond the limit, #PF).
        const uint64_t finalSp = (s.gpr[RSP] - alloc) & smask;
        if (alloc) cpu.probeWrite(cpu.linearAddress(SS, finalSp, size, AccessType::Write), size);
        cpu.writeReg(i, RBP, size, frameTemp);
        setStackPointer(cpu, finalSp);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
}

// LEAVE: rSP = rBP (by stack size), then pop rBP (by operand size).
void leave(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const uint64_t savedRsp = s.gpr[RSP];
    setStackPointer(cpu, s.gpr[RBP]);
    uint64_t v;
    try {
        v = cpu.pop(i.opSize);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
    cpu.writeReg(i, RBP, i.opSize, v);
}

// PUSHA/PUSHAD: AX CX DX BX (the original) SP BP SI DI.
void pusha(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned size = i.opSize;
    const uint64_t savedRsp = s.gpr[RSP];
    const uint64_t sp = cpu.readReg(i, RSP, size);
    try {
        for (unsigned r : {RAX, RCX, RDX, RBX}) cpu.push(cpu.readReg(i, r, size), size);
        cpu.push(sp, size);
        for (unsigned r : {RBP, RSI, RDI}) cpu.push(cpu.readReg(i, r, size), size);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
}

// POPA/POPAD: DI SI BP (SP skipped) BX DX CX AX.
void popa(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned size = i.opSize;
    const uint64_t savedRsp = s.gpr[RSP];
    constexpr unsigned order[8] = {RDI, RSI, RBP, RSP, RBX, RDX, RCX, RAX};
    uint64_t values[8];
    try {
        for (uint64_t& v : values) v = cpu.pop(size);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
    for (unsigned k = 0; k < 8; ++k)
        if (order[k] != RSP) cpu.writeReg(i, order[k], size, values[k]);
}

// BOUND r16/32, m16&16 / m32&32: #BR unless lower <= index <= upper (signed).
void bound(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mod == 3) cpu.fault(kUD);
    const unsigned size = i.opSize;
    const uint64_t ea = cpu.effectiveAddress(i);
    const auto lower = static_cast<int64_t>(signExtend(cpu.readMem(i.segment, ea, size), size));
    const uint64_t upperEa = (ea + size) & Interpreter::sizeMask(i.addrSize);
    const auto upper = static_cast<int64_t>(signExtend(cpu.readMem(i.segment, upperEa, size), size));
    const auto index = static_cast<int64_t>(signExtend(cpu.readReg(i, i.reg, size), size));
    if (index < lower || index > upper) cpu.fault(kBR);
}

// XLAT: AL = [seg:rBX + AL] (address size; DS unless overridden).
void xlat(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const uint64_t offset = (s.gpr[RBX] + (s.gpr[RAX] & 0xff)) & Interpreter::sizeMask(i.addrSize);
    const uint64_t v = cpu.readMem(i.segment, offset, 1);
    s.gpr[RAX] = (s.gpr[RAX] & ~0xffull) | v;
}

}  // namespace hvlab::cpu::exec
