// The trap-and-emulate interpreter. It executes guest code on the one CpuState and leaves
// with a VmExit where VT-x would exit (port I/O, MMIO, HLT, ...), so both engines share the VMM.
#pragma once

#include <cstdint>
#include <functional>
#include <cstring>
#include <unordered_set>

#include "cpu/cpu_state.hpp"
#include "cpu/cpuid_model.hpp"
#include "cpu/decode_cache.hpp"
#include "cpu/decoded_insn.hpp"
#include "cpu/decoder.hpp"
#include "cpu/vm_exit.hpp"
#include "mmu/page_walker.hpp"
#include "mmu/physical_map.hpp"
#include "mmu/tlb.hpp"

namespace hvlab::cpu {

// Exception vectors.
enum Vector : uint8_t {
    kDE = 0, kDB = 1, kNMI = 2, kBP = 3, kOF = 4, kBR = 5, kUD = 6, kNM = 7, kDF = 8,
    kTS = 10, kNP = 11, kSS = 12, kGP = 13, kPF = 14, kMF = 16, kAC = 17,
};

// A fault raised while executing an instruction; caught by the run loop and delivered.
struct CpuException {
    uint8_t vector;
    uint32_t errorCode;
    bool hasErrorCode;
};

// Thrown when an instruction needs data only the VMM has (an MMIO read): the instruction is
// rolled back, the exit is returned, and the instruction runs again once the VMM answered.
struct RestartForExit {};

enum class EventKind : uint8_t { Exception, HardwareInterrupt, SoftwareInterrupt };

enum class AccessType : uint8_t { Read, Write, Execute };

class Interpreter {
public:
    Interpreter(CpuState& state, mmu::PhysicalMap& memory, const CpuidModel& cpuid);

    // Runs until an exit the VMM must handle, or `maxInstructions` retire (reason None).
    VmExit run(uint64_t maxInstructions);
    // Gives the VMM's answer to the last exit (data for IN or an MMIO read).
    void completeExit(const VmExit& handled);
    // Call after the CpuState was changed from outside (engine switch, debugger edit).
    void stateLoaded();

    void setInEngineObserver(InEngineExitObserver* observer) { observer_ = observer; }
    // The INTR side of the CPU, driven by the VMM. interruptible(): RFLAGS.IF = 1 and no STI /
    // MOV SS shadow. injectInterrupt() delivers an external interrupt now (through the IVT/IDT,
    // waking a halted CPU). With the window requested, run() returns an InterruptWindow exit as
    // soon as the guest becomes interruptible, as VT-x's interrupt-window exiting does.
    bool interruptible() const {
        return s.flags.test(rflag::IF) && !(s.interruptShadow && retired() < shadowEnds_);
    }
    void injectInterrupt(uint8_t vector);
    void requestInterruptWindow(bool on) { windowRequested_ = on; }
    // The A20 gate (i8042 output port / port 0x92): when off, physical address bit 20 reads as
    // 0, so addresses wrap at 1 MiB as on an 8086 (real-mode code of the 1980s relies on it).
    void setA20(bool enabled);
    // Where RDTSC's time comes from (the VMM's virtual clock, in ns); unset: retired().
    void setTscSource(std::function<uint64_t()> source) { tscSource_ = std::move(source); }

    // Instructions executed so far (an instruction that faulted counts as executed too).
    uint64_t retired() const { return burstEnd_ - static_cast<uint64_t>(burstLeft_); }
    const mmu::TlbCounters& tlbCounters() const { return tlb_.counters(); }
    mmu::PagingControls pagingControls() const;

    // ---- Used by the instruction handlers (cpu/exec_*.cpp). ----
    CpuState& s;

    [[noreturn]] void fault(uint8_t vector) { throw CpuException{vector, 0, false}; }
    [[noreturn]] void fault(uint8_t vector, uint32_t errorCode) { throw CpuException{vector, errorCode, true}; }

    // Registers. Byte registers 4-7 are AH..BH unless the instruction has a REX prefix.
    uint64_t readReg(const DecodedInsn& i, unsigned r, unsigned size) const {
        if (size == 1 && !i.rex && r >= 4 && r < 8) return (s.gpr[r - 4] >> 8) & 0xff;
        return s.gpr[r] & sizeMask(size);
    }
    void writeReg(const DecodedInsn& i, unsigned r, unsigned size, uint64_t v) {
        switch (size) {
            case 1:
                if (!i.rex && r >= 4 && r < 8)
                    s.gpr[r - 4] = (s.gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
                else
                    s.gpr[r] = (s.gpr[r] & ~0xffull) | (v & 0xff);
                break;
            case 2: s.gpr[r] = (s.gpr[r] & ~0xffffull) | (v & 0xffff); break;
            case 4: s.gpr[r] = v & 0xffffffffull; break;  // 32-bit writes zero-extend
            default: s.gpr[r] = v; break;
        }
    }

    static uint64_t sizeMask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }

