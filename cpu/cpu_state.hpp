// The one CPU state. The interpreter runs on it; the KVM engine converts it to and from
// kvm_regs/kvm_sregs/MSRs. Either engine can take over a paused VM from it.
#pragma once

#include <array>
#include <cstdint>

#include "cpu/lazy_flags.hpp"

namespace hvlab::cpu {

enum Gpr : uint8_t { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kSegCount, kNoSeg = 0xff };

const char* gprName(unsigned index, unsigned size);
const char* segName(unsigned seg);

// A segment register with its hidden descriptor cache. `attributes` uses the VMX
// access-rights layout: type[3:0] S[4] DPL[6:5] P[7] AVL[12] L[13] D/B[14] G[15].
struct Segment {
    uint16_t selector = 0;
    uint64_t base = 0;
    uint32_t limit = 0xffff;
    uint16_t attributes = 0;

    unsigned type() const { return attributes & 0xf; }
    bool system() const { return !(attributes & 0x10); }
    unsigned dpl() const { return (attributes >> 5) & 3; }
    bool present() const { return attributes & 0x80; }
    bool longMode() const { return attributes & 0x2000; }
    bool defaultBig() const { return attributes & 0x4000; }
    bool granularity() const { return attributes & 0x8000; }
    bool isCode() const { return !system() && (type() & 8); }
};

// Decodes an 8-byte segment descriptor (base, limit with granularity, attributes) into a
// segment register's hidden part, as the processor does when it loads the selector.
inline Segment segmentFromDescriptor(uint16_t selector, uint64_t d) {
    Segment sg;
    sg.selector = selector;
    sg.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    sg.attributes = static_cast<uint16_t>(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    if (sg.granularity()) limit = (limit << 12) | 0xfff;
    sg.limit = limit;
    return sg;
}

struct TableRegister {
    uint64_t base = 0;
    uint16_t limit = 0xffff;
};

// Architectural bits the interpreter and the converters name.
namespace cr0 {
constexpr uint64_t PE = 1ull << 0, MP = 1ull << 1, EM = 1ull << 2, TS = 1ull << 3, ET = 1ull << 4,
                   NE = 1ull << 5, WP = 1ull << 16, AM = 1ull << 18, NW = 1ull << 29, CD = 1ull << 30,
                   PG = 1ull << 31;
}
namespace cr4 {
constexpr uint64_t VME = 1ull << 0, PVI = 1ull << 1, TSD = 1ull << 2, DE = 1ull << 3, PSE = 1ull << 4,
                   PAE = 1ull << 5, MCE = 1ull << 6, PGE = 1ull << 7, PCE = 1ull << 8, OSFXSR = 1ull << 9,
                   OSXMMEXCPT = 1ull << 10, UMIP = 1ull << 11, FSGSBASE = 1ull << 16;
}
namespace efer {
constexpr uint64_t SCE = 1ull << 0, LME = 1ull << 8, LMA = 1ull << 10, NXE = 1ull << 11;
}
namespace msr {
constexpr uint32_t TSC = 0x10, APIC_BASE = 0x1b, MISC_ENABLE = 0x1a0, SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175,
                   SYSENTER_EIP = 0x176, PAT = 0x277, EFER = 0xc0000080, STAR = 0xc0000081, LSTAR = 0xc0000082,
                   CSTAR = 0xc0000083, SFMASK = 0xc0000084, FS_BASE = 0xc0000100, GS_BASE = 0xc0000101,
                   KERNEL_GS_BASE = 0xc0000102, TSC_AUX = 0xc0000103;
}

// The execution mode that decides default operand/address sizes.
enum class CpuMode : uint8_t { Real, Virtual8086, Protected16, Protected32, Compat16, Compat32, Long64 };
const char* cpuModeName(CpuMode mode);

struct ModelSpecificRegisters {
    uint64_t apicBase = 0xfee00900;  // enabled, BSP
    uint64_t sysenterCs = 0, sysenterEsp = 0, sysenterEip = 0;
    uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0;
    uint64_t kernelGsBase = 0;
    uint64_t pat = 0x0007040600070406ull;
    uint64_t miscEnable = 1;  // fast strings
    uint64_t tscAux = 0;
    int64_t tscOffset = 0;  // guest TSC = clock + offset
};

struct CpuState {
    std::array<uint64_t, 16> gpr{};
    uint64_t rip = 0;
    LazyFlags flags;  // RFLAGS, with the arithmetic flags computed lazily

    std::array<Segment, kSegCount> seg{};
    Segment ldtr, tr;
    TableRegister gdtr, idtr;

    uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
    uint64_t efer = 0;
    std::array<uint64_t, 8> dr{};
    ModelSpecificRegisters msrs;

    // Events and run state.
    bool halted = false;
    bool interruptShadow = false;  // STI / MOV SS: interrupts blocked for one instruction

    uint64_t rflags() const { return flags.materialize(); }
    void setRflags(uint64_t value) { flags.assign(value); }

    unsigned cpl() const {
        if (!protectedMode()) return 0;
        if (flags.test(rflag::VM)) return 3;
        return seg[SS].dpl();  // as VMX does: the CPL is SS.DPL
    }
    CpuMode mode() const;
    bool longModeActive() const { return efer & efer::LMA; }
    bool protectedMode() const { return cr0 & cr0::PE; }
    bool pagingEnabled() const { return cr0 & cr0::PG; }

    // The state after RESET (Intel SDM vol. 3, table 9-1): CS.base FFFF0000, IP FFF0.
    static CpuState atReset();
};

}  // namespace hvlab::cpu
