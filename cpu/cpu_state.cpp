#include "cpu/cpu_state.hpp"

namespace hvlab::cpu {

const char* gprName(unsigned index, unsigned size) {
    static constexpr const char* q[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static constexpr const char* d[16] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                          "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    static constexpr const char* w[16] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                          "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
    static constexpr const char* b[16] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                          "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
    index &= 15;
    switch (size) {
        case 1: return b[index];
        case 2: return w[index];
        case 4: return d[index];
        default: return q[index];
    }
}

const char* segName(unsigned seg) {
    static constexpr const char* names[kSegCount] = {"es", "cs", "ss", "ds", "fs", "gs"};
    return seg < kSegCount ? names[seg] : "?";
}

const char* cpuModeName(CpuMode mode) {
    switch (mode) {
        case CpuMode::Real: return "real mode";
        case CpuMode::Virtual8086: return "virtual-8086 mode";
        case CpuMode::Protected16: return "16-bit protected mode";
        case CpuMode::Protected32: return "32-bit protected mode";
        case CpuMode::Compat16: return "16-bit compatibility mode";
        case CpuMode::Compat32: return "32-bit compatibility mode";
        case CpuMode::Long64: return "64-bit long mode";
    }
    return "?";
}

CpuMode CpuState::mode() const {
    if (!protectedMode()) return CpuMode::Real;
    if (longModeActive()) {
        if (seg[CS].longMode()) return CpuMode::Long64;
        return seg[CS].defaultBig() ? CpuMode::Compat32 : CpuMode::Compat16;
    }
    if (flags.test(rflag::VM)) return CpuMode::Virtual8086;
    return seg[CS].defaultBig() ? CpuMode::Protected32 : CpuMode::Protected16;
}

CpuState CpuState::atReset() {
    CpuState s;
    for (Segment& sg : s.seg) sg = Segment{0, 0, 0xffff, 0x93};  // present, read/write, accessed data
    s.seg[CS] = Segment{0xf000, 0xffff0000ull, 0xffff, 0x9b};   // present, execute/read, accessed code
    s.ldtr = Segment{0, 0, 0xffff, 0x82};
    s.tr = Segment{0, 0, 0xffff, 0x8b};
    s.gdtr = {0, 0xffff};
    s.idtr = {0, 0xffff};
    s.rip = 0xfff0;
    s.setRflags(rflag::RESERVED1);
    s.cr0 = cr0::ET | cr0::NW | cr0::CD;
    s.gpr[RDX] = 0x600;  // processor signature: family 6 (kept in step with the CPUID model)
    s.dr[6] = 0xffff0ff0;
    s.dr[7] = 0x400;
    return s;
}

}  // namespace hvlab::cpu
