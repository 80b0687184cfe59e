#include "cpu/decoder.hpp"

#include "cpu/cpu_state.hpp"
#include "cpu/exec_fast.hpp"

namespace hvlab::cpu {

namespace {

constexpr size_t kMaxInsnLength = 15;

// Reads little-endian values from the instruction stream, tracking truncation and length.
struct Cursor {
    const uint8_t* bytes;
    size_t available;
    size_t pos = 0;
    bool truncated = false;

    uint64_t take(unsigned n) {
        if (pos + n > available) {
            truncated = true;
            pos += n;
            return 0;
        }
        uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= static_cast<uint64_t>(bytes[pos + k]) << (8 * k);
        pos += n;
        return v;
    }
    int64_t takeSigned(unsigned n) {
        const uint64_t v = take(n);
        const unsigned shift = 64 - 8 * n;
        return static_cast<int64_t>(v << shift) >> shift;
    }
};

bool isLegacyPrefix(uint8_t b) {
    switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3: return true;
        default: return false;
    }
}

// 16-bit addressing: [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx].
constexpr uint8_t kBase16[8] = {RBX, RBX, RBP, RBP, RSI, RDI, RBP, RBX};
constexpr uint8_t kIndex16[8] = {RSI, RDI, RSI, RDI, 0xff, 0xff, 0xff, 0xff};

void decodeModrm16(Cursor& c, DecodedInsn& d, uint8_t modrm) {
    const uint8_t rm = modrm & 7;
    if (d.mod == 0 && rm == 6) {
        d.disp = c.takeSigned(2);
        d.segment = DS;
        return;
    }
    d.base = kBase16[rm];
    d.index = kIndex16[rm];
    d.segment = (d.base == RBP) ? SS : DS;
    if (d.mod == 1) d.disp = c.takeSigned(1);
    if (d.mod == 2) d.disp = c.takeSigned(2);
}

void decodeModrm3264(Cursor& c, DecodedInsn& d, uint8_t modrm, bool code64) {
    const uint8_t rm = modrm & 7;
    const uint8_t rexB = (d.rex & 1) ? 8 : 0;
    const uint8_t rexX = (d.rex & 2) ? 8 : 0;
    d.segment = DS;
    if (rm == 4) {
        const uint8_t sib = static_cast<uint8_t>(c.take(1));
        d.scale = sib >> 6;
        const uint8_t index = ((sib >> 3) & 7) | rexX;
        d.index = (index == 4) ? 0xff : index;  // RSP cannot be an index (but R12 can)
        if ((sib & 7) == 5 && d.mod == 0) {
            d.base = 0xff;
            d.disp = c.takeSigned(4);
        } else {
            d.base = (sib & 7) | rexB;
        }
    } else if (rm == 5 && d.mod == 0) {
        d.disp = c.takeSigned(4);
        d.ripRelative = code64;
        d.base = 0xff;
    } else {
        d.base = rm | rexB;
    }
    if (d.base == RSP || d.base == RBP) d.segment = SS;  // not R12/R13
    if (d.mod == 1) d.disp = c.takeSigned(1);
    if (d.mod == 2) d.disp = c.takeSigned(4);
}

}  // namespace

