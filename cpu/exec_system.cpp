// System instructions: port I/O, HLT, CLI/STI, CPUID, RDTSC, RDMSR/WRMSR, MOV CRn, CLTS,
// descriptor-table loads and stores, INVLPG, SWAPGS, UD2.
// The sensitive ones leave as exits where VT-x would: port I/O and HLT to the VMM; CPUID,
// MSR and CR accesses are handled here and recorded as in-engine exits (KVM does them in
// the kernel), so both engines show the same stream.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {
unsigned ioSize(const DecodedInsn& i) { return (i.opcode & 1) ? (i.opSize == 2 ? 2 : 4) : 1; }

void doIn(Interpreter& cpu, const DecodedInsn& i, uint16_t port) {
    const unsigned size = ioSize(i);
    cpu.checkIoPermission(port, size);
    uint32_t value;
    cpu.portInput(port, size, value);
    cpu.writeReg(i, RAX, size, value);
}

void doOut(Interpreter& cpu, const DecodedInsn& i, uint16_t port) {
    const unsigned size = ioSize(i);
    cpu.checkIoPermission(port, size);
    cpu.portOutput(port, size, static_cast<uint32_t>(cpu.readReg(i, RAX, size)));
}
}  // namespace

void inImm(Interpreter& cpu, const DecodedInsn& i) { doIn(cpu, i, static_cast<uint16_t>(i.imm & 0xff)); }
void outImm(Interpreter& cpu, const DecodedInsn& i) { doOut(cpu, i, static_cast<uint16_t>(i.imm & 0xff)); }
void inDx(Interpreter& cpu, const DecodedInsn& i) { doIn(cpu, i, static_cast<uint16_t>(cpu.s.gpr[RDX])); }
void outDx(Interpreter& cpu, const DecodedInsn& i) { doOut(cpu, i, static_cast<uint16_t>(cpu.s.gpr[RDX])); }

void hlt(Interpreter& cpu, const DecodedInsn&) {
    requireCpl0(cpu);
    cpu.halt();
}

namespace {
// CLI/STI: allowed when CPL <= IOPL (always in real mode).
void checkIf(Interpreter& cpu) {
    if (!cpu.s.protectedMode()) return;
    const unsigned iopl = (cpu.s.rflags() & rflag::IOPL) >> 12;
    if (cpu.s.cpl() > iopl) cpu.fault(kGP, 0);
}
}  // namespace

void cli(Interpreter& cpu, const DecodedInsn&) {
    checkIf(cpu);
    cpu.s.flags.setSystem(rflag::IF, false);
}

void sti(Interpreter& cpu, const DecodedInsn&) {
    checkIf(cpu);
    if (!cpu.s.flags.test(rflag::IF)) cpu.startInterruptShadow();  // one-instruction shadow
    cpu.s.flags.setSystem(rflag::IF, true);
}

void cpuid(Interpreter& cpu, const DecodedInsn&) {
    CpuState& s = cpu.s;
    const uint32_t leaf = static_cast<uint32_t>(s.gpr[RAX]);
    const uint32_t subleaf = static_cast<uint32_t>(s.gpr[RCX]);
    CpuidResult r = cpu.cpuid().query(leaf, subleaf);
    s.gpr[RAX] = r.eax;
    s.gpr[RBX] = r.ebx;
    s.gpr[RCX] = r.ecx;
    s.gpr[RDX] = r.edx;
    VmExit e;
    e.reason = ExitReason::Cpuid;
    e.rip = cpu.insnStart();
    e.cpuid = {leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx};
    cpu.reportInEngine(e);
}

void rdtsc(Interpreter& cpu, const DecodedInsn&) {
    CpuState& s = cpu.s;
    if ((s.cr4 & cr4::TSD) && s.cpl() != 0 && s.protectedMode()) cpu.fault(kGP, 0);
    const uint64_t tsc = cpu.readTsc();
    s.gpr[RAX] = tsc & 0xffffffffull;
    s.gpr[RDX] = tsc >> 32;
}

void rdmsr(Interpreter& cpu, const DecodedInsn&) {
    requireCpl0(cpu);
    CpuState& s = cpu.s;
    const uint32_t index = static_cast<uint32_t>(s.gpr[RCX]);
    const uint64_t v = cpu.readMsr(index);
    s.gpr[RAX] = v & 0xffffffffull;
    s.gpr[RDX] = v >> 32;
    VmExit e;
    e.reason = ExitReason::MsrRead;
    e.rip = cpu.insnStart();
    e.msr = {index, v};
    cpu.reportInEngine(e);
}

