#include "cpu/exec_fast.hpp"

#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

namespace {

template <unsigned Size>
constexpr uint64_t kMask = Size == 8 ? ~0ull : (1ull << (Size * 8)) - 1;

template <unsigned Size>
inline void setReg(CpuState& s, unsigned r, uint64_t v) {
    s.gpr[r] = v & kMask<Size>;  // 32-bit writes zero-extend; only sizes 4 and 8 come here
}

// ALU on registers: `op` on (dst, src) where the ModRM direction picked which is which.
template <Alu op, unsigned Size, bool RegIsDest>
void aluRegReg(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned dst = RegIsDest ? i.reg : i.rm;
    const unsigned src = RegIsDest ? i.rm : i.reg;
    const uint64_t r = alu(cpu, op, Size, s.gpr[dst], s.gpr[src]);
    if constexpr (op != Alu::Cmp) setReg<Size>(s, dst, r);
}

template <Alu op, unsigned Size>
void aluRegImm(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const uint64_t r = alu(cpu, op, Size, s.gpr[i.rm], i.imm);
    if constexpr (op != Alu::Cmp) setReg<Size>(s, i.rm, r);
}

template <Alu op, unsigned Size>
void aluAccImm(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const uint64_t r = alu(cpu, op, Size, s.gpr[RAX], i.imm);
    if constexpr (op != Alu::Cmp) setReg<Size>(s, RAX, r);
}

template <unsigned Size>
void testRegReg(Interpreter& cpu, const DecodedInsn& i) {
    cpu.s.flags.setLogic(Size, (cpu.s.gpr[i.rm] & cpu.s.gpr[i.reg]) & kMask<Size>);
}

template <unsigned Size>
void movRegReg(Interpreter& cpu, const DecodedInsn& i) {
    const unsigned dst = (i.opcode & 2) ? i.reg : i.rm;
    const unsigned src = (i.opcode & 2) ? i.rm : i.reg;
    setReg<Size>(cpu.s, dst, cpu.s.gpr[src]);
}

// Addressing forms the decoder can pick a specialised handler for, so the common
// [base + disp] and [base + index*scale + disp] cases skip the generic operand walk.
enum class Ea : uint8_t { Generic, Base32, BaseIndex32, Base64, BaseIndex64, Rip64 };

template <Ea F>
inline uint64_t effectiveAddress(const Interpreter& cpu, const DecodedInsn& i) {
    const CpuState& s = cpu.s;
    const uint64_t disp = static_cast<uint64_t>(i.disp);
    if constexpr (F == Ea::Base32) return (s.gpr[i.base] + disp) & 0xffffffffull;
    if constexpr (F == Ea::BaseIndex32) return (s.gpr[i.base] + (s.gpr[i.index] << i.scale) + disp) & 0xffffffffull;
    if constexpr (F == Ea::Base64) return s.gpr[i.base] + disp;
    if constexpr (F == Ea::BaseIndex64) return s.gpr[i.base] + (s.gpr[i.index] << i.scale) + disp;
    if constexpr (F == Ea::Rip64) return s.rip + disp;  // s.rip already points at the next instruction
    return cpu.effectiveAddress(i);
}

inline Ea eaForm(const DecodedInsn& d) {
    if (d.addrSize == 8) {
        if (d.ripRelative) return Ea::Rip64;
        if (d.base == 0xff) return Ea::Generic;
        return d.index == 0xff ? Ea::Base64 : Ea::BaseIndex64;
    }
    if (d.addrSize == 4 && !d.ripRelative && d.base != 0xff) return d.index == 0xff ? Ea::Base32 : Ea::BaseIndex32;
    return Ea::Generic;
}

template <unsigned Size, Ea F>
void movRegMem(Interpreter& cpu, const DecodedInsn& i) {
    setReg<Size>(cpu.s, i.reg, cpu.readMem(i.segment, effectiveAddress<F>(cpu, i), Size));
}

template <unsigned Size, Ea F>
void movMemReg(Interpreter& cpu, const DecodedInsn& i) {
    cpu.writeMem(i.segment, effectiveAddress<F>(cpu, i), Size, cpu.s.gpr[i.reg]);
}

template <unsigned Size, bool Load, size_t... F>
ExecFn pickMov(Ea form, std::index_sequence<F...>) {
    constexpr ExecFn table[] = {(Load ? movRegMem<Size, static_cast<Ea>(F)> : movMemReg<Size, static_cast<Ea>(F)>)...};
    return table[static_cast<size_t>(form)];
}

template <unsigned Size>
void movRegImmFast(Interpreter& cpu, const DecodedInsn& i) {
    setReg<Size>(cpu.s, opcodeReg(i), i.imm);
}

template <unsigned Size, bool Dec>
void incDecRegFast(Interpreter& cpu, const DecodedInsn& i) {
    CpuState& s = cpu.s;
    const unsigned r = (i.opcode == 0xff) ? i.rm : (i.opcode & 7u);
    const uint64_t a = s.gpr[r] & kMask<Size>;
    const uint64_t v = Dec ? a - 1 : a + 1;
    s.flags.setArith(Dec ? FlagOp::Dec : FlagOp::Inc, Size, a, 1, v);
    setReg<Size>(s, r, v);
}

template <unsigned Size>
void leaFast(Interpreter& cpu, const DecodedInsn& i) {
    setReg<Size>(cpu.s, i.reg, cpu.effectiveAddress(i));
}

template <unsigned cc>
void jccFast(Interpreter& cpu, const DecodedInsn& i) {
    if (condition(cpu.s.flags, cc)) cpu.jumpNear(cpu.s.rip + i.imm, i.opSize);
}

// Rotates and shifts of a register by an immediate count (C1 /n ib, D1 /n).
template <unsigned Op, unsigned Size>
void shiftRegImm(Interpreter& cpu, const DecodedInsn& i) {
    constexpr unsigned bits = Size * 8;
    constexpr uint64_t top = 1ull << (bits - 1);
    CpuState& s = cpu.s;
    const unsigned count = static_cast<unsigned>((i.opcode == 0xd1 ? 1 : i.imm) & (Size == 8 ? 0x3f : 0x1f));
    if (count == 0) {
        setReg<Size>(s, i.rm, s.gpr[i.rm]);  // no flags change, but a 32-bit register is zero-extended
        return;
    }
    const uint64_t a = s.gpr[i.rm] & kMask<Size>;
    uint64_t r;
    bool cf, of;
    if constexpr (Op == 0) {  // ROL: only CF and OF change
        const unsigned c = count % bits;
        r = c ? ((a << c) | (a >> (bits - c))) & kMask<Size> : a;
        cf = r & 1;
        of = ((r & top) != 0) != cf;
    } else if constexpr (Op == 1) {  // ROR
        const unsigned c = count % bits;
        r = c ? ((a >> c) | (a << (bits - c))) & kMask<Size> : a;
        cf = r & top;
        of = ((r & top) != 0) != ((r & (top >> 1)) != 0);
    } else if constexpr (Op == 4 || Op == 6) {  // SHL
        r = (a << count) & kMask<Size>;
        cf = (a >> (bits - count)) & 1;
        of = ((r & top) != 0) != cf;
    } else if constexpr (Op == 5) {  // SHR
        r = a >> count;
        cf = (a >> (count - 1)) & 1;
        of = a & top;
    } else {  // SAR
        const int64_t sa = static_cast<int64_t>(signExtend(a, Size));
        r = static_cast<uint64_t>(sa >> count) & kMask<Size>;
        cf = (sa >> (count - 1)) & 1;
        of = false;
    }
    setReg<Size>(s, i.rm, r);
    if constexpr (Op != 0 && Op != 1) s.flags.setLogic(Size, r);  // shifts: SF/ZF/PF from the result, AF clear
    s.flags.setCarryOverflow(cf, of);
}

template <Alu op>
ExecFn pickAlu(const DecodedInsn& d) {
    const unsigned form = d.opcode & 7;
    const bool s4 = d.opSize == 4, s8 = d.opSize == 8;
    if (!s4 && !s8) return nullptr;
    if (form <= 3 && d.mod == 3) {
        const bool regIsDest = form >= 2;
        if (regIsDest) return s4 ? aluRegReg<op, 4, true> : aluRegReg<op, 8, true>;
        return s4 ? aluRegReg<op, 4, false> : aluRegReg<op, 8, false>;
    }
    if (form == 5) return s4 ? aluAccImm<op, 4> : aluAccImm<op, 8>;
    return nullptr;
}

template <Alu op>
ExecFn pickAluImm(const DecodedInsn& d) {
    if (d.mod != 3) return nullptr;
    if (d.opSize == 4) return aluRegImm<op, 4>;
    if (d.opSize == 8) return aluRegImm<op, 8>;
    return nullptr;
}

constexpr Alu kAluByIndex[8] = {Alu::Add, Alu::Or, Alu::Adc, Alu::Sbb, Alu::And, Alu::Sub, Alu::Xor, Alu::Cmp};

template <size_t... K>
ExecFn pickAluByIndex(unsigned index, const DecodedInsn& d, bool immediate, std::index_sequence<K...>) {
    ExecFn result = nullptr;
    ((index == K ? (result = immediate ? pickAluImm<kAluByIndex[K]>(d) : pickAlu<kAluByIndex[K]>(d), 0) : 0), ...);
    return result;
}

template <size_t... K>
ExecFn pickJcc(unsigned cc, std::index_sequence<K...>) {
    ExecFn result = nullptr;
    ((cc == K ? (result = jccFast<K>, 0) : 0), ...);
    return result;
}

template <unsigned Size>
ExecFn pickShift(unsigned op) {
    switch (op) {
        case 0: return shiftRegImm<0, Size>;
        case 1: return shiftRegImm<1, Size>;
        case 4: return shiftRegImm<4, Size>;
        case 5: return shiftRegImm<5, Size>;
        case 6: return shiftRegImm<6, Size>;
        case 7: return shiftRegImm<7, Size>;
        default: return nullptr;  // RCL/RCR: the generic handler
    }
}

}  // namespace

