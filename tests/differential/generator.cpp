#include "tests/differential/generator.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "cpu/decoder.hpp"

namespace hvlab::difftest {

namespace {

constexpr uint8_t RAX = 0, RCX = 1, RDX = 2, RSP = 4;
constexpr uint32_t bit(unsigned r) { return 1u << r; }

// The stack pointer stays within [init - kMaxDepth, init - kMinDepth], well inside the stack area.
constexpr int kMaxDepth = 512, kMinDepth = -256;

// Labels a Skip/Call group's head instructions refer to.
constexpr uint8_t kLabelEnd = 1, kLabelBody = 2;

const char* const kAluNames[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
const char* const kCcNames[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};
constexpr uint16_t kCcFlags[16] = {fl::OF, fl::OF, fl::CF, fl::CF, fl::ZF, fl::ZF, fl::CF | fl::ZF, fl::CF | fl::ZF,
                                   fl::SF, fl::SF, fl::PF, fl::PF, fl::SF | fl::OF, fl::SF | fl::OF,
                                   fl::ZF | fl::SF | fl::OF, fl::ZF | fl::SF | fl::OF};
constexpr uint16_t kLahfFlags = fl::SF | fl::ZF | fl::AF | fl::PF | fl::CF;

uint64_t sizeMask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }
int64_t signExtend(uint64_t v, unsigned size) {
    const unsigned shift = 64 - size * 8;
    return static_cast<int64_t>(v << shift) >> shift;
}
bool fitsInt8(int64_t v) { return v >= -128 && v <= 127; }
bool fitsInt32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

const char* strictKeyword(unsigned size) {
    switch (size) {
        case 1: return "strict byte";
        case 2: return "strict word";
        case 4: return "strict dword";
        default: return "strict qword";
    }
}

Insn make(const char* mnemonic, std::vector<uint8_t> opcode) {
    Insn in;
    in.mnemonic = mnemonic;
    in.opcode = std::move(opcode);
    return in;
}

void setSize(Insn& in, unsigned size) {
    in.p66 = size == 2;
    in.rexW = size == 8;
}

// A ModRM instruction: operands in Intel order, which of them is ModRM.rm and ModRM.reg.
Insn modrm(const char* mnemonic, std::vector<uint8_t> opcode, unsigned size, std::vector<Operand> ops, int rmOp,
           int regOp, uint8_t digit = 0) {
    Insn in = make(mnemonic, std::move(opcode));
    setSize(in, size);
    in.ops = std::move(ops);
    in.modrm = true;
    in.rmOp = static_cast<int8_t>(rmOp);
    in.regOp = static_cast<int8_t>(regOp);
    in.digit = digit;
    return in;
}

bool isAcc(const Operand& o) { return o.kind == OpKind::Reg && o.reg.num == RAX && !o.reg.high; }

Effects aluEffects(unsigned op) {
    Effects fx;
    if (op == 1 || op == 4 || op == 6) {  // OR, AND, XOR: AF undefined
        fx.def = fl::ALL & ~fl::AF;
        fx.undef = fl::AF;
    } else {
        fx.def = fl::ALL;
    }
    if (op == 2 || op == 3) fx.read = fl::CF;  // ADC, SBB
    return fx;
}

Effects logicEffects() {
    Effects fx;
    fx.def = fl::ALL & ~fl::AF;
    fx.undef = fl::AF;
    return fx;
}

Effects mulEffects() {
    Effects fx;
    fx.def = fl::CF | fl::OF;
    fx.undef = fl::SF | fl::ZF | fl::AF | fl::PF;
    return fx;
}

// Shifts and rotates (SDM vol. 2: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR). `op` is the /digit.
Effects shiftEffects(unsigned op, unsigned size, bool known, unsigned count) {
    Effects fx;
    const bool rotate = op <= 3;
    if (op == 2 || op == 3) fx.read = fl::CF;
    if (!known) {
        // The count is not known here: it may be 0 (no flag changes) or anything else.
        fx.maybeUnchanged = true;
        fx.undef = rotate ? fl::OF : static_cast<uint16_t>(fl::OF | fl::AF);
        if ((op == 4 || op == 5) && size <= 2) fx.undef |= fl::CF;
        return fx;
    }
    const unsigned masked = count & (size == 8 ? 63 : 31);
    if (masked == 0) return fx;  // no flags are affected
    const uint16_t of = masked == 1 ? fl::OF : 0;
    if (rotate) {
        fx.def = fl::CF | of;
        fx.undef = fl::OF & ~of;
        return fx;
    }
    fx.def = fl::SF | fl::ZF | fl::PF | of;
    fx.undef = fl::AF | (fl::OF & ~of);
    // CF is undefined for SHL/SHR when the count is at least the operand's width.
    if ((op == 4 || op == 5) && masked >= size * 8)
        fx.undef |= fl::CF;
    else
        fx.def |= fl::CF;
    return fx;
}

// Whether the interpreter implements `in`: its decoder knows a handler for the encoding.
bool implemented(const Insn& in) {
    const std::vector<uint8_t> bytes = encode(in, layout::kCode, false);
    cpu::DecodedInsn d;
    return cpu::decode(bytes.data(), bytes.size(), cpu::CodeSize::Bits64, d) != cpu::DecodeStatus::Unimplemented;
}

void applyEffects(const Effects& fx, uint16_t& undef, int& depth) {
    if (fx.maybeUnchanged)
        undef |= fx.undef;
    else
        undef = static_cast<uint16_t>((undef & ~(fx.def | fx.undef)) | fx.undef);
    depth -= fx.stack;
}

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ---- Layout and analysis of a finished sequence. ----

size_t groupLength(const Group& g) {
    size_t n = 0;
    for (const Insn& in : g.insns) n += encodedLength(in);
    for (const Group& inner : g.inner) n += groupLength(inner);
    if (g.kind == Group::Kind::Call) n += encodedLength(g.ret);
    return n;
}

void setLabelTarget(Insn& in, uint64_t target) {
    if (in.targetOp >= 0) in.ops[in.targetOp].target = target;
    if (in.rmOp >= 0 && in.ops[in.rmOp].kind == OpKind::Mem && in.ops[in.rmOp].mem.rip) in.ops[in.rmOp].mem.target = target;
}

void placeInsn(const Insn& in, uint64_t& addr, std::vector<PlacedInsn>& out) {
    PlacedInsn p{in, addr, encode(in, addr)};
    addr += p.bytes.size();
    out.push_back(std::move(p));
}

void place(Group& g, uint64_t& addr, std::vector<PlacedInsn>& out) {
    if (g.kind != Group::Kind::Plain) {
        size_t head = 0, innerLength = 0;
        for (const Insn& in : g.insns) head += encodedLength(in);
        for (const Group& inner : g.inner) innerLength += groupLength(inner);
        const uint64_t body = addr + head;
        uint64_t end = body + innerLength;
        if (g.kind == Group::Kind::Call) end += encodedLength(g.ret);
        for (Insn& in : g.insns) {
            if (in.label == kLabelEnd) setLabelTarget(in, end);
            if (in.label == kLabelBody) setLabelTarget(in, body);
        }
    }
    for (const Insn& in : g.insns) placeInsn(in, addr, out);
    for (Group& inner : g.inner) place(inner, addr, out);
    if (g.kind == Group::Kind::Call) placeInsn(g.ret, addr, out);
}

struct Analyzer {
    uint16_t undef = 0;
    int depth = 0, minDepth = 0, maxDepth = 0;
    std::string error;