void wrmsr(Interpreter& cpu, const DecodedInsn&) {
    requireCpl0(cpu);
    CpuState& s = cpu.s;
    const uint32_t index = static_cast<uint32_t>(s.gpr[RCX]);
    const uint64_t v = (s.gpr[RDX] << 32) | (s.gpr[RAX] & 0xffffffffull);
    cpu.writeMsr(index, v);
    VmExit e;
    e.reason = ExitReason::MsrWrite;
    e.rip = cpu.insnStart();
    e.msr = {index, v};
    cpu.reportInEngine(e);
}

namespace {
void reportCr(Interpreter& cpu, unsigned cr, bool write, uint64_t value) {
    VmExit e;
    e.reason = ExitReason::CrAccess;
    e.rip = cpu.insnStart();
    e.cr = {static_cast<uint8_t>(cr), write, value};
    cpu.reportInEngine(e);
}
}  // namespace

void movFromCr(Interpreter& cpu, const DecodedInsn& i) {
    requireCpl0(cpu);
    const unsigned cr = i.reg;  // REX.R selects CR8
    const uint64_t v = cpu.readCr(cr);
    const unsigned size = i.mode64 ? 8 : 4;  // the mod field is ignored: always a register
    cpu.writeReg(i, i.rm, size, v);
    reportCr(cpu, cr, false, v);
}

void movToCr(Interpreter& cpu, const DecodedInsn& i) {
    requireCpl0(cpu);
    const unsigned cr = i.reg;
    const unsigned size = i.mode64 ? 8 : 4;
    const uint64_t v = cpu.readReg(i, i.rm, size);
    cpu.writeCr(cr, v);
    reportCr(cpu, cr, true, v);
}

void clts(Interpreter& cpu, const DecodedInsn&) {
    requireCpl0(cpu);
    cpu.s.cr0 &= ~cr0::TS;
    reportCr(cpu, 0, true, cpu.s.cr0);
}

namespace {
// SGDT/SIDT/LGDT/LIDT memory operand: limit (16) then base (24/32 bits, or 64 in 64-bit mode).
void storeTable(Interpreter& cpu, const DecodedInsn& i, const TableRegister& t) {
    const uint64_t ea = cpu.effectiveAddress(i);
    cpu.writeMem(i.segment, ea, 2, t.limit);
    const unsigned baseSize = i.mode64 ? 8 : 4;
    cpu.writeMem(i.segment, (ea + 2) & Interpreter::sizeMask(i.addrSize), baseSize, t.base);
}

TableRegister loadTable(Interpreter& cpu, const DecodedInsn& i) {
    const uint64_t ea = cpu.effectiveAddress(i);
    TableRegister t;
    t.limit = static_cast<uint16_t>(cpu.readMem(i.segment, ea, 2));
    const unsigned baseSize = i.mode64 ? 8 : 4;
    t.base = cpu.readMem(i.segment, (ea + 2) & Interpreter::sizeMask(i.addrSize), baseSize);
    if (!i.mode64 && i.opSize == 2) t.base &= 0xffffff;  // 16-bit operand size: 24-bit base
    return t;
}
}  // namespace