ExecFn fastHandler(const DecodedInsn& d) {
    if (d.lock || d.rep) return nullptr;
    const bool s4 = d.opSize == 4, s8 = d.opSize == 8;
    if (d.map == 1) {
        if (d.opcode >= 0x80 && d.opcode <= 0x8f) return pickJcc(d.opcode & 15, std::make_index_sequence<16>{});
        return nullptr;
    }
    const uint8_t op = d.opcode;
    if (op < 0x40 && (op & 7) <= 5 && (op & 7) != 4) return pickAluByIndex(op >> 3, d, false, std::make_index_sequence<8>{});
    if ((op == 0x81 || op == 0x83)) return pickAluByIndex(d.reg & 7, d, true, std::make_index_sequence<8>{});
    if (op >= 0x70 && op <= 0x7f) return pickJcc(op & 15, std::make_index_sequence<16>{});
    if (!s4 && !s8) return nullptr;
    switch (op) {
        case 0x85: return d.mod == 3 ? (s4 ? testRegReg<4> : testRegReg<8>) : nullptr;
        case 0x89:
        case 0x8b:
            if (d.mod == 3) return s4 ? movRegReg<4> : movRegReg<8>;
            {
                constexpr auto forms = std::make_index_sequence<6>{};
                const Ea f = eaForm(d);
                if (op == 0x8b) return s4 ? pickMov<4, true>(f, forms) : pickMov<8, true>(f, forms);
                return s4 ? pickMov<4, false>(f, forms) : pickMov<8, false>(f, forms);
            }
        case 0x8d: return d.mod != 3 ? (s4 ? leaFast<4> : leaFast<8>) : nullptr;
        case 0xc1:
        case 0xd1:
            if (d.mod != 3) return nullptr;
            return s4 ? pickShift<4>(d.reg & 7) : pickShift<8>(d.reg & 7);
        case 0xff:
            if (d.mod != 3 || (d.reg & 7) > 1) return nullptr;
            if ((d.reg & 7) == 0) return s4 ? incDecRegFast<4, false> : incDecRegFast<8, false>;
            return s4 ? incDecRegFast<4, true> : incDecRegFast<8, true>;
        default: break;
    }
    if (op >= 0x40 && op <= 0x4f && !d.mode64 && s4) return (op & 8) ? incDecRegFast<4, true> : incDecRegFast<4, false>;
    if (op >= 0xb8 && op <= 0xbf) return s4 ? movRegImmFast<4> : movRegImmFast<8>;
    return nullptr;
}

}  // namespace hvlab::cpu::exec
