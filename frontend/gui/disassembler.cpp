#include "frontend/gui/disassembler.hpp"

#include <algorithm>
#include <capstone/capstone.h>
#include <fmt/format.h>
#include <stdexcept>

namespace hvlab::frontend::gui {

namespace {

constexpr std::array<cs_mode, 3> kModes = {CS_MODE_16, CS_MODE_32, CS_MODE_64};

size_t modeIndex(unsigned bits) { return bits == 16 ? 0 : bits == 32 ? 1 : 2; }

}  // namespace

unsigned codeBits(cpu::CpuMode mode) {
    switch (mode) {
        case cpu::CpuMode::Real:
        case cpu::CpuMode::Virtual8086:
        case cpu::CpuMode::Protected16:
        case cpu::CpuMode::Compat16: return 16;
        case cpu::CpuMode::Protected32:
        case cpu::CpuMode::Compat32: return 32;
        case cpu::CpuMode::Long64: return 64;
    }
    return 32;
}

Disassembler::Disassembler() {
    for (size_t k = 0; k < kModes.size(); ++k) {
        csh h = 0;
        if (const cs_err err = cs_open(CS_ARCH_X86, kModes[k], &h); err != CS_ERR_OK)
            throw std::runtime_error(fmt::format("Capstone: {}", cs_strerror(err)));
        handles_[k] = h;
    }
}

Disassembler::~Disassembler() {
    for (size_t& h : handles_) {
        csh handle = h;
        if (handle) cs_close(&handle);
    }
}

size_t Disassembler::handle(unsigned bits) const { return handles_[modeIndex(bits)]; }

std::vector<DisassembledLine> Disassembler::decode(std::span<const uint8_t> code, uint64_t address, unsigned bits,
                                                   size_t maxLines) const {
    std::vector<DisassembledLine> lines;
    const csh h = handle(bits);
    cs_insn* insn = cs_malloc(h);
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t at = address;
    while (lines.size() < maxLines && cs_disasm_iter(h, &p, &left, &at, insn)) {
        DisassembledLine line;
        line.address = insn->address;
        line.length = static_cast<uint8_t>(insn->size);
        for (uint16_t k = 0; k < insn->size; ++k) fmt::format_to(std::back_inserter(line.bytes), "{}{:02x}", k ? " " : "", insn->bytes[k]);
        line.text = insn->op_str[0] ? fmt::format("{} {}", insn->mnemonic, insn->op_str) : insn->mnemonic;
        lines.push_back(std::move(line));
    }
    cs_free(insn, 1);
    return lines;
}

std::vector<DisassembledLine> Disassembler::around(std::span<const uint8_t> code, uint64_t codeStart, uint64_t rip,
                                                   unsigned bits, size_t before, size_t after) const {
    if (rip < codeStart || rip - codeStart > code.size()) return {};
    const size_t ripOffset = static_cast<size_t>(rip - codeStart);
    // The farthest start that decodes into rip (a start that overshoots it is out of step),
    // found from instruction lengths alone; then one decode with text from `before` lines up.
    const csh h = handle(bits);
    cs_insn* insn = cs_malloc(h);
    std::vector<uint64_t> starts;
    uint64_t first = rip;
    for (size_t start = 0; start < ripOffset; ++start) {
        starts.clear();
        const uint8_t* p = code.data() + start;
        size_t left = ripOffset - start;
        uint64_t at = codeStart + start;
        while (left > 0 && cs_disasm_iter(h, &p, &left, &at, insn)) starts.push_back(insn->address);
        if (left != 0 || starts.empty()) continue;
        first = starts[starts.size() - std::min(before, starts.size())];
        break;
    }
    cs_free(insn, 1);
    const size_t firstOffset = static_cast<size_t>(first - codeStart);
    const size_t beforeCount = first == rip ? 0 : static_cast<size_t>(std::count_if(
        starts.begin(), starts.end(), [first](uint64_t a) { return a >= first; }));
    return decode(code.subspan(firstOffset), first, bits, beforeCount + after);
}

}  // namespace hvlab::frontend::gui
