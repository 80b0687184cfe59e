// Ring 1 of long mode, where a PV kernel runs (privileged P, docs/hypercalls.md "The PV MMU"):
// privileged instructions raise #GP instead of exiting, 64-bit trap gates to a DPL-1 handler
// switch to TSS.RSP1 from ring 3 (SS null with RPL 1) and not from ring 1, IRETQ goes from ring 1
// to ring 3 and from ring 1 to ring 1 with a null SS, and supervisor pages and CR0.WP apply.
#include <string>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

constexpr uint16_t kRing1Code = 0x59, kRing1Data = 0x61;  // GDT slots 0x58 and 0x60, RPL 1
constexpr uint64_t kRing1CodeDesc = 0x00afbb000000ffffull, kRing1DataDesc = 0x00cfb3000000ffffull;
constexpr uint64_t kRing1StackTop = 0x5000;
constexpr uint64_t kHandler = Machine::kCode + 0x400;
constexpr uint64_t kUserCode = Machine::kCode + 0x300;

std::string at(uint64_t address) { return fmt::format("times {:#x} - ($ - $$) nop\n", address - Machine::kCode); }

// A machine in long mode running at ring 1, with a 64-bit trap gate (DPL 1) for #GP to kHandler.
void enterRing1(Machine& m) {
    m.write(Machine::kGdt + 0x58, 8, kRing1CodeDesc);
    m.write(Machine::kGdt + 0x60, 8, kRing1DataDesc);
    m.s.gdtr.limit = 0x67;
    m.write(Machine::kTss + 12, 8, kRing1StackTop);  // RSP1
    const uint64_t gate = (kHandler & 0xffff) | (uint64_t{kRing1Code & ~3u} << 16) | (0xafull << 40) |
                          (((kHandler >> 16) & 0xffff) << 48);
    m.write(Machine::kIdt + kGP * 16, 8, gate);
    m.write(Machine::kIdt + kGP * 16 + 8, 8, 0);
    m.s.seg[CS] = hvlab::cpu::segmentFromDescriptor(kRing1Code, kRing1CodeDesc);
    for (unsigned sg : {ES, SS, DS}) m.s.seg[sg] = hvlab::cpu::segmentFromDescriptor(kRing1Data, kRing1DataDesc);
    m.cpu.stateLoaded();
}

// The #GP handler at ring 1: counts, records SS, RSP and the saved CS of each fault at
// DATA + 32 * n, re-faults once from inside the ring-3 fault (a nested ring 1 -> ring 1 fault on
// the null SS), skips the 1-byte faulting instruction and returns with IRETQ.
const std::string kHandlerCode = R"(
    push rax
    mov rax, [DATA]
    inc rax
    mov [DATA], rax
    shl rax, 5
    add rax, DATA
    mov [rax], rsp
    mov word [rax + 8], ss
    mov rbx, [rsp + 24]
    mov [rax + 16], rbx           ; the saved CS
    cmp qword [DATA], 2
    jne .skip
    cli                           ; fault 3: from ring 1 on the null SS
    mov word [DATA + 0x100], ss   ; SS after the nested IRETQ
.skip:
    pop rax
    add qword [rsp + 8], 1
    add rsp, 8
    iretq
)";

}  // namespace

TEST_CASE("ring 1: privileged instructions raise #GP, not exits", "[ring1][exception]") {
    for (const char* insn : {"cli", "sti", "hlt", "mov cr3, rax", "mov rax, cr0", "rdmsr", "wrmsr", "invlpg [rbx]",
                             "lidt [rbx]", "lgdt [rbx]", "ltr ax", "swapgs", "clts", "mov dr7, rax", "wbinvd"}) {
        INFO(insn);
        Machine m(Mode::Long);
        enterRing1(m);
        // A ring-0 gate for #GP instead: the harness's stub records the vector and halts (at ring 0).
        m.setGate(kGP, Machine::handlerAddress(kGP), 0x8e);
        m.reg(RBX) = Machine::kData;
        const VmExit e = m.runExit(fmt::format("{}\n", insn));
        CHECK(e.reason == ExitReason::Hlt);
        CHECK(m.lastVector() == kGP);
        CHECK(m.inEngine.exits.empty());  // no CR, MSR or INVLPG exit was recorded
    }
}

TEST_CASE("ring 1: trap gates, the RSP1 switch and IRETQ between rings 1 and 3", "[ring1][gates]") {
    Machine m(Mode::Long);
    enterRing1(m);
    m.run(R"(
        cli                       ; fault 1: ring 1 -> ring 1, no stack switch
        push 0x3b                 ; to ring 3 with IRETQ
        push 0x7000
        push 0x202
        push 0x43
        mov rax, )" + std::to_string(kUserCode) + R"(
        push rax
        iretq
    )" + at(kUserCode) + R"(
        cli                       ; fault 2: ring 3 -> ring 1 on RSP1
        mov word [DATA + 0x110], cs
        mov word [DATA + 0x112], ss
        mov [DATA + 0x118], rsp
        ud2                       ; #UD: the harness's ring-0 stub ends the run
    )" + at(kHandler) + kHandlerCode);
    CHECK(m.read(Machine::kData, 8) == 3);
    // Fault 1: ring 1 on the ring-1 stack, SS 0x61.
    CHECK(m.read(Machine::kData + 32 + 8, 2) == kRing1Data);
    CHECK(m.read(Machine::kData + 32 + 16, 8) == kRing1Code);
    // Fault 2: from ring 3, on TSS.RSP1 (5 slots and the error code pushed, then RAX), SS null RPL 1.
    CHECK(m.read(Machine::kData + 64, 8) == kRing1StackTop - 48 - 8);
    CHECK(m.read(Machine::kData + 64 + 8, 2) == 1);
    CHECK(m.read(Machine::kData + 64 + 16, 8) == Machine::kUserCode64);
    // Fault 3: nested at ring 1 on the null SS, which IRETQ restores.
    CHECK(m.read(Machine::kData + 96 + 8, 2) == 1);
    CHECK(m.read(Machine::kData + 96 + 16, 8) == kRing1Code);
    CHECK(m.read(Machine::kData + 0x100, 2) == 1);
    // Back in ring 3 after fault 2's IRETQ, with the user's stack.
    CHECK(m.read(Machine::kData + 0x110, 2) == Machine::kUserCode64);
    CHECK(m.read(Machine::kData + 0x112, 2) == Machine::kUserData);
    CHECK(m.read(Machine::kData + 0x118, 8) == 0x7000);
    CHECK(m.lastVector() == kUD);
}

TEST_CASE("ring 1: a supervisor level for paging, with CR0.WP", "[ring1][paging]") {
    Machine m(Mode::Long);
    enterRing1(m);
    m.s.cr0 |= cr0::WP;
    m.cpu.stateLoaded();
    m.setGate(kPF, Machine::handlerAddress(kPF), 0x8e);
    m.setGate(kGP, Machine::handlerAddress(kGP), 0x8e);
    // The page of DATA2 read-only: a write from ring 1 faults with CR0.WP (present | write, supervisor).
    const uint64_t pte = Machine::kPt64 + 8 * (Machine::kData2 >> 12);
    m.write(pte, 8, m.read(pte, 8) & ~2ull);
    const VmExit e = m.runExit("mov rax, [DATA2]\n mov [DATA2], rax\n");
    CHECK(e.reason == ExitReason::Hlt);
    CHECK(m.lastVector() == kPF);
    CHECK(m.s.cr2 == Machine::kData2);
}
