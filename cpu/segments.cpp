// Segment loads and far control transfers: real-mode selectors, GDT/LDT descriptors with
// their type, privilege and presence checks (SDM vol. 3, chapter 5).
#include "cpu/interpreter.hpp"

namespace hvlab::cpu {

uint64_t Interpreter::readDescriptor(uint16_t selector, uint8_t faultVector) {
    const bool local = selector & 4;
    const uint64_t base = local ? s.ldtr.base : s.gdtr.base;
    const uint32_t limit = local ? s.ldtr.limit : s.gdtr.limit;
    const uint32_t offset = selector & ~7u;
    if ((local && !s.ldtr.present()) || offset + 7 > limit) fault(faultVector, selector & ~3u);
    return readLinear(base + offset, 8, AccessType::Read, /*supervisor=*/true);
}

Segment Interpreter::descriptorToSegment(uint16_t selector, uint64_t d) const {
    Segment sg;
    sg.selector = selector;
    sg.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    sg.attributes = static_cast<uint16_t>(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    if (sg.granularity()) limit = (limit << 12) | 0xfff;
    sg.limit = limit;
    return sg;
}

void Interpreter::loadSegment(unsigned seg, uint16_t selector) {
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        // Real and virtual-8086 mode: base = selector * 16; limit and attributes are kept
        // (which is what makes "unreal mode" work), except that V86 forces DPL 3.
        Segment& sg = s.seg[seg];
        sg.selector = selector;
        sg.base = static_cast<uint64_t>(selector) << 4;
        if (s.flags.test(rflag::VM)) sg.attributes = 0xf3;
        if (seg == CS) updateModeCache();
        return;
    }
    const unsigned cpl = s.cpl();
    const unsigned rpl = selector & 3;
    if ((selector & ~3u) == 0) {
        // A null selector: allowed in DS/ES/FS/GS (later accesses fault); SS only in 64-bit code below CPL 3.
        if (seg == SS && !(codeSize_ == CodeSize::Bits64 && cpl < 3)) fault(kGP, 0);
        Segment& sg = s.seg[seg];
        sg.selector = selector;
        sg.base = (codeSize_ == CodeSize::Bits64 && (seg == FS || seg == GS)) ? sg.base : 0;
        // Unusable; a null SS in 64-bit code keeps the CPL in its DPL.
        sg.attributes = seg == SS ? static_cast<uint16_t>(rpl << 5) : 0;
        return;
    }
    const uint64_t d = readDescriptor(selector, kGP);
    Segment sg = descriptorToSegment(selector, d);
    const unsigned dpl = sg.dpl();
    if (seg == SS) {
        if (rpl != cpl || dpl != cpl || sg.system() || sg.isCode() || !(sg.type() & 2)) fault(kGP, selector & ~3u);
        if (!sg.present()) fault(kSS, selector & ~3u);
    } else {
        if (sg.system() || (sg.isCode() && !(sg.type() & 2))) fault(kGP, selector & ~3u);
        // Data and non-conforming code: the greater of CPL and RPL must not exceed DPL.
        const bool conformingCode = sg.isCode() && (sg.type() & 4);
        if (!conformingCode && (rpl > dpl || cpl > dpl)) fault(kGP, selector & ~3u);
        if (!sg.present()) fault(kNP, selector & ~3u);
    }
    // Set the accessed bit in the descriptor, as the processor does.
    if (!(d & (1ull << 40))) {
        const uint64_t tableBase = (selector & 4) ? s.ldtr.base : s.gdtr.base;
        writeLinear(tableBase + (selector & ~7u) + 5, 1, ((d >> 40) & 0xff) | 1, true);
        sg.attributes |= 1;
    }
    if (codeSize_ == CodeSize::Bits64 && (seg == FS || seg == GS)) sg.base &= 0xffffffffull;
    s.seg[seg] = sg;
}

void Interpreter::loadCodeSegment(uint16_t selector, uint64_t d) {
    Segment sg = descriptorToSegment(selector, d);
    sg.selector = static_cast<uint16_t>((selector & ~3u) | s.cpl());
    if (!(d & (1ull << 40))) {
        const uint64_t tableBase = (selector & 4) ? s.ldtr.base : s.gdtr.base;
        writeLinear(tableBase + (selector & ~7u) + 5, 1, ((d >> 40) & 0xff) | 1, true);
        sg.attributes |= 1;
    }
    s.seg[CS] = sg;
    updateModeCache();
}

// Checks a far JMP/CALL target in protected mode: a code segment the current privilege may
// enter directly (call gates and task switches are not supported yet: #GP).
static void checkDirectCodeTarget(Interpreter& cpu, const Segment& target, uint16_t selector, unsigned cpl) {
    if (target.system() || !target.isCode()) cpu.fault(kGP, selector & ~3u);
    const bool conforming = target.type() & 4;
    const unsigned rpl = selector & 3;
    if (conforming ? target.dpl() > cpl : (rpl > cpl || target.dpl() != cpl)) cpu.fault(kGP, selector & ~3u);
    if (!target.present()) cpu.fault(kNP, selector & ~3u);
}

void Interpreter::farJump(uint16_t selector, uint64_t offset, unsigned opSize) {
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        loadSegment(CS, selector);
        s.rip = offset & sizeMask(opSize);
        return;
    }
    if ((selector & ~3u) == 0) fault(kGP, 0);
    const uint64_t d = readDescriptor(selector, kGP);
    const Segment target = descriptorToSegment(selector, d);
    checkDirectCodeTarget(*this, target, selector, s.cpl());
    const bool to64 = s.longModeActive() && target.longMode();
    const uint64_t rip = to64 ? offset : offset & sizeMask(opSize);
    if (!to64 && rip > target.limit) fault(kGP, 0);
    loadCodeSegment(selector, d);
    s.rip = rip;
}

