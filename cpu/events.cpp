// Exceptions and interrupts: delivery through the real-mode IVT, the protected-mode IDT
// (16/32-bit gates) and the long-mode IDT (64-bit gates, IST), double and triple faults,
// INT n and IRET (SDM vol. 3, chapter 6).
#include "cpu/interpreter.hpp"

namespace hvlab::cpu {

namespace {

bool isContributory(uint8_t v) { return v == kDE || v == kTS || v == kNP || v == kSS || v == kGP; }

bool hasErrorCodeFor(uint8_t v) {
    return v == kDF || v == kTS || v == kNP || v == kSS || v == kGP || v == kPF || v == kAC;
}

}  // namespace

void Interpreter::handleException(const CpuException& e) {
    // A fault while delivering another event: #DF or a triple fault, by SDM table 6-5.
    if (deliveryDepth_ > 0) {
        const uint8_t first = firstVector_;
        const bool doubleFault = (isContributory(first) && isContributory(e.vector)) ||
                                 (first == kPF && (isContributory(e.vector) || e.vector == kPF));
        if (first == kDF) {
            deliveryDepth_ = 0;
            shutdown("fault while delivering #DF");
            return;
        }
        if (doubleFault) {
            deliveryDepth_ = 0;
            handleException(CpuException{kDF, 0, true});
            return;
        }
    }
    deliveryDepth_++;
    firstVector_ = e.vector;
    if (deliveryDepth_ > 3) {  // a benign fault loop while delivering: give up like hardware would
        deliveryDepth_ = 0;
        shutdown("nested faults");
        return;
    }
    try {
        deliverEvent(e.vector, EventKind::Exception, e.errorCode, e.hasErrorCode || hasErrorCodeFor(e.vector));
        deliveryDepth_ = 0;
    } catch (const CpuException& nested) {
        handleException(nested);
    } catch (const RestartForExit&) {
        // The IDT or stack is in MMIO: unsupported; treat as a failed delivery.
        deliveryDepth_ = 0;
        shutdown("event delivery touched MMIO");
    }
}

// The RFLAGS image an event pushes: faults push RF = 1, so the faulting instruction, when
// restarted, does not trigger an instruction breakpoint again (SDM vol. 3, 18.3.1.1).
uint64_t Interpreter::pushedFlags(uint8_t vector, EventKind kind) const {
    const bool fault = kind == EventKind::Exception && vector != kDB;
    return s.rflags() | (fault ? rflag::RF : 0);
}

void Interpreter::deliverEvent(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode) {
    s.halted = false;
    if (kind == EventKind::SoftwareInterrupt) softIntDelivered_ = true;
    if (!s.protectedMode())
        deliverReal(vector);
    else if (s.longModeActive())
        deliverLong(vector, kind, errorCode, hasErrorCode);
    else
        deliverProtected(vector, kind, errorCode, hasErrorCode);
}

void Interpreter::softwareInterrupt(uint8_t vector) {
    deliverEvent(vector, EventKind::SoftwareInterrupt, 0, false);
}

void Interpreter::deliverReal(uint8_t vector) {
    // IVT entry: offset (16) then segment (16); beyond the IDTR limit is #GP.
    const uint32_t entry = vector * 4u;
    if (entry + 3 > s.idtr.limit) fault(kGP, entry | 2);
    const uint64_t v = readLinear(s.idtr.base + entry, 4, AccessType::Read, true);
    const uint64_t flagsValue = s.rflags();
    push(flagsValue & 0xffff, 2);
    push(s.seg[CS].selector, 2);
    push(s.rip & 0xffff, 2);
    s.flags.setSystem(rflag::IF | rflag::TF | rflag::AC, false);
    loadSegment(CS, static_cast<uint16_t>(v >> 16));
    s.rip = v & 0xffff;
}

void Interpreter::deliverProtected(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode) {
    const uint32_t ext = kind == EventKind::SoftwareInterrupt ? 0 : 1;
    const uint32_t idtError = vector * 8u + 2 + ext;
    if (vector * 8u + 7 > s.idtr.limit) fault(kGP, idtError);
    const uint64_t gate = readLinear(s.idtr.base + vector * 8u, 8, AccessType::Read, true);
    const unsigned type = (gate >> 40) & 0xf;
    const unsigned gateDpl = (gate >> 45) & 3;
    const bool gatePresent = (gate >> 47) & 1;
    const bool is32 = type == 0xe || type == 0xf;
    const bool is16 = type == 0x6 || type == 0x7;
    if (!is32 && !is16) fault(kGP, idtError);  // task gates are not supported (yet)
    if (kind == EventKind::SoftwareInterrupt && gateDpl < s.cpl()) fault(kGP, idtError);
    if (!gatePresent) fault(kNP, idtError);

    const uint16_t selector = static_cast<uint16_t>(gate >> 16);
    const uint64_t offset = (gate & 0xffff) | (is32 ? ((gate >> 48) & 0xffff) << 16 : 0);
    if ((selector & ~3u) == 0) fault(kGP, ext);
    const uint64_t d = readDescriptor(selector, kGP);
    const Segment target = descriptorToSegment(selector, d);
    if (target.system() || !target.isCode() || target.dpl() > s.cpl()) fault(kGP, (selector & ~3u) | ext);
    if (!target.present()) fault(kNP, (selector & ~3u) | ext);

    const unsigned size = is32 ? 4 : 2;
    const uint64_t oldFlags = pushedFlags(vector, kind);
    const bool conforming = target.type() & 4;
    const unsigned newCpl = conforming ? s.cpl() : target.dpl();
    if (newCpl < s.cpl() || s.flags.test(rflag::VM)) {
        // Inner privilege: switch to SS:ESP for the new CPL from the 32-bit TSS.
        const uint64_t tssOffset = 4 + newCpl * 8;
        if (tssOffset + 5 > s.tr.limit) fault(kTS, s.tr.selector & ~3u);
        const uint32_t newEsp = static_cast<uint32_t>(readLinear(s.tr.base + tssOffset, 4, AccessType::Read, true));
        const uint16_t newSs = static_cast<uint16_t>(readLinear(s.tr.base + tssOffset + 4, 2, AccessType::Read, true));
        const Segment oldSs = s.seg[SS];
        const uint64_t oldEsp = s.gpr[RSP];
        const Segment oldCs = s.seg[CS];
        const uint64_t ssDesc = readDescriptor(newSs, kTS);
        Segment ss = descriptorToSegment(newSs, ssDesc);
        if ((newSs & 3) != newCpl || ss.dpl() != newCpl || ss.isCode() || !(ss.type() & 2)) fault(kTS, newSs & ~3u);
        if (!ss.present()) fault(kSS, newSs & ~3u);
        const bool fromV86 = s.flags.test(rflag::VM);
        s.seg[SS] = ss;
        s.gpr[RSP] = newEsp;
        updateModeCache();
        if (fromV86) {
            push(s.seg[GS].selector, size);
            push(s.seg[FS].selector, size);
            push(s.seg[DS].selector, size);
            push(s.seg[ES].selector, size);
        }
        push(oldSs.selector, size);
        push(oldEsp, size);
        push(oldFlags, size);
        push(oldCs.selector, size);
        push(s.rip, size);
        if (hasErrorCode) push(errorCode, size);
        if (fromV86)
            for (unsigned sg : {DS, ES, FS, GS}) s.seg[sg] = Segment{0, 0, 0, 0};
    } else {
        push(oldFlags, size);
        push(s.seg[CS].selector, size);
        push(s.rip, size);
        if (hasErrorCode) push(errorCode, size);
    }
    s.flags.setSystem(rflag::TF | rflag::NT | rflag::RF | rflag::VM, false);
    if (type == 0x6 || type == 0xe) s.flags.setSystem(rflag::IF, false);  // interrupt gates
    Segment cs = descriptorToSegment(selector, d);
    cs.selector = static_cast<uint16_t>((selector & ~3u) | newCpl);
    s.seg[CS] = cs;
    updateModeCache();
    s.rip = offset & (is32 ? 0xffffffffull : 0xffffull);
}

void Interpreter::deliverLong(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode) {
    const uint32_t ext = kind == EventKind::SoftwareInterrupt ? 0 : 1;
    // The error code holds the gate's index (the vector) in bits 15:3, as in protected mode,
    // even though 64-bit gates are 16 bytes long (SDM vol. 3, 6.13).
    const uint32_t idtError = vector * 8u + 2 + ext;
    if (vector * 16u + 15 > s.idtr.limit) fault(kGP, idtError);
    const uint64_t lo = readLinear(s.idtr.base + vector * 16u, 8, AccessType::Read, true);
    const uint64_t hi = readLinear(s.idtr.base + vector * 16u + 8, 8, AccessType::Read, true);
    const unsigned type = (lo >> 40) & 0xf;
    const unsigned gateDpl = (lo >> 45) & 3;
    if (type != 0xe && type != 0xf) fault(kGP, idtError);
    if (kind == EventKind::SoftwareInterrupt && gateDpl < s.cpl()) fault(kGP, idtError);
    if (!((lo >> 47) & 1)) fault(kNP, idtError);
    const uint16_t selector = static_cast<uint16_t>(lo >> 16);
    const uint64_t offset = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | ((hi & 0xffffffff) << 32);
    const unsigned ist = lo >> 32 & 7;
    if ((selector & ~3u) == 0) fault(kGP, ext);
    const uint64_t d = readDescriptor(selector, kGP);
    const Segment target = descriptorToSegment(selector, d);
    if (target.system() || !target.isCode() || !target.longMode() || target.defaultBig() || target.dpl() > s.cpl())
        fault(kGP, (selector & ~3u) | ext);
    if (!target.present()) fault(kNP, (selector & ~3u) | ext);

    const unsigned oldCpl = s.cpl();
    const unsigned newCpl = (target.type() & 4) ? oldCpl : target.dpl();
    const uint64_t oldFlags = pushedFlags(vector, kind);
    const uint16_t oldSs = s.seg[SS].selector;
    const uint64_t oldRsp = s.gpr[RSP];
    const uint16_t oldCs = s.seg[CS].selector;
    const uint64_t oldRip = s.rip;

    uint64_t rsp = oldRsp;
    if (ist) {
        rsp = readLinear(s.tr.base + 0x24 + (ist - 1) * 8, 8, AccessType::Read, true);
    } else if (newCpl < oldCpl) {
        rsp = readLinear(s.tr.base + 4 + newCpl * 8, 8, AccessType::Read, true);
    }
    rsp &= ~0xfull;  // the 64-bit frame is 16-byte aligned
    // The frame: SS, RSP, RFLAGS, CS, RIP and the error code, written as 64-bit values.
    const uint64_t frame[6] = {oldSs, oldRsp, oldFlags, oldCs, oldRip, errorCode};
    const unsigned frameSize = hasErrorCode ? 6 : 5;
    for (unsigned k = 0; k < frameSize; ++k) {
        rsp -= 8;
        writeLinear(rsp, 8, frame[k], newCpl < 3);
    }
    if (newCpl < oldCpl) {
        // SS becomes a null selector with RPL = new CPL.
        s.seg[SS] = Segment{static_cast<uint16_t>(newCpl), 0, 0, static_cast<uint16_t>(newCpl << 5)};
    }
    s.gpr[RSP] = rsp;
    s.flags.setSystem(rflag::TF | rflag::NT | rflag::RF | rflag::VM, false);
    if (type == 0xe) s.flags.setSystem(rflag::IF, false);
    Segment cs = descriptorToSegment(selector, d);
    cs.selector = static_cast<uint16_t>((selector & ~3u) | newCpl);
    s.seg[CS] = cs;
    updateModeCache();
    s.rip = offset;
}

void Interpreter::interruptReturn(unsigned opSize) {
    if (!s.protectedMode()) {
        const uint64_t savedRsp = s.gpr[RSP];
        uint64_t ip, cs, fl;
        try {
            ip = pop(opSize);
            cs = pop(opSize);
            fl = pop(opSize);
        } catch (...) {
            s.gpr[RSP] = savedRsp;
            throw;
        }
        loadSegment(CS, static_cast<uint16_t>(cs));
        s.rip = ip & sizeMask(opSize);
        const uint64_t keep = opSize == 2 ? ~0xffffull : (rflag::VM | rflag::VIF | rflag::VIP);
        // Bits 3, 5 and 15 are reserved and read as 0 whatever was popped (bit 1 reads as 1).
        const uint64_t reserved = (1ull << 3) | (1ull << 5) | (1ull << 15);
        s.setRflags((s.rflags() & keep) | (fl & ~keep & ~reserved & (opSize == 2 ? 0xffff : 0x3fffff)));
        flagsChanged();
        return;
    }
    if (s.flags.test(rflag::NT) && !s.longModeActive()) fault(kGP, 0);  // task return: not supported
    const uint64_t savedRsp = s.gpr[RSP];
    uint64_t ip, csSel, fl, sp = 0, ssSel = 0;
    try {
        ip = pop(opSize);
        csSel = pop(opSize) & 0xffff;
        fl = pop(opSize);
    } catch (...) {
        s.gpr[RSP] = savedRsp;
        throw;
    }
    const unsigned cpl = s.cpl();
    const unsigned rpl = csSel & 3;
    const bool longMode = s.longModeActive();
    const bool popStack = longMode ? (codeSize_ == CodeSize::Bits64 || rpl > cpl) : rpl > cpl;
    if ((csSel & ~3u) == 0 || rpl < cpl) {
        s.gpr[RSP] = savedRsp;
        fault(kGP, static_cast<uint32_t>(csSel & ~3u));
    }
    const uint64_t d = readDescriptor(static_cast<uint16_t>(csSel), kGP);
    const Segment target = descriptorToSegment(static_cast<uint16_t>(csSel), d);
    if (target.system() || !target.isCode() || !target.present()) {
        s.gpr[RSP] = savedRsp;
        fault(target.present() ? kGP : kNP, static_cast<uint32_t>(csSel & ~3u));
    }
    if (popStack) {
        sp = pop(opSize);
        ssSel = pop(opSize) & 0xffff;
    }
    // Which flags IRET may change depends on CPL and IOPL.
    const unsigned iopl = (s.rflags() & rflag::IOPL) >> 12;
    uint64_t mutableMask = rflag::ARITH | rflag::TF | rflag::DF | rflag::NT | rflag::RF | rflag::AC | rflag::ID;
    if (cpl == 0) mutableMask |= rflag::IOPL | rflag::VIF | rflag::VIP;
    if (cpl <= iopl) mutableMask |= rflag::IF;
    if (opSize == 2) mutableMask &= 0xffff;
    s.setRflags((s.rflags() & ~mutableMask) | (fl & mutableMask));
    flagsChanged();

    Segment cs = target;
    s.seg[CS] = cs;
    if (popStack) {
        if ((ssSel & ~3u) == 0) {
            s.seg[SS] = Segment{static_cast<uint16_t>(ssSel), 0, 0, static_cast<uint16_t>(rpl << 5)};
        } else {
            const uint64_t ssd = readDescriptor(static_cast<uint16_t>(ssSel), kGP);
            s.seg[SS] = descriptorToSegment(static_cast<uint16_t>(ssSel), ssd);
        }
        s.gpr[RSP] = sp;
    }
    updateModeCache();
    s.rip = (longMode && target.longMode()) ? ip : ip & sizeMask(opSize == 8 ? 4 : opSize);
    if (rpl > cpl) {
        // Returning outward: data segments the new CPL may not use become null.
        for (unsigned sg : {ES, DS, FS, GS}) {
            const Segment& seg = s.seg[sg];
            const bool conformingCode = seg.isCode() && (seg.type() & 4);
            if (!conformingCode && seg.dpl() < rpl) s.seg[sg] = Segment{0, seg.base, 0, 0};
        }
    }
}

}  // namespace hvlab::cpu
