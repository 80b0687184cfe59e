// The interpreter's run loop, instruction fetch and the memory path (segmentation, paging,
// the TLB, RAM/ROM/MMIO).
#include "cpu/interpreter.hpp"

#include "cpu/hypercall_abi.hpp"

#include "cpu/paging_controls.hpp"

#include <algorithm>

#include <cstring>

namespace hvlab::cpu {

Interpreter::Interpreter(CpuState& state, mmu::PhysicalMap& memory, const CpuidModel& cpuid)
    : s(state), memory_(memory), cpuid_(cpuid) {
    stateLoaded();
}

void Interpreter::stateLoaded() {
    updateModeCache();
    flushTlb();
    pageTablePages_.clear();
    decodeCache_.clear();  // guest memory may have been written from outside (loader, KVM, debugger)
    if (s.interruptShadow) shadowEnds_ = retired() + 1;  // blocks until the next instruction is done
}

mmu::PagingControls Interpreter::pagingControls() const { return paging_; }

void Interpreter::updateModeCache() {
    switch (s.mode()) {
        case CpuMode::Long64: codeSize_ = CodeSize::Bits64; break;
        case CpuMode::Protected32:
        case CpuMode::Compat32: codeSize_ = CodeSize::Bits32; break;
        default: codeSize_ = CodeSize::Bits16; break;
    }
    paging_ = pagingControlsOf(s);
    ripMask_ = codeSize_ == CodeSize::Bits64 ? ~0ull : 0xffffffffull;
    updateAccessMode();
    dropFetchPage();  // CS, paging or the code size may have changed: look instructions up again
}

VmExit Interpreter::run(uint64_t maxInstructions) {
    if (stop_) {  // an exit raised outside run() (a triple fault while injecting an interrupt)
        stop_ = false;
        VmExit exit = pendingExit_;
        pendingExit_ = VmExit{};
        return exit;
    }
    pendingExit_ = VmExit{};
    const uint64_t target = retired() + maxInstructions;
    while (!stop_) {
        const uint64_t done = retired();
        if (done >= target) break;
        if (windowRequested_ && interruptible()) {
            pendingExit_.reason = ExitReason::InterruptWindow;
            pendingExit_.rip = s.rip;
            break;
        }
        // In an interrupt shadow, run just the shadowed instruction, then look again.
        uint64_t burst = target - done;
        if (s.interruptShadow && done < shadowEnds_) burst = std::min(burst, shadowEnds_ - done);
        burstLeft_ = static_cast<int64_t>(burst);
        burstEnd_ = done + burst;
        try {
            if (s.flags.test(rflag::TF)) {
                stepWithTrap();
                continue;
            }
            // The hot loop: run the handler, then go to the next instruction through the links
            // between cached instructions of the page. Anything that may make those links stale,
            // needs the VMM or changes how instructions run calls endBurst() to leave the loop.
            uint64_t rip = s.rip;
            const uint64_t ripMask = ripMask_;
            insnStart_ = rip;  // a fault in the fetch belongs to this instruction
            const DecodedInsn* insn = fetch();
            while (insn) {
                insnStart_ = rip;
                const uint64_t fallthrough = (rip + insn->length) & ripMask;
                s.rip = fallthrough;
                insn->exec(*this, *insn);
                if (--burstLeft_ <= 0) break;
                rip = s.rip;
                insn = successor(insn, fallthrough);  // null: an exit is pending
            }
        } catch (const CpuException& e) {
            --burstLeft_;  // a faulting instruction counts, so a fault loop still ends the run
            s.rip = insnStart_;
            handleException(e);
        } catch (const RestartForExit&) {
            s.rip = insnStart_;  // runs again once the VMM answered; the exit is pending
        }
    }
    if (s.interruptShadow && retired() >= shadowEnds_) s.interruptShadow = false;
    stop_ = false;
    VmExit exit = pendingExit_;
    pendingExit_ = VmExit{};
    return exit;
}

// One instruction with RFLAGS.TF set: it runs, then a single-step #DB trap is delivered
// (DR6.BS), unless it faulted, was a software interrupt (which clears TF on entry) or
// ran in a MOV SS shadow (SDM vol. 3, 17.3.1.4).
void Interpreter::stepWithTrap() {
    const bool shadowed = s.interruptShadow && retired() < shadowEnds_;
    softIntDelivered_ = false;
    insnStart_ = s.rip;
    const DecodedInsn* insn = fetch();
    if (!insn) return;  // an exit to the VMM is pending
    s.rip = (insnStart_ + insn->length) & ripMask_;
    insn->exec(*this, *insn);
    --burstLeft_;
    if (stop_) {
        const ExitReason r = pendingExit_.reason;
        if (r != ExitReason::PortIo && r != ExitReason::Mmio && r != ExitReason::Hypercall) return;
    }
    if (softIntDelivered_ || shadowed) return;
    s.dr[6] |= 1ull << 14;  // DR6.BS: the #DB came from single-stepping
    handleException(CpuException{kDB, 0, false});
}
// Looks the next instruction up and, when it is safe, links `insn` to it for next time.
const DecodedInsn* Interpreter::successorSlow(const DecodedInsn* insn, bool straight) {
    DecodeCache::Page* page = fetchPage_;
    const uint64_t epoch = decodeCache_.epoch();
    const uint32_t generation = page ? page->generation : 0;
    insnStart_ = s.rip;  // a fault in the fetch belongs to the next instruction
    const DecodedInsn* following = fetch();
    // Link only within one page whose instructions are still the ones `insn` was cached with.
    if (following && page && fetchPage_ == page && page->generation == generation && decodeCache_.epoch() == epoch) {
        if (straight) {
            insn->next = following;
        } else {
            insn->taken = following;
            insn->takenRip = s.rip;
        }
    }
    return following;
}

void Interpreter::injectInterrupt(uint8_t vector) {
    s.halted = false;
    insnStart_ = s.rip;  // where a shutdown during delivery is reported
    try {
        deliverEvent(vector, EventKind::HardwareInterrupt, 0, false);
    } catch (const CpuException& e) {
        handleException(e);  // a fault while delivering: #DF or a triple fault, as for exceptions
    } catch (const RestartForExit&) {
        shutdown("interrupt delivery through MMIO");
    }
    dropFetchPage();
}

void Interpreter::setA20(bool enabled) {
    const uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
    if (mask == a20Mask_) return;
    a20Mask_ = mask;
    flushTlb();  // every translation may now land elsewhere
}

void Interpreter::completeExit(const VmExit& handled) {
    if (handled.reason == ExitReason::PortIo && !handled.io.write)
        ioAnswer_ = {true, handled.io.port, handled.io.size, handled.io.value};
    if (handled.reason == ExitReason::Mmio && !handled.mmio.write)
        mmioAnswer_ = {true, handled.mmio.gpa, handled.mmio.size, handled.mmio.value};
    if (handled.reason == ExitReason::Hypercall) s.gpr[RAX] = static_cast<uint64_t>(handled.hypercall.result);
}

const DecodedInsn* Interpreter::fetchSlow(uint64_t linear) {
    const Segment& cs = s.seg[CS];
    if (codeSize_ == CodeSize::Bits64) {
        if (static_cast<uint64_t>((static_cast<int64_t>(linear << 16) >> 16)) != linear) fault(kGP, 0);
    } else if (s.rip > cs.limit) {
        fault(kGP, 0);
    }

    uint64_t phys;
    const unsigned offset = static_cast<unsigned>(linear & 0xfff);
    const unsigned inPage = 4096 - offset;
    const uint8_t* host = translate(linear, AccessType::Execute, false, phys);
    DecodedInsn decoded;
    uint8_t window[16];
    const uint8_t* bytes = host;
    DecodeStatus status;
    bool cacheable = false;
    if (host) {
        // Coming back to a page (after an exit, an interrupt, a TLB flush): its cache may hold
        // the instruction already. Decoding it again would also add a second copy to the page.
        if (DecodeCache::Page* page = decodeCache_.live(phys & ~0xfffull)) {
            const DecodedInsn* insn = page->bySlot(offset);
            if (insn && insn->codeSize == static_cast<uint8_t>(codeSize_) &&
                (codeSize_ == CodeSize::Bits64 || s.rip + insn->length - 1 <= cs.limit)) {
                fetchPage_ = page;
                fetchLinearPage_ = linear >> 12;
                return insn;
            }
        }
        status = decode(host, inPage < 15 ? inPage : 15, codeSize_, decoded);
        cacheable = status == DecodeStatus::Ok;
    } else {
        status = DecodeStatus::Truncated;
    }
    if (status == DecodeStatus::Truncated) {
        // The instruction crosses into the next page, or code runs from MMIO: gather the bytes
        // one at a time, only as far as needed (a fault on the next page is taken only if real).
        const unsigned first = inPage < 15 ? inPage : 15;
        for (unsigned k = 0; k < first; ++k)
            window[k] = static_cast<uint8_t>(readLinear(linear + k, 1, AccessType::Execute));
        status = decode(window, first, codeSize_, decoded);
        if (status == DecodeStatus::Truncated) {
            for (unsigned k = first; k < 15; ++k)
                window[k] = static_cast<uint8_t>(readLinear(linear + k, 1, AccessType::Execute));
            status = decode(window, 15, codeSize_, decoded);
        }
        bytes = window;
    }

    switch (status) {
        case DecodeStatus::Ok: break;
        case DecodeStatus::TooLong: fault(kGP, 0);
        case DecodeStatus::Truncated:
        case DecodeStatus::InvalidOpcode: fault(kUD);
        case DecodeStatus::Unimplemented: {
            VmExit e;
            e.reason = ExitReason::UnimplementedInsn;
            e.rip = insnStart_;
            e.insn.length = decoded.length ? decoded.length : 15;
            std::memcpy(e.insn.bytes.data(), bytes, e.insn.length);
            exitToVmm(e);
            return nullptr;
        }
    }
    // Every byte of the instruction must lie within the code segment (SDM vol. 3, 5.3).
    if (codeSize_ != CodeSize::Bits64 && s.rip + decoded.length - 1 > cs.limit) fault(kGP, 0);

    if (cacheable) {
        const uint64_t physPage = phys & ~0xfffull;
        bool created;
        DecodeCache::Page& page = decodeCache_.page(physPage, created);
        if (created) tlb_.revokeWrite(physPage);  // writes to cached code must be seen
        if (const DecodedInsn* cached = decodeCache_.insert(page, offset, decoded)) {
            fetchPage_ = &page;
            fetchLinearPage_ = linear >> 12;
            return cached;
        }
    }
    dropFetchPage();  // the uncached copy has no links: the burst ends after it
    uncachedInsn_ = decoded;
    return &uncachedInsn_;
}


uint64_t Interpreter::linearAddressSlow(unsigned seg, uint64_t offset, unsigned size, AccessType access) {
    const Segment& sg = s.seg[seg];
    if (codeSize_ == CodeSize::Bits64) {
        const uint64_t linear = (seg == FS || seg == GS) ? sg.base + offset : offset;
        if (static_cast<uint64_t>(static_cast<int64_t>(linear << 16) >> 16) != linear) fault(seg == SS ? kSS : kGP, 0);
        return linear;
    }
    if (s.protectedMode() && !s.flags.test(rflag::VM)) {
        // Protected mode: the segment must be usable, and writable for writes (SDM 5.4, 5.5).
        if (!sg.present()) fault(seg == SS ? kSS : kGP, 0);
        if (access == AccessType::Write && (sg.isCode() || !(sg.type() & 2))) fault(seg == SS ? kSS : kGP, 0);
        if (access == AccessType::Read && sg.isCode() && !(sg.type() & 2)) fault(kGP, 0);
        if (!sg.isCode() && (sg.type() & 4)) {  // expand-down data segment: valid offsets above the limit
            const uint64_t upper = sg.defaultBig() ? 0xffffffffull : 0xffffull;
            if (offset <= sg.limit || offset + size - 1 > upper) fault(seg == SS ? kSS : kGP, 0);
            return (sg.base + offset) & 0xffffffffull;
        }
    }
    if (offset + size - 1 > sg.limit) fault(seg == SS ? kSS : kGP, 0);
    return (sg.base + offset) & 0xffffffffull;
}

uint8_t* Interpreter::translate(uint64_t linear, AccessType access, bool supervisor, uint64_t& physical) {
    const bool user = !supervisor && s.cpl() == 3;
    uint8_t need;
    switch (access) {
        case AccessType::Read: need = user ? mmu::kAllowReadUser : mmu::kAllowReadSup; break;
        case AccessType::Write: need = user ? mmu::kAllowWriteUser : mmu::kAllowWriteSup; break;
        default: need = user ? mmu::kAllowExecUser : mmu::kAllowExecSup; break;
    }
    if (const mmu::TlbEntry* e = tlb_.lookup(linear); e && (e->allow & need)) {
        physical = e->physPage | (linear & 0xfff);
        return e->host ? e->host + (linear & 0xfff) : nullptr;
    }

    const mmu::AccessKind kind{access == AccessType::Write, user, access == AccessType::Execute};
    const mmu::WalkResult w = mmu::walk(memory_, paging_, linear, kind);
    if (!w.ok) {
        s.cr2 = linear;
        fault(kPF, w.errorCode);
    }
    physical = w.physical & a20Mask_;
    const uint64_t physPage = physical & ~0xfffull;
    if (access == AccessType::Write) noteWriteToWatched(physPage);
    // The shadow TLB stays coherent with the guest's page tables: the pages this translation
    // was read from are write-protected, and a write to one drops the TLB (a "write trap").
    for (unsigned k = 0; k < w.stepCount; ++k) watchWrite(w.steps[k].entryAddress & ~0xfffull);

    const mmu::Region* region = memory_.find(physPage);
    uint8_t* pageHost = nullptr;
    bool rom = false;
    if (region && region->kind != mmu::RegionKind::Mmio && region->end() - physPage >= 4096) {
        pageHost = region->host + (physPage - region->base);
        rom = region->kind == mmu::RegionKind::Rom;
    }

    // What this walk allows for each kind of access. Writes need the dirty bit already set;
    // ROM and watched pages (page tables, cached code) are never written through the fast path.
    uint8_t allow = mmu::kAllowReadSup;
    if (!w.executeDisable) allow |= mmu::kAllowExecSup;
    const bool watched = pageTablePages_.count(physPage) || decodeCache_.holdsCode(physPage);
    const bool canWrite = !rom && !watched && (w.dirty || paging_.mode == mmu::PagingMode::None);
    if (canWrite && (w.writable || !paging_.wp)) allow |= mmu::kAllowWriteSup;
    if (w.user) {
        allow |= mmu::kAllowReadUser;
        if (!w.executeDisable) allow |= mmu::kAllowExecUser;
        if (canWrite && w.writable) allow |= mmu::kAllowWriteUser;
    }
    tlb_.fill(linear, pageHost, physPage, allow, w.global);
    return pageHost ? pageHost + (linear & 0xfff) : nullptr;
}

void Interpreter::watchWrite(uint64_t physPage) {
    if (pageTablePages_.insert(physPage).second) tlb_.revokeWrite(physPage);
}

// A guest write is about to reach `physPage`: if translations or decoded code came from it,
// drop them first. The write itself then proceeds.
void Interpreter::noteWriteToWatched(uint64_t physPage) {
    if (pageTablePages_.erase(physPage)) {
        ++tlb_.counters().pageTableWriteTraps;
        flushTlb();
        pageTablePages_.clear();  // every translation is gone; pages are watched again on refill
    }
    if (decodeCache_.invalidate(physPage)) {
        ++tlb_.counters().codeWriteTraps;
        dropFetchPage();
    }
}

uint64_t Interpreter::readLinearSlow(uint64_t linear, unsigned size, AccessType access, bool supervisor) {
    if (access != AccessType::Execute) checkAlignment(linear, size, supervisor);
    if (((linear & 0xfff) + size) > 4096) {
        uint64_t v = 0;
        for (unsigned k = 0; k < size; ++k) v |= readLinear(linear + k, 1, access, supervisor) << (8 * k);
        return v;
    }
    uint64_t phys;
    if (const uint8_t* host = translate(linear, access, supervisor, phys)) {
        uint64_t v = 0;
        std::memcpy(&v, host, size);
        return v;
    }
    // Not RAM: ROM tail pages, MMIO or nothing.
    const mmu::Region* region = memory_.find(phys);
    if (region && region->kind != mmu::RegionKind::Mmio) {
        uint64_t v = 0;
        memory_.read(phys, &v, size);
        return v;
    }
    return mmioRead(phys, size);
}

void Interpreter::writeLinearSlow(uint64_t linear, unsigned size, uint64_t value, bool supervisor) {
    checkAlignment(linear, size, supervisor);
    if (((linear & 0xfff) + size) > 4096) {
        // Translate both pages first so a fault on the second leaves memory untouched.
        uint64_t phys;
        translate(linear, AccessType::Write, supervisor, phys);
        translate((linear | 0xfff) + 1, AccessType::Write, supervisor, phys);
        for (unsigned k = 0; k < size; ++k) writeLinear(linear + k, 1, value >> (8 * k), supervisor);
        return;
    }
    uint64_t phys;
    if (uint8_t* host = translate(linear, AccessType::Write, supervisor, phys)) {
        std::memcpy(host, &value, size);
        return;
    }
    const mmu::Region* region = memory_.find(phys);
    if (region && region->kind == mmu::RegionKind::Rom) return;  // writes to ROM are ignored
    if (region && region->kind == mmu::RegionKind::Ram) {
        memory_.write(phys, &value, size);
        return;
    }
    mmioWrite(phys, size, value);
}

void Interpreter::probeWrite(uint64_t linear, unsigned size) {
    uint64_t phys;
    translate(linear, AccessType::Write, false, phys);
    if (((linear & 0xfff) + size) > 4096) translate((linear | 0xfff) + 1, AccessType::Write, false, phys);
}

uint64_t Interpreter::mmioRead(uint64_t gpa, unsigned size) {
    if (mmioAnswer_.valid && mmioAnswer_.address == gpa && mmioAnswer_.size == size) {
        mmioAnswer_.valid = false;
        return mmioAnswer_.value;
    }
    VmExit e;
    e.reason = ExitReason::Mmio;
    e.rip = insnStart_;
    e.mmio = {gpa, static_cast<uint8_t>(size), false, 0};
    exitToVmm(e);
    throw RestartForExit{};
}

void Interpreter::mmioWrite(uint64_t gpa, unsigned size, uint64_t value) {
    VmExit e;
    e.reason = ExitReason::Mmio;
    e.rip = insnStart_;
    e.mmio = {gpa, static_cast<uint8_t>(size), true, value & sizeMask(size)};
    exitToVmm(e);
}

unsigned Interpreter::stackAddrSize() const {
    if (codeSize_ == CodeSize::Bits64) return 8;
    return s.seg[SS].defaultBig() ? 4 : 2;
}

void Interpreter::push(uint64_t value, unsigned size) {
    const unsigned as = stackAddrSize();
    const uint64_t sp = (s.gpr[RSP] - size) & sizeMask(as);
    writeMem(SS, sp, size, value);
    s.gpr[RSP] = as == 8 ? sp : (s.gpr[RSP] & ~sizeMask(as)) | sp;
}

uint64_t Interpreter::pop(unsigned size) {
    const unsigned as = stackAddrSize();
    const uint64_t sp = s.gpr[RSP] & sizeMask(as);
    const uint64_t v = readMem(SS, sp, size);
    const uint64_t next = (sp + size) & sizeMask(as);
    s.gpr[RSP] = as == 8 ? next : (s.gpr[RSP] & ~sizeMask(as)) | next;
    return v;
}

void Interpreter::exitToVmm(const VmExit& exit) {
    pendingExit_ = exit;
    stop_ = true;
    endBurst();
}

void Interpreter::reportInEngine(const VmExit& exit) {
    if (!observer_) return;
    VmExit e = exit;
    e.inEngine = true;
    observer_->onInEngineExit(e);
}

bool Interpreter::portInput(uint16_t port, unsigned size, uint32_t& value) {
    if (ioAnswer_.valid && ioAnswer_.address == port && ioAnswer_.size == size) {
        ioAnswer_.valid = false;
        value = static_cast<uint32_t>(ioAnswer_.value);
        return true;
    }
    VmExit e;
    e.reason = ExitReason::PortIo;
    e.rip = insnStart_;
    e.io = {port, static_cast<uint8_t>(size), false, 0};
    exitToVmm(e);
    throw RestartForExit{};
}

void Interpreter::portOutput(uint16_t port, unsigned size, uint32_t value) {
    VmExit e;
    if (port == hypercall::kPort && size == 4) {
        // The instruction has completed (RIP is past it); the VMM's result lands in RAX. The
        // arguments are the whole registers, as KVM reports them.
        e.reason = ExitReason::Hypercall;
        e.rip = insnStart_;
        e.hypercall = {value, {s.gpr[RBX], s.gpr[RCX], s.gpr[RSI]}, 0};
        exitToVmm(e);
        return;
    }
    e.reason = ExitReason::PortIo;
    e.rip = insnStart_;
    e.io = {port, static_cast<uint8_t>(size), true, static_cast<uint32_t>(value & sizeMask(size))};
    exitToVmm(e);
}

void Interpreter::halt() {
    s.halted = true;
    VmExit e;
    e.reason = ExitReason::Hlt;
    e.rip = s.rip;  // past the HLT, as KVM reports it
    exitToVmm(e);
}

void Interpreter::shutdown(const char* /*why*/) {
    VmExit e;
    e.reason = ExitReason::Shutdown;
    e.rip = insnStart_;
    exitToVmm(e);
}

}  // namespace hvlab::cpu
