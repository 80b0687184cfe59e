// Control registers and MSRs, with the checks MOV CRn and WRMSR make (SDM vol. 3, 2.5 and 9.8).
#include "cpu/interpreter.hpp"

namespace hvlab::cpu {

uint64_t Interpreter::readCr(unsigned cr) {
    switch (cr) {
        case 0: return s.cr0;
        case 2: return s.cr2;
        case 3: return s.cr3;
        case 4: return s.cr4;
        case 8: return s.cr8 & 0xf;
        default: fault(kUD);
    }
}

void Interpreter::writeCr(unsigned cr, uint64_t value) {
    switch (cr) {
        case 0: {
            if (value >> 32) fault(kGP, 0);
            value |= cr0::ET;
            if ((value & cr0::PG) && !(value & cr0::PE)) fault(kGP, 0);
            if ((value & cr0::NW) && !(value & cr0::CD)) fault(kGP, 0);
            const bool enablingPaging = (value & cr0::PG) && !(s.cr0 & cr0::PG);
            const bool disablingPaging = !(value & cr0::PG) && (s.cr0 & cr0::PG);
            if (enablingPaging && (s.efer & efer::LME)) {
                if (!(s.cr4 & cr4::PAE)) fault(kGP, 0);
                s.efer |= efer::LMA;  // IA-32e mode becomes active
            }
            if (disablingPaging && s.longModeActive()) {
                if (codeSize_ == CodeSize::Bits64) fault(kGP, 0);  // only from compatibility mode
                s.efer &= ~efer::LMA;
            }
            const uint64_t changed = s.cr0 ^ value;
            s.cr0 = value;
            updateModeCache();
            if (changed & (cr0::PG | cr0::WP | cr0::PE)) flushTlb();
            return;
        }
        case 2: s.cr2 = value; return;
        case 3: {
            if (s.longModeActive() && (value >> 52)) fault(kGP, 0);
            s.cr3 = s.longModeActive() ? value : value & 0xffffffffull;
            updateModeCache();
            flushTlb(/*keepGlobal=*/s.cr4 & cr4::PGE);
            return;
        }
        case 4: {
            if (value & ~cpuid_.allowedCr4()) fault(kGP, 0);  // bits of features this CPU lacks are reserved
            if (s.longModeActive() && !(value & cr4::PAE)) fault(kGP, 0);
            const uint64_t changed = s.cr4 ^ value;
            s.cr4 = value;
            updateModeCache();
            if (changed & (cr4::PSE | cr4::PAE | cr4::PGE)) flushTlb();
            return;
        }
        case 8:
            if (value >> 4) fault(kGP, 0);
            s.cr8 = value;
            return;
        default: fault(kUD);
    }
}

uint64_t Interpreter::readTsc() const {
    // Virtual time, so interpreter runs are deterministic: the VMM's clock when it gave one
    // (the TSC then counts at 1 GHz of guest time), else one tick per retired instruction.
    return tscClock() + static_cast<uint64_t>(s.msrs.tscOffset);
}

uint64_t Interpreter::tscClock() const { return tscSource_ ? tscSource_() : retired(); }

uint64_t Interpreter::readMsr(uint32_t index) {
    auto& m = s.msrs;
    switch (index) {
        case msr::TSC: return readTsc();
        case msr::APIC_BASE: return m.apicBase;
        case msr::MISC_ENABLE: return m.miscEnable;
        case msr::SYSENTER_CS: return m.sysenterCs;
        case msr::SYSENTER_ESP: return m.sysenterEsp;
        case msr::SYSENTER_EIP: return m.sysenterEip;
        case msr::PAT: return m.pat;
        case msr::EFER: return s.efer;
        case msr::STAR: return m.star;
        case msr::LSTAR: return m.lstar;
        case msr::CSTAR: return m.cstar;
        case msr::SFMASK: return m.sfmask;
        case msr::FS_BASE: return s.seg[FS].base;
        case msr::GS_BASE: return s.seg[GS].base;
        case msr::KERNEL_GS_BASE: return m.kernelGsBase;
        case msr::TSC_AUX: return m.tscAux;
        default: fault(kGP, 0);  // an MSR this CPU does not have
    }
}

static bool canonical(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) == v; }

void Interpreter::writeMsr(uint32_t index, uint64_t value) {
    auto& m = s.msrs;
    auto requireCanonical = [&](uint64_t v) {
        if (!canonical(v)) fault(kGP, 0);
    };
    switch (index) {
        case msr::TSC: m.tscOffset = static_cast<int64_t>(value - tscClock()); return;
        case msr::APIC_BASE: m.apicBase = value & 0xfffffff000ull; m.apicBase |= value & 0x900; return;
        case msr::MISC_ENABLE: m.miscEnable = value; return;
        case msr::SYSENTER_CS: m.sysenterCs = value & 0xffff; return;
        case msr::SYSENTER_ESP: requireCanonical(value); m.sysenterEsp = value; return;
        case msr::SYSENTER_EIP: requireCanonical(value); m.sysenterEip = value; return;
        case msr::PAT: m.pat = value; return;
        case msr::EFER: {
            const uint64_t writable = efer::SCE | efer::LME | efer::NXE;
            if (value & ~(writable | efer::LMA)) fault(kGP, 0);
            if (((value ^ s.efer) & efer::LME) && s.pagingEnabled()) fault(kGP, 0);
            const uint64_t changed = s.efer ^ value;
            s.efer = (s.efer & efer::LMA) | (value & writable);
            updateModeCache();
            if (changed & efer::NXE) flushTlb();
            return;
        }
        case msr::STAR: m.star = value; return;
        case msr::LSTAR: requireCanonical(value); m.lstar = value; return;
        case msr::CSTAR: requireCanonical(value); m.cstar = value; return;
        case msr::SFMASK: m.sfmask = value & 0xffffffffull; return;
        case msr::FS_BASE: requireCanonical(value); s.seg[FS].base = value; return;
        case msr::GS_BASE: requireCanonical(value); s.seg[GS].base = value; return;
        case msr::KERNEL_GS_BASE: requireCanonical(value); m.kernelGsBase = value; return;
        case msr::TSC_AUX: m.tscAux = value & 0xffffffffull; return;
        default: fault(kGP, 0);
    }
}

}  // namespace hvlab::cpu
