// The x86 instruction decoder: prefixes, REX, one- and two-byte opcode maps, ModRM/SIB,
// displacements and immediates, in 16-, 32- and 64-bit code.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/decoded_insn.hpp"

namespace hvlab::cpu {

enum class CodeSize : uint8_t { Bits16, Bits32, Bits64 };

enum class DecodeStatus : uint8_t {
    Ok,
    Truncated,       // fewer bytes available than the instruction needs
    TooLong,         // more than 15 bytes: #GP
    InvalidOpcode,   // not an instruction in this mode: #UD
    Unimplemented,   // a valid instruction the interpreter does not implement yet
};

DecodeStatus decode(const uint8_t* bytes, size_t available, CodeSize codeSize, DecodedInsn& out);

// The opcode tables (opcode_table.cpp).
const OpcodeEntry& oneByteEntry(uint8_t opcode);
const OpcodeEntry& twoByteEntry(uint8_t opcode);
const OpcodeEntry& groupEntry(uint8_t group, uint8_t reg);

}  // namespace hvlab::cpu