    void insn(const Insn& in) {
        if (!error.empty()) return;
        if (in.fx.read & undef)
            error = fmt::format("'{}' reads {}, undefined there", render(in, 0), flagNames(in.fx.read & undef));
        applyEffects(in.fx, undef, depth);
        minDepth = std::min(minDepth, depth);
        maxDepth = std::max(maxDepth, depth);
    }
    void group(const Group& g) {
        for (const Insn& in : g.insns) insn(in);
        const uint16_t atBranch = undef;
        for (const Group& inner : g.inner) group(inner);
        if (g.kind == Group::Kind::Skip) undef |= atBranch;  // the branch may skip the inner groups
        if (g.kind == Group::Kind::Call) insn(g.ret);
    }
};

}  // namespace

std::string finalize(Sequence& seq) {
    seq.code.clear();
    seq.bytes.clear();
    uint64_t addr = layout::kCode;
    try {
        for (Group& g : seq.groups) place(g, addr, seq.code);
    } catch (const std::logic_error& e) {
        return e.what();
    }
    for (const PlacedInsn& p : seq.code) seq.bytes.insert(seq.bytes.end(), p.bytes.begin(), p.bytes.end());
    if (seq.code.empty()) return "no instructions";
    if (seq.bytes.size() > layout::kCodeSize) return fmt::format("{} bytes of code, more than fit", seq.bytes.size());
    seq.endAddress = seq.code.back().address;
    Analyzer a;
    for (const Group& g : seq.groups) a.group(g);
    if (!a.error.empty()) return a.error;
    if (a.maxDepth > kMaxDepth || a.minDepth < kMinDepth)
        return fmt::format("the stack pointer leaves its range ({} to {} bytes pushed)", a.minDepth, a.maxDepth);
    seq.undefinedFlags = a.undef;
    return {};
}

std::string listing(const Sequence& seq) {
    std::string out;
    for (const PlacedInsn& p : seq.code)
        out += fmt::format("  {:#07x}  {:<44} {}\n", p.address, hexBytes(p.bytes), render(p.insn, p.address));
    return out;
}

std::string nasmSource(const Sequence& seq) {
    std::string out = fmt::format("bits 64\norg {:#x}\n", layout::kCode);
    for (const PlacedInsn& p : seq.code) out += render(p.insn, p.address, true, layout::kCode) + "\n";
    return out;
}

size_t instructionCount(const Sequence& seq) { return seq.code.size(); }

void setRawCode(Sequence& seq, const std::vector<uint8_t>& bytes, uint16_t undefinedFlags) {
    Group raw;
    for (size_t k = 0; k < bytes.size(); k += 15) {
        Insn in;
        in.mnemonic = "db";
        in.opcode.assign(bytes.begin() + static_cast<ptrdiff_t>(k),
                         bytes.begin() + static_cast<ptrdiff_t>(std::min(bytes.size(), k + 15)));
        for (size_t b = 0; b < in.opcode.size(); ++b) in.ops.push_back(Operand::u(in.opcode[b]));
        raw.insns.push_back(in);
    }
    Insn out = make("out", {0xe6});
    out.ops = {Operand::u(layout::kTerminatorPort), Operand::r(Reg{RAX, 1, false})};
    out.immSize = 1;
    out.imm = layout::kTerminatorPort;
    seq.groups = {raw, Group{Group::Kind::Plain, {out}, {}, {}}};
    seq.expect = {false, false, 0, fmt::format("out to port {:#x}", layout::kTerminatorPort)};
    const std::string error = finalize(seq);
    if (!error.empty()) throw std::invalid_argument(error);
    seq.undefinedFlags = undefinedFlags;
}

// ---------------------------------------------------------------------------
// Random values
// ---------------------------------------------------------------------------

uint64_t Generator::value(unsigned size) {
    const unsigned bits = size * 8;
    const uint64_t top = 1ull << (bits - 1);
    uint64_t v;
    switch (below(12)) {
        case 0: v = below(3); break;                     // 0, 1, 2
        case 1: v = ~0ull - below(2); break;             // -1, -2
        case 2: v = top - 1 - below(2); break;           // the largest positives
        case 3: v = top + below(2); break;               // the most negative values
        case 4: v = below(256); break;
        case 5: v = 0 - static_cast<uint64_t>(below(256)); break;
        case 6: v = 1ull << below(bits); break;
        case 7: v = (1ull << below(bits)) - 1; break;
        case 8: v = u64() & 0x00ff00ff00ff00ffull; break;
        default: v = u64(); break;
    }
    return v & sizeMask(size);
}

int64_t Generator::immediate(unsigned bytes) { return signExtend(value(bytes), bytes); }

unsigned Generator::pickSize() {
    const unsigned r = below(100);
    return r < 20 ? 1 : r < 35 ? 2 : r < 65 ? 4 : 8;
}

uint8_t Generator::pickGpr(uint32_t avoid, bool allowRsp) {
    if (!allowRsp) avoid |= bit(RSP);
    for (;;) {
        const uint8_t r = static_cast<uint8_t>(below(16));
        if (!(avoid & bit(r))) return r;
    }
}

Reg Generator::pickReg(unsigned size, bool dest, uint32_t avoid, bool allowHigh) {
    Reg r;
    r.size = static_cast<uint8_t>(size);
    if (size == 1 && allowHigh && chance(20)) {
        for (;;) {
            r.num = static_cast<uint8_t>(below(4));
            if (!(avoid & bit(r.num))) break;
        }
        r.high = true;
        return r;
    }
    r.num = pickGpr(avoid, !dest);
    return r;
}

uint64_t Generator::dataTarget(unsigned size, unsigned margin, unsigned align) {
    // Now and then an access that straddles the boundary between the two data pages.
    if (size > 1 && align == 1 && chance(15)) return layout::kData + 0x1000 - static_cast<uint64_t>(range(1, size - 1));
    const uint64_t first = layout::kData + margin, last = layout::kData + layout::kDataSize - margin - size;
    return (first + u64() % (last - first + 1)) & ~uint64_t{align - 1};
}

Insn Generator::movImm(Reg reg, uint64_t v) {
    if (reg.size == 8) {
        const unsigned form = below(3);
        if (form == 0 && v <= 0xffffffffull) {  // mov r32, imm32 (zero-extends)
            Insn in = make("mov", {0xb8});
            in.ops = {Operand::r(Reg{reg.num, 4, false}), Operand::u(v)};
            in.plusOp = 0;
            in.immSize = 4;
            in.imm = v;
            return in;
        }
        if (form == 1 && fitsInt32(static_cast<int64_t>(v))) {  // mov r64, simm32 (C7 /0)
            Insn in = modrm("mov", {0xc7}, 8, {Operand::r(reg), Operand::i(static_cast<int64_t>(v), "strict dword")}, 0, -1);
            in.immSize = 4;
            in.imm = v;
            return in;
        }
        Insn in = make("mov", {0xb8});  // mov r64, imm64
        in.rexW = true;
        in.ops = {Operand::r(reg), Operand::u(v, "strict qword")};
        in.plusOp = 0;
        in.immSize = 8;
        in.imm = v;
        return in;
    }
    Insn in = make("mov", {static_cast<uint8_t>(reg.size == 1 ? 0xb0 : 0xb8)});
    setSize(in, reg.size);
    in.ops = {Operand::r(reg), Operand::u(v & sizeMask(reg.size))};
    in.plusOp = 0;
    in.immSize = reg.size;
    in.imm = v & sizeMask(reg.size);
    return in;
}

Mem Generator::pickMem(unsigned size, uint32_t avoid, Ctx ctx, std::vector<Insn>& setup, bool allowRsp,
                       unsigned margin, unsigned align, bool allowRip) {
    Mem m;
    m.size = static_cast<uint8_t>(size);
    const uint64_t target = dataTarget(size, margin, align);
    if (margin || align > 1) allowRsp = false;  // [rsp+disp] points into the stack, anywhere
    const unsigned mode = below(100);
    if (mode < 8 && allowRip) {
        m.rip = true;
        m.target = target;
        return m;
    }
    if (mode < 12) {
        m.abs = true;
        m.disp = static_cast<int64_t>(target);
        return m;
    }
    if (mode < 20 && allowRsp && ctx != Ctx::CallBody) {
        // [rsp+disp]: RSP is known (the generator tracks the pushes), and any byte within
        // 128 of it is inside the stack area.
        m.base = RSP;
        m.disp = range(-128, 127);
        if (chance(15)) m.disp32 = true;
        return m;
    }
    if (mode < 27) {
        // 32-bit address size: the base register's upper half is garbage and is ignored; the
        // 32-bit sum wraps.
        m.addr32 = true;
        m.base = pickGpr(avoid);
        m.disp = chance(60) ? range(-128, 127) : static_cast<int64_t>(static_cast<int32_t>(u64()));
        const uint64_t low = (target - static_cast<uint64_t>(m.disp)) & 0xffffffffull;
        setup.push_back(movImm(Reg{m.base, 8, false}, (u64() << 32) | low));
        return m;
    }
    // Segment overrides: FS and GS add their base; ES/CS/SS/DS do nothing in 64-bit mode.
    uint64_t segBase = 0;
    const unsigned segRoll = below(100);
    if (segRoll < 5) {
        m.seg = 0x64;
        segBase = init_->fsBase;
    } else if (segRoll < 10) {
        m.seg = 0x65;
        segBase = init_->gsBase;
    } else if (segRoll < 13) {
        static constexpr uint8_t kNullSegs[4] = {0x26, 0x2e, 0x36, 0x3e};
        m.seg = kNullSegs[below(4)];
    }
    const uint64_t ea = target - segBase;
    const unsigned form = below(100);
    if (form < 55) {  // [base+disp]
        m.base = pickGpr(avoid);
        if (chance(80)) {
            m.disp = range(-128, 127);
            if (chance(10)) m.disp32 = true;
        } else {
            m.disp = range(-0x100000, 0x100000);
        }
        setup.push_back(movImm(Reg{m.base, 8, false}, ea - static_cast<uint64_t>(m.disp)));
        return m;
    }
    if (form < 90 || segBase != 0) {  // [base+index*scale+disp]
        m.base = pickGpr(avoid);
        m.scale = static_cast<uint8_t>(below(4));
        if (chance(10) && m.base != RSP && segBase == 0) {
            // The same register as base and index: v * (1 + 2^scale) + disp = ea.
            m.index = m.base;
            const uint64_t factor = 1 + (1ull << m.scale);
            const uint64_t v = ea / factor;
            m.disp = static_cast<int64_t>(ea - v * factor);
            setup.push_back(movImm(Reg{m.base, 8, false}, v));
            return m;
        }
        m.index = pickGpr(avoid | bit(m.base));
        m.disp = chance(85) ? range(-128, 127) : range(-0x10000, 0x10000);
        const int64_t index = chance(70) ? range(-64, 64) : static_cast<int64_t>(u64() % 0x1000);
        setup.push_back(movImm(Reg{m.index, 8, false}, static_cast<uint64_t>(index)));
        setup.push_back(movImm(Reg{m.base, 8, false},
                               ea - static_cast<uint64_t>(m.disp) - (static_cast<uint64_t>(index) << m.scale)));
        return m;
    }
    // [index*scale+disp32], no base.
    m.index = pickGpr(avoid);
    m.scale = static_cast<uint8_t>(below(4));
    const uint64_t index = u64() % ((ea >> m.scale) + 1);
    m.disp = static_cast<int64_t>(ea - (index << m.scale));
    setup.push_back(movImm(Reg{m.index, 8, false}, index));
    return m;
}

int Generator::condition() {
    int choices[16];
    int n = 0;
    for (int cc = 0; cc < 16; ++cc)
        if (!(kCcFlags[cc] & state_.undef)) choices[n++] = cc;
    return n ? choices[below(static_cast<unsigned>(n))] : -1;
}

// ---------------------------------------------------------------------------
// Instruction groups
// ---------------------------------------------------------------------------

bool Generator::genAlu(Ctx ctx, Group& g) {
    const unsigned op = below(8);
    if ((op == 2 || op == 3) && (state_.undef & fl::CF)) return false;
    const unsigned size = pickSize();
    const bool byte = size == 1;
    const bool cmp = op == 7;
    const uint8_t base = static_cast<uint8_t>(op * 8);
    const char* name = kAluNames[op];
    Insn in;
    switch (below(10)) {
        case 0:
        case 1:  // op r/m, reg with a register r/m (the form nasm picks)
            in = modrm(name, {static_cast<uint8_t>(base + (byte ? 0 : 1))}, size,
                       {Operand::r(pickReg(size, !cmp)), Operand::r(pickReg(size, false))}, 0, 1);
            break;
        case 2:  // op reg, r/m with a register r/m
            in = modrm(name, {static_cast<uint8_t>(base + (byte ? 2 : 3))}, size,
                       {Operand::r(pickReg(size, !cmp)), Operand::r(pickReg(size, false))}, 1, 0);
            in.nasmExact = false;
            break;
        case 3:
        case 4: {  // op reg, mem
            const Reg dst = pickReg(size, !cmp);
            const Mem m = pickMem(size, 0, ctx, g.insns);
            in = modrm(name, {static_cast<uint8_t>(base + (byte ? 2 : 3))}, size, {Operand::r(dst), Operand::m(m)}, 1, 0);
            break;
        }
        case 5:
        case 6: {  // op mem, reg
            const Mem m = pickMem(size, 0, ctx, g.insns);
            in = modrm(name, {static_cast<uint8_t>(base + (byte ? 0 : 1))}, size,
                       {Operand::m(m), Operand::r(pickReg(size, false))}, 0, 1);
            if (!cmp && chance(10)) in.prefixes = {0xf0};
            break;
        }
        case 7:
        case 8: {  // group 1: op r/m, imm
            const bool mem = chance(50);
            const Operand dst = mem ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, !cmp));
            if (byte) {
                const int64_t v = immediate(1);
                in = modrm(name, {0x80}, 1, {dst, Operand::i(v)}, 0, -1, static_cast<uint8_t>(op));
                in.immSize = 1;
                in.imm = static_cast<uint64_t>(v);
                if (isAcc(dst)) in.nasmExact = false;  // nasm: the AL, imm8 form
            } else if (chance(50)) {
                const int64_t v = immediate(1);
                in = modrm(name, {0x83}, size, {dst, Operand::i(v)}, 0, -1, static_cast<uint8_t>(op));
                in.immSize = 1;
                in.imm = static_cast<uint64_t>(v);
            } else {
                const unsigned immBytes = size == 2 ? 2 : 4;
                const int64_t v = immediate(immBytes);
                in = modrm(name, {0x81}, size, {dst, Operand::i(v, strictKeyword(size))}, 0, -1, static_cast<uint8_t>(op));
                in.immSize = static_cast<uint8_t>(immBytes);
                in.imm = static_cast<uint64_t>(v);
                if (isAcc(dst)) in.nasmExact = false;  // nasm: the eAX, imm form
            }
            if (mem && !cmp && chance(10)) in.prefixes = {0xf0};
            break;
        }
        default: {  // op AL/AX/EAX/RAX, imm
            const unsigned immBytes = byte ? 1 : size == 2 ? 2 : 4;
            const int64_t v = immediate(immBytes);
            in = make(name, {static_cast<uint8_t>(base + (byte ? 4 : 5))});
            setSize(in, size);
            in.ops = {Operand::r(Reg{RAX, static_cast<uint8_t>(size), false}),
                      byte ? Operand::i(v) : Operand::i(v, strictKeyword(size))};
            in.immSize = static_cast<uint8_t>(immBytes);
            in.imm = static_cast<uint64_t>(v);
            break;
        }
    }
    in.fx = aluEffects(op);
    g.insns.push_back(in);
    return true;
}