    // The offset of a ModRM memory operand, wrapped to the address size.
    uint64_t effectiveAddress(const DecodedInsn& i) const {
        uint64_t ea = static_cast<uint64_t>(i.disp);
        if (i.ripRelative) ea += s.rip;  // s.rip already points at the next instruction
        if (i.base != 0xff) ea += s.gpr[i.base];
        if (i.index != 0xff) ea += s.gpr[i.index] << i.scale;
        return ea & sizeMask(i.addrSize);
    }

    // ModRM operands: the r/m operand (register or memory) and the reg operand.
    uint64_t readRm(const DecodedInsn& i, unsigned size) {
        return i.mod == 3 ? readReg(i, i.rm, size) : readMem(i.segment, effectiveAddress(i), size);
    }
    void writeRm(const DecodedInsn& i, unsigned size, uint64_t v) {
        if (i.mod == 3)
            writeReg(i, i.rm, size, v);
        else
            writeMem(i.segment, effectiveAddress(i), size, v);
    }

    // Segmented memory access (offset -> linear -> physical), with faults.
    uint64_t readMem(unsigned seg, uint64_t offset, unsigned size) {
        return readLinear(linearAddress(seg, offset, size, AccessType::Read), size, AccessType::Read);
    }
    void writeMem(unsigned seg, uint64_t offset, unsigned size, uint64_t v) {
        writeLinear(linearAddress(seg, offset, size, AccessType::Write), size, v);
    }
    uint64_t linearAddress(unsigned seg, uint64_t offset, unsigned size, AccessType access) {
        // Fast path: a present, writable, expand-up data segment and an offset within its limit
        // is valid for any access outside 64-bit mode (real, V86 and protected mode alike).
        // In 64-bit mode, ES/CS/SS/DS are flat: only the canonical check remains.
        const Segment& sg = s.seg[seg];
        if (codeSize_ != CodeSize::Bits64) {
            if ((sg.attributes & 0x9e) == 0x92 && offset + size - 1 <= sg.limit) return (sg.base + offset) & 0xffffffffull;
        } else if (seg < FS && static_cast<uint64_t>(static_cast<int64_t>(offset << 16) >> 16) == offset) {
            return offset;
        }
        return linearAddressSlow(seg, offset, size, access);
    }
    uint64_t readLinear(uint64_t linear, unsigned size, AccessType access, bool supervisor = false) {
        if ((linear & 0xfff) + size <= 4096) {
            const mmu::TlbEntry* e = tlb_.lookup(linear);
            if (e && e->host && (e->allow & allowBit(access, supervisor))) return load(e->host + (linear & 0xfff), size);
        }
        return readLinearSlow(linear, size, access, supervisor);
    }
    void writeLinear(uint64_t linear, unsigned size, uint64_t value, bool supervisor = false) {
        if ((linear & 0xfff) + size <= 4096) {
            const mmu::TlbEntry* e = tlb_.lookup(linear);
            if (e && e->host && (e->allow & allowBit(AccessType::Write, supervisor))) {
                store(e->host + (linear & 0xfff), size, value);
                return;
            }
        }
        writeLinearSlow(linear, size, value, supervisor);
    }
    // Checks that a write of `size` bytes at `linear` would not fault (paging), writing nothing.
    void probeWrite(uint64_t linear, unsigned size);

    // Stack, in the current stack size (SS.B, or 64-bit).
    void push(uint64_t value, unsigned size);
    uint64_t pop(unsigned size);
    unsigned stackAddrSize() const;

    // Control transfers.
    void jumpNear(uint64_t target, unsigned opSize) {
        if (codeSize_ == CodeSize::Bits64) {
            if (opSize == 2) target &= 0xffff;
            if (static_cast<uint64_t>(static_cast<int64_t>(target << 16) >> 16) != target) fault(kGP, 0);
        } else {
            target &= sizeMask(opSize);
            if (target > s.seg[CS].limit) fault(kGP, 0);
        }
        s.rip = target;
    }
    void loadSegment(unsigned seg, uint16_t selector);  // MOV/POP Sreg, LDS..., with checks
    void farJump(uint16_t selector, uint64_t offset, unsigned opSize);
    void farCall(uint16_t selector, uint64_t offset, unsigned opSize);
    void farReturn(unsigned opSize, uint16_t popBytes);
    void interruptReturn(unsigned opSize);
    void softwareInterrupt(uint8_t vector);

