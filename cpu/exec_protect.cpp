// Protection and debug instructions: ARPL, LAR, LSL, VERR, VERW, MOV to/from DR0-DR7,
// INT1 (ICEBP) and RDPMC.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

// The instructions here that inspect selectors exist only in protected mode.
void requireProtectedNonV86(Interpreter& cpu) {
    if (!cpu.s.protectedMode() || cpu.s.flags.test(rflag::VM)) cpu.fault(kUD);
}

// A descriptor as LAR/LSL/VERR/VERW see it: a null selector or one beyond its table's limit
// is not an error for them, just ZF = 0.
struct Descriptor {
    uint64_t lo = 0, hi = 0;
    bool valid = false;
    bool system() const { return !((lo >> 44) & 1); }
    unsigned type() const { return (lo >> 40) & 0xf; }
    unsigned dpl() const { return (lo >> 45) & 3; }
    bool code() const { return !system() && (type() & 8); }
    bool conforming() const { return code() && (type() & 4); }
};

Descriptor fetchDescriptor(Interpreter& cpu, uint16_t selector) {
    const CpuState& s = cpu.s;
    Descriptor d;
    if ((selector & ~3u) == 0) return d;
    const bool local = selector & 4;
    if (local && !s.ldtr.present()) return d;
    const uint64_t base = local ? s.ldtr.base : s.gdtr.base;
    const uint32_t limit = local ? s.ldtr.limit : s.gdtr.limit;
    const uint32_t offset = selector & ~7u;
    if (offset + 7 > limit) return d;
    const uint64_t mask = s.longModeActive() ? ~0ull : 0xffffffffull;
    d.lo = cpu.readLinear((base + offset) & mask, 8, AccessType::Read, /*supervisor=*/true);
    // In IA-32e mode, system descriptors are 16 bytes; the upper half's type field must be 0.
    if (s.longModeActive() && d.system()) {
        if (offset + 15 > limit) return d;
        d.hi = cpu.readLinear((base + offset + 8) & mask, 8, AccessType::Read, true);
        if ((d.hi >> 40) & 0x1f) return d;
    }
    d.valid = true;
    return d;
}

// Non-conforming segments (and system descriptors) are visible when DPL >= max(CPL, RPL).
bool visible(const Interpreter& cpu, const Descriptor& d, uint16_t selector) {
    if (d.conforming()) return true;
    return d.dpl() >= cpu.s.cpl() && d.dpl() >= (selector & 3u);
}

// The system descriptor types LAR (withGates) and LSL accept.
bool systemTypeOk(const Interpreter& cpu, unsigned type, bool withGates) {
    if (cpu.s.longModeActive()) {
        // LDT, available and busy 64-bit TSS, 64-bit call gate.
        return type == 0x2 || type == 0x9 || type == 0xb || (withGates && type == 0xc);
    }
    switch (type) {
        case 0x1: case 0x2: case 0x3: case 0x9: case 0xb: return true;  // TSSs and LDT
        case 0x4: case 0x5: case 0xc: return withGates;                  // call and task gates
        default: return false;
    }
}

}  // namespace

// 63 /r: ARPL r/m16, r16 outside 64-bit mode (MOVSXD in 64-bit mode).
void arpl(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mode64) {
        movsxd(cpu, i);
        return;
    }
    requireProtectedNonV86(cpu);
    const uint64_t dst = cpu.readRm(i, 2);
    const uint64_t src = cpu.readReg(i, i.reg, 2);
    const bool raise = (dst & 3) < (src & 3);
    if (raise) cpu.writeRm(i, 2, (dst & ~3ull) | (src & 3));  // memory is written only when it changes
    cpu.s.flags.set(rflag::ZF, raise);
}

