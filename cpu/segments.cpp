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
    return segmentFromDescriptor(selector, d);
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

namespace {

bool canonical(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) == v; }

// Sets the accessed bit of a descriptor the processor just loaded, in the table and the cache.
void markAccessed(Interpreter& cpu, uint16_t selector, uint64_t descriptor, Segment& cache) {
    if (descriptor & (1ull << 40)) return;
    const uint64_t tableBase = (selector & 4) ? cpu.s.ldtr.base : cpu.s.gdtr.base;
    cpu.writeLinear(tableBase + (selector & ~7u) + 5, 1, ((descriptor >> 40) & 0xff) | 1, true);
    cache.attributes |= 1;
}

// A data segment the new CPL may not use becomes null on a return to an outer level.
void nullInaccessibleDataSegments(CpuState& s, unsigned newCpl) {
    for (unsigned sg : {ES, DS, FS, GS}) {
        const Segment& seg = s.seg[sg];
        const bool conformingCode = seg.isCode() && (seg.type() & 4);
        if (!conformingCode && seg.dpl() < newCpl) s.seg[sg] = Segment{0, seg.base, 0, 0};
    }
}

// Checks a far JMP/CALL target in protected mode: a code segment the current privilege may
// enter directly.
void checkDirectCodeTarget(Interpreter& cpu, const Segment& target, uint16_t selector, unsigned cpl) {
    if (target.system() || !target.isCode()) cpu.fault(kGP, selector & ~3u);
    const bool conforming = target.type() & 4;
    const unsigned rpl = selector & 3;
    if (conforming ? target.dpl() > cpl : (rpl > cpl || target.dpl() != cpl)) cpu.fault(kGP, selector & ~3u);
    if (!target.present()) cpu.fault(kNP, selector & ~3u);
}

}  // namespace

void Interpreter::farJump(uint16_t selector, uint64_t offset, unsigned opSize) {
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        loadSegment(CS, selector);
        s.rip = offset & sizeMask(opSize);
        return;
    }
    if ((selector & ~3u) == 0) fault(kGP, 0);
    const uint64_t d = readDescriptor(selector, kGP);
    const Segment target = descriptorToSegment(selector, d);
    if (target.system()) {
        farThroughGate(selector, d, /*call=*/false);
        return;
    }
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
    if (target.system()) {
        farThroughGate(selector, d, /*call=*/true);
        return;
    }
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