    // Control registers and MSRs (the checks of MOV CRn / WRMSR).
    void writeCr(unsigned cr, uint64_t value);
    uint64_t readCr(unsigned cr);
    void writeMsr(uint32_t index, uint64_t value);
    uint64_t readMsr(uint32_t index);
    uint64_t readTsc() const;
    void invalidatePage(uint64_t linear) {
        tlb_.invalidatePage(linear);
        dropFetchPage();
    }
    void flushTlb(bool keepGlobal = false) {
        tlb_.flush(keepGlobal);
        dropFetchPage();
    }
    // Ends the current burst of linked instructions after the running one: the run loop
    // then looks at the CPU afresh (exits, mode changes, single-step, interrupt shadow).
    void endBurst() {
        burstEnd_ -= static_cast<uint64_t>(burstLeft_);
        burstLeft_ = 0;
    }
    // The links between cached instructions may be stale (TLB, mode or code changed).
    void dropFetchPage() {
        fetchPage_ = nullptr;
        endBurst();
    }
    // STI / MOV SS / POP SS: maskable interrupts (and, for MOV SS, debug traps) wait until the
    // next instruction has completed.
    void startInterruptShadow() {
        s.interruptShadow = true;
        shadowEnds_ = retired() + 2;  // the count once this instruction and the next are done
        endBurst();
    }
    // Flag writes that may set TF (POPF, IRET, SYSRET) call this so single-stepping starts.
    void flagsChanged() {
        updateAccessMode();
        if (s.flags.test(rflag::TF) || (windowRequested_ && s.flags.test(rflag::IF))) endBurst();
    }
    const DecodeCache::Counters& decodeCounters() const { return decodeCache_.counters(); }

    // Exits. An exit the VMM handles ends the run after this instruction.
    void exitToVmm(const VmExit& exit);
    void reportInEngine(const VmExit& exit);
    // IN: true with the value if the VMM answered; otherwise raises the exit and rolls back.
    bool portInput(uint16_t port, unsigned size, uint32_t& value);
    void portOutput(uint16_t port, unsigned size, uint32_t value);
    void halt();
    const CpuidModel& cpuid() const { return cpuid_; }

    // Privilege for IN/OUT/INS/OUTS: IOPL, then the TSS I/O bitmap (io_permission.cpp).
    void checkIoPermission(uint16_t port, unsigned size);

    // Interrupt/exception delivery through the IVT or IDT.
    void deliverEvent(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode);

    // After a handler replaced CS/SS directly (SYSCALL, SYSENTER and their returns): the code size follows.
    void modeChanged() { updateModeCache(); }
    uint64_t insnStart() const { return insnStart_; }
    CodeSize codeSize() const { return codeSize_; }

private:
    // The TLB permission bit an access needs: read/write/execute, supervisor or user.
    uint8_t allowBit(AccessType access, bool supervisor) const {
        const unsigned user = supervisor ? 0 : userShift_;
        return static_cast<uint8_t>(1u << (static_cast<unsigned>(access) + user));
    }
    static uint64_t load(const uint8_t* p, unsigned size) {
        switch (size) {
            case 1: return *p;
            case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
            case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
            default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
        }
    }
    static void store(uint8_t* p, unsigned size, uint64_t value) {
        switch (size) {
            case 1: *p = static_cast<uint8_t>(value); break;
            case 2: { const uint16_t v = static_cast<uint16_t>(value); std::memcpy(p, &v, 2); break; }
            case 4: { const uint32_t v = static_cast<uint32_t>(value); std::memcpy(p, &v, 4); break; }
            default: std::memcpy(p, &value, 8); break;
        }
    }
    uint64_t linearAddressSlow(unsigned seg, uint64_t offset, unsigned size, AccessType access);
    uint64_t readLinearSlow(uint64_t linear, unsigned size, AccessType access, bool supervisor);
    void writeLinearSlow(uint64_t linear, unsigned size, uint64_t value, bool supervisor);

