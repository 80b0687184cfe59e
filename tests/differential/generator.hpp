// The generator of random but valid 64-bit user-mode instruction sequences, and the
// sequence model the runner and the minimizer share.
//
// A sequence is a list of groups. A group is the unit that can be removed (when minimizing)
// without breaking the others: an instruction with the setup it needs (base registers of a
// memory operand, a non-faulting divisor, a known shift count), a forward branch over a few
// groups, or a CALL to a small subroutine. The last group is the terminator (an OUT to
// layout::kTerminatorPort, or an instruction that faults on purpose).
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/differential/encoder.hpp"
#include "tests/differential/layout.hpp"

namespace hvlab::difftest {

struct Group {
    enum class Kind : uint8_t {
        Plain,  // insns run one after the other
        Skip,   // insns = [optional LEA r, [rel END]], branch to END; then `inner`; END:
        Call,   // insns = [optional LEA r, [rel BODY]], CALL BODY, JMP END; BODY: `inner`, `ret`; END:
    };
    Kind kind = Kind::Plain;
    std::vector<Insn> insns;
    std::vector<Group> inner;
    Insn ret;  // Call only
};

// How the sequence is expected to end: the OUT terminator, or an exception (delivered through
// the IDT to a stub that halts, so the run ends with a HLT exit at layout::stub(vector) + 1).
struct ExpectedEnd {
    bool exception = false;
    bool fault = false;  // a fault-class exception: the RFLAGS image it pushes has RF = 1
    uint8_t vector = 0;
    std::string what;  // "out to port 0xe0", "#PF (write to a read-only page)", ...
};

struct InitialState {
    std::array<uint64_t, 16> gpr{};
    uint64_t rflags = 0;
    uint64_t fsBase = 0, gsBase = 0;
    uint64_t rsp0 = layout::kKernelStackTop;  // the TSS's RSP0
    std::vector<uint8_t> data;                // layout::kDataSize bytes at layout::kData
    std::vector<uint8_t> stack;               // layout::kStackSize bytes at layout::kStack
};

struct PlacedInsn {
    Insn insn;
    uint64_t address = 0;
    std::vector<uint8_t> bytes;
};

struct Sequence {
    uint64_t seed = 0;   // the run's --seed
    uint64_t index = 0;  // which sequence of the run
    InitialState init;
    std::vector<Group> groups;  // the last one is the terminator
    ExpectedEnd expect;

    // Filled by finalize(): the encoded code and what the flag bookkeeping found.
    std::vector<PlacedInsn> code;
    std::vector<uint8_t> bytes;  // at layout::kCode
    uint64_t endAddress = 0;     // of the terminator's last instruction
    uint16_t undefinedFlags = 0;  // arithmetic flags undefined at the end (masked when comparing)
};

// Lays out and encodes the groups and recomputes the undefined flags. Returns an empty string,
// or why the sequence is not valid (a branch out of range, an instruction that reads a flag
// that is undefined there, the stack pointer leaving its area).
std::string finalize(Sequence& seq);

// Listing: "  0x10000  48 01 d8               add rax, rbx" per instruction.
std::string listing(const Sequence& seq);
// nasm source that assembles to the sequence's bytes (bits 64, org layout::kCode).
std::string nasmSource(const Sequence& seq);
// Instructions in the sequence (all groups, setup included).
size_t instructionCount(const Sequence& seq);
// Replaces the code of `seq` by raw bytes (shown as `db`), followed by the OUT terminator.
// The undefined-flags mask is `undefinedFlags`, as there are no instructions to derive it from.
void setRawCode(Sequence& seq, const std::vector<uint8_t>& bytes, uint16_t undefinedFlags = 0);

struct GeneratorOptions {
    uint64_t seed = 1;
    unsigned length = 20;       // groups per sequence (before the terminator)
    unsigned faultPercent = 5;  // sequences that end with a deliberate exception
    // CMPXCHG8B/16B: off by default, because QEMU 7.2's TCG (the CPU of the nested KVM that
    // CI uses, scripts/kvm-in-qemu) returns garbage RFLAGS after it. Fine on real hardware.
    bool cmpxchg8b = false;
};

class Generator {
public:
    explicit Generator(GeneratorOptions options) : options_(options) {}
    // Sequence `index` of the run: the same (seed, index) always gives the same sequence.
    Sequence generate(uint64_t index);

private:
    enum class Ctx : uint8_t { Top, Inner, CallBody };
    struct State {
        uint16_t undef = 0;  // flags undefined now
        int depth = 0;       // bytes pushed since the start (RSP = init RSP - depth)
    };

    // Random numbers.
    uint64_t u64() { return rng_(); }
    unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }
    bool chance(unsigned percent) { return below(100) < percent; }
    int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }
    uint64_t value(unsigned size);       // an interesting register/memory value of `size` bytes
    int64_t immediate(unsigned bytes);   // an interesting signed immediate of `bytes` bytes
    unsigned pickSize();

    // Registers: never RSP as a destination; `avoid` is a mask of register numbers.
    uint8_t pickGpr(uint32_t avoid, bool allowRsp = false);
    Reg pickReg(unsigned size, bool dest, uint32_t avoid = 0, bool allowHigh = true);
    // A memory operand into the data area (or the stack), with the instructions that set up
    // its base and index registers appended to `setup`.
    Mem pickMem(unsigned size, uint32_t avoid, Ctx ctx, std::vector<Insn>& setup, bool allowRsp = true,
                unsigned margin = 0, unsigned align = 1, bool allowRip = true);
    // An address in the data area for `size` bytes, at least `margin` bytes from its ends.
    uint64_t dataTarget(unsigned size, unsigned margin = 0, unsigned align = 1);
    Insn movImm(Reg reg, uint64_t value);  // a flag-neutral MOV of a known value
    int condition();  // a condition code whose flags are all defined now, or -1

    // Group generators (false when the category does not fit the current state).
    bool genGroup(Ctx ctx, std::vector<Group>& out);
    bool genAlu(Ctx ctx, Group& g);
    bool genUnary(Ctx ctx, Group& g);
    bool genTest(Ctx ctx, Group& g);
    bool genMov(Ctx ctx, Group& g);
    bool genMovExtend(Ctx ctx, Group& g);
    bool genLea(Group& g);
    bool genXchg(Ctx ctx, Group& g);
    bool genShift(Ctx ctx, Group& g);
    bool genMul(Ctx ctx, Group& g);
    bool genDiv(Ctx ctx, Group& g);
    bool genConvert(Group& g);
    bool genSetcc(Ctx ctx, Group& g);
    bool genCmov(Ctx ctx, Group& g);
    bool genBswap(Group& g);
    bool genPush(Group& g);
    bool genPop(Group& g);
    bool genFlagOp(Group& g);
    bool genLahfSahf(Group& g);
    // Optional groups: instructions the interpreter may not implement yet.
    bool genBitTest(Ctx ctx, Group& g);
    bool genBitScan(Ctx ctx, Group& g);
    bool genXadd(Ctx ctx, Group& g);
    bool genCmpxchg(Ctx ctx, Group& g);
    bool genCmpxchg8b(Ctx ctx, Group& g);
    bool genDoubleShift(Ctx ctx, Group& g);
    bool genSkip(Group& g);
    bool genCall(Group& g);
    Group terminator(ExpectedEnd& expect);

    void apply(const Group& g);  // updates state_ as the group runs

    GeneratorOptions options_;
    std::mt19937_64 rng_;
    State state_;
    InitialState* init_ = nullptr;
};

}  // namespace hvlab::difftest