// Far JMP/CALL through a call gate (SDM vol. 3, 5.8.3-5.8.6): 16- and 32-bit gates in
// protected mode, 16-byte 64-bit gates in IA-32e mode. A CALL to a more privileged
// non-conforming segment switches to the inner stack from the TSS, pushes the old SS:rSP,
// copies the gate's parameter count of words/dwords (not in IA-32e mode), then CS:rIP.
void Interpreter::farThroughGate(uint16_t gateSelector, uint64_t gate, bool call) {
    const bool ia32e = s.longModeActive();
    const unsigned type = (gate >> 40) & 0xf;
    const unsigned cpl = s.cpl();
    const uint32_t gateError = gateSelector & ~3u;
    if (!(ia32e ? type == 0xc : (type == 0x4 || type == 0xc))) {
        // A TSS or task gate would switch tasks, which the interpreter does not implement. An
        // unimplemented-instruction exit cannot be raised from the middle of a far transfer,
        // so this faults as a bad target would: #GP(selector). Other system types are #GP too.
        fault(kGP, gateError);
    }
    const unsigned gateDpl = (gate >> 45) & 3;
    if (gateDpl < cpl || gateDpl < (gateSelector & 3u)) fault(kGP, gateError);
    if (!((gate >> 47) & 1)) fault(kNP, gateError);

    unsigned frameSize;  // the size of each value pushed: the gate's size (8 in IA-32e mode)
    uint64_t offset = (gate & 0xffff) | (((gate >> 48) & 0xffff) << 16);
    if (ia32e) {
        const bool local = gateSelector & 4;
        const uint64_t tableBase = local ? s.ldtr.base : s.gdtr.base;
        const uint32_t tableLimit = local ? s.ldtr.limit : s.gdtr.limit;
        if ((gateSelector & ~7u) + 15 > tableLimit) fault(kGP, gateError);
        const uint64_t hi = readLinear(tableBase + (gateSelector & ~7u) + 8, 8, AccessType::Read, true);
        if ((hi >> 40) & 0x1f) fault(kGP, gateError);  // the upper half's type field must be 0
        offset |= (hi & 0xffffffffull) << 32;
        frameSize = 8;
    } else {
        frameSize = type == 0xc ? 4 : 2;
        if (frameSize == 2) offset &= 0xffff;
    }

    const auto csSelector = static_cast<uint16_t>(gate >> 16);
    const uint32_t csError = csSelector & ~3u;
    if (csError == 0) fault(kGP, 0);
    const uint64_t d = readDescriptor(csSelector, kGP);
    const Segment target = descriptorToSegment(csSelector, d);
    if (target.system() || !target.isCode() || target.dpl() > cpl) fault(kGP, csError);
    const bool conforming = target.type() & 4;
    if (!call && !conforming && target.dpl() != cpl) fault(kGP, csError);  // JMP never changes CPL
    if (ia32e && (!target.longMode() || target.defaultBig())) fault(kGP, csError);
    if (!target.present()) fault(kNP, csError);
    if (ia32e ? !canonical(offset) : offset > target.limit) fault(kGP, 0);

    if (!call) {
        loadCodeSegment(csSelector, d);
        s.rip = offset;
        return;
    }

    const Segment oldSs = s.seg[SS], oldCs = s.seg[CS];
    const uint64_t oldRsp = s.gpr[RSP], oldRip = s.rip;
    const bool from64 = codeSize_ == CodeSize::Bits64;
    const bool inner = !conforming && target.dpl() < cpl;
    const unsigned newCpl = inner ? target.dpl() : cpl;
    try {
        if (ia32e) {
            // 64-bit pushes at RSP (no segmentation); an inner call takes RSPn from the TSS
            // and a null SS with RPL = the new CPL.
            uint64_t rsp = from64 ? oldRsp : oldRsp & 0xffffffffull;
            if (inner) {
                const uint64_t tssOffset = 4 + newCpl * 8;
                if (tssOffset + 7 > s.tr.limit) fault(kTS, s.tr.selector & ~3u);
                rsp = readLinear(s.tr.base + tssOffset, 8, AccessType::Read, true);
                if (!canonical(rsp)) fault(kSS, 0);
                s.seg[SS] = Segment{static_cast<uint16_t>(newCpl), 0, 0, static_cast<uint16_t>(newCpl << 5)};
            }
            auto push64 = [&](uint64_t v) {
                rsp -= 8;
                if (!canonical(rsp)) fault(kSS, 0);
                writeLinear(rsp, 8, v);
            };
            if (inner) {
                push64(oldSs.selector);
                push64(oldRsp);
            }
            push64(oldCs.selector);
            push64(oldRip);
            s.gpr[RSP] = rsp;
        } else if (inner) {
            // The inner stack from the TSS: 32-bit TSS (ESPn at 4 + 8n, SSn at 8 + 8n) or
            // 16-bit TSS (SPn at 2 + 4n, SSn at 4 + 4n).
            const bool tss32 = s.tr.type() & 8;
            const uint64_t tssOffset = tss32 ? 4 + newCpl * 8 : 2 + newCpl * 4;
            const unsigned spSize = tss32 ? 4 : 2;
            if (tssOffset + spSize + 1 > s.tr.limit) fault(kTS, s.tr.selector & ~3u);
            const uint64_t newSp = readLinear(s.tr.base + tssOffset, spSize, AccessType::Read, true);
            const auto newSsSel =
                static_cast<uint16_t>(readLinear(s.tr.base + tssOffset + spSize, 2, AccessType::Read, true));
            if ((newSsSel & ~3u) == 0) fault(kTS, 0);
            const uint64_t ssDesc = readDescriptor(newSsSel, kTS);
            Segment ss = descriptorToSegment(newSsSel, ssDesc);
            if ((newSsSel & 3u) != newCpl || ss.dpl() != newCpl || ss.system() || ss.isCode() || !(ss.type() & 2))
                fault(kTS, newSsSel & ~3u);
            if (!ss.present()) fault(kSS, newSsSel & ~3u);
            // The parameters, read from the caller's stack before it is left.
            const unsigned count = static_cast<unsigned>((gate >> 32) & 0x1f);
            const uint64_t oldMask = sizeMask(stackAddrSize());
            uint64_t params[32];
            for (unsigned k = 0; k < count; ++k)
                params[k] = readMem(SS, (oldRsp + k * frameSize) & oldMask, frameSize);
            markAccessed(*this, newSsSel, ssDesc, ss);
            s.seg[SS] = ss;
            s.gpr[RSP] = newSp;
            push(oldSs.selector, frameSize);
            push(oldRsp, frameSize);
            for (unsigned k = count; k-- > 0;) push(params[k], frameSize);
            push(oldCs.selector, frameSize);
            push(oldRip, frameSize);
        } else {
            push(oldCs.selector, frameSize);
            push(oldRip, frameSize);
        }
        loadCodeSegment(csSelector, d);  // RPL = the CPL, which is now the new one
    } catch (...) {
        s.seg[SS] = oldSs;
        s.seg[CS] = oldCs;
        s.gpr[RSP] = oldRsp;
        updateModeCache();
        throw;
    }
    s.rip = offset;
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
    auto release = [&](unsigned bytes) {
        const unsigned as = stackAddrSize();
        const uint64_t sp = (s.gpr[RSP] + bytes) & sizeMask(as);
        s.gpr[RSP] = as == 8 ? sp : (s.gpr[RSP] & ~sizeMask(as)) | sp;
    };
    if (!s.protectedMode() || s.flags.test(rflag::VM)) {
        loadSegment(CS, selector);
        s.rip = rip & sizeMask(opSize);
        release(popBytes);
        return;
    }
    const Segment savedSs = s.seg[SS];
    try {
        const uint32_t error = selector & ~3u;
        if (error == 0) fault(kGP, 0);
        const uint64_t d = readDescriptor(selector, kGP);
        const Segment target = descriptorToSegment(selector, d);
        const unsigned rpl = selector & 3;
        const unsigned cpl = s.cpl();
        if (rpl < cpl || target.system() || !target.isCode()) fault(kGP, error);
        const bool conforming = target.type() & 4;
        if (conforming ? target.dpl() > rpl : target.dpl() != rpl) fault(kGP, error);
        if (!target.present()) fault(kNP, error);
        const bool to64 = s.longModeActive() && target.longMode();
        if (!to64) rip &= sizeMask(opSize);
        if (to64 ? !canonical(rip) : rip > target.limit) fault(kGP, 0);

        if (rpl > cpl) {
            // To an outer level: release the parameters on the inner stack, pop SS:rSP.
            release(popBytes);
            const uint64_t sp = pop(opSize);
            const auto ssSel = static_cast<uint16_t>(pop(opSize));
            Segment ss;
            if ((ssSel & ~3u) == 0) {
                // A null SS is possible only for 64-bit code outside ring 3.
                if (!to64 || rpl == 3) fault(kGP, 0);
                ss = Segment{ssSel, 0, 0, static_cast<uint16_t>(rpl << 5)};
            } else {
                const uint64_t ssDesc = readDescriptor(ssSel, kGP);
                ss = descriptorToSegment(ssSel, ssDesc);
                if ((ssSel & 3u) != rpl || ss.dpl() != rpl || ss.system() || ss.isCode() || !(ss.type() & 2))
                    fault(kGP, ssSel & ~3u);
                if (!ss.present()) fault(kSS, ssSel & ~3u);
                markAccessed(*this, ssSel, ssDesc, ss);
            }
            s.seg[SS] = ss;  // the CPL is now the RPL
            s.gpr[RSP] = sp;  // zero-extended from the operand size
            loadCodeSegment(selector, d);
            nullInaccessibleDataSegments(s, rpl);
        } else {
            loadCodeSegment(selector, d);
        }
        s.rip = rip;
    } catch (...) {
        s.seg[SS] = savedSs;
        s.gpr[RSP] = savedRsp;
        updateModeCache();
        throw;
    }
    release(popBytes);
}

}  // namespace hvlab::cpu
