#include "tests/differential/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "hv/interpreter_engine.hpp"
#include "hv/kvm_engine.hpp"

namespace hvlab::difftest {

using namespace hvlab::cpu;

namespace {

// Flat segments. Attributes in the VMX access-rights layout (see cpu::Segment).
constexpr uint16_t kUserCodeAttr = 0xa0fb;  // G, L, P, DPL 3, S, execute/read accessed
constexpr uint16_t kUserDataAttr = 0xc0f3;  // G, B, P, DPL 3, S, read/write accessed
constexpr uint16_t kTssAttr = 0x008b;       // P, busy 64-bit TSS

constexpr uint64_t kGdtEntries[] = {
    0,
    0x00af9b000000ffffull,  // 0x08 ring-0 code, 64-bit
    0x00cf93000000ffffull,  // 0x10 ring-0 data
    0x00cff3000000ffffull,  // 0x18 ring-3 data
    0x00affb000000ffffull,  // 0x20 ring-3 code, 64-bit
    // 0x28 the TSS (16 bytes), busy
    0x00008b0000000067ull | ((layout::kTss & 0xffffff) << 16) | (((layout::kTss >> 24) & 0xff) << 56),
    layout::kTss >> 32,
};

// The RFLAGS slot of the frame an exception pushes on the kernel stack (64-bit: aligned to 16).
uint64_t pushedRflagsAddress(const Sequence& seq) { return (seq.init.rsp0 & ~0xfull) - 24; }

}  // namespace

Guest::Guest() {
    map_.addRam(0, layout::kRamSize, host_.data());
    auto put64 = [&](uint64_t gpa, uint64_t v) { std::memcpy(host_.data() + gpa, &v, 8); };
    // 4-level paging, identity mapped; accessed and dirty bits preset, so no engine writes them.
    constexpr uint64_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
    put64(layout::kPml4, layout::kPdpt | P | RW | US | A);
    put64(layout::kPdpt, layout::kPd | P | RW | US | A);
    put64(layout::kPd, layout::kPt | P | RW | US | A);
    // Only the code (read-only), data and stack pages are user pages: a stray user access
    // anywhere else faults, so it shows instead of changing memory nobody compares.
    for (uint64_t k = 1; k < layout::kRamSize >> 21; ++k) put64(layout::kPd + 8 * k, (k << 21) | P | RW | A | D | PS);
    for (uint64_t k = 0; k < 512; ++k) {
        const uint64_t a = k << 12;
        auto in = [&](uint64_t base, uint64_t size) { return a >= base && a < base + size; };
        uint64_t flags = P | RW | A | D;
        if (in(layout::kCode, layout::kCodeSize)) flags = P | US | A | D;
        if (in(layout::kData, layout::kDataSize) || in(layout::kStack, layout::kStackSize)) flags = P | RW | US | A | D;
        if (in(layout::kUnmapped, layout::kUnmappedSize)) flags = 0;
        put64(layout::kPt + 8 * k, a | flags);
    }
    for (size_t k = 0; k < std::size(kGdtEntries); ++k) put64(layout::kGdt + 8 * k, kGdtEntries[k]);
    // Every vector: a 64-bit interrupt gate (DPL 3, so INT n works from user mode) to its HLT.
    for (uint64_t v = 0; v < 256; ++v) {
        const uint64_t h = layout::stub(static_cast<unsigned>(v));
        put64(layout::kIdt + 16 * v, (h & 0xffff) | (uint64_t{layout::kKernelCodeSel} << 16) | (0xeeull << 40) |
                                         (((h >> 16) & 0xffff) << 48));
        put64(layout::kIdt + 16 * v + 8, h >> 32);
        host_.data()[h] = 0xf4;  // hlt
    }
    std::memset(host_.data() + layout::kCode, 0xcc, layout::kCodeSize);  // int3 past the code
    std::memcpy(host_.data() + layout::kTss + 0x66, "\x68\x00", 2);         // no I/O bitmap
}

void Guest::load(const Sequence& seq) {
    std::memset(host_.data() + layout::kCode, 0xcc, loadedCode_);
    std::memcpy(host_.data() + layout::kCode, seq.bytes.data(), seq.bytes.size());
    loadedCode_ = seq.bytes.size();
    restoreMutable(seq);
}

void Guest::restoreMutable(const Sequence& seq) {
    std::memcpy(host_.data() + layout::kData, seq.init.data.data(), layout::kDataSize);
    std::memcpy(host_.data() + layout::kStack, seq.init.stack.data(), layout::kStackSize);
    std::memset(host_.data() + layout::kKernelStack, 0, 0x1000);
    std::memcpy(host_.data() + layout::kTss + 4, &seq.init.rsp0, 8);
}

CpuState Guest::initialState(const Sequence& seq) const {
    CpuState s;
    s.gpr = seq.init.gpr;
    s.rip = layout::kCode;
    s.setRflags(seq.init.rflags);
    const Segment data{layout::kUserDataSel, 0, 0xffffffff, kUserDataAttr};
    for (Segment& sg : s.seg) sg = data;
    s.seg[CS] = Segment{layout::kUserCodeSel, 0, 0xffffffff, kUserCodeAttr};
    s.seg[FS].base = seq.init.fsBase;
    s.seg[GS].base = seq.init.gsBase;
    s.ldtr = Segment{0, 0, 0, 0};
    s.tr = Segment{layout::kTssSel, layout::kTss, 0x67, kTssAttr};
    s.gdtr = {layout::kGdt, layout::kGdtLimit};
    s.idtr = {layout::kIdt, 0xfff};
    s.cr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE | cr0::WP | cr0::PG;
    s.cr3 = layout::kPml4;
    s.cr4 = cr4::PAE;
    s.efer = efer::LME | efer::LMA;
    return s;
}

// ---------------------------------------------------------------------------

Runner::Runner(bool kvm, const char* kvmDevice) {
    if (kvm) kvm_ = std::make_unique<hv::KvmEngine>(guest_.map(), cpuid_, kvmDevice);
    // After KVM (which restricts the CPUID model to what the host offers), so both see the same.
    interpreter_ = std::make_unique<hv::InterpreterEngine>(guest_.map(), cpuid_, nullptr);
}

std::string Runner::traceInterpreter(const Sequence& seq) {
    guest_.load(seq);
    hv::InterpreterEngine engine(guest_.map(), cpuid_, nullptr);
    engine.loadState(guest_.initialState(seq));
    std::string out;
    CpuState before;
    engine.saveState(before);
    for (int step = 0; step < 10000; ++step) {
        const uint64_t rip = before.rip;
        std::string text = "?";
        for (const PlacedInsn& p : seq.code)
            if (p.address == rip) text = render(p.insn, p.address);
        const VmExit exit = engine.interpreter().run(1);
        CpuState after;
        engine.saveState(after);
        std::string changes;
        for (unsigned r = 0; r < 16; ++r)
            if (after.gpr[r] != before.gpr[r]) changes += fmt::format(" {}={:#x}", regName(r, 8), after.gpr[r]);
        if (after.rflags() != before.rflags())
            changes += fmt::format(" rflags={:#x} {}", after.rflags(), flagNames(after.rflags()));
        if (after.cr2 != before.cr2) changes += fmt::format(" cr2={:#x}", after.cr2);
        out += fmt::format("  {:#07x}  {:<40} ->{}\n", rip, text, changes);
        before = after;
        if (exit.reason != ExitReason::None) {
            out += "  " + describeEnd(exit) + "\n";
            break;
        }
    }
    return out;
}

Runner::~Runner() = default;

std::string Runner::kvmDescription() const { return kvm_ ? kvm_->description() : "none"; }

Outcome Runner::run(hv::Engine& engine, const Sequence& seq, double& seconds) {
    guest_.load(seq);
    const auto start = std::chrono::steady_clock::now();
    engine.loadState(guest_.initialState(seq));
    Outcome o;
    // The sequence only branches forward, so it ends after a few thousand instructions at
    // most; a slice or a stray signal can still return early.
    do {
        o.exit = engine.run();
        ++o.runs;
    } while ((o.exit.reason == ExitReason::None || o.exit.reason == ExitReason::Kicked) && o.runs < 16);
    if (o.exit.reason == ExitReason::PortIo) {
        // Complete the OUT before looking at the state: KVM does that at the start of the next
        // KVM_RUN, before it honours a kick (immediate_exit). Left pending, it would apply to the
        // next sequence's first KVM_RUN if that starts where this OUT was (a one-instruction
        // sequence when minimizing), skipping bytes there. The interpreter has completed it.
        engine.kick();
        engine.run();
    }
    engine.saveState(o.state);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    o.finalRip = o.state.rip;
    auto copy = [&](uint64_t gpa, uint64_t size) {
        const uint8_t* p = guest_.at(gpa);
        return std::vector<uint8_t>(p, p + size);
    };
    o.data = copy(layout::kData, layout::kDataSize);
    o.stack = copy(layout::kStack, layout::kStackSize);
    o.kernelStack = copy(layout::kKernelStack, 0x1000);
    return o;
}

Outcome Runner::runInterpreter(const Sequence& seq, bool reuse) {
    if (reuse) return run(*interpreter_, seq, interpreterSeconds);
    hv::InterpreterEngine fresh(guest_.map(), cpuid_, nullptr);
    return run(fresh, seq, interpreterSeconds);
}

Outcome Runner::runKvm(const Sequence& seq) { return run(*kvm_, seq, kvmSeconds); }

// ---------------------------------------------------------------------------

std::string describeEnd(const VmExit& e) {
    switch (e.reason) {
        case ExitReason::PortIo: return fmt::format("io exit at {:#x}: {}", e.rip, describeExit(e));
        case ExitReason::Hlt:
            if (e.rip > layout::kStubs && e.rip <= layout::kStubs + 256)
                return fmt::format("exception/interrupt vector {} (hlt exit at {:#x})", e.rip - layout::kStubs - 1, e.rip);
            return fmt::format("hlt exit at {:#x}", e.rip);
        default: {
            const std::string detail = describeExit(e);
            return fmt::format("{} exit at {:#x}{}{}", exitReasonName(e.reason), e.rip, detail.empty() ? "" : ": ", detail);
        }
    }
}

std::string checkEnd(const Sequence& seq, const Outcome& o, bool checkRf) {
    const VmExit& e = o.exit;
    bool ok;
    if (!seq.expect.exception)
        ok = e.reason == ExitReason::PortIo && e.io.write && e.io.port == layout::kTerminatorPort && e.io.size == 1 &&
             e.rip == seq.endAddress;
    else
        ok = e.reason == ExitReason::Hlt && e.rip == layout::stub(seq.expect.vector) + 1;
    if (!ok) return fmt::format("expected {}, got {}", seq.expect.what, describeEnd(e));
    if (seq.expect.exception && checkRf) {
        // "For any fault-class exception except a debug exception generated in response to an
        // instruction breakpoint, the value pushed for RF is 1" (SDM vol. 3, 18.3.1.1); a trap
        // or INT n pushes RF as it was (0 here).
        uint64_t pushed;
        std::memcpy(&pushed, o.kernelStack.data() + (pushedRflagsAddress(seq) - layout::kKernelStack), 8);
        const bool rf = pushed & rflag::RF;
        if (rf != seq.expect.fault)
            return fmt::format("{}: the RFLAGS image pushed ({:#x}) has RF = {}, the SDM says {} for a {}", seq.expect.what,
                               pushed, rf ? 1 : 0, seq.expect.fault ? 1 : 0, seq.expect.fault ? "fault" : "trap or INT n");
    }
    return {};
}

namespace {

std::string hex(uint64_t v) { return fmt::format("{:#018x}", v); }

std::string flagsText(uint64_t v) {
    return fmt::format("{:#x} {}", v, flagNames(v & fl::ALL));
}

// The first differing byte range of a memory area, shown as the 16 bytes around it.
void compareMemory(const char* name, uint64_t base, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                   std::vector<Difference>& out, uint64_t maskedAt = 0, uint64_t maskBits = 0) {
    std::vector<uint8_t> ma = a, mb = b;
    if (maskBits && maskedAt >= base && maskedAt + 8 <= base + a.size()) {
        for (unsigned k = 0; k < 8; ++k) {
            const uint8_t m = static_cast<uint8_t>(maskBits >> (8 * k));
            ma[maskedAt - base + k] &= static_cast<uint8_t>(~m);
            mb[maskedAt - base + k] &= static_cast<uint8_t>(~m);
        }
    }
    size_t first = 0;
    while (first < ma.size() && ma[first] == mb[first]) ++first;
    if (first == ma.size()) return;
    size_t last = ma.size();
    while (last > first && ma[last - 1] == mb[last - 1]) --last;
    const size_t from = first & ~size_t{7};
    const size_t to = std::min(ma.size(), from + 16);
    auto bytes = [&](const std::vector<uint8_t>& v) {
        return hexBytes(std::vector<uint8_t>(v.begin() + static_cast<ptrdiff_t>(from), v.begin() + static_cast<ptrdiff_t>(to)));
    };
    out.push_back({fmt::format("{} {:#x} (bytes {:#x}-{:#x} differ)", name, base + from, base + first, base + last - 1),
                   bytes(a), bytes(b)});
}

}  // namespace

std::vector<Difference> compare(const Sequence& seq, const Outcome& a, const Outcome& b, bool maskUndefined) {
    std::vector<Difference> d;
    const std::string ea = describeEnd(a.exit), eb = describeEnd(b.exit);
    if (ea != eb) d.push_back({"exit", ea, eb});
    if (a.finalRip != b.finalRip) d.push_back({"RIP", hex(a.finalRip), hex(b.finalRip)});
    for (unsigned r = 0; r < 16; ++r)
        if (a.state.gpr[r] != b.state.gpr[r]) d.push_back({regName(r, 8), hex(a.state.gpr[r]), hex(b.state.gpr[r])});
    const uint64_t mask = maskUndefined ? ~uint64_t{seq.undefinedFlags} : ~0ull;
    const uint64_t fa = a.state.rflags(), fb = b.state.rflags();
    if ((fa & mask) != (fb & mask)) d.push_back({"RFLAGS", flagsText(fa), flagsText(fb)});
    if (a.state.seg[CS].selector != b.state.seg[CS].selector)
        d.push_back({"CS", hex(a.state.seg[CS].selector), hex(b.state.seg[CS].selector)});
    if (a.state.seg[SS].selector != b.state.seg[SS].selector)
        d.push_back({"SS", hex(a.state.seg[SS].selector), hex(b.state.seg[SS].selector)});
    if (a.state.cr2 != b.state.cr2) d.push_back({"CR2", hex(a.state.cr2), hex(b.state.cr2)});
    compareMemory("data", layout::kData, a.data, b.data, d);
    compareMemory("stack", layout::kStack, a.stack, b.stack, d);
    compareMemory("kernel stack", layout::kKernelStack, a.kernelStack, b.kernelStack, d, pushedRflagsAddress(seq),
                  rflag::RF | (maskUndefined ? seq.undefinedFlags : 0));
    return d;
}

std::string report(const Sequence& seq, const std::string& headline, const Outcome& a, const Outcome& b,
                   const std::vector<Difference>& diffs, const char* aName, const char* bName) {
    std::string out = fmt::format("=== sequence {} (seed {}): {} ===\n", seq.index, seq.seed, headline);
    out += fmt::format("expected end: {}\n", seq.expect.what);
    out += fmt::format("undefined flags at the end (not compared): {}\n", flagNames(seq.undefinedFlags));
    if (!diffs.empty()) {
        out += fmt::format("first difference: {}\n", diffs.front().what);
        out += fmt::format("differences ({} | {}):\n", aName, bName);
        for (const Difference& d : diffs) out += fmt::format("  {:<40} {} | {}\n", d.what, d.a, d.b);
    }
    out += fmt::format("code ({} instructions, {} bytes at {:#x}):\n", seq.code.size(), seq.bytes.size(), layout::kCode);
    out += listing(seq);
    out += fmt::format("{:<8} {:<20} {:<20} {:<20}\n", "", "initial", aName, bName);
    auto row = [&](const std::string& name, uint64_t init, uint64_t va, uint64_t vb) {
        out += fmt::format("{:<8} {:<20} {:<20} {:<20}{}\n", name, hex(init), hex(va), hex(vb), va != vb ? " <--" : "");
    };
    for (unsigned r = 0; r < 16; ++r) row(regName(r, 8), seq.init.gpr[r], a.state.gpr[r], b.state.gpr[r]);
    row("rip", layout::kCode, a.finalRip, b.finalRip);
    row("rflags", seq.init.rflags, a.state.rflags(), b.state.rflags());
    out += fmt::format("{:<8} {:<20} {:<20} {:<20}\n", "", flagNames(seq.init.rflags), flagNames(a.state.rflags()),
                       flagNames(b.state.rflags()));
    row("cs", layout::kUserCodeSel, a.state.seg[CS].selector, b.state.seg[CS].selector);
    row("ss", layout::kUserDataSel, a.state.seg[SS].selector, b.state.seg[SS].selector);
    row("cr2", 0, a.state.cr2, b.state.cr2);
    out += fmt::format("fs.base {:#x}, gs.base {:#x}, TSS.RSP0 {:#x}\n", seq.init.fsBase, seq.init.gsBase, seq.init.rsp0);
    for (const auto& [name, o] : {std::pair{aName, &a}, std::pair{bName, &b}}) {
        out += fmt::format("{}: {}", name, describeEnd(o->exit));
        // After an exception: the frame on the kernel stack (from RSP up: [error code,] RIP, CS,
        // RFLAGS, RSP, SS).
        const uint64_t rsp = o->state.gpr[4];
        if (o->exit.reason == ExitReason::Hlt && rsp >= layout::kKernelStack && rsp + 40 <= layout::kKernelStack + 0x1000) {
            out += ", frame:";
            for (unsigned k = 0; k < 6 && rsp + 8 * k + 8 <= layout::kKernelStack + 0x1000; ++k) {
                uint64_t v;
                std::memcpy(&v, o->kernelStack.data() + (rsp - layout::kKernelStack) + 8 * k, 8);
                out += fmt::format(" {:#x}", v);
            }
        }
        out += "\n";
    }
    return out;
}

// ---------------------------------------------------------------------------

namespace {

bool tryCandidate(Sequence& current, Sequence candidate, const std::function<bool(const Sequence&)>& stillFails) {
    if (!finalize(candidate).empty()) return false;
    if (!stillFails(candidate)) return false;
    current = std::move(candidate);
    return true;
}

// Candidates that drop or unwrap one group somewhere in `groups` (recursively), keeping `keepLast`.
void groupEdits(const std::vector<Group>& groups, bool keepLast, std::vector<std::vector<Group>>& out) {
    const size_t n = groups.size() - (keepLast ? 1 : 0);
    for (size_t k = n; k-- > 0;) {
        std::vector<Group> c = groups;
        c.erase(c.begin() + static_cast<ptrdiff_t>(k));
        out.push_back(std::move(c));
        if (groups[k].kind != Group::Kind::Plain) {
            // Unwrap: keep only the inner groups.
            std::vector<Group> u(groups.begin(), groups.begin() + static_cast<ptrdiff_t>(k));
            u.insert(u.end(), groups[k].inner.begin(), groups[k].inner.end());
            u.insert(u.end(), groups.begin() + static_cast<ptrdiff_t>(k) + 1, groups.end());
            out.push_back(std::move(u));
            std::vector<std::vector<Group>> innerEdits;
            if (!groups[k].inner.empty()) groupEdits(groups[k].inner, false, innerEdits);
            for (auto& inner : innerEdits) {
                std::vector<Group> e = groups;
                e[k].inner = std::move(inner);
                out.push_back(std::move(e));
            }
        }
    }
}

}  // namespace

Sequence minimize(const Sequence& seq, const std::function<bool(const Sequence&)>& stillFails) {
    Sequence current = seq;
    for (bool changed = true; changed;) {
        changed = false;
        std::vector<std::vector<Group>> edits;
        groupEdits(current.groups, true, edits);
        for (auto& groups : edits) {
            Sequence c = current;
            c.groups = std::move(groups);
            if (tryCandidate(current, std::move(c), stillFails)) {
                changed = true;
                break;
            }
        }
    }
    // Simpler initial registers (RSP stays: the stack bookkeeping depends on it).
    for (unsigned r = 0; r < 16; ++r) {
        if (r == 4 || current.init.gpr[r] == 0) continue;
        Sequence c = current;
        c.init.gpr[r] = 0;
        tryCandidate(current, std::move(c), stillFails);
    }
    return current;
}

}  // namespace hvlab::difftest