bool Generator::genUnary(Ctx ctx, Group& g) {
    static const struct {
        const char* name;
        uint8_t byteOp, op, digit;
    } kOps[4] = {{"inc", 0xfe, 0xff, 0}, {"dec", 0xfe, 0xff, 1}, {"not", 0xf6, 0xf7, 2}, {"neg", 0xf6, 0xf7, 3}};
    const unsigned k = below(4);
    const unsigned size = pickSize();
    const bool mem = chance(40);
    const Operand dst = mem ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, true));
    Insn in = modrm(kOps[k].name, {size == 1 ? kOps[k].byteOp : kOps[k].op}, size, {dst}, 0, -1, kOps[k].digit);
    if (mem && chance(10)) in.prefixes = {0xf0};
    if (k <= 1) in.fx.def = fl::ALL & ~fl::CF;  // INC/DEC leave CF alone
    if (k == 3) in.fx.def = fl::ALL;
    g.insns.push_back(in);
    return true;
}

bool Generator::genTest(Ctx ctx, Group& g) {
    const unsigned size = pickSize();
    const bool byte = size == 1;
    const unsigned immBytes = byte ? 1 : size == 2 ? 2 : 4;
    Insn in;
    switch (below(3)) {
        case 0: {  // test r/m, reg
            const Operand a = chance(40) ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, false));
            in = modrm("test", {static_cast<uint8_t>(byte ? 0x84 : 0x85)}, size, {a, Operand::r(pickReg(size, false))}, 0, 1);
            break;
        }
        case 1: {  // test AL/eAX, imm
            const int64_t v = immediate(immBytes);
            in = make("test", {static_cast<uint8_t>(byte ? 0xa8 : 0xa9)});
            setSize(in, size);
            in.ops = {Operand::r(Reg{RAX, static_cast<uint8_t>(size), false}), Operand::i(v)};
            in.immSize = static_cast<uint8_t>(immBytes);
            in.imm = static_cast<uint64_t>(v);
            break;
        }
        default: {  // test r/m, imm (F6/F7 /0)
            const Operand a = chance(50) ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, false));
            const int64_t v = immediate(immBytes);
            in = modrm("test", {static_cast<uint8_t>(byte ? 0xf6 : 0xf7)}, size, {a, Operand::i(v)}, 0, -1, 0);
            in.immSize = static_cast<uint8_t>(immBytes);
            in.imm = static_cast<uint64_t>(v);
            if (isAcc(a)) in.nasmExact = false;
            break;
        }
    }
    in.fx = logicEffects();
    g.insns.push_back(in);
    return true;
}

bool Generator::genMov(Ctx ctx, Group& g) {
    const unsigned size = pickSize();
    const bool byte = size == 1;
    Insn in;
    switch (below(11)) {
        case 0:
        case 1:  // mov r/m, reg (register r/m)
            in = modrm("mov", {static_cast<uint8_t>(byte ? 0x88 : 0x89)}, size,
                       {Operand::r(pickReg(size, true)), Operand::r(pickReg(size, false))}, 0, 1);
            break;
        case 2:  // mov reg, r/m (register r/m): nasm would pick 88/89
            in = modrm("mov", {static_cast<uint8_t>(byte ? 0x8a : 0x8b)}, size,
                       {Operand::r(pickReg(size, true)), Operand::r(pickReg(size, false))}, 1, 0);
            in.nasmExact = false;
            break;
        case 3:
        case 4: {  // mov reg, mem
            const Reg dst = pickReg(size, true);
            in = modrm("mov", {static_cast<uint8_t>(byte ? 0x8a : 0x8b)}, size,
                       {Operand::r(dst), Operand::m(pickMem(size, 0, ctx, g.insns))}, 1, 0);
            break;
        }
        case 5:
        case 6: {  // mov mem, reg
            const Mem m = pickMem(size, 0, ctx, g.insns);
            in = modrm("mov", {static_cast<uint8_t>(byte ? 0x88 : 0x89)}, size, {Operand::m(m), Operand::r(pickReg(size, false))},
                       0, 1);
            break;
        }
        case 7:  // mov reg, imm
            in = movImm(pickReg(size, true), value(size));
            break;
        case 8:
        case 9: {  // mov r/m, imm (C6/C7 /0)
            const bool mem = chance(80);
            const Operand dst = mem ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, true));
            const unsigned immBytes = byte ? 1 : size == 2 ? 2 : 4;
            const int64_t v = immediate(immBytes);
            in = modrm("mov", {static_cast<uint8_t>(byte ? 0xc6 : 0xc7)}, size,
                       {dst, size == 8 ? Operand::i(v, "strict dword") : Operand::i(v)}, 0, -1, 0);
            in.immSize = static_cast<uint8_t>(immBytes);
            in.imm = static_cast<uint64_t>(v);
            if (!mem && size != 8) in.nasmExact = false;  // nasm: B0+r / B8+r
            break;
        }
        default: {  // mov AL/AX/EAX/RAX, moffs64 and back (A0-A3)
            const bool store = chance(50);
            Operand moffs;
            moffs.kind = OpKind::Moffs;
            moffs.target = dataTarget(size);
            moffs.moffsSize = static_cast<uint8_t>(size);
            const Operand acc = Operand::r(Reg{RAX, static_cast<uint8_t>(size), false});
            in = make("mov", {static_cast<uint8_t>((store ? 0xa2 : 0xa0) + (byte ? 0 : 1))});
            setSize(in, size);
            in.ops = store ? std::vector<Operand>{moffs, acc} : std::vector<Operand>{acc, moffs};
            in.moffsOp = store ? 0 : 1;
            break;
        }
    }
    g.insns.push_back(in);
    return true;
}

