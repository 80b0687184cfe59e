// x86 disassembly for the debugger (Capstone, Intel syntax), in the CPU's current mode, and
// the lines around RIP.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"

namespace hvlab::frontend::gui {

struct DisassembledLine {
    uint64_t address = 0;  // guest RIP of the instruction
    uint8_t length = 0;
    std::string bytes;     // "0f 01 d8"
    std::string text;      // "lgdt [eax]"
};

// 16, 32 or 64: the default operand/address size code runs with in this mode.
unsigned codeBits(cpu::CpuMode mode);

class Disassembler {
public:
    Disassembler();  // throws std::runtime_error if Capstone cannot be opened
    ~Disassembler();
    Disassembler(const Disassembler&) = delete;
    Disassembler& operator=(const Disassembler&) = delete;

    // Decodes `code` (guest bytes at `address`) as `bits`-bit code: up to `maxLines`
    // instructions, stopping at the first byte that is not a valid instruction.
    std::vector<DisassembledLine> decode(std::span<const uint8_t> code, uint64_t address, unsigned bits,
                                         size_t maxLines) const;

    // Lines around `rip`: up to `before` instructions before it (found by decoding from the
    // farthest start in `code` that lands exactly on `rip`; x86 has no way back) and `after`
    // from it. `code` holds the bytes at [codeStart, codeStart + size).
    std::vector<DisassembledLine> around(std::span<const uint8_t> code, uint64_t codeStart, uint64_t rip, unsigned bits,
                                         size_t before, size_t after) const;

private:
    size_t handle(unsigned bits) const;
    std::array<size_t, 3> handles_{};  // csh for 16, 32, 64 bits
};

}  // namespace hvlab::frontend::gui
