// The I/O permission check of IN, OUT, INS and OUTS (SDM vol. 1, 19.5): in protected mode
// with CPL > IOPL, and always in virtual-8086 mode, every port the access touches must be
// granted (bit clear) in the I/O permission bitmap of the current 32/64-bit TSS.
#include "cpu/interpreter.hpp"

namespace hvlab::cpu {

void Interpreter::checkIoPermission(uint16_t port, unsigned size) {
    if (!s.protectedMode()) return;
    const bool v86 = s.flags.test(rflag::VM);
    const unsigned iopl = (s.flags.materialize() & rflag::IOPL) >> 12;
    if (!v86 && s.cpl() <= iopl) return;
    // Only a 32-bit (or 64-bit) TSS has a bitmap; its base is the word at offset 66h. The
    // bitmap bytes for the ports (two are read, as hardware does) must lie within the limit.
    const unsigned type = s.tr.type();
    if (!s.tr.present() || !s.tr.system() || (type != 0x9 && type != 0xb)) fault(kGP, 0);
    if (s.tr.limit < 0x67) fault(kGP, 0);
    const uint64_t mapBase = readLinear(s.tr.base + 0x66, 2, AccessType::Read, /*supervisor=*/true);
    const uint64_t byteOffset = mapBase + port / 8;
    if (byteOffset + 1 > s.tr.limit) fault(kGP, 0);
    const uint64_t bits = readLinear(s.tr.base + byteOffset, 2, AccessType::Read, true);
    const uint64_t wanted = ((1u << size) - 1) << (port & 7);
    if (bits & wanted) fault(kGP, 0);
}

}  // namespace hvlab::cpu
