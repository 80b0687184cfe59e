// Far-pointer loads: LES, LDS (not in 64-bit mode), LSS, LFS, LGS.
#include "cpu/handlers.hpp"

namespace hvlab::cpu::exec {

// m16:16, m16:32 or (REX.W, 64-bit mode) m16:64: the offset goes to the register, the
// selector to the segment register, which is loaded with all its checks first, so a faulting
// load changes nothing. Unlike MOV SS / POP SS, LSS does not block interrupts for one
// instruction: it loads SS and rSP together, so there is no window to protect (SDM vol. 3, 6.8.3).
void loadFarPointer(Interpreter& cpu, const DecodedInsn& i) {
    if (i.mod == 3) cpu.fault(kUD);
    unsigned seg;
    if (i.map == 0)
        seg = i.opcode == 0xc4 ? ES : DS;  // C4 LES, C5 LDS
    else
        seg = i.opcode == 0xb2 ? SS : i.opcode == 0xb4 ? FS : GS;  // 0F B2 LSS, B4 LFS, B5 LGS
    const unsigned size = i.opSize;
    const uint64_t ea = cpu.effectiveAddress(i);
    const uint64_t offset = cpu.readMem(i.segment, ea, size);
    const auto selector =
        static_cast<uint16_t>(cpu.readMem(i.segment, (ea + size) & Interpreter::sizeMask(i.addrSize), 2));
    cpu.loadSegment(seg, selector);
    cpu.writeReg(i, i.reg, size, offset);
}

}  // namespace hvlab::cpu::exec