bool Generator::genMovExtend(Ctx ctx, Group& g) {
    const unsigned kind = below(5);
    Insn in;
    if (kind == 4) {  // movsxd r64, r/m32
        const Reg dst = pickReg(8, true);
        const Operand src = chance(40) ? Operand::m(pickMem(4, 0, ctx, g.insns)) : Operand::r(pickReg(4, false));
        in = modrm("movsxd", {0x63}, 8, {Operand::r(dst), src}, 1, 0);
        g.insns.push_back(in);
        return true;
    }
    const bool sign = kind >= 2;
    const unsigned srcSize = (kind & 1) ? 2 : 1;
    static constexpr unsigned kDst8[3] = {2, 4, 8}, kDst16[2] = {4, 8};
    const unsigned dstSize = srcSize == 1 ? kDst8[below(3)] : kDst16[below(2)];
    const Reg dst = pickReg(dstSize, true);
    const Operand src =
        chance(40) ? Operand::m(pickMem(srcSize, 0, ctx, g.insns)) : Operand::r(pickReg(srcSize, false));
    const uint8_t op = static_cast<uint8_t>((sign ? 0xbe : 0xb6) + (srcSize == 2 ? 1 : 0));
    in = modrm(sign ? "movsx" : "movzx", {0x0f, op}, dstSize, {Operand::r(dst), src}, 1, 0);
    g.insns.push_back(in);
    return true;
}

bool Generator::genLea(Group& g) {
    static constexpr unsigned kSizes[3] = {2, 4, 8};
    const unsigned size = kSizes[below(3)];
    Mem m;
    m.size = 0;
    const unsigned form = below(100);
    if (form < 10) {
        m.rip = true;
        m.target = layout::kCode + static_cast<uint64_t>(range(-0x10000, 0x7fffffff - 0x20000));
    } else {
        m.addr32 = form < 20;
        if (chance(85)) m.base = static_cast<uint8_t>(below(16));
        if (chance(50) || m.base == kNoReg) {
            m.index = pickGpr(0);  // any register but RSP
            m.scale = static_cast<uint8_t>(below(4));
        }
        const unsigned d = below(4);
        m.disp = d == 0 ? 0 : d == 1 ? range(-128, 127) : static_cast<int64_t>(static_cast<int32_t>(u64()));
        if (m.base != kNoReg && fitsInt8(m.disp) && chance(10)) m.disp32 = true;
    }
    Insn in = modrm("lea", {0x8d}, size, {Operand::r(pickReg(size, true)), Operand::m(m)}, 1, 0);
    g.insns.push_back(in);
    return true;
}

bool Generator::genXchg(Ctx ctx, Group& g) {
    const unsigned size = pickSize();
    Insn in;
    switch (size >= 2 ? below(3) : below(2)) {
        case 0: {  // xchg reg, reg (nasm: the first operand in ModRM.reg)
            const Operand a = Operand::r(pickReg(size, true)), b = Operand::r(pickReg(size, true));
            in = modrm("xchg", {static_cast<uint8_t>(size == 1 ? 0x86 : 0x87)}, size, {a, b}, 1, 0);
            // nasm: 90+r when one is the accumulator (but 87 C0 for xchg eax, eax)
            if (size >= 2 && (isAcc(a) || isAcc(b)) && !(size == 4 && isAcc(a) && isAcc(b))) in.nasmExact = false;
            break;
        }
        case 1: {  // xchg mem, reg
            const Mem m = pickMem(size, 0, ctx, g.insns);
            in = modrm("xchg", {static_cast<uint8_t>(size == 1 ? 0x86 : 0x87)}, size,
                       {Operand::m(m), Operand::r(pickReg(size, true))}, 0, 1);
            break;
        }
        default: {  // xchg eAX, reg (90+r; 90 itself is NOP)
            const Reg r = pickReg(size, true, bit(RAX));
            in = make("xchg", {0x90});
            setSize(in, size);
            in.ops = {Operand::r(Reg{RAX, static_cast<uint8_t>(size), false}), Operand::r(r)};
            in.plusOp = 1;
            break;
        }
    }
    g.insns.push_back(in);
    return true;
}

namespace {
unsigned shiftCount(unsigned size, unsigned roll, unsigned random) {
    const unsigned bits = size * 8;
    static constexpr unsigned kFixed[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0xff};
    if (roll < 25) return 1;
    if (roll < 55) return 1 + random % bits;
    if (roll < 65) return random % 256;
    if (roll < 75) return bits - 1 + random % 3;
    return kFixed[random % std::size(kFixed)];
}
}  // namespace

bool Generator::genShift(Ctx ctx, Group& g) {
    static constexpr uint8_t kOps[7] = {0, 1, 2, 3, 4, 5, 7};
    static const char* const kNames[8] = {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"};
    const uint8_t op = kOps[below(7)];
    if ((op == 2 || op == 3) && (state_.undef & fl::CF)) return false;
    const unsigned size = pickSize();
    const bool byte = size == 1;
    const unsigned countKind = below(3);  // 0: by 1, 1: imm8, 2: CL
    const bool knownCl = countKind == 2 && chance(50);
    unsigned count = countKind == 0 ? 1 : shiftCount(size, below(100), static_cast<unsigned>(u64() & 0xffff));
    const uint32_t avoid = countKind == 2 ? bit(RCX) : 0;
    const Operand dst = chance(35) ? Operand::m(pickMem(size, avoid, ctx, g.insns)) : Operand::r(pickReg(size, true));
    if (knownCl) g.insns.push_back(movImm(Reg{RCX, 1, false}, count));
    Insn in;
    if (countKind == 0) {
        in = modrm(kNames[op], {static_cast<uint8_t>(byte ? 0xd0 : 0xd1)}, size, {dst, Operand::i(1)}, 0, -1, op);
    } else if (countKind == 1) {
        in = modrm(kNames[op], {static_cast<uint8_t>(byte ? 0xc0 : 0xc1)}, size,
                   {dst, Operand::i(count, count == 1 ? "strict byte" : nullptr)}, 0, -1, op);
        in.immSize = 1;
        in.imm = count;
    } else {
        in = modrm(kNames[op], {static_cast<uint8_t>(byte ? 0xd2 : 0xd3)}, size, {dst, Operand::r(Reg{RCX, 1, false})}, 0,
                   -1, op);
    }
    in.fx = shiftEffects(op, size, countKind != 2 || knownCl, count);
    g.insns.push_back(in);
    return true;
}

bool Generator::genMul(Ctx ctx, Group& g) {
    const unsigned form = below(4);
    Insn in;
    if (form <= 1) {  // mul/imul r/m: AX, DX:AX, EDX:EAX or RDX:RAX
        const unsigned size = pickSize();
        const Operand src = chance(35) ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, false));
        in = modrm(form == 0 ? "mul" : "imul", {static_cast<uint8_t>(size == 1 ? 0xf6 : 0xf7)}, size, {src}, 0, -1,
                   static_cast<uint8_t>(4 + form));
    } else {
        static constexpr unsigned kSizes[3] = {2, 4, 8};
        const unsigned size = kSizes[below(3)];
        const Reg dst = pickReg(size, true);
        const Operand src = chance(35) ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, false));
        if (form == 2) {
            in = modrm("imul", {0x0f, 0xaf}, size, {Operand::r(dst), src}, 1, 0);
        } else if (chance(50)) {
            const int64_t v = immediate(1);
            in = modrm("imul", {0x6b}, size, {Operand::r(dst), src, Operand::i(v)}, 1, 0);
            in.immSize = 1;
            in.imm = static_cast<uint64_t>(v);
        } else {
            const unsigned immBytes = size == 2 ? 2 : 4;
            const int64_t v = immediate(immBytes);
            in = modrm("imul", {0x69}, size, {Operand::r(dst), src, Operand::i(v, size == 2 ? "strict word" : "strict dword")},
                       1, 0);
            in.immSize = static_cast<uint8_t>(immBytes);
            in.imm = static_cast<uint64_t>(v);
        }
    }
    in.fx = mulEffects();
    g.insns.push_back(in);
    return true;
}

