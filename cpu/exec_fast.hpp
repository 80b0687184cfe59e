// Specialised handlers for the hottest instruction forms (register operands, 32/64-bit sizes,
// simple memory operands). The decoder picks one when it fits; the generic handler in the
// opcode table is the reference they must agree with (the CPU tests run both).
#pragma once

#include "cpu/decoded_insn.hpp"

namespace hvlab::cpu::exec {

// A faster handler for this decoded instruction, or nullptr to keep the generic one.
ExecFn fastHandler(const DecodedInsn& insn);

}  // namespace hvlab::cpu::exec
