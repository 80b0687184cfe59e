// Fast system calls: SYSCALL/SYSRET (EFER.SCE, STAR/LSTAR/SFMASK) and SYSENTER/SYSEXIT
// (the SYSENTER_CS/ESP/EIP MSRs). They load flat CS and SS caches from the MSRs without
// reading the GDT (SDM vol. 2, SYSCALL/SYSRET/SYSENTER/SYSEXIT).
//
// The virtual CPU is GenuineIntel, so SYSCALL and SYSRET exist only in 64-bit mode (#UD in
// legacy and compatibility mode, as on Intel parts; CSTAR, AMD's compatibility-mode entry
// point, is kept as an MSR but never used).
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

// Flat 4 GiB segment caches in the VMX access-rights layout.
constexpr uint16_t kP = 0x80, kS = 0x10, kL = 0x2000, kDB = 0x4000, kG = 0x8000;

Segment flatCode(uint16_t selector, unsigned dpl, bool longMode) {
    const uint16_t attrs = static_cast<uint16_t>(0xb | kS | (dpl << 5) | kP | kG | (longMode ? kL : kDB));
    return Segment{selector, 0, 0xffffffff, attrs};
}

Segment flatStack(uint16_t selector, unsigned dpl) {
    return Segment{selector, 0, 0xffffffff, static_cast<uint16_t>(0x3 | kS | (dpl << 5) | kP | kDB | kG)};
}

bool canonical(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) == v; }

void requireSyscallEnabled(Interpreter& cpu) {
    if (cpu.codeSize() != CodeSize::Bits64 || !(cpu.s.efer & efer::SCE)) cpu.fault(kUD);
}

}  // namespace

// 0F 05: SYSCALL. RCX = return RIP, R11 = RFLAGS; RFLAGS &= ~SFMASK (and RF); ring 0 with
// CS = STAR[47:32], SS = STAR[47:32] + 8; RIP = LSTAR.
void syscall(Interpreter& cpu, const DecodedInsn&) {
    requireSyscallEnabled(cpu);
    CpuState& s = cpu.s;
    const uint64_t flags = s.rflags();
    s.gpr[RCX] = s.rip;
    s.gpr[R11] = flags;
    s.setRflags(flags & ~(s.msrs.sfmask | rflag::RF));
    const auto sel = static_cast<uint16_t>(s.msrs.star >> 32);
    s.seg[CS] = flatCode(static_cast<uint16_t>(sel & 0xfffc), 0, true);
    s.seg[SS] = flatStack(static_cast<uint16_t>(sel + 8), 0);
    cpu.modeChanged();
    s.rip = s.msrs.lstar;
}

// 0F 07: SYSRET (CPL 0). With REX.W back to 64-bit code at RCX (#GP(0) if not canonical),
// CS = STAR[63:48] + 16; otherwise to compatibility mode at ECX, CS = STAR[63:48].
// SS = STAR[63:48] + 8; RFLAGS = R11 (without the reserved bits, RF and VM).
void sysret(Interpreter& cpu, const DecodedInsn& i) {
    requireSyscallEnabled(cpu);
    CpuState& s = cpu.s;
    if (s.cpl() != 0) cpu.fault(kGP, 0);
    const bool to64 = i.opSize == 8;
    if (to64 && !canonical(s.gpr[RCX])) cpu.fault(kGP, 0);
    const auto base = static_cast<uint16_t>(s.msrs.star >> 48);
    s.setRflags((s.gpr[R11] & 0x3c7fd7) | rflag::RESERVED1);
    cpu.flagsChanged();
    s.seg[CS] = flatCode(static_cast<uint16_t>((to64 ? base + 16 : base) | 3), 3, to64);
    s.seg[SS] = flatStack(static_cast<uint16_t>((base + 8) | 3), 3);
    cpu.modeChanged();
    s.rip = to64 ? s.gpr[RCX] : s.gpr[RCX] & 0xffffffffull;
}

// 0F 34: SYSENTER (protected mode, any CPL). Ring 0 with CS = SYSENTER_CS, SS = CS + 8,
// rSP/rIP from the MSRs (64-bit code in IA-32e mode); VM, IF and RF are cleared.
void sysenter(Interpreter& cpu, const DecodedInsn&) {
    CpuState& s = cpu.s;
    const auto cs = static_cast<uint16_t>(s.msrs.sysenterCs);
    if (!s.protectedMode() || (cs & 0xfffc) == 0) cpu.fault(kGP, 0);
    const bool ia32e = s.longModeActive();
    s.flags.setSystem(rflag::VM | rflag::IF | rflag::RF, false);
    s.seg[CS] = flatCode(static_cast<uint16_t>(cs & 0xfffc), 0, ia32e);
    s.seg[SS] = flatStack(static_cast<uint16_t>((cs & 0xfffc) + 8), 0);
    cpu.modeChanged();
    s.gpr[RSP] = ia32e ? s.msrs.sysenterEsp : s.msrs.sysenterEsp & 0xffffffffull;
    s.rip = ia32e ? s.msrs.sysenterEip : s.msrs.sysenterEip & 0xffffffffull;
}

// 0F 35: SYSEXIT (CPL 0). To 32-bit ring 3: CS = SYSENTER_CS + 16, SS = + 24, EIP = EDX,
// ESP = ECX. With REX.W to 64-bit ring 3: CS = + 32, SS = + 40, RIP = RDX, RSP = RCX.
void sysexit(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const auto cs = static_cast<uint16_t>(s.msrs.sysenterCs);
    if (!s.protectedMode() || (cs & 0xfffc) == 0 || s.cpl() != 0) cpu.fault(kGP, 0);
    const bool to64 = i.opSize == 8;
    if (to64 && (!canonical(s.gpr[RCX]) || !canonical(s.gpr[RDX]))) cpu.fault(kGP, 0);
    s.seg[CS] = flatCode(static_cast<uint16_t>((cs + (to64 ? 32 : 16)) | 3), 3, to64);
    s.seg[SS] = flatStack(static_cast<uint16_t>((cs + (to64 ? 40 : 24)) | 3), 3);
    cpu.modeChanged();
    s.gpr[RSP] = to64 ? s.gpr[RCX] : s.gpr[RCX] & 0xffffffffull;
    s.rip = to64 ? s.gpr[RDX] : s.gpr[RDX] & 0xffffffffull;
}

}  // namespace hvlab::cpu::exec