bool Generator::genDiv(Ctx ctx, Group& g) {
    const bool isSigned = chance(50);
    const unsigned size = pickSize();
    const unsigned bits = size * 8;
    const uint64_t mask = sizeMask(size);
    const bool inMem = chance(35);
    // A memory divisor is stored with MOV r/m, imm: at most a sign-extended imm32.
    const unsigned valueBytes = (inMem && size == 8) ? 4 : size;
    auto divisorValue = [&]() { return static_cast<uint64_t>(signExtend(value(valueBytes), valueBytes)) & mask; };
    // The dividend's high half: AH for 8-bit division, else DX/EDX/RDX.
    const Reg high = size == 1 ? Reg{RAX, 1, true} : Reg{RDX, static_cast<uint8_t>(size), false};
    uint64_t d = 0, highValue = 0;
    bool signExtendDividend = false;
    if (!isSigned) {
        // Unsigned: the quotient fits when the high half is below the divisor.
        do d = divisorValue(); while (d == 0);
        highValue = u64() % d;
    } else if (chance(50)) {
        // Signed, dividend sign-extended from the low half: any divisor but 0 and -1.
        signExtendDividend = true;
        do d = divisorValue(); while (d == 0 || d == mask);
    } else {
        // Signed with high half r (or -1-r): |quotient| < 2^(bits-1) when |divisor| >= 2r+3.
        const unsigned rBits = below(std::min(bits - 3, 20u) + 1);
        const uint64_t r = u64() & ((1ull << rBits) - 1);
        const uint64_t maxAbs = (1ull << (valueBytes * 8 - 1)) - 1;
        const uint64_t abs = 2 * r + 3 + u64() % (maxAbs - (2 * r + 3) + 1);
        d = (chance(50) ? abs : 0 - abs) & mask;
        highValue = (chance(50) ? r : ~r) & mask;
    }
    Operand divisor;
    if (!inMem) {
        Reg r;
        do r = pickReg(size, true, size == 1 ? 0 : bit(RDX));
        while (r.high && r.num == RAX);  // not AH, the dividend's high half
        g.insns.push_back(movImm(r, d));
        divisor = Operand::r(r);
    } else {
        const Mem m = pickMem(size, bit(RAX) | bit(RDX), ctx, g.insns);
        const unsigned immBytes = size == 1 ? 1 : size == 2 ? 2 : 4;
        Insn store = modrm("mov", {static_cast<uint8_t>(size == 1 ? 0xc6 : 0xc7)}, size,
                           {Operand::m(m), size == 8 ? Operand::i(signExtend(d, 8), "strict dword") : Operand::u(d)}, 0, -1,
                           0);
        store.immSize = static_cast<uint8_t>(immBytes);
        store.imm = d;
        g.insns.push_back(store);
        divisor = Operand::m(m);
    }
    if (signExtendDividend) {
        static const struct {
            const char* name;
            uint8_t op;
        } kExtend[9] = {{}, {"cbw", 0x98}, {"cwd", 0x99}, {}, {"cdq", 0x99}, {}, {}, {}, {"cqo", 0x99}};
        Insn ext = make(kExtend[size].name, {kExtend[size].op});
        setSize(ext, size == 1 ? 2 : size);
        g.insns.push_back(ext);
    } else {
        g.insns.push_back(movImm(high, highValue));
    }
    Insn in = modrm(isSigned ? "idiv" : "div", {static_cast<uint8_t>(size == 1 ? 0xf6 : 0xf7)}, size, {divisor}, 0, -1,
                    isSigned ? 7 : 6);
    in.fx.undef = fl::ALL;
    g.insns.push_back(in);
    return true;
}

bool Generator::genConvert(Group& g) {
    static const struct {
        const char* name;
        uint8_t op;
        unsigned size;
    } kOps[6] = {{"cbw", 0x98, 2}, {"cwde", 0x98, 4}, {"cdqe", 0x98, 8}, {"cwd", 0x99, 2}, {"cdq", 0x99, 4}, {"cqo", 0x99, 8}};
    const auto& k = kOps[below(6)];
    Insn in = make(k.name, {k.op});
    setSize(in, k.size);
    g.insns.push_back(in);
    return true;
}

bool Generator::genSetcc(Ctx ctx, Group& g) {
    const int cc = condition();
    if (cc < 0) return false;
    const Operand dst = chance(30) ? Operand::m(pickMem(1, 0, ctx, g.insns)) : Operand::r(pickReg(1, true));
    Insn in = modrm("set", {0x0f, static_cast<uint8_t>(0x90 + cc)}, 1, {dst}, 0, -1, 0);
    in.mnemonic = std::string("set") + kCcNames[cc];
    in.fx.read = kCcFlags[cc];
    g.insns.push_back(in);
    return true;
}

bool Generator::genCmov(Ctx ctx, Group& g) {
    const int cc = condition();
    if (cc < 0) return false;
    static constexpr unsigned kSizes[3] = {2, 4, 8};
    const unsigned size = kSizes[below(3)];
    const Reg dst = pickReg(size, true);
    const Operand src = chance(35) ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, false));
    Insn in = modrm("cmov", {0x0f, static_cast<uint8_t>(0x40 + cc)}, size, {Operand::r(dst), src}, 1, 0);
    in.mnemonic = std::string("cmov") + kCcNames[cc];
    in.fx.read = kCcFlags[cc];
    g.insns.push_back(in);
    return true;
}

bool Generator::genBswap(Group& g) {
    const unsigned size = chance(50) ? 4 : 8;
    Insn in = make("bswap", {0x0f, 0xc8});
    setSize(in, size);
    in.ops = {Operand::r(pickReg(size, true))};
    in.plusOp = 0;
    g.insns.push_back(in);
    return true;
}