    // The instruction at RIP: from the decode cache, or decoded now. nullptr: an exit is
    // pending (an instruction not implemented yet).
    const DecodedInsn* fetch() {
        const Segment& cs = s.seg[CS];
        const uint64_t linear = codeSize_ == CodeSize::Bits64 ? s.rip : (cs.base + s.rip) & 0xffffffffull;
        if (fetchPage_ && (linear >> 12) == fetchLinearPage_) {
            if (const DecodedInsn* insn = fetchPage_->bySlot(linear & 0xfff)) {
                if (insn->codeSize == static_cast<uint8_t>(codeSize_) &&
                    (codeSize_ == CodeSize::Bits64 || s.rip + insn->length - 1 <= cs.limit))
                    return insn;
            }
        }
        return fetchSlow(linear);
    }
    const DecodedInsn* fetchSlow(uint64_t linear);
    // The instruction after `insn`: a link if this page's cache is still current (no TLB flush,
    // mode change or write to the page since `insn` was fetched), else a lookup that records one.
    // Only called while the burst goes on, i.e. while fetchPage_'s links are current.
    const DecodedInsn* successor(const DecodedInsn* insn, uint64_t fallthrough) {
        const bool straight = s.rip == fallthrough;
        if (straight) {
            if (insn->next) return insn->next;
        } else if (insn->taken && insn->takenRip == s.rip) {
            return insn->taken;
        }
        return successorSlow(insn, straight);
    }
    const DecodedInsn* successorSlow(const DecodedInsn* insn, bool straight);
    void stepWithTrap();
    void watchWrite(uint64_t physPage);
    void noteWriteToWatched(uint64_t physPage);
    void handleException(const CpuException& e);
    void updateModeCache();
    uint8_t* translate(uint64_t linear, AccessType access, bool supervisor, uint64_t& physical);
    uint64_t mmioRead(uint64_t gpa, unsigned size);
    void mmioWrite(uint64_t gpa, unsigned size, uint64_t value);
    uint64_t readDescriptor(uint16_t selector, uint8_t faultVector);
    Segment descriptorToSegment(uint16_t selector, uint64_t descriptor) const;
    void loadCodeSegment(uint16_t selector, uint64_t descriptor);
    void farThroughGate(uint16_t gateSelector, uint64_t gate, bool call);  // segments.cpp: call gates
    uint64_t pushedFlags(uint8_t vector, EventKind kind) const;
    void deliverReal(uint8_t vector);
    void deliverProtected(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode);
    void deliverLong(uint8_t vector, EventKind kind, uint32_t errorCode, bool hasErrorCode);
    void shutdown(const char* why);

    mmu::PhysicalMap& memory_;
    const CpuidModel& cpuid_;
    mmu::Tlb tlb_;
    mmu::PagingControls paging_;
    CodeSize codeSize_ = CodeSize::Bits16;
    InEngineExitObserver* observer_ = nullptr;

    DecodeCache decodeCache_;
    DecodeCache::Page* fetchPage_ = nullptr;  // the page the last instruction came from
    uint64_t fetchLinearPage_ = ~0ull;
    DecodedInsn uncachedInsn_;               // an instruction that crosses a page: not cached
    std::unordered_set<uint64_t> pageTablePages_;  // physical pages translations were read from
    uint64_t ripMask_ = 0xffffffffull;
    // 3 at CPL 3 (the TLB's user permission bits apply), else 0. Kept by updateModeCache(),
    // which every change of CS (and so of the CPL) goes through.
    // 8 (no TLB bit: every user access takes the slow path) while alignment checking is on.
    unsigned userShift_ = 0;
    bool alignCheck_ = false;  // CR0.AM, RFLAGS.AC and CPL 3: misaligned data accesses are #AC
    void updateAccessMode() {
        const bool user = s.cpl() == 3;
        alignCheck_ = user && (s.cr0 & cr0::AM) && s.flags.test(rflag::AC);
        userShift_ = alignCheck_ ? 8 : user ? 3 : 0;
    }
    // #AC(0) for a misaligned 2/4/8/16-byte data access at CPL 3 with alignment checking on.
    void checkAlignment(uint64_t linear, unsigned size, bool supervisor) {
        if (alignCheck_ && !supervisor && (size & (size - 1)) == 0 && (linear & (size - 1))) fault(kAC, 0);
    }

    uint64_t insnStart_ = 0;
    // The run loop's instruction budget: retired() == burstEnd_ - burstLeft_. The hot loop only
    // decrements burstLeft_; endBurst() zeroes it to leave the loop after the running instruction.
    uint64_t burstEnd_ = 0;
    int64_t burstLeft_ = 0;
    uint64_t shadowEnds_ = 0;      // retired() at which the interrupt shadow is over
    bool softIntDelivered_ = false;
    bool windowRequested_ = false;
    uint64_t a20Mask_ = ~0ull;
    std::function<uint64_t()> tscSource_;
    uint64_t tscClock() const;  // INT n / INT3 / INTO ran (no single-step trap after them)
    bool stop_ = false;
    VmExit pendingExit_;

    // VMM answers consumed when the instruction runs again.
    struct Completion {
        bool valid = false;
        uint64_t address = 0;  // port or gpa
        unsigned size = 0;
        uint64_t value = 0;
    };
    Completion ioAnswer_, mmioAnswer_;

    // Nested-fault tracking for #DF and triple-fault (SDM 6.15, table 6-5).
    int deliveryDepth_ = 0;
    uint8_t firstVector_ = 0;
};

}  // namespace hvlab::cpu
