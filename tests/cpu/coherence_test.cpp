// Self-modifying code and the shadow TLB's coherence: cached decoded instructions and cached
// translations must follow guest writes to code and to page tables.
#include "tests/cpu/harness.hpp"

using namespace hvlab;
using namespace hvlab::test;

TEST_CASE("self-modifying code runs the new instruction, not the cached one", "[cpu][coherence]") {
    for (Mode mode : {Mode::Real, Mode::Protected, Mode::ProtectedPaging, Mode::Long}) {
        Machine m(mode);
        INFO("mode " << m.bits());
        // The loop runs `patch` twice: first as "mov eax, 1", then the code rewrites its immediate
        // to 2 and runs it again. A stale decode would leave eax = 1.
        m.run(R"(
            xor ecx, ecx
        again:
            mov eax, 1
        imm equ $ - 4                 ; the immediate's low byte (after any operand-size prefix)
            inc ecx
            cmp ecx, 2
            je done
            mov byte [imm], 2
            jmp again
        done:
        )");
        CHECK(static_cast<uint32_t>(m.reg(cpu::RAX)) == 2);
        CHECK(m.cpu.tlbCounters().codeWriteTraps >= 1);
        CHECK(m.cpu.decodeCounters().invalidations >= 1);
    }
}

TEST_CASE("a write to the next instruction in the same page takes effect", "[cpu][coherence]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov byte [next], 0x90       ; turn the following "inc eax" into a NOP
        xor eax, eax
    next:
        inc eax
    )");
    CHECK(static_cast<uint32_t>(m.reg(cpu::RAX)) == 0);
}

TEST_CASE("writes to data pages do not disturb cached code", "[cpu][coherence]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov ecx, 100
    loop:
        mov [DATA], ecx
        dec ecx
        jnz loop
    )");
    CHECK(m.cpu.tlbCounters().codeWriteTraps == 0);
    CHECK(m.cpu.decodeCounters().invalidations == 0);
    CHECK(m.read(Machine::kData, 4) == 1);
}

TEST_CASE("a write to a page table drops cached translations without INVLPG", "[cpu][coherence]") {
    Machine m(Mode::Long);
    // Read DATA2 through the identity map, then point its page-table entry at DATA's page and
    // read the same linear address again: the new mapping must be used.
    m.write(Machine::kData, 8, 0x1111);
    m.write(Machine::kData2, 8, 0x2222);
    const uint64_t pte = Machine::kPt64 + (Machine::kData2 >> 12) * 8;
    const uint64_t original = m.read(pte, 8);
    const uint64_t redirected = (original & 0xfff) | Machine::kData;
    m.run(R"(
        mov rax, [DATA2]
        mov rdx, )" + std::to_string(redirected) + R"(
        mov [)" + std::to_string(pte) + R"(], rdx
        mov rbx, [DATA2]
    )");
    CHECK(m.reg(cpu::RAX) == 0x2222);
    CHECK(m.reg(cpu::RBX) == 0x1111);
    CHECK(m.cpu.tlbCounters().pageTableWriteTraps >= 1);
}

TEST_CASE("CR3 writes and INVLPG flush the TLB, and fills are counted", "[cpu][coherence]") {
    Machine m(Mode::Long);
    const auto before = m.cpu.tlbCounters();
    m.run(R"(
        mov rax, [DATA]
        invlpg [DATA]
        mov rax, cr3
        mov cr3, rax
        mov rax, [DATA]
    )");
    const auto after = m.cpu.tlbCounters();
    CHECK(after.flushes > before.flushes);
    CHECK(after.pageInvalidations > before.pageInvalidations);
    CHECK(after.fills > before.fills);
}

TEST_CASE("coming back to cached code reuses it: nothing is decoded twice", "[cpu][coherence]") {
    for (Mode mode : {Mode::Real, Mode::Protected, Mode::Long}) {
        Machine m(mode);
        INFO("mode " << m.bits());
        // Each round calls a function on the next page and comes back, and every OUT exits to
        // the VMM: 1000 rounds must not decode (or store) 1000 copies of anything.
        m.run(R"(
            mov ecx, 1000
        again:
            call far_away
            out 0x80, al
            dec ecx
            jnz again
            jmp done
            times 4096 nop
        far_away:
            inc edx
            ret
        done:
        )");
        CHECK(m.ports.size() == 1000);
        CHECK(m.cpu.decodeCounters().decodes < 40);
    }
}
