#include <catch2/catch.hpp>

#include "frontend/gui/disassembler.hpp"

using namespace hvlab;
using namespace hvlab::frontend::gui;

TEST_CASE("code is decoded in the CPU's mode", "[gui][disassembly]") {
    const Disassembler d;
    const std::vector<uint8_t> code = {0xb8, 0x34, 0x12, 0x00, 0x00};  // mov ax, 0x1234 / mov eax, 0x1234
    const auto real = d.decode(code, 0xfff0, 16, 1);
    REQUIRE(real.size() == 1);
    CHECK(real[0].text == "mov ax, 0x1234");
    CHECK(real[0].length == 3);
    CHECK(real[0].bytes == "b8 34 12");
    const auto protectedMode = d.decode(code, 0x1000, 32, 1);
    REQUIRE(protectedMode.size() == 1);
    CHECK(protectedMode[0].text == "mov eax, 0x1234");

    const std::vector<uint8_t> rex = {0x48, 0x89, 0xc3};  // mov rbx, rax
    CHECK(d.decode(rex, 0, 64, 4).at(0).text == "mov rbx, rax");

    CHECK(codeBits(cpu::CpuMode::Real) == 16);
    CHECK(codeBits(cpu::CpuMode::Compat32) == 32);
    CHECK(codeBits(cpu::CpuMode::Long64) == 64);
}

TEST_CASE("the lines around RIP start where decoding lands exactly on RIP", "[gui][disassembly]") {
    const Disassembler d;
    // 0x100: nop; 0x101: mov eax, 1; 0x106: inc eax; 0x107: hlt; 0x108: jmp $
    const std::vector<uint8_t> code = {0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x40, 0xf4, 0xeb, 0xfe};
    const auto lines = d.around(code, 0x100, 0x107, 32, 2, 2);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].address == 0x101);
    CHECK(lines[1].address == 0x106);
    CHECK(lines[2].address == 0x107);
    CHECK(lines[2].text == "hlt");
    CHECK(lines[3].text == "jmp 0x108");
}

TEST_CASE("decoding stops at bytes that are no instruction", "[gui][disassembly]") {
    const Disassembler d;
    const std::vector<uint8_t> code = {0x90, 0x0f, 0x0b, 0x0f};  // nop; ud2; truncated
    const auto lines = d.decode(code, 0, 32, 10);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].text == "ud2");
}
