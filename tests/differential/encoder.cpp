#include "tests/differential/encoder.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace hvlab::difftest {

std::string flagNames(uint64_t bits) {
    static constexpr struct {
        uint16_t bit;
        const char* name;
    } kNames[] = {{fl::CF, "CF"}, {fl::PF, "PF"}, {fl::AF, "AF"}, {fl::ZF, "ZF"}, {fl::SF, "SF"}, {fl::OF, "OF"}};
    std::string out = "{";
    for (const auto& n : kNames) {
        if (!(bits & n.bit)) continue;
        if (out.size() > 1) out += ' ';
        out += n.name;
    }
    return out + "}";
}

const char* regName(unsigned num, unsigned size, bool high) {
    static const char* const k64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static const char* const k32[16] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                        "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
    static const char* const k16[16] = {"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
                                        "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
    static const char* const k8[16] = {"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
                                       "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
    static const char* const kHigh[4] = {"ah", "ch", "dh", "bh"};
    num &= 15;
    if (high) return kHigh[num & 3];
    switch (size) {
        case 1: return k8[num];
        case 2: return k16[num];
        case 4: return k32[num];
        default: return k64[num];
    }
}

std::string hexBytes(const std::vector<uint8_t>& bytes) {
    std::string out;
    for (size_t k = 0; k < bytes.size(); ++k) out += fmt::format("{}{:02x}", k ? " " : "", bytes[k]);
    return out;
}

namespace {

struct RexNeeds {
    bool need = false;    // a register only REX can name (SPL..DIL, R8+)
    bool forbid = false;  // AH..BH
    uint8_t bits = 0;     // W R X B
};

void noteByteReg(RexNeeds& r, const Reg& reg) {
    if (reg.size != 1) return;
    if (reg.high)
        r.forbid = true;
    else if (reg.num >= 4 && reg.num < 8)
        r.need = true;
}

RexNeeds rexFor(const Insn& in) {
    RexNeeds r;
    if (in.rexW) r.bits |= 8;
    if (in.regOp >= 0) {
        const Reg& reg = in.ops[in.regOp].reg;
        if (reg.num >= 8 && !reg.high) r.bits |= 4;
        noteByteReg(r, reg);
    }
    if (in.rmOp >= 0) {
        const Operand& o = in.ops[in.rmOp];
        if (o.kind == OpKind::Reg) {
            if (o.reg.num >= 8 && !o.reg.high) r.bits |= 1;
            noteByteReg(r, o.reg);
        } else if (!o.mem.rip && !o.mem.abs) {
            if (o.mem.base != kNoReg && o.mem.base >= 8) r.bits |= 1;
            if (o.mem.index != kNoReg && o.mem.index >= 8) r.bits |= 2;
        }
    }
    if (in.plusOp >= 0) {
        const Reg& reg = in.ops[in.plusOp].reg;
        if (reg.num >= 8 && !reg.high) r.bits |= 1;
        noteByteReg(r, reg);
    }
    // Byte registers that are not encoded (AL in "out 0xe0, al", AH of LAHF) need nothing.
    if (r.bits) r.need = true;
    return r;
}

void put(std::vector<uint8_t>& b, uint64_t v, unsigned size) {
    for (unsigned k = 0; k < size; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k)));
}

void patch(std::vector<uint8_t>& b, size_t at, uint64_t v, unsigned size) {
    for (unsigned k = 0; k < size; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}

bool fitsInt8(int64_t v) { return v >= -128 && v <= 127; }
bool fitsInt32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace

bool encodable(const Insn& insn) {
    const RexNeeds r = rexFor(insn);
    return !(r.need && r.forbid);
}

std::vector<uint8_t> encode(const Insn& in, uint64_t address, bool checkRanges) {
    std::vector<uint8_t> b;
    const Mem* mem = (in.rmOp >= 0 && in.ops[in.rmOp].kind == OpKind::Mem) ? &in.ops[in.rmOp].mem : nullptr;

    // Prefixes, in the order nasm writes them.
    for (uint8_t p : in.prefixes) b.push_back(p);
    if (mem && mem->seg) b.push_back(mem->seg);
    if (in.p66) b.push_back(0x66);
    if (mem && mem->addr32) b.push_back(0x67);
    const RexNeeds rex = rexFor(in);
    if (rex.need && rex.forbid) throw std::logic_error("a high byte register cannot be encoded with REX: " + render(in, address));
    if (rex.need) b.push_back(static_cast<uint8_t>(0x40 | rex.bits));

    for (size_t k = 0; k < in.opcode.size(); ++k) {
        uint8_t op = in.opcode[k];
        if (k + 1 == in.opcode.size() && in.plusOp >= 0) {
            const Reg& reg = in.ops[in.plusOp].reg;
            op = static_cast<uint8_t>(op + (reg.high ? 4 + (reg.num & 3) : (reg.num & 7)));
        }
        b.push_back(op);
    }

    size_t ripDispAt = SIZE_MAX;
    if (in.modrm) {
        uint8_t regField = in.digit & 7;
        if (in.regOp >= 0) {
            const Reg& reg = in.ops[in.regOp].reg;
            regField = reg.high ? static_cast<uint8_t>(4 + (reg.num & 3)) : (reg.num & 7);
        }
        const Operand& rm = in.ops[in.rmOp];
        if (rm.kind == OpKind::Reg) {
            const uint8_t r = rm.reg.high ? static_cast<uint8_t>(4 + (rm.reg.num & 3)) : (rm.reg.num & 7);
            b.push_back(static_cast<uint8_t>(0xc0 | (regField << 3) | r));
        } else {
            const Mem& m = rm.mem;
            if (m.rip) {
                b.push_back(static_cast<uint8_t>((regField << 3) | 5));
                ripDispAt = b.size();
                put(b, 0, 4);
            } else if (m.abs || (m.base == kNoReg && m.index == kNoReg)) {
                b.push_back(static_cast<uint8_t>((regField << 3) | 4));
                b.push_back(0x25);
                if (checkRanges && !fitsInt32(m.disp)) throw std::logic_error("absolute address out of range");
                put(b, static_cast<uint64_t>(m.disp), 4);
            } else {
                const bool sib = m.index != kNoReg || m.base == kNoReg || (m.base & 7) == 4;
                unsigned dispSize;
                uint8_t mod;
                if (m.base == kNoReg) {
                    mod = 0;
                    dispSize = 4;
                } else if (m.disp32 || !fitsInt8(m.disp)) {
                    mod = 2;
                    dispSize = 4;
                } else if (m.disp != 0 || (m.base & 7) == 5) {
                    mod = 1;
                    dispSize = 1;
                } else {
                    mod = 0;
                    dispSize = 0;
                }
                if (checkRanges && !fitsInt32(m.disp)) throw std::logic_error("displacement out of range");
                if (m.index == 4) throw std::logic_error("RSP cannot be an index register");
                b.push_back(static_cast<uint8_t>((mod << 6) | (regField << 3) | (sib ? 4 : (m.base & 7))));
                if (sib) {
                    const uint8_t index = m.index == kNoReg ? 4 : (m.index & 7);
                    const uint8_t base = m.base == kNoReg ? 5 : (m.base & 7);
                    b.push_back(static_cast<uint8_t>((m.scale << 6) | (index << 3) | base));
                }
                put(b, static_cast<uint64_t>(m.disp), dispSize);
            }
        }
    }

    if (in.moffsOp >= 0) put(b, in.ops[in.moffsOp].target, 8);
    put(b, in.imm, in.immSize);
    size_t relAt = SIZE_MAX;
    if (in.relSize) {
        relAt = b.size();
        put(b, 0, in.relSize);
    }

    const uint64_t next = address + b.size();
    if (ripDispAt != SIZE_MAX) {
        const int64_t disp = static_cast<int64_t>(mem->target - next);
        if (checkRanges && !fitsInt32(disp)) throw std::logic_error("RIP-relative target out of range");
        patch(b, ripDispAt, static_cast<uint64_t>(disp), 4);
    }
    if (relAt != SIZE_MAX) {
        const int64_t rel = static_cast<int64_t>(in.ops[in.targetOp].target - next);
        if (checkRanges && (in.relSize == 1 ? !fitsInt8(rel) : !fitsInt32(rel)))
            throw std::logic_error(fmt::format("branch target out of range ({} bytes)", rel));
        patch(b, relAt, static_cast<uint64_t>(rel), in.relSize);
    }
    if (b.size() > 15) throw std::logic_error("instruction longer than 15 bytes: " + render(in, address));
    return b;
}

size_t encodedLength(const Insn& insn) { return encode(insn, 0, false).size(); }

namespace {

std::string hexSigned(int64_t v) {
    if (v < 0) return fmt::format("-0x{:x}", static_cast<uint64_t>(-(v + 1)) + 1);
    return fmt::format("0x{:x}", v);
}

std::string address(uint64_t a, bool nasm, uint64_t origin) {
    if (nasm) return fmt::format("$$+0x{:x}", a - origin);
    return fmt::format("0x{:x}", a);
}

const char* sizeKeyword(unsigned size) {
    switch (size) {
        case 1: return "byte";
        case 2: return "word";
        case 4: return "dword";
        case 8: return "qword";
        case 16: return "oword";
        default: return nullptr;
    }
}

std::string renderMem(const Mem& m, bool nasm, uint64_t origin) {
    std::string out;
    if (const char* k = sizeKeyword(m.size)) out = fmt::format("{} ", k);
    out += '[';
    if (m.rip) return out + "rel " + address(m.target, nasm, origin) + "]";
    if (m.abs) return out + fmt::format("abs 0x{:x}]", static_cast<uint64_t>(m.disp));
    if (m.disp32) out += "dword ";
    if (m.base == kNoReg && m.index != kNoReg) out += "nosplit ";
    switch (m.seg) {
        case 0x26: out += "es:"; break;
        case 0x2e: out += "cs:"; break;
        case 0x36: out += "ss:"; break;
        case 0x3e: out += "ds:"; break;
        case 0x64: out += "fs:"; break;
        case 0x65: out += "gs:"; break;
        default: break;
    }
    const unsigned as = m.addr32 ? 4 : 8;
    bool first = true;
    if (m.base != kNoReg) {
        out += regName(m.base, as);
        first = false;
    }
    if (m.index != kNoReg) {
        out += fmt::format("{}{}*{}", first ? "" : "+", regName(m.index, as), 1u << m.scale);
        first = false;
    }
    if (m.disp != 0 || first) {
        if (first)
            out += hexSigned(m.disp);
        else
            out += m.disp < 0 ? hexSigned(m.disp) : "+" + hexSigned(m.disp);
    }
    return out + "]";
}

std::string renderOperand(const Operand& o, bool nasm, uint64_t origin) {
    switch (o.kind) {
        case OpKind::Reg: return regName(o.reg.num, o.reg.size, o.reg.high);
        case OpKind::Mem: return renderMem(o.mem, nasm, origin);
        case OpKind::Imm: {
            const std::string v = o.unsignedHex ? fmt::format("0x{:x}", static_cast<uint64_t>(o.imm)) : hexSigned(o.imm);
            return o.keyword ? fmt::format("{} {}", o.keyword, v) : v;
        }
        case OpKind::Target: {
            const std::string a = address(o.target, nasm, origin);
            return o.keyword ? fmt::format("{} {}", o.keyword, a) : a;
        }
        case OpKind::Moffs: return fmt::format("[qword 0x{:x}]", o.target);
    }
    return "?";
}

// Encodings nasm has no syntax for: [index*1+disp32] without a base (nasm makes the index the base).
bool nasmCanExpress(const Insn& insn) {
    for (const Operand& o : insn.ops)
        if (o.kind == OpKind::Mem && !o.mem.rip && !o.mem.abs && o.mem.base == kNoReg && o.mem.index != kNoReg &&
            o.mem.scale == 0)
            return false;
    return true;
}

}  // namespace

std::string render(const Insn& insn, uint64_t addr, bool nasm, uint64_t origin) {
    std::string text;
    for (uint8_t p : insn.prefixes)
        if (p == 0xf0) text += "lock ";
    text += insn.mnemonic;
    for (size_t k = 0; k < insn.ops.size(); ++k)
        text += (k ? ", " : " ") + renderOperand(insn.ops[k], nasm, origin);
    if (!nasm || (insn.nasmExact && nasmCanExpress(insn))) return text;
    // nasm would choose another encoding: give the bytes, with the instruction as a comment.
    const std::vector<uint8_t> bytes = encode(insn, addr);
    std::string db = "db ";
    for (size_t k = 0; k < bytes.size(); ++k) db += fmt::format("{}0x{:02x}", k ? ", " : "", bytes[k]);
    return db + " ; " + render(insn, addr, false, origin);
}

}  // namespace hvlab::difftest
