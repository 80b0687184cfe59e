// Control flow: near and far JMP/CALL/RET, Jcc, LOOP/JCXZ, INT/INTO/INT3, IRET.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

void jmpRel(Interpreter& cpu, const DecodedInsn& i) { cpu.jumpNear(cpu.s.rip + i.imm, i.opSize); }

void jccRel(Interpreter& cpu, const DecodedInsn& i) {
    if (condition(cpu.s.flags, i.opcode & 15)) cpu.jumpNear(cpu.s.rip + i.imm, i.opSize);
}

void callRel(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t ret = cpu.s.rip;
    const uint64_t target = ret + i.imm;
    const uint64_t savedRsp = cpu.s.gpr[RSP];
    cpu.push(ret, i.opSize);
    try {
        cpu.jumpNear(target, i.opSize);
    } catch (...) {
        cpu.s.gpr[RSP] = savedRsp;
        throw;
    }
}

void retNear(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t savedRsp = cpu.s.gpr[RSP];
    const uint64_t target = cpu.pop(i.opSize);
    try {
        cpu.jumpNear(target, i.opSize);
    } catch (...) {
        cpu.s.gpr[RSP] = savedRsp;
        throw;
    }
    if (i.opcode == 0xc2) {
        const unsigned as = cpu.stackAddrSize();
        const uint64_t sp = (cpu.s.gpr[RSP] + (i.imm & 0xffff)) & Interpreter::sizeMask(as);
        cpu.s.gpr[RSP] = as == 8 ? sp : (cpu.s.gpr[RSP] & ~Interpreter::sizeMask(as)) | sp;
    }
}

void jmpRm(Interpreter& cpu, const DecodedInsn& i) { cpu.jumpNear(cpu.readRm(i, i.opSize), i.opSize); }

void callRm(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t target = cpu.readRm(i, i.opSize);
    const uint64_t savedRsp = cpu.s.gpr[RSP];
    cpu.push(cpu.s.rip, i.opSize);
    try {
        cpu.jumpNear(target, i.opSize);
    } catch (...) {
        cpu.s.gpr[RSP] = savedRsp;
        throw;
    }
}

void jmpFarPtr(Interpreter& cpu, const DecodedInsn& i) {
    cpu.farJump(static_cast<uint16_t>(i.imm2), i.imm, i.opSize);
}

void callFarPtr(Interpreter& cpu, const DecodedInsn& i) {
    cpu.farCall(static_cast<uint16_t>(i.imm2), i.imm, i.opSize);
}

namespace {
// m16:16, m16:32 or m16:64: the offset, then the selector.
void readFarPointer(Interpreter& cpu, const DecodedInsn& i, uint16_t& selector, uint64_t& offset) {
    if (i.mod == 3) cpu.fault(kUD);
    const uint64_t ea = cpu.effectiveAddress(i);
    offset = cpu.readMem(i.segment, ea, i.opSize);
    selector = static_cast<uint16_t>(cpu.readMem(i.segment, (ea + i.opSize) & Interpreter::sizeMask(i.addrSize), 2));
}
}  // namespace

void jmpFarMem(Interpreter& cpu, const DecodedInsn& i) {
    uint16_t sel;
    uint64_t off;
    readFarPointer(cpu, i, sel, off);
    cpu.farJump(sel, off, i.opSize);
}

void callFarMem(Interpreter& cpu, const DecodedInsn& i) {
    uint16_t sel;
    uint64_t off;
    readFarPointer(cpu, i, sel, off);
    cpu.farCall(sel, off, i.opSize);
}

void retFar(Interpreter& cpu, const DecodedInsn& i) {
    cpu.farReturn(i.opSize, i.opcode == 0xca ? static_cast<uint16_t>(i.imm) : 0);
}

void loopFamily(Interpreter& cpu, const DecodedInsn& i) {
    // The count register is CX, ECX or RCX by address size.
    const uint64_t mask = Interpreter::sizeMask(i.addrSize);
    uint64_t& rcx = cpu.s.gpr[RCX];
    bool take;
    if (i.opcode == 0xe3) {
        take = (rcx & mask) == 0;  // JCXZ/JECXZ/JRCXZ
    } else {
        const uint64_t count = (rcx - 1) & mask;
        rcx = i.addrSize == 8 ? count : (i.addrSize == 4 ? count : (rcx & ~mask) | count);
        take = count != 0;
        if (i.opcode == 0xe1) take = take && cpu.s.flags.zf();   // LOOPE
        if (i.opcode == 0xe0) take = take && !cpu.s.flags.zf();  // LOOPNE
    }
    if (take) cpu.jumpNear(cpu.s.rip + i.imm, i.opSize);
}

void int3(Interpreter& cpu, const DecodedInsn&) { cpu.deliverEvent(kBP, EventKind::SoftwareInterrupt, 0, false); }

void intImm(Interpreter& cpu, const DecodedInsn& i) {
    if (cpu.s.flags.test(rflag::VM) && ((cpu.s.rflags() & rflag::IOPL) >> 12) < 3) cpu.fault(kGP, 0);
    cpu.softwareInterrupt(static_cast<uint8_t>(i.imm));
}

void into(Interpreter& cpu, const DecodedInsn&) {
    if (cpu.s.flags.of()) cpu.deliverEvent(kOF, EventKind::SoftwareInterrupt, 0, false);
}

void iret(Interpreter& cpu, const DecodedInsn& i) { cpu.interruptReturn(i.opSize); }

}  // namespace hvlab::cpu::exec