bool Generator::genPush(Group& g) {
    const unsigned form = below(8);
    const unsigned size = (form == 1 || form == 4 || form == 6) ? 2 : 8;
    if (state_.depth + static_cast<int>(size) > kMaxDepth) return false;
    Insn in;
    switch (form) {
        case 0:
        case 1:  // push r64 / r16 (RSP too: the value before the push)
            in = make("push", {0x50});
            in.p66 = size == 2;
            in.ops = {Operand::r(pickReg(size, false))};
            in.plusOp = 0;
            break;
        case 2: {  // push simm8 (sign-extended to 64 bits)
            const int64_t v = immediate(1);
            in = make("push", {0x6a});
            in.ops = {Operand::i(v)};
            in.immSize = 1;
            in.imm = static_cast<uint64_t>(v);
            break;
        }
        case 3: {  // push simm32
            const int64_t v = immediate(4);
            in = make("push", {0x68});
            in.ops = {Operand::i(v, "strict dword")};
            in.immSize = 4;
            in.imm = static_cast<uint64_t>(v);
            break;
        }
        case 4: {  // push imm16 (66 6A / 66 68)
            const bool short8 = chance(50);
            const int64_t v = immediate(short8 ? 1 : 2);
            in = make("push", {static_cast<uint8_t>(short8 ? 0x6a : 0x68)});
            in.p66 = true;
            in.ops = {Operand::i(v, short8 ? "word" : "strict word")};
            in.immSize = short8 ? 1 : 2;
            in.imm = static_cast<uint64_t>(v);
            break;
        }
        case 5:
        case 6:  // push m64 / m16 (the address uses RSP before the push)
            in = modrm("push", {0xff}, 0, {Operand::m(pickMem(size, 0, Ctx::Top, g.insns))}, 0, -1, 6);
            in.p66 = size == 2;
            break;
        default:  // push r64 through FF /6 (nasm: 50+r)
            in = modrm("push", {0xff}, 0, {Operand::r(pickReg(8, false))}, 0, -1, 6);
            in.nasmExact = false;
            break;
    }
    in.fx.stack = static_cast<int16_t>(-static_cast<int>(size));
    in.fx.usesStack = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genPop(Group& g) {
    const unsigned form = below(5);
    const unsigned size = (form == 1 || form == 3) ? 2 : 8;
    if (state_.depth - static_cast<int>(size) < kMinDepth) return false;
    Insn in;
    switch (form) {
        case 0:
        case 1:  // pop r64 / r16
            in = make("pop", {0x58});
            in.p66 = size == 2;
            in.ops = {Operand::r(pickReg(size, true))};
            in.plusOp = 0;
            break;
        case 2:
        case 3:  // pop m64 / m16 (an RSP-based address uses RSP after the pop)
            in = modrm("pop", {0x8f}, 0, {Operand::m(pickMem(size, 0, Ctx::Top, g.insns))}, 0, -1, 0);
            in.p66 = size == 2;
            break;
        default:  // pop r64 through 8F /0 (nasm: 58+r)
            in = modrm("pop", {0x8f}, 0, {Operand::r(pickReg(8, true))}, 0, -1, 0);
            in.nasmExact = false;
            break;
    }
    in.fx.stack = static_cast<int16_t>(size);
    in.fx.usesStack = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genFlagOp(Group& g) {
    static const struct {
        const char* name;
        uint8_t op;
    } kOps[5] = {{"clc", 0xf8}, {"stc", 0xf9}, {"cmc", 0xf5}, {"cld", 0xfc}, {"std", 0xfd}};
    const unsigned k = below(5);
    Insn in = make(kOps[k].name, {kOps[k].op});
    if (k <= 1) in.fx.def = fl::CF;  // CMC keeps CF as defined (or not) as it was
    g.insns.push_back(in);
    return true;
}

bool Generator::genLahfSahf(Group& g) {
    if (chance(50)) {
        if (state_.undef & kLahfFlags) return false;
        Insn in = make("lahf", {0x9f});
        in.fx.read = kLahfFlags;
        g.insns.push_back(in);
    } else {
        Insn in = make("sahf", {0x9e});
        in.fx.def = kLahfFlags;
        g.insns.push_back(in);
    }
    return true;
}

// ---- Optional groups: generated only when the interpreter's decoder reports them implemented.

bool Generator::genBitTest(Ctx ctx, Group& g) {
    static const char* const kNames[4] = {"bt", "bts", "btr", "btc"};
    const unsigned op = below(4);
    static constexpr unsigned kSizes[3] = {2, 4, 8};
    const unsigned size = kSizes[below(3)];
    const unsigned bits = size * 8;
    Insn in;
    switch (below(4)) {
        case 0:  // bt r, r (the offset is taken modulo the width)
            in = modrm(kNames[op], {0x0f, static_cast<uint8_t>(0xa3 + 8 * op)}, size,
                       {Operand::r(pickReg(size, op != 0)), Operand::r(pickReg(size, false))}, 0, 1);
            break;
        case 1: {  // bt m, r: the offset register selects a bit string around the operand
            const Reg offset = pickReg(size, true);
            const Mem m = pickMem(size, bit(offset.num), ctx, g.insns, true, 4 * size + 8);
            g.insns.push_back(movImm(Reg{offset.num, 8, false}, static_cast<uint64_t>(range(-4 * static_cast<int64_t>(bits), 4 * static_cast<int64_t>(bits) - 1))));
            in = modrm(kNames[op], {0x0f, static_cast<uint8_t>(0xa3 + 8 * op)}, size, {Operand::m(m), Operand::r(offset)}, 0, 1);
            if (op != 0 && chance(15)) in.prefixes = {0xf0};
            break;
        }
        default: {  // bt r/m, imm8 (modulo the width)
            const bool mem = chance(50);
            const Operand dst = mem ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, op != 0));
            const unsigned imm = below(256);
            in = modrm(kNames[op], {0x0f, 0xba}, size, {dst, Operand::i(imm)}, 0, -1, static_cast<uint8_t>(4 + op));
            in.immSize = 1;
            in.imm = imm;
            if (mem && op != 0 && chance(15)) in.prefixes = {0xf0};
            break;
        }
    }
    // CF is the bit; OF, SF, AF, PF are undefined, ZF is unaffected on Intel and undefined on AMD.
    in.fx.def = fl::CF;
    in.fx.undef = fl::OF | fl::SF | fl::AF | fl::PF | fl::ZF;
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genBitScan(Ctx ctx, Group& g) {
    // The source is made non-zero: with zero, the destination is undefined.
    static constexpr unsigned kSizes[3] = {2, 4, 8};
    const unsigned size = kSizes[below(3)];
    const bool reverse = chance(50);
    uint64_t v;
    do v = value(size);
    while (v == 0);
    Operand src;
    if (chance(60)) {
        const Reg r = pickReg(size, true);
        g.insns.push_back(movImm(r, v));
        src = Operand::r(r);
    } else {
        const Mem m = pickMem(size, 0, ctx, g.insns);
        const int64_t imm = size == 2 ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int32_t>(v | 1));
        Insn store = modrm("mov", {0xc7}, size, {Operand::m(m), size == 8 ? Operand::i(imm, "strict dword") : Operand::i(imm)}, 0, -1, 0);
        store.immSize = static_cast<uint8_t>(size == 2 ? 2 : 4);
        store.imm = static_cast<uint64_t>(imm);
        g.insns.push_back(store);
        src = Operand::m(m);
    }
    Insn in = modrm(reverse ? "bsr" : "bsf", {0x0f, static_cast<uint8_t>(reverse ? 0xbd : 0xbc)}, size,
                    {Operand::r(pickReg(size, true)), src}, 1, 0);
    in.fx.def = fl::ZF;
    in.fx.undef = fl::CF | fl::OF | fl::SF | fl::AF | fl::PF;
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genXadd(Ctx ctx, Group& g) {
    const unsigned size = pickSize();
    const bool mem = chance(50);
    const Operand dst = mem ? Operand::m(pickMem(size, 0, ctx, g.insns)) : Operand::r(pickReg(size, true));
    Insn in = modrm("xadd", {0x0f, static_cast<uint8_t>(size == 1 ? 0xc0 : 0xc1)}, size,
                    {dst, Operand::r(pickReg(size, true))}, 0, 1);
    if (mem && chance(30)) in.prefixes = {0xf0};
    in.fx.def = fl::ALL;
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genCmpxchg(Ctx ctx, Group& g) {
    const unsigned size = pickSize();
    const bool mem = chance(50);
    const Operand dst = mem ? Operand::m(pickMem(size, bit(RAX), ctx, g.insns)) : Operand::r(pickReg(size, true));
    const Operand acc = Operand::r(Reg{RAX, static_cast<uint8_t>(size), false});
    if (chance(40)) {
        // Make the comparison succeed: the accumulator gets the destination's value.
        Insn copy = mem ? modrm("mov", {static_cast<uint8_t>(size == 1 ? 0x8a : 0x8b)}, size, {acc, dst}, 1, 0)
                        : modrm("mov", {static_cast<uint8_t>(size == 1 ? 0x88 : 0x89)}, size, {acc, dst}, 0, 1);
        g.insns.push_back(copy);
    }
    Insn in = modrm("cmpxchg", {0x0f, static_cast<uint8_t>(size == 1 ? 0xb0 : 0xb1)}, size,
                    {dst, Operand::r(pickReg(size, false))}, 0, 1);
    if (mem && chance(30)) in.prefixes = {0xf0};
    in.fx.def = fl::ALL;
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genCmpxchg8b(Ctx ctx, Group& g) {
    const bool wide = chance(50);  // CMPXCHG16B: 16-byte aligned
    const unsigned size = wide ? 16 : 8;
    const Mem m = pickMem(size, bit(RAX) | bit(RDX), ctx, g.insns, true, 0, wide ? 16 : 1);
    if (chance(40)) {
        // Make the comparison succeed: (R|E)DX:(R|E)AX get the memory's value.
        const unsigned half = wide ? 8 : 4;
        Mem lo = m, hi = m;
        lo.size = hi.size = static_cast<uint8_t>(half);
        if (hi.rip)
            hi.target += half;
        else
            hi.disp += half;
        g.insns.push_back(modrm("mov", {0x8b}, half, {Operand::r(Reg{RAX, static_cast<uint8_t>(half), false}), Operand::m(lo)}, 1, 0));
        g.insns.push_back(modrm("mov", {0x8b}, half, {Operand::r(Reg{RDX, static_cast<uint8_t>(half), false}), Operand::m(hi)}, 1, 0));
    }
    Insn in = modrm(wide ? "cmpxchg16b" : "cmpxchg8b", {0x0f, 0xc7}, wide ? 8 : 4, {Operand::m(m)}, 0, -1, 1);
    if (chance(30)) in.prefixes = {0xf0};
    in.fx.def = fl::ZF;
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genDoubleShift(Ctx ctx, Group& g) {
    static constexpr unsigned kSizes[3] = {2, 4, 8};
    const unsigned size = kSizes[below(3)];
    const bool right = chance(50);
    const bool byCl = chance(50);
    // A 16-bit count above 16 gives an undefined result: then the count is always known.
    const bool knownCl = byCl && (size == 2 || chance(50));
    unsigned count = shiftCount(size, below(100), static_cast<unsigned>(u64() & 0xffff));
    if (size == 2)
        while ((count & 31) > 16) count = shiftCount(size, below(100), static_cast<unsigned>(u64() & 0xffff));
    const uint32_t avoid = byCl ? bit(RCX) : 0;
    // No RIP-relative operand with an imm8 count: QEMU's TCG (nested KVM's CPU in CI) forgets the
    // immediate byte when it computes the address (no rip_offset in its SHLD/SHRD decoder).
    const Operand dst = chance(35) ? Operand::m(pickMem(size, avoid, ctx, g.insns, true, 0, 1, byCl))
                                   : Operand::r(pickReg(size, true));
    const Operand src = Operand::r(pickReg(size, false));
    if (knownCl) g.insns.push_back(movImm(Reg{RCX, 1, false}, count));
    const uint8_t op = static_cast<uint8_t>((right ? 0xac : 0xa4) + (byCl ? 1 : 0));
    Insn in = byCl ? modrm(right ? "shrd" : "shld", {0x0f, op}, size, {dst, src, Operand::r(Reg{RCX, 1, false})}, 0, 1)
                   : modrm(right ? "shrd" : "shld", {0x0f, op}, size, {dst, src, Operand::i(count)}, 0, 1);
    if (!byCl) {
        in.immSize = 1;
        in.imm = count;
    }
    if (!byCl || knownCl) {
        const unsigned masked = count & (size == 8 ? 63 : 31);
        if (masked != 0) {
            in.fx.def = fl::CF | fl::SF | fl::ZF | fl::PF | (masked == 1 ? fl::OF : 0);
            in.fx.undef = fl::AF | (masked == 1 ? 0 : fl::OF);
        }
    } else {
        in.fx.maybeUnchanged = true;
        in.fx.undef = fl::AF | fl::OF;
    }
    in.optional = true;
    g.insns.push_back(in);
    return true;
}

bool Generator::genSkip(Group& g) {
    g.kind = Group::Kind::Skip;
    bool isShort = true;
    const unsigned kind = below(100);
    if (kind < 45) {  // jcc
        const int cc = condition();
        if (cc < 0) return false;
        isShort = chance(75);
        Insn in = make("j", isShort ? std::vector<uint8_t>{static_cast<uint8_t>(0x70 + cc)}
                                    : std::vector<uint8_t>{0x0f, static_cast<uint8_t>(0x80 + cc)});
        in.mnemonic = std::string("j") + kCcNames[cc];
        in.ops = {Operand::t(0, isShort ? "short" : "near")};
        in.relSize = isShort ? 1 : 4;
        in.fx.read = kCcFlags[cc];
        g.insns.push_back(in);
    } else if (kind < 60) {  // jmp
        isShort = chance(70);
        Insn in = make("jmp", {static_cast<uint8_t>(isShort ? 0xeb : 0xe9)});
        in.ops = {Operand::t(0, isShort ? "short" : "near")};
        in.relSize = isShort ? 1 : 4;
        g.insns.push_back(in);
    } else if (kind < 75) {  // loop / loope / loopne
        const unsigned k = below(3);
        if (k > 0 && (state_.undef & fl::ZF)) return false;
        static const char* const kNames[3] = {"loop", "loope", "loopne"};
        static constexpr uint8_t kOps[3] = {0xe2, 0xe1, 0xe0};
        Insn in = make(kNames[k], {kOps[k]});
        in.ops = {Operand::t(0)};
        in.relSize = 1;
        if (k > 0) in.fx.read = fl::ZF;
        g.insns.push_back(in);
    } else if (kind < 88) {  // jrcxz / jecxz
        const bool ecx = chance(30);
        Insn in = make(ecx ? "jecxz" : "jrcxz", {0xe3});
        if (ecx) in.prefixes = {0x67};
        in.ops = {Operand::t(0)};
        in.relSize = 1;
        g.insns.push_back(in);
    } else {  // lea r, [rel END]; jmp r
        isShort = false;
        const Reg r = pickReg(8, true);
        Insn lea = modrm("lea", {0x8d}, 8, {Operand::r(r), Operand::m(Mem{0, kNoReg, kNoReg, 0, 0, true})}, 1, 0);
        lea.label = kLabelEnd;
        g.insns.push_back(lea);
        g.insns.push_back(modrm("jmp", {0xff}, 0, {Operand::r(r)}, 0, -1, 4));
    }
    Insn& head = g.insns.back();
    if (head.targetOp < 0 && head.relSize) {
        head.targetOp = 0;
        head.label = kLabelEnd;
    }
    for (const Insn& in : g.insns) apply(Group{Group::Kind::Plain, {in}, {}, {}});
    const uint16_t atBranch = state_.undef;
    // The groups the branch may skip: no stack operations, no branches; short branches reach
    // at most 127 bytes.
    const size_t limit = isShort ? 127 : 1000;
    size_t length = 0;
    const unsigned n = 1 + below(3);
    for (unsigned k = 0; k < n; ++k) {
        const State saved = state_;
        std::vector<Group> inner;
        if (!genGroup(Ctx::Inner, inner)) break;
        const size_t len = groupLength(inner[0]);
        if (length + len > limit) {
            state_ = saved;
            break;
        }
        length += len;
        g.inner.push_back(std::move(inner[0]));
    }
    state_.undef |= atBranch;
    return true;
}

bool Generator::genCall(Group& g) {
    if (state_.depth + 8 > kMaxDepth) return false;
    g.kind = Group::Kind::Call;
    if (chance(70)) {  // call rel32
        Insn call = make("call", {0xe8});
        call.ops = {Operand::t(0)};
        call.targetOp = 0;
        call.relSize = 4;
        call.label = kLabelBody;
        g.insns.push_back(call);
    } else {  // lea r, [rel BODY]; call r
        const Reg r = pickReg(8, true);
        Insn lea = modrm("lea", {0x8d}, 8, {Operand::r(r), Operand::m(Mem{0, kNoReg, kNoReg, 0, 0, true})}, 1, 0);
        lea.label = kLabelBody;
        g.insns.push_back(lea);
        g.insns.push_back(modrm("call", {0xff}, 0, {Operand::r(r)}, 0, -1, 2));
    }
    g.insns.back().fx.stack = -8;
    g.insns.back().fx.usesStack = true;
    Insn jmp = make("jmp", {0xeb});
    jmp.ops = {Operand::t(0, "short")};
    jmp.targetOp = 0;
    jmp.relSize = 1;
    jmp.label = kLabelEnd;
    g.insns.push_back(jmp);
    state_.depth += 8;

    size_t length = 0;
    const unsigned n = 1 + below(3);
    for (unsigned k = 0; k < n; ++k) {
        const State saved = state_;
        std::vector<Group> inner;
        if (!genGroup(Ctx::CallBody, inner)) break;
        const size_t len = groupLength(inner[0]);
        if (length + len > 120) {
            state_ = saved;
            break;
        }
        length += len;
        g.inner.push_back(std::move(inner[0]));
    }
    // RET, or RET imm16 that also drops some of what was pushed before the call.
    const int extra = chance(70) ? -1 : static_cast<int>(8 * below(3));
    if (extra < 0 || state_.depth - 8 - extra < kMinDepth) {
        g.ret = make("ret", {0xc3});
        g.ret.fx.stack = 8;
    } else {
        g.ret = make("ret", {0xc2});
        g.ret.ops = {Operand::i(extra)};
        g.ret.immSize = 2;
        g.ret.imm = static_cast<uint64_t>(extra);
        g.ret.fx.stack = static_cast<int16_t>(8 + extra);
    }
    g.ret.fx.usesStack = true;
    state_.depth -= g.ret.fx.stack;
    return true;
}

void Generator::apply(const Group& g) {
    for (const Insn& in : g.insns) applyEffects(in.fx, state_.undef, state_.depth);
    const uint16_t atBranch = state_.undef;
    for (const Group& inner : g.inner) apply(inner);
    if (g.kind == Group::Kind::Skip) state_.undef |= atBranch;
    if (g.kind == Group::Kind::Call) applyEffects(g.ret.fx, state_.undef, state_.depth);
}

bool Generator::genGroup(Ctx ctx, std::vector<Group>& out) {
    enum Cat { Alu, Unary, Test, Mov, MovExt, Lea, Xchg, Shift, Mul, Div, Convert, Setcc, Cmov, Bswap, Push, Pop,
               FlagOp, LahfSahf, Skip, Call, BitTest, BitScan, Xadd, Cmpxchg, Cmpxchg8b, DoubleShift, kCats };
    static constexpr unsigned kWeights[kCats] = {18, 6, 4, 9, 4, 4, 3, 10, 6, 4, 2, 3, 3, 1, 4, 4, 2, 2, 5, 2,
                                                 3, 2, 2, 2, 1, 3};
    const bool top = ctx == Ctx::Top;
    unsigned total = 0;
    for (unsigned c = 0; c < kCats; ++c)
        if (top || (c != Push && c != Pop && c != Skip && c != Call)) total += kWeights[c];
    for (int attempt = 0; attempt < 50; ++attempt) {
        unsigned roll = below(total), cat = 0;
        for (; cat < kCats; ++cat) {
            if (!top && (cat == Push || cat == Pop || cat == Skip || cat == Call)) continue;
            if (roll < kWeights[cat]) break;
            roll -= kWeights[cat];
        }
        Group g;
        const State saved = state_;
        bool ok = false;
        switch (cat) {
            case Alu: ok = genAlu(ctx, g); break;
            case Unary: ok = genUnary(ctx, g); break;
            case Test: ok = genTest(ctx, g); break;
            case Mov: ok = genMov(ctx, g); break;
            case MovExt: ok = genMovExtend(ctx, g); break;
            case Lea: ok = genLea(g); break;
            case Xchg: ok = genXchg(ctx, g); break;
            case Shift: ok = genShift(ctx, g); break;
            case Mul: ok = genMul(ctx, g); break;
            case Div: ok = genDiv(ctx, g); break;
            case Convert: ok = genConvert(g); break;
            case Setcc: ok = genSetcc(ctx, g); break;
            case Cmov: ok = genCmov(ctx, g); break;
            case Bswap: ok = genBswap(g); break;
            case Push: ok = genPush(g); break;
            case Pop: ok = genPop(g); break;
            case FlagOp: ok = genFlagOp(g); break;
            case LahfSahf: ok = genLahfSahf(g); break;
            case Skip: ok = genSkip(g); break;
            case Call: ok = genCall(g); break;
            case BitTest: ok = genBitTest(ctx, g); break;
            case BitScan: ok = genBitScan(ctx, g); break;
            case Xadd: ok = genXadd(ctx, g); break;
            case Cmpxchg: ok = genCmpxchg(ctx, g); break;
            case Cmpxchg8b: ok = options_.cmpxchg8b && genCmpxchg8b(ctx, g); break;
            case DoubleShift: ok = genDoubleShift(ctx, g); break;
            default: break;
        }
        if (ok && g.kind == Group::Kind::Plain)
            for (const Insn& in : g.insns) ok = ok && encodable(in) && (!in.optional || implemented(in));
        if (!ok) {
            state_ = saved;
            continue;
        }
        if (g.kind == Group::Kind::Plain) apply(g);
        out.push_back(std::move(g));
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------
// The end of a sequence
// ---------------------------------------------------------------------------

Group Generator::terminator(ExpectedEnd& e) {
    Group g;
    if (!chance(options_.faultPercent)) {
        Insn out = make("out", {0xe6});
        out.ops = {Operand::u(layout::kTerminatorPort), Operand::r(Reg{RAX, 1, false})};
        out.immSize = 1;
        out.imm = layout::kTerminatorPort;
        g.insns.push_back(out);
        e = {false, false, 0, fmt::format("out to port {:#x}", layout::kTerminatorPort)};
        return g;
    }
    // An instruction that faults (or traps) on purpose; its flag effects never happen.
    auto loadFrom = [&](uint64_t address, bool write, uint32_t avoid = 0) {
        const unsigned size = pickSize();
        const uint8_t base = pickGpr(avoid);
        g.insns.push_back(movImm(Reg{base, 8, false}, address));
        Mem m;
        m.size = static_cast<uint8_t>(size);
        m.base = base;
        const Reg r = pickReg(size, true, 0, false);
        if (write)
            g.insns.push_back(modrm("mov", {static_cast<uint8_t>(size == 1 ? 0x88 : 0x89)}, size, {Operand::m(m), Operand::r(r)}, 0, 1));
        else
            g.insns.push_back(modrm("mov", {static_cast<uint8_t>(size == 1 ? 0x8a : 0x8b)}, size, {Operand::r(r), Operand::m(m)}, 1, 0));
        return base;
    };
    switch (below(12)) {
        case 0:
            g.insns.push_back(make("ud2", {0x0f, 0x0b}));
            e = {true, true, 6, "#UD (ud2)"};
            break;
        case 1:
            g.insns.push_back(make("int3", {0xcc}));
            e = {true, false, 3, "#BP (int3)"};
            break;
        case 2: {
            const uint8_t v = static_cast<uint8_t>(u64());
            Insn in = make("int", {0xcd});
            in.ops = {Operand::u(v)};
            in.immSize = 1;
            in.imm = v;
            g.insns.push_back(in);
            e = {true, false, v, fmt::format("int {:#x}", v)};
            break;
        }
        case 3: {  // divide by zero
            const unsigned size = pickSize();
            Reg r;
            do r = pickReg(size, true);
            while (r.high && r.num == RAX);
            g.insns.push_back(movImm(r, 0));
            g.insns.push_back(modrm(chance(50) ? "div" : "idiv", {static_cast<uint8_t>(size == 1 ? 0xf6 : 0xf7)}, size,
                                    {Operand::r(r)}, 0, -1, static_cast<uint8_t>(6 + below(2))));
            g.insns.back().mnemonic = g.insns.back().digit == 6 ? "div" : "idiv";
            e = {true, true, 0, "#DE (division by zero)"};
            break;
        }
        case 4: {  // quotient overflow: EDX >= divisor, or INT_MIN / -1
            if (chance(50)) {
                const uint8_t r = pickGpr(bit(RDX) | bit(RAX));
                const uint64_t d = 1 + u64() % 0xfffeffffull;
                g.insns.push_back(movImm(Reg{r, 4, false}, d));
                g.insns.push_back(movImm(Reg{RDX, 4, false}, d + u64() % 0x10000));
                g.insns.push_back(modrm("div", {0xf7}, 4, {Operand::r(Reg{r, 4, false})}, 0, -1, 6));
            } else {
                const uint8_t r = pickGpr(bit(RDX) | bit(RAX));
                g.insns.push_back(movImm(Reg{RAX, 8, false}, 0x8000000000000000ull));
                g.insns.push_back(make("cqo", {0x99}));
                g.insns.back().rexW = true;
                g.insns.push_back(movImm(Reg{r, 8, false}, ~0ull));
                g.insns.push_back(modrm("idiv", {0xf7}, 8, {Operand::r(Reg{r, 8, false})}, 0, -1, 7));
            }
            e = {true, true, 0, "#DE (quotient too large)"};
            break;
        }
        case 5:
            loadFrom(layout::kUnmapped + below(static_cast<unsigned>(layout::kUnmappedSize - 8)), chance(50));
            e = {true, true, 14, "#PF (page not present)"};
            break;
        case 6:
            loadFrom(layout::kCode + layout::kCodeSize - 0x1000 + below(0x1000 - 8), true);
            e = {true, true, 14, "#PF (user write to a read-only page)"};
            break;
        case 7:
            loadFrom(layout::kGdt + below(0x4000 - 8), chance(50));
            e = {true, true, 14, "#PF (user access to a supervisor page)"};
            break;
        case 8: {
            const uint64_t nonCanonical = (chance(50) ? 0x0000800000000000ull : 0x8000000000000000ull) + (u64() & 0xffffffffull);
            // Not through RBP: an RBP-based address is in SS, which makes it #SS on hardware, but
            // QEMU's TCG (the CPU under nested KVM) raises #GP, so that case cannot be compared.
            loadFrom(nonCanonical, chance(50), bit(5));
            e = {true, true, 13, "#GP (non-canonical address)"};
            break;
        }
        case 9:
            g.insns.push_back(make("hlt", {0xf4}));
            e = {true, true, 13, "#GP (hlt at CPL 3)"};
            break;
        case 10: {  // LOCK with a register destination
            const unsigned size = 4;
            Insn in = modrm("add", {0x01}, size, {Operand::r(pickReg(size, true)), Operand::r(pickReg(size, false))}, 0, 1);
            in.prefixes = {0xf0};
            in.nasmExact = false;
            g.insns.push_back(in);
            e = {true, true, 6, "#UD (lock with a register destination)"};
            break;
        }
        default: {  // an opcode that is invalid in 64-bit mode
            static const struct {
                const char* name;
                uint8_t op;
            } kInvalid[6] = {{"push es", 0x06}, {"pop ds", 0x1f}, {"daa", 0x27}, {"aas", 0x3f}, {"pusha", 0x60}, {"into", 0xce}};
            const auto& k = kInvalid[below(6)];
            Insn in = make(k.name, {k.op});
            in.nasmExact = false;
            g.insns.push_back(in);
            e = {true, true, 6, fmt::format("#UD ({} is invalid in 64-bit mode)", k.name)};
            break;
        }
    }
    for (Insn& in : g.insns) in.fx = {};  // only MOVs before it, and it does not complete
    return g;
}

Sequence Generator::generate(uint64_t index) {
    uint64_t s = options_.seed * 0x9e3779b97f4a7c15ull + index;
    s = splitmix(s) ^ index;
    rng_.seed(splitmix(s));
    Sequence seq;
    seq.seed = options_.seed;
    seq.index = index;
    InitialState& init = seq.init;
    init_ = &init;
    for (unsigned r = 0; r < 16; ++r) {
        const unsigned roll = below(100);
        if (roll < 45)
            init.gpr[r] = value(8);
        else if (roll < 65)
            init.gpr[r] = value(4);
        else if (roll < 75)
            init.gpr[r] = static_cast<uint64_t>(signExtend(value(4), 4));
        else if (roll < 85)
            init.gpr[r] = value(chance(50) ? 1 : 2);
        else
            init.gpr[r] = layout::kData + below(static_cast<unsigned>(layout::kDataSize));
    }
    init.gpr[RSP] = layout::kStackCenter + static_cast<uint64_t>(range(-32, 32) * 8) + (chance(10) ? below(8) : 0);
    init.rflags = 0x2 | 0x3000 /* IOPL 3 */ | (u64() & fl::ALL) | (chance(15) ? 0x400 /* DF */ : 0);
    auto segmentBase = [&]() -> uint64_t {
        switch (below(4)) {
            case 0: return 0;
            case 1: return below(0x10000);
            case 2: return u64() & 0x00007fffffffffffull;
            default: return 0xffff800000000000ull | (u64() & 0x00007fffffffffffull);
        }
    };
    init.fsBase = segmentBase();
    init.gsBase = segmentBase();
    init.rsp0 = layout::kKernelStackTop - (chance(50) ? 0 : below(64));
    init.data.resize(layout::kDataSize);
    init.stack.resize(layout::kStackSize);
    for (std::vector<uint8_t>* area : {&init.data, &init.stack})
        for (size_t k = 0; k < area->size(); k += 8) {
            const uint64_t v = u64();
            std::memcpy(area->data() + k, &v, 8);
        }

    state_ = State{};
    for (unsigned k = 0; k < options_.length; ++k) genGroup(Ctx::Top, seq.groups);
    seq.groups.push_back(terminator(seq.expect));
    const std::string error = finalize(seq);
    if (!error.empty()) throw std::logic_error(fmt::format("generator bug in sequence {}: {}", index, error));
    if (seq.undefinedFlags != state_.undef)
        throw std::logic_error(fmt::format("generator bug in sequence {}: undefined flags {} tracked, {} analysed", index,
                                           flagNames(state_.undef), flagNames(seq.undefinedFlags)));
    init_ = nullptr;
    return seq;
}

}  // namespace hvlab::difftest