void group7(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned op = i.reg & 7;
    if (i.mod == 3) {
        if (op == 7 && (i.rm & 7) == 0 && i.mode64) {  // SWAPGS
            requireCpl0(cpu);
            std::swap(s.seg[GS].base, s.msrs.kernelGsBase);
            return;
        }
        if (op == 7 && (i.rm & 7) == 1) {  // RDTSCP
            const uint64_t tsc = cpu.readTsc();
            s.gpr[RAX] = tsc & 0xffffffffull;
            s.gpr[RDX] = tsc >> 32;
            s.gpr[RCX] = s.msrs.tscAux & 0xffffffffull;
            return;
        }
        if (op == 4) {  // SMSW r
            cpu.writeReg(i, i.rm, i.opSize, s.cr0 & Interpreter::sizeMask(i.opSize));
            return;
        }
        if (op == 6) {  // LMSW r
            requireCpl0(cpu);
            const uint64_t v = cpu.readReg(i, i.rm, 2);
            // LMSW changes PE (set only), MP, EM, TS.
            const uint64_t nv = (s.cr0 & ~0xeull) | (v & 0xe) | ((s.cr0 | v) & 1);
            cpu.writeCr(0, nv);
            reportCr(cpu, 0, true, nv);
            return;
        }
        cpu.fault(kUD);  // VMCALL, MONITOR, XGETBV and friends: not available
    }
    switch (op) {
        case 0: storeTable(cpu, i, s.gdtr); return;  // SGDT
        case 1: storeTable(cpu, i, s.idtr); return;  // SIDT
        case 2:                                      // LGDT
            requireCpl0(cpu);
            s.gdtr = loadTable(cpu, i);
            return;
        case 3:  // LIDT
            requireCpl0(cpu);
            s.idtr = loadTable(cpu, i);
            return;
        case 4: cpu.writeRm(i, 2, s.cr0 & 0xffff); return;  // SMSW m16
        case 6: {                                           // LMSW m16
            requireCpl0(cpu);
            const uint64_t v = cpu.readRm(i, 2);
            const uint64_t nv = (s.cr0 & ~0xeull) | (v & 0xe) | ((s.cr0 | v) & 1);
            cpu.writeCr(0, nv);
            reportCr(cpu, 0, true, nv);
            return;
        }
        case 7: {  // INVLPG
            requireCpl0(cpu);
            const uint64_t linear = cpu.linearAddress(i.segment, cpu.effectiveAddress(i), 1, AccessType::Read);
            cpu.invalidatePage(linear);
            VmExit e;
            e.reason = ExitReason::Invlpg;
            e.rip = cpu.insnStart();
            e.raw[0] = linear;
            cpu.reportInEngine(e);
            return;
        }
        default: cpu.fault(kUD);
    }
}

void group6(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    if (!s.protectedMode() || s.flags.test(rflag::VM)) cpu.fault(kUD);
    const unsigned op = i.reg & 7;
    switch (op) {
        case 0: cpu.writeRm(i, i.mod == 3 ? i.opSize : 2, s.ldtr.selector); return;  // SLDT
        case 1: cpu.writeRm(i, i.mod == 3 ? i.opSize : 2, s.tr.selector); return;    // STR
        case 2:
        case 3: {  // LLDT / LTR
            requireCpl0(cpu);
            const uint16_t sel = static_cast<uint16_t>(cpu.readRm(i, 2));
            Segment& target = op == 2 ? s.ldtr : s.tr;
            if ((sel & ~3u) == 0) {
                if (op == 3) cpu.fault(kGP, 0);
                s.ldtr = Segment{sel, 0, 0, 0};
                return;
            }
            if (sel & 4) cpu.fault(kGP, sel & ~3u);  // must be in the GDT
            const uint64_t off = sel & ~7u;
            if (off + 7 > s.gdtr.limit) cpu.fault(kGP, sel & ~3u);
            const uint64_t lo = cpu.readLinear(s.gdtr.base + off, 8, AccessType::Read, true);
            const unsigned type = (lo >> 40) & 0x1f;  // S bit and type
            const bool ok = op == 2 ? type == 0x02 : (type == 0x01 || type == 0x09);
            if (!ok) cpu.fault(kGP, sel & ~3u);
            if (!((lo >> 47) & 1)) cpu.fault(kNP, sel & ~3u);
            Segment sg = segmentFromDescriptor(sel, lo);
            if (s.longModeActive()) {  // a 16-byte system descriptor: base bits 63:32 follow
                const uint64_t hi = cpu.readLinear(s.gdtr.base + off + 8, 8, AccessType::Read, true);
                sg.base |= (hi & 0xffffffffull) << 32;
            }
            if (op == 3) {
                sg.attributes |= 2;  // the TSS becomes busy
                cpu.writeLinear(s.gdtr.base + off + 5, 1, ((lo >> 40) & 0xff) | 2, true);
            }
            target = sg;
            return;
        }
        default: cpu.fault(kUD);
    }
}

void ud(Interpreter& cpu, const DecodedInsn&) { cpu.fault(kUD); }

// 0F AE with a register operand: LFENCE (/5), MFENCE (/6), SFENCE (/7). The interpreter retires
// every access in order, so they have nothing to wait for. x86-64 guests use them whatever CPUID
// says (SSE2 is part of the 64-bit baseline). The memory forms (FXSAVE, LDMXCSR, CLFLUSH, ...)
// belong to features the interpreter does not offer: #UD.
void fences(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mod != 3 || (i.reg & 7) < 5) cpu.fault(kUD);
}

void cacheControl(Interpreter& cpu, const DecodedInsn&) { requireCpl0(cpu); }

}  // namespace hvlab::cpu::exec
