// Declarations of the instruction handlers the opcode tables point to.
#pragma once

#include "cpu/decoded_insn.hpp"
#include "cpu/exec_common.hpp"

namespace hvlab::cpu::exec {

// exec_alu.cpp
template <Alu op> void aluForm(Interpreter&, const DecodedInsn&);    // 00-3D: the six classic forms
template <Alu op> void aluRmImm(Interpreter&, const DecodedInsn&);   // 80/81/83 group 1
void testForm(Interpreter&, const DecodedInsn&);                     // 84/85/A8/A9, F6/F7 /0
void incDecReg(Interpreter&, const DecodedInsn&);                    // 40-4F (not 64-bit)
void incRm(Interpreter&, const DecodedInsn&);                        // FE/FF /0
void decRm(Interpreter&, const DecodedInsn&);                        // FE/FF /1
void notRm(Interpreter&, const DecodedInsn&);
void negRm(Interpreter&, const DecodedInsn&);
void mulRm(Interpreter&, const DecodedInsn&);
void imulRm(Interpreter&, const DecodedInsn&);
void divRm(Interpreter&, const DecodedInsn&);
void idivRm(Interpreter&, const DecodedInsn&);
void imulRegRm(Interpreter&, const DecodedInsn&);                    // 0F AF
void imulRegRmImm(Interpreter&, const DecodedInsn&);                 // 69/6B
void shiftGroup(Interpreter&, const DecodedInsn&);                   // C0/C1/D0-D3
void cbwFamily(Interpreter&, const DecodedInsn&);                    // 98
void cwdFamily(Interpreter&, const DecodedInsn&);                    // 99

// exec_data.cpp
void movRmReg(Interpreter&, const DecodedInsn&);   // 88/89
void movRegRm(Interpreter&, const DecodedInsn&);   // 8A/8B
void movRmSreg(Interpreter&, const DecodedInsn&);  // 8C
void movSregRm(Interpreter&, const DecodedInsn&);  // 8E
void movAccMoffs(Interpreter&, const DecodedInsn&);  // A0-A3
void movRegImm(Interpreter&, const DecodedInsn&);  // B0-BF
void movRmImm(Interpreter&, const DecodedInsn&);   // C6/C7 /0
void movzx(Interpreter&, const DecodedInsn&);      // 0F B6/B7
void movsx(Interpreter&, const DecodedInsn&);      // 0F BE/BF
void movsxd(Interpreter&, const DecodedInsn&);     // 63 (64-bit)
void lea(Interpreter&, const DecodedInsn&);
void xchgRmReg(Interpreter&, const DecodedInsn&);  // 86/87
void xchgAcc(Interpreter&, const DecodedInsn&);    // 90-97 (90 = NOP/PAUSE)
void pushReg(Interpreter&, const DecodedInsn&);
void popReg(Interpreter&, const DecodedInsn&);
void pushImm(Interpreter&, const DecodedInsn&);
void pushRm(Interpreter&, const DecodedInsn&);     // FF /6
void popRm(Interpreter&, const DecodedInsn&);      // 8F /0
void pushSeg(Interpreter&, const DecodedInsn&);
void popSeg(Interpreter&, const DecodedInsn&);
void pushf(Interpreter&, const DecodedInsn&);
void popf(Interpreter&, const DecodedInsn&);
void lahf(Interpreter&, const DecodedInsn&);
void sahf(Interpreter&, const DecodedInsn&);
void flagOp(Interpreter&, const DecodedInsn&);     // CLC/STC/CMC/CLD/STD
void setcc(Interpreter&, const DecodedInsn&);
void cmovcc(Interpreter&, const DecodedInsn&);
void bswap(Interpreter&, const DecodedInsn&);
void nop(Interpreter&, const DecodedInsn&);

// exec_control.cpp
void jmpRel(Interpreter&, const DecodedInsn&);     // EB/E9
void jccRel(Interpreter&, const DecodedInsn&);     // 70-7F, 0F 80-8F
void callRel(Interpreter&, const DecodedInsn&);    // E8
void retNear(Interpreter&, const DecodedInsn&);    // C3/C2
void jmpRm(Interpreter&, const DecodedInsn&);      // FF /4
void callRm(Interpreter&, const DecodedInsn&);     // FF /2
void jmpFarPtr(Interpreter&, const DecodedInsn&);  // EA
void callFarPtr(Interpreter&, const DecodedInsn&); // 9A
void jmpFarMem(Interpreter&, const DecodedInsn&);  // FF /5
void callFarMem(Interpreter&, const DecodedInsn&); // FF /3
void retFar(Interpreter&, const DecodedInsn&);     // CB/CA
void loopFamily(Interpreter&, const DecodedInsn&); // E0-E3
void int3(Interpreter&, const DecodedInsn&);
void intImm(Interpreter&, const DecodedInsn&);
void into(Interpreter&, const DecodedInsn&);
void iret(Interpreter&, const DecodedInsn&);

// exec_string.cpp
void movs(Interpreter&, const DecodedInsn&);
void cmps(Interpreter&, const DecodedInsn&);
void stos(Interpreter&, const DecodedInsn&);
void lods(Interpreter&, const DecodedInsn&);
void scas(Interpreter&, const DecodedInsn&);
void ins(Interpreter&, const DecodedInsn&);
void outs(Interpreter&, const DecodedInsn&);

// exec_system.cpp
void inImm(Interpreter&, const DecodedInsn&);      // E4/E5
void outImm(Interpreter&, const DecodedInsn&);     // E6/E7
void inDx(Interpreter&, const DecodedInsn&);       // EC/ED
void outDx(Interpreter&, const DecodedInsn&);      // EE/EF
void hlt(Interpreter&, const DecodedInsn&);
void cli(Interpreter&, const DecodedInsn&);
void sti(Interpreter&, const DecodedInsn&);
void cpuid(Interpreter&, const DecodedInsn&);
void rdtsc(Interpreter&, const DecodedInsn&);
void rdmsr(Interpreter&, const DecodedInsn&);
void wrmsr(Interpreter&, const DecodedInsn&);
void movFromCr(Interpreter&, const DecodedInsn&);  // 0F 20
void movToCr(Interpreter&, const DecodedInsn&);    // 0F 22
void clts(Interpreter&, const DecodedInsn&);
void group7(Interpreter&, const DecodedInsn&);     // 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG SWAPGS RDTSCP
void group6(Interpreter&, const DecodedInsn&);     // 0F 00: SLDT STR LLDT LTR
void ud(Interpreter&, const DecodedInsn&);
void fences(Interpreter&, const DecodedInsn&);     // 0F AE /5 /6 /7 (register forms): LFENCE MFENCE SFENCE         // UD2 and other defined-invalid opcodes
void cacheControl(Interpreter&, const DecodedInsn&);  // INVD/WBINVD

// exec_bcd.cpp
void daa(Interpreter&, const DecodedInsn&);
void das(Interpreter&, const DecodedInsn&);
void aaa(Interpreter&, const DecodedInsn&);
void aas(Interpreter&, const DecodedInsn&);
void aam(Interpreter&, const DecodedInsn&);
void aad(Interpreter&, const DecodedInsn&);

// exec_bits.cpp
void btRmReg(Interpreter&, const DecodedInsn&);      // 0F A3/AB/B3/BB: BT/BTS/BTR/BTC r/m, reg
void btRmImm(Interpreter&, const DecodedInsn&);      // 0F BA /4-/7: BT/BTS/BTR/BTC r/m, imm8
void bitScan(Interpreter&, const DecodedInsn&);      // 0F BC/BD: BSF/BSR
void doubleShift(Interpreter&, const DecodedInsn&);  // 0F A4/A5/AC/AD: SHLD/SHRD

// exec_atomic.cpp
void cmpxchg(Interpreter&, const DecodedInsn&);      // 0F B0/B1
void xadd(Interpreter&, const DecodedInsn&);         // 0F C0/C1
void cmpxchg8b16b(Interpreter&, const DecodedInsn&); // 0F C7 /1

// exec_frame.cpp
void enter(Interpreter&, const DecodedInsn&);
void leave(Interpreter&, const DecodedInsn&);
void pusha(Interpreter&, const DecodedInsn&);
void popa(Interpreter&, const DecodedInsn&);
void bound(Interpreter&, const DecodedInsn&);
void xlat(Interpreter&, const DecodedInsn&);

// exec_segload.cpp
void loadFarPointer(Interpreter&, const DecodedInsn&);  // LES LDS LSS LFS LGS

// exec_protect.cpp
void arpl(Interpreter&, const DecodedInsn&);         // 63: ARPL, or MOVSXD in 64-bit mode
void larLsl(Interpreter&, const DecodedInsn&);       // 0F 02/03
void verrVerw(Interpreter&, const DecodedInsn&);     // 0F 00 /4 /5
void movDr(Interpreter&, const DecodedInsn&);        // 0F 21/23
void int1(Interpreter&, const DecodedInsn&);         // F1
void rdpmc(Interpreter&, const DecodedInsn&);        // 0F 33

// exec_fastcall.cpp
void syscall(Interpreter&, const DecodedInsn&);
void sysret(Interpreter&, const DecodedInsn&);
void sysenter(Interpreter&, const DecodedInsn&);
void sysexit(Interpreter&, const DecodedInsn&);

}  // namespace hvlab::cpu::exec
