// String instructions with REP/REPE/REPNE. A long REP runs in slices: after a slice the
// instruction is re-executed with the registers updated, as hardware allows, so the run
// loop stays responsive. INS/OUTS leave with one port exit per element.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

constexpr uint64_t kRepSlice = 4096;

struct StringRegs {
    Interpreter& cpu;
    const DecodedInsn& i;
    uint64_t mask() const { return Interpreter::sizeMask(i.addrSize); }
    uint64_t get(unsigned reg) const { return cpu.s.gpr[reg] & mask(); }
    void set(unsigned reg, uint64_t v) {
        v &= mask();
        cpu.s.gpr[reg] = i.addrSize == 2 ? (cpu.s.gpr[reg] & ~0xffffull) | v : v;
    }
    void advance(unsigned reg) {
        const uint64_t step = cpu.s.flags.test(rflag::DF) ? -static_cast<uint64_t>(i.opSize) : i.opSize;
        set(reg, get(reg) + step);
    }
    unsigned sourceSeg() const { return i.segOverride != 0xff ? i.segOverride : static_cast<unsigned>(DS); }
};

// Runs `body` once, or under REP until RCX is zero (or `stop` says so for REPE/REPNE).
template <typename Body>
void repeat(Interpreter& cpu, const DecodedInsn& i, Body body, bool conditional) {
    StringRegs r{cpu, i};
    if (!i.rep) {
        body(r);
        return;
    }
    for (uint64_t n = 0; n < kRepSlice; ++n) {
        if (r.get(RCX) == 0) return;
        body(r);
        r.set(RCX, r.get(RCX) - 1);
        if (conditional) {
            const bool zf = cpu.s.flags.zf();
            if ((i.rep == 0xf3 && !zf) || (i.rep == 0xf2 && zf)) return;
        }
    }
    if (r.get(RCX) != 0) cpu.s.rip = cpu.insnStart();  // continue in the next slice
}

}  // namespace

void movs(Interpreter& cpu, const DecodedInsn& i) {
    repeat(cpu, i, [&](StringRegs& r) {
        const uint64_t v = cpu.readMem(r.sourceSeg(), r.get(RSI), i.opSize);
        cpu.writeMem(ES, r.get(RDI), i.opSize, v);
        r.advance(RSI);
        r.advance(RDI);
    }, false);
}

void cmps(Interpreter& cpu, const DecodedInsn& i) {
    repeat(cpu, i, [&](StringRegs& r) {
        const uint64_t a = cpu.readMem(r.sourceSeg(), r.get(RSI), i.opSize);
        const uint64_t b = cpu.readMem(ES, r.get(RDI), i.opSize);
        alu(cpu, Alu::Cmp, i.opSize, a, b);
        r.advance(RSI);
        r.advance(RDI);
    }, true);
}

void stos(Interpreter& cpu, const DecodedInsn& i) {
    repeat(cpu, i, [&](StringRegs& r) {
        cpu.writeMem(ES, r.get(RDI), i.opSize, cpu.readReg(i, RAX, i.opSize));
        r.advance(RDI);
    }, false);
}

void lods(Interpreter& cpu, const DecodedInsn& i) {
    repeat(cpu, i, [&](StringRegs& r) {
        cpu.writeReg(i, RAX, i.opSize, cpu.readMem(r.sourceSeg(), r.get(RSI), i.opSize));
        r.advance(RSI);
    }, false);
}

void scas(Interpreter& cpu, const DecodedInsn& i) {
    repeat(cpu, i, [&](StringRegs& r) {
        const uint64_t b = cpu.readMem(ES, r.get(RDI), i.opSize);
        alu(cpu, Alu::Cmp, i.opSize, cpu.readReg(i, RAX, i.opSize), b);
        r.advance(RDI);
    }, true);
}

// INS/OUTS: one element per execution, then (under REP) run again for the next one,
// because every element is a port exit to the VMM.
void ins(Interpreter& cpu, const DecodedInsn& i) {
    StringRegs r{cpu, i};
    if (i.rep && r.get(RCX) == 0) return;
    const uint16_t port = static_cast<uint16_t>(cpu.s.gpr[RDX]);
    const unsigned size = i.opSize == 8 ? 4 : i.opSize;
    cpu.checkIoPermission(port, size);
    // Probe the destination first (segmentation and paging) so a fault comes before the port is read.
    cpu.probeWrite(cpu.linearAddress(ES, r.get(RDI), size, AccessType::Write), size);
    uint32_t value;
    cpu.portInput(port, size, value);  // leaves with an exit unless the VMM already answered
    cpu.writeMem(ES, r.get(RDI), size, value);
    const uint64_t step = cpu.s.flags.test(rflag::DF) ? -static_cast<uint64_t>(size) : size;
    r.set(RDI, r.get(RDI) + step);
    if (i.rep) {
        r.set(RCX, r.get(RCX) - 1);
        if (r.get(RCX) != 0) cpu.s.rip = cpu.insnStart();
    }
}

void outs(Interpreter& cpu, const DecodedInsn& i) {
    StringRegs r{cpu, i};
    if (i.rep && r.get(RCX) == 0) return;
    const uint16_t port = static_cast<uint16_t>(cpu.s.gpr[RDX]);
    const unsigned size = i.opSize == 8 ? 4 : i.opSize;
    cpu.checkIoPermission(port, size);
    const uint64_t v = cpu.readMem(r.sourceSeg(), r.get(RSI), size);
    const uint64_t step = cpu.s.flags.test(rflag::DF) ? -static_cast<uint64_t>(size) : size;
    r.set(RSI, r.get(RSI) + step);
    if (i.rep) {
        r.set(RCX, r.get(RCX) - 1);
        if (r.get(RCX) != 0) cpu.s.rip = cpu.insnStart();
    }
    cpu.portOutput(port, size, static_cast<uint32_t>(v));
}

}  // namespace hvlab::cpu::exec