void Interpreter::farCall(uint16_t selector, uint64_t offset, unsigned opSize) {
    const uint16_t oldCs = s.seg[CS].selector;
    const uint64_t oldRip = s.rip;
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        push(oldCs, opSize);
        push(oldRip, opSize);
        loadSegment(CS, selector);
        s.rip = offset & sizeMask(opSize);
        return;
    }
    if ((selector & ~3u) == 0) fault(kGP, 0);
    const uint64_t d = readDescriptor(selector, kGP);
    const Segment target = descriptorToSegment(selector, d);
    checkDirectCodeTarget(*this, target, selector, s.cpl());
    const bool to64 = s.longModeActive() && target.longMode();
    const uint64_t rip = to64 ? offset : offset & sizeMask(opSize);
    if (!to64 && rip > target.limit) fault(kGP, 0);
    // Push with the old stack, then switch (both pushes must succeed before CS changes).
    const uint64_t savedRsp = s.gpr[RSP];
    try {
        push(oldCs, opSize);
        push(oldRip, opSize);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
    loadCodeSegment(selector, d);
    s.rip = rip;
}

void Interpreter::farReturn(unsigned opSize, uint16_t popBytes) {
    const uint64_t savedRsp = s.gpr[RSP];
    uint64_t rip, sel;
    try {
        rip = pop(opSize);
        sel = pop(opSize) & 0xffff;
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
    const uint16_t selector = static_cast<uint16_t>(sel);
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        loadSegment(CS, selector);
        s.rip = rip & sizeMask(opSize);
    } else {
        if ((selector & ~3u) == 0) {
            s.gpr[RSP] = savedRsp;
            fault(kGP, 0);
        }
        const uint64_t d = readDescriptor(selector, kGP);
        const Segment target = descriptorToSegment(selector, d);
        const unsigned rpl = selector & 3;
        if (rpl != s.cpl()) {
            // A return to an outer privilege level also pops SS:ESP: not supported yet.
            s.gpr[RSP] = savedRsp;
            fault(kGP, selector & ~3u);
        }
        if (target.system() || !target.isCode() || !target.present()) {
            s.gpr[RSP] = savedRsp;
            fault(target.present() ? kGP : kNP, selector & ~3u);
        }
        loadCodeSegment(selector, d);
        s.rip = (s.longModeActive() && target.longMode()) ? rip : rip & sizeMask(opSize);
    }
    const unsigned as = stackAddrSize();
    const uint64_t sp = (s.gpr[RSP] + popBytes) & sizeMask(as);
    s.gpr[RSP] = as == 8 ? sp : (s.gpr[RSP] & ~sizeMask(as)) | sp;
}

}  // namespace hvlab::cpu