DecodeStatus decode(const uint8_t* bytes, size_t available, CodeSize codeSize, DecodedInsn& d) {
    d = DecodedInsn{};
    const bool code64 = codeSize == CodeSize::Bits64;
    d.mode64 = code64;
    d.codeSize = static_cast<uint8_t>(codeSize);
    Cursor c{bytes, available < kMaxInsnLength ? available : kMaxInsnLength};

    // Legacy prefixes and REX. A REX byte only counts if the opcode follows it directly.
    bool addrSizePrefix = false;
    for (;;) {
        if (c.pos >= c.available) return c.pos >= kMaxInsnLength ? DecodeStatus::TooLong : DecodeStatus::Truncated;
        const uint8_t b = bytes[c.pos];
        if (isLegacyPrefix(b)) {
            d.rex = 0;
            ++c.pos;
            switch (b) {
                case 0x66: d.opSizePrefix = true; break;
                case 0x67: addrSizePrefix = true; break;
                case 0xf0: d.lock = true; break;
                case 0xf2: case 0xf3: d.rep = b; break;
                // In 64-bit mode the ES, CS, SS and DS overrides are ignored (SDM vol. 1, 3.3.7.1).
                case 0x26: if (!code64) d.segOverride = ES; break;
                case 0x2e: if (!code64) d.segOverride = CS; break;
                case 0x36: if (!code64) d.segOverride = SS; break;
                case 0x3e: if (!code64) d.segOverride = DS; break;
                case 0x64: d.segOverride = FS; break;
                case 0x65: d.segOverride = GS; break;
                default: break;
            }
            continue;
        }
        if (code64 && (b & 0xf0) == 0x40) {
            d.rex = b;
            ++c.pos;
            continue;
        }
        break;
    }

    const OpcodeEntry* entry;
    d.opcode = static_cast<uint8_t>(c.take(1));
    if (d.opcode == 0x0f) {
        d.map = 1;
        d.opcode = static_cast<uint8_t>(c.take(1));
        entry = &twoByteEntry(d.opcode);
    } else {
        entry = &oneByteEntry(d.opcode);
    }
    // Running out of bytes past the 15-byte limit is #GP (too long), not a truncated fetch.
    if (c.truncated) return c.pos > kMaxInsnLength ? DecodeStatus::TooLong : DecodeStatus::Truncated;

    uint16_t form = entry->form;
    if (code64 && (form & kInvalid64)) {
        d.length = static_cast<uint8_t>(c.pos);
        return DecodeStatus::InvalidOpcode;
    }

    // Address size, then ModRM (which may select a group member), then operand size.
    switch (codeSize) {
        case CodeSize::Bits16: d.addrSize = addrSizePrefix ? 4 : 2; break;
        case CodeSize::Bits32: d.addrSize = addrSizePrefix ? 2 : 4; break;
        case CodeSize::Bits64: d.addrSize = addrSizePrefix ? 4 : 8; break;
    }

    if (form & kModrm) {
        const uint8_t modrm = static_cast<uint8_t>(c.take(1));
        if (c.truncated) return c.pos > kMaxInsnLength ? DecodeStatus::TooLong : DecodeStatus::Truncated;
        d.hasModrm = true;
        d.mod = modrm >> 6;
        // MOV to/from CRn/DRn (0F 20-23) ignore the mod field: always register operands (SDM).
        if (d.map == 1 && (d.opcode & 0xfc) == 0x20) d.mod = 3;
        d.reg = ((modrm >> 3) & 7) | ((d.rex & 4) ? 8 : 0);
        d.rm = (modrm & 7) | ((d.rex & 1) ? 8 : 0);
        if (form & kGroup) {
            entry = &groupEntry(entry->group, (modrm >> 3) & 7);
            form = static_cast<uint16_t>((form & ~kGroup) | entry->form);
            if (code64 && (form & kInvalid64)) {
                d.length = static_cast<uint8_t>(c.pos);
                return DecodeStatus::InvalidOpcode;
            }
        }
        if (d.mod != 3) {
            if (d.addrSize == 2)
                decodeModrm16(c, d, modrm);
            else
                decodeModrm3264(c, d, modrm, code64);
        }
    }
    if (d.segOverride != 0xff) d.segment = d.segOverride;

    if (form & kByteOp) {
        d.opSize = 1;
    } else if (code64) {
        if (d.rex & 8)
            d.opSize = 8;
        else if (form & kForce64)
            d.opSize = 8;
        else if (form & kDefault64)
            d.opSize = d.opSizePrefix ? 2 : 8;
        else
            d.opSize = d.opSizePrefix ? 2 : 4;
    } else {
        const bool big = codeSize == CodeSize::Bits32;
        d.opSize = (big != d.opSizePrefix) ? 4 : 2;
    }

    // Immediates.
    if (form & kImm8) d.imm = static_cast<uint64_t>(c.takeSigned(1));
    if (form & kImm16) d.imm = c.take(2);
    if (form & kImmZ) d.imm = static_cast<uint64_t>(c.takeSigned(d.opSize == 2 ? 2 : 4));
    if (form & kImmV) d.imm = c.take(d.opSize);
    if (form & kFarPtr) {
        d.imm = c.take(d.opSize == 2 ? 2 : 4);
        d.imm2 = c.take(2);
    }
    if (form & kMoffs) d.imm = c.take(d.addrSize);
    if (form & kImmEnter) {
        d.imm = c.take(2);
        d.imm2 = c.take(1);
    }

    if (c.pos > kMaxInsnLength) return DecodeStatus::TooLong;
    if (c.truncated) return available >= kMaxInsnLength ? DecodeStatus::TooLong : DecodeStatus::Truncated;
    d.length = static_cast<uint8_t>(c.pos);
    // LOCK is #UD except on the read-modify-write forms marked kLockable, with a memory destination.
    if (d.lock && (!(form & kLockable) || d.mod == 3)) return DecodeStatus::InvalidOpcode;
    d.entry = entry;
    d.exec = entry->exec;
    if (d.exec)
        if (ExecFn fast = exec::fastHandler(d)) d.exec = fast;
    if (d.exec) return DecodeStatus::Ok;
    // No handler: a named instruction is valid but not implemented yet; a hole is #UD.
    return entry->mnemonic ? DecodeStatus::Unimplemented : DecodeStatus::InvalidOpcode;
}

}  // namespace hvlab::cpu