// 0F 02 LAR and 0F 03 LSL: access rights or the byte-granular limit of the selected
// descriptor, with ZF = 1; ZF = 0 and the destination unchanged when it is not visible.
void larLsl(Interpreter& cpu, const DecodedInsn& i) {
    requireProtectedNonV86(cpu);
    const bool lar = i.opcode == 0x02;
    const auto selector = static_cast<uint16_t>(cpu.readRm(i, 2));
    const Descriptor d = fetchDescriptor(cpu, selector);
    bool ok = d.valid && visible(cpu, d, selector);
    if (ok && d.system()) ok = systemTypeOk(cpu, d.type(), lar);
    if (ok) {
        uint64_t v;
        if (lar) {
            v = (d.lo >> 32) & (i.opSize == 2 ? 0xff00 : 0x00f0ff00);
        } else {
            v = segmentFromDescriptor(selector, d.lo).limit;  // the limit in bytes (G applied)
        }
        cpu.writeReg(i, i.reg, i.opSize, v & Interpreter::sizeMask(i.opSize));
    }
    cpu.s.flags.set(rflag::ZF, ok);
}

// 0F 00 /4 VERR and /5 VERW: ZF = 1 if the segment is readable (VERR) or writable (VERW)
// at the current privilege level.
void verrVerw(Interpreter& cpu, const DecodedInsn& i) {
    requireProtectedNonV86(cpu);
    const bool write = (i.reg & 7) == 5;
    const auto selector = static_cast<uint16_t>(cpu.readRm(i, 2));
    const Descriptor d = fetchDescriptor(cpu, selector);
    bool ok = d.valid && !d.system();
    if (ok) {
        if (write)
            ok = !d.code() && (d.type() & 2);
        else
            ok = !d.code() || (d.type() & 2);  // data, or readable code
    }
    ok = ok && visible(cpu, d, selector);
    cpu.s.flags.set(rflag::ZF, ok);
}

// 0F 21 MOV r, DRn and 0F 23 MOV DRn, r. CPL 0 only; DR4/DR5 alias DR6/DR7 unless CR4.DE
// makes them #UD; DR8-15 (REX.R) do not exist. DR7.GD (general detect) is not modelled.
void movDr(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    if (s.protectedMode() && s.cpl() != 0) cpu.fault(kGP, 0);
    unsigned dr = i.reg;
    if (dr > 7) cpu.fault(kUD);
    if (dr == 4 || dr == 5) {
        if (s.cr4 & cr4::DE) cpu.fault(kUD);
        dr += 2;
    }
    const unsigned size = i.mode64 ? 8 : 4;  // the mod field is ignored: always a register
    if (i.opcode == 0x21) {
        cpu.writeReg(i, i.rm, size, s.dr[dr]);
        return;
    }
    const uint64_t v = cpu.readReg(i, i.rm, size);
    switch (dr) {
        case 6:
            if (v >> 32) cpu.fault(kGP, 0);
            // B0-B3, BD, BS, BT are writable; bits 4-11 and 16-31 read as 1, bit 12 as 0.
            s.dr[6] = (v & 0xe00f) | 0xffff0ff0;
            break;
        case 7:
            if (v >> 32) cpu.fault(kGP, 0);
            // Bit 10 reads as 1; bits 11, 12, 14 and 15 as 0.
            s.dr[7] = (v & 0xffff23ff) | 0x400;
            break;
        default: s.dr[dr] = v; break;
    }
}

// F1: INT1 (ICEBP). A #DB trap delivered like a hardware exception: no gate-DPL or IOPL
// check, and DR6 is not changed.
void int1(Interpreter& cpu, const DecodedInsn&) { cpu.deliverEvent(kDB, EventKind::Exception, 0, false); }

// 0F 33: RDPMC. The virtual CPU has no performance-monitoring counters (CPUID has no leaf
// 0Ah), so every counter index is invalid: #GP(0), after the CR4.PCE privilege check.
void rdpmc(Interpreter& cpu, const DecodedInsn&) {
    const CpuState& s = cpu.s;
    if (s.protectedMode() && s.cpl() != 0 && !(s.cr4 & cr4::PCE)) cpu.fault(kGP, 0);
    cpu.fault(kGP, 0);
}

}  // namespace hvlab::cpu::exec
