// RFLAGS with lazily computed arithmetic flags: an ALU instruction records its operands and
// result, and CF/PF/AF/ZF/SF/OF are derived only when something reads them.
#pragma once

#include <bit>
#include <cstdint>

namespace hvlab::cpu {

namespace rflag {
constexpr uint64_t CF = 1ull << 0, RESERVED1 = 1ull << 1, PF = 1ull << 2, AF = 1ull << 4, ZF = 1ull << 6,
                   SF = 1ull << 7, TF = 1ull << 8, IF = 1ull << 9, DF = 1ull << 10, OF = 1ull << 11,
                   IOPL = 3ull << 12, NT = 1ull << 14, RF = 1ull << 16, VM = 1ull << 17, AC = 1ull << 18,
                   VIF = 1ull << 19, VIP = 1ull << 20, ID = 1ull << 21;
constexpr uint64_t ARITH = CF | PF | AF | ZF | SF | OF;
}  // namespace rflag

// How the pending arithmetic flags are to be derived. `None`: they are already in `bits`.
enum class FlagOp : uint8_t { None, Add, Sub, Logic, Inc, Dec };

class LazyFlags {
public:
    // Records an add/adc (`Add`) or sub/sbb/cmp/neg (`Sub`): dst OP src (+/- carry) = result.
    void setArith(FlagOp op, unsigned sizeBytes, uint64_t dst, uint64_t src, uint64_t result) {
        if (op == FlagOp::Inc || op == FlagOp::Dec) bits_ = (bits_ & ~rflag::CF) | (cf() ? rflag::CF : 0);
        cfOfSet_ = false;
        op_ = op;
        size_ = static_cast<uint8_t>(sizeBytes);
        dst_ = dst;
        src_ = src;
        result_ = result;
    }
    // AND/OR/XOR/TEST: CF = OF = 0, AF cleared (undefined; Intel parts clear it).
    void setLogic(unsigned sizeBytes, uint64_t result) { setArith(FlagOp::Logic, sizeBytes, 0, 0, result); }

    // Rotates change only CF and OF: they are recorded on top of the pending flags.
    void setCarryOverflow(bool cf, bool of) {
        if (op_ == FlagOp::None) {
            bits_ = (bits_ & ~(rflag::CF | rflag::OF)) | (cf ? rflag::CF : 0) | (of ? rflag::OF : 0);
            return;
        }
        cfOfSet_ = true;
        cf_ = cf;
        of_ = of;
    }

    bool cf() const {
        if (cfOfSet_) return cf_;
        switch (op_) {
            case FlagOp::None:
            case FlagOp::Inc:
            case FlagOp::Dec: return bits_ & rflag::CF;
            case FlagOp::Add: return (((dst_ & src_) | ((dst_ | src_) & ~result_)) >> topBit()) & 1;
            case FlagOp::Sub: return (((~dst_ & src_) | ((~dst_ | src_) & result_)) >> topBit()) & 1;
            case FlagOp::Logic: return false;
        }
        return false;
    }
    bool zf() const { return op_ == FlagOp::None ? (bits_ & rflag::ZF) : (result_ & mask()) == 0; }
    bool sf() const { return op_ == FlagOp::None ? (bits_ & rflag::SF) : (result_ >> topBit()) & 1; }
    bool pf() const {
        return op_ == FlagOp::None ? (bits_ & rflag::PF) : (std::popcount(static_cast<uint8_t>(result_)) & 1) == 0;
    }
    bool af() const {
        switch (op_) {
            case FlagOp::None: return bits_ & rflag::AF;
            case FlagOp::Logic: return false;
            default: return ((dst_ ^ src_ ^ result_) >> 4) & 1;
        }
    }
    bool of() const {
        if (cfOfSet_) return of_;
        switch (op_) {
            case FlagOp::None: return bits_ & rflag::OF;
            case FlagOp::Add:
            case FlagOp::Inc: return (((dst_ ^ result_) & (src_ ^ result_)) >> topBit()) & 1;
            case FlagOp::Sub:
            case FlagOp::Dec: return (((dst_ ^ src_) & (dst_ ^ result_)) >> topBit()) & 1;
            case FlagOp::Logic: return false;
        }
        return false;
    }

    // The whole RFLAGS value.
    uint64_t materialize() const {
        if (op_ == FlagOp::None) return bits_;
        uint64_t v = bits_ & ~rflag::ARITH;
        if (cf()) v |= rflag::CF;
        if (pf()) v |= rflag::PF;
        if (af()) v |= rflag::AF;
        if (zf()) v |= rflag::ZF;
        if (sf()) v |= rflag::SF;
        if (of()) v |= rflag::OF;
        return v;
    }
    // Replaces RFLAGS (bit 1 always reads as 1).
    void assign(uint64_t value) {
        bits_ = value | rflag::RESERVED1;
        op_ = FlagOp::None;
        cfOfSet_ = false;
    }
    // Sets or clears individual bits, arithmetic or not.
    void set(uint64_t mask, bool on) {
        const uint64_t v = materialize();
        assign(on ? (v | mask) : (v & ~mask));
    }
    // Non-arithmetic bits (IF, DF, TF, IOPL, ...) are always current in `bits_`.
    bool test(uint64_t systemBit) const { return bits_ & systemBit; }
    void setSystem(uint64_t systemBit, bool on) { bits_ = on ? (bits_ | systemBit) : (bits_ & ~systemBit); }

private:
    unsigned topBit() const { return size_ * 8u - 1u; }
    uint64_t mask() const { return size_ == 8 ? ~0ull : (1ull << (size_ * 8)) - 1; }

    uint64_t bits_ = rflag::RESERVED1;
    uint64_t dst_ = 0, src_ = 0, result_ = 0;
    FlagOp op_ = FlagOp::None;
    uint8_t size_ = 4;
    bool cfOfSet_ = false;  // CF and OF come from cf_/of_ (set by a rotate), not from op_
    bool cf_ = false, of_ = false;
};

}  // namespace hvlab::cpu
