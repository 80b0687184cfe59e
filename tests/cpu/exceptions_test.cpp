// Exceptions through the IVT and the protected- and long-mode IDT (#UD #GP #PF #DE #NP),
// double and triple faults, unimplemented instructions, and real -> protected -> long mode.
#include <string>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;
namespace mmu = hvlab::mmu;

// ---------------------------------------------------------------------------------------------
// #UD

TEST_CASE("exceptions: UD2 is #UD with the faulting RIP and no error code", "[exception]") {
    Machine r(Mode::Real);
    r.run("mov ax, 1\n ud2");
    CHECK(r.lastVector() == kUD);
    CHECK(r.stack(0, 2) == Machine::kCode + 3);
    CHECK(r.reg(RSP) == Machine::kStackTop - 6);

    Machine p(Mode::Protected);
    p.run("push 0x8d5\n popfd\n ud2");
    CHECK(p.lastVector() == kUD);
    CHECK(p.stack(0, 4) == Machine::kCode + 6);
    CHECK(p.stack(1, 4) == Machine::kCode32);
    CHECK((p.stack(2, 4) & rflag::ARITH) == rflag::ARITH);
    CHECK(p.reg(RSP) == Machine::kStackTop - 12);
    CHECK(p.s.rip == Machine::handlerAddress(kUD) + 9);

    Machine l(Mode::Long);
    l.run("ud2");
    CHECK(l.lastVector() == kUD);
    CHECK(l.stack(0, 8) == Machine::kCode);
    CHECK(l.stack(1, 8) == Machine::kCode64);
    CHECK(l.stack(3, 8) == Machine::kStackTop);  // RSP
    CHECK(l.stack(4, 8) == Machine::kData32);    // SS
}

TEST_CASE("exceptions: other #UD encodings", "[exception]") {
    struct Case {
        Mode mode;
        const char* code;
    };
    const Case cases[] = {
        {Mode::Protected, "db 0x0f, 0xb9, 0xc0"},  // UD1
        {Mode::Protected, "db 0x0f, 0xff, 0xc0"},  // UD0
        {Mode::Protected, "db 0x0f, 0x04"},        // a hole in the two-byte map
        {Mode::Protected, "db 0x0f, 0x10, 0xc0"},  // SSE: not in the CPUID model
        {Mode::Protected, "db 0xfe, 0xd0"},        // group 4 /2
        {Mode::Protected, "db 0xff, 0xf8"},        // group 5 /7
        {Mode::Protected, "db 0xc6, 0xc8, 0x00"},  // group 11 /1
        {Mode::Protected, "db 0x8f, 0xc8"},        // group 1a /1
        {Mode::Protected, "db 0xff, 0xd8"},        // CALL FAR with a register operand
        {Mode::Long, "db 0x06"},                   // PUSH ES in 64-bit mode
        {Mode::Long, "db 0x27"},                   // DAA in 64-bit mode
        {Mode::Long, "db 0xea, 0, 0, 0, 0, 0, 0"}, // JMP ptr16:32 in 64-bit mode
        {Mode::Long, "db 0x82, 0xc0, 0x01"},       // 82 in 64-bit mode
        {Mode::Long, "db 0x0f, 0x0b"},             // UD2
    };
    preassembleCases(cases);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(c.mode);
        m.run(c.code);
        CHECK(m.lastVector() == kUD);
        CHECK(m.stack(0, c.mode == Mode::Long ? 8 : 4) == Machine::kCode);
    }
}

TEST_CASE("exceptions: every undefined group member is #UD", "[exception]") {
    // (opcode, reg) pairs the group tables mark "(bad)"; loaded as raw bytes with a register
    // operand, followed by HLT.
    const std::pair<std::vector<uint8_t>, std::vector<unsigned>> groups[] = {
        {{0x8f}, {1, 2, 3, 4, 5, 6, 7}},        // group 1a
        {{0xc6}, {1, 2, 3, 4, 5, 6, 7}},        // group 11, byte
        {{0xc7}, {1, 2, 3, 4, 5, 6, 7}},        // group 11
        {{0xfe}, {2, 3, 4, 5, 6, 7}},           // group 4
        {{0xff}, {7}},                          // group 5
        {{0x0f, 0x00}, {6, 7}},                 // group 6
    };
    for (const auto& [opcode, regs] : groups)
        for (unsigned reg : regs) {
            std::vector<uint8_t> bytes = opcode;
            bytes.push_back(static_cast<uint8_t>(0xc0 | (reg << 3)));
            if (opcode[0] == 0xc6) bytes.push_back(0);        // ib
            if (opcode[0] == 0xc7) bytes.insert(bytes.end(), 4, 0);  // iz
            bytes.push_back(0xf4);
            INFO("opcode " << std::hex << int(opcode.back()) << " /" << reg);
            Machine m(Mode::Protected);
            m.load(bytes, Machine::kCode);
            CHECK(m.resume().reason == ExitReason::Hlt);
            CHECK(m.lastVector() == kUD);
            CHECK(m.stack(0, 4) == Machine::kCode);
        }
}

// ---------------------------------------------------------------------------------------------
// #GP

TEST_CASE("exceptions: #GP frames carry an error code", "[exception]") {
    Machine p(Mode::Protected);
    p.run("mov eax, cr4\n or eax, 1 << 12\n mov si, 0\n mov cr4, eax");
    CHECK(p.lastVector() == kGP);
    CHECK(p.stack(0, 4) == 0);
    CHECK(p.stack(1, 4) == Machine::kCode + 12);  // the MOV CR4
    CHECK(p.stack(2, 4) == Machine::kCode32);

    Machine s(Mode::Protected);
    s.run("mov ax, 0x3b\n mov ss, ax");
    CHECK(s.lastVector() == kGP);
    CHECK(s.stack(0, 4) == 0x38);  // the selector, RPL cleared

    Machine l(Mode::Long);
    l.run("mov rax, 0x0000800000000000\n mov rbx, [rax]");  // a non-canonical address
    CHECK(l.lastVector() == kGP);
    CHECK(l.stack(0, 8) == 0);
    CHECK(l.stack(1, 8) == Machine::kCode + 10);
}

TEST_CASE("exceptions: an instruction longer than 15 bytes is #GP(0)", "[exception]") {
    Machine m(Mode::Protected);
    m.run("times 14 db 0x3e\n add eax, ebx");
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 4) == 0);
    CHECK(m.stack(1, 4) == Machine::kCode);

    Machine ok(Mode::Protected);
    ok.run("mov eax, 1\n mov ebx, 2\n times 13 db 0x3e\n add eax, ebx");
    CHECK(ok.lastVector() == -1);
    CHECK(ok.reg(RAX) == 3);
}

TEST_CASE("exceptions: a non-canonical stack reference is #SS, others #GP", "[exception]") {
    Machine l(Mode::Long);
    l.run("mov rax, 0x0000800000000000\n mov rbx, [rax]\n");
    CHECK(l.lastVector() == kGP);
    Machine s(Mode::Long);
    s.run("mov rbp, 0x0000800000000000\n mov rbx, [rbp]");  // RBP-based: the stack segment
    CHECK(s.lastVector() == kSS);
    CHECK(s.stack(0, 8) == 0);
    // SS and DS overrides are ignored in 64-bit mode: the default segment decides.
    Machine o(Mode::Long);
    o.run("mov rax, 0x0000800000000000\n mov rbx, [ss:rax]");
    CHECK(o.lastVector() == kGP);
    Machine d(Mode::Long);
    d.run("mov rbp, 0x0000800000000000\n mov rbx, [ds:rbp]");
    CHECK(d.lastVector() == kSS);
}

TEST_CASE("exceptions: an instruction reaching past the CS limit is #GP", "[exception]") {
    Machine m(Mode::Real, 0x0800);  // CS base 0x8000: IP 0xfffe is physical 0x17ffe
    m.writeBytes(0x17ffe, {0xb8, 0x34, 0x12});  // mov ax, 0x1234: its last byte is beyond 0xffff
    m.s.rip = 0xfffe;
    m.s.gpr[RAX] = 0;
    CHECK(m.resume().reason == ExitReason::Hlt);
    CHECK(m.lastVector() == kGP);
    CHECK(m.stack(0, 2) == 0xfffe);
    CHECK(m.reg(RAX) == 0);

    Machine ok(Mode::Real, 0x0800);
    ok.writeBytes(0x17ffc, {0xb8, 0x34, 0x12, 0xf4});  // ends exactly at the limit
    ok.s.rip = 0xfffc;
    CHECK(ok.resume().reason == ExitReason::Hlt);
    CHECK(ok.lastVector() == -1);
    CHECK(ok.reg(RAX) == 0x1234);
}

// ---------------------------------------------------------------------------------------------
// #PF

TEST_CASE("exceptions: #PF error codes and CR2 with 32-bit paging", "[exception][paging]") {
    SECTION("read of a not-present page") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x20000);
        m.run("mov ebx, 0x20010\n mov eax, [ebx]");
        CHECK(m.lastVector() == kPF);
        CHECK(m.stack(0, 4) == 0);
        CHECK(m.stack(1, 4) == Machine::kCode + 5);
        CHECK(m.s.cr2 == 0x20010);
    }
    SECTION("write to a not-present page") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x21000);
        m.run("mov dword [0x21ffc], 1");
        CHECK(m.lastVector() == kPF);
        CHECK(m.stack(0, 4) == mmu::kPfWrite);
        CHECK(m.s.cr2 == 0x21ffc);
    }
    SECTION("a write across into a not-present page faults on the second page, writing nothing") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x21000);
        m.write(0x20ffe, 2, 0xabcd);
        m.run("mov dword [0x20ffe], 0x12345678");
        CHECK(m.lastVector() == kPF);
        CHECK(m.s.cr2 == 0x21000);
        CHECK(m.read(0x20ffe, 2) == 0xabcd);
    }
    SECTION("user access to a supervisor page, and a user write to a read-only page") {
        Machine m(Mode::ProtectedPaging);
        m.write(Machine::kPt32 + 0x20 * 4, 4, 0x20000 | 3);  // present, writable, supervisor
        m.write(Machine::kPt32 + 0x21 * 4, 4, 0x21000 | 5);  // present, read-only, user
        m.enterUser();
        m.run("mov eax, [0x21000]\n mov eax, [0x20000]");
        CHECK(m.lastVector() == kPF);
        CHECK(m.stack(0, 4) == (mmu::kPfPresent | mmu::kPfUser));
        CHECK(m.s.cr2 == 0x20000);

        Machine w(Mode::ProtectedPaging);
        w.write(Machine::kPt32 + 0x21 * 4, 4, 0x21000 | 5);
        w.enterUser();
        w.run("mov dword [0x21000], 1");
        CHECK(w.lastVector() == kPF);
        CHECK(w.stack(0, 4) == (mmu::kPfPresent | mmu::kPfWrite | mmu::kPfUser));
    }
    SECTION("supervisor writes to read-only pages depend on CR0.WP") {
        Machine m(Mode::ProtectedPaging);
        m.write(Machine::kPt32 + 0x21 * 4, 4, 0x21000 | 1);  // present, read-only
        m.run("mov dword [0x21000], 1");                      // WP = 0: allowed
        CHECK(m.lastVector() == -1);
        CHECK(m.read(0x21000, 4) == 1);

        Machine wp(Mode::ProtectedPaging);
        wp.write(Machine::kPt32 + 0x21 * 4, 4, 0x21000 | 1);
        wp.run("mov eax, cr0\n or eax, 1 << 16\n mov cr0, eax\n mov dword [0x21000], 1");
        CHECK(wp.lastVector() == kPF);
        CHECK(wp.stack(0, 4) == (mmu::kPfPresent | mmu::kPfWrite));
        CHECK(wp.read(0x21000, 4) == 0);
    }
    SECTION("an instruction fetch from a not-present page") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x20000);
        m.run("mov eax, 0x20000\n jmp eax");
        CHECK(m.lastVector() == kPF);
        CHECK(m.stack(0, 4) == 0);
        CHECK(m.stack(1, 4) == 0x20000);  // the fetch faulted at the target
        CHECK(m.s.cr2 == 0x20000);
    }
    SECTION("an instruction straddling into a not-present page") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x21000);
        m.writeBytes(0x20ffe, {0xb8, 0x01, 0x02, 0x03, 0x04});  // mov eax, imm32 across the boundary
        m.run("jmp 0x20ffe");
        CHECK(m.lastVector() == kPF);
        CHECK(m.stack(1, 4) == 0x20ffe);
        CHECK(m.s.cr2 == 0x21000);
    }
    SECTION("REP MOVSB stops at the faulting element with its registers up to date") {
        Machine m(Mode::ProtectedPaging);
        m.unmap(0x21000);
        m.run("mov esi, DATA\n mov edi, 0x20ff0\n mov ecx, 0x40\n rep movsb");
        CHECK(m.lastVector() == kPF);
        CHECK(m.s.cr2 == 0x21000);
        CHECK(m.reg(RCX) == 0x30);
        CHECK(m.reg(RDI) == 0x21000);
        CHECK(m.reg(RSI) == Machine::kData + 0x10);
    }
}

TEST_CASE("exceptions: #PF in long mode, with NX", "[exception][paging]") {
    Machine m(Mode::Long);
    m.run("mov rax, [0x400000]");
    CHECK(m.lastVector() == kPF);
    CHECK(m.stack(0, 8) == 0);
    CHECK(m.s.cr2 == 0x400000);

    Machine w(Mode::Long);
    w.unmap(0x30000);
    w.run("mov rbx, 0x30008\n lea rcx, [rel .f]\n .f: mov [rbx], rax");
    CHECK(w.lastVector() == kPF);
    CHECK(w.stack(0, 8) == mmu::kPfWrite);
    CHECK(w.stack(1, 8) == w.reg(RCX));
    CHECK(w.s.cr2 == 0x30008);

    Machine nx(Mode::Long);
    nx.write(Machine::kPt64 + 0x30 * 8, 8, 0x30000 | 7 | (1ull << 63));
    nx.writeBytes(0x30000, {0xf4});
    nx.run("mov ecx, 0xc0000080\n rdmsr\n or eax, 0x800\n wrmsr\n mov rax, [0x30000]\n mov rax, 0x30000\n jmp rax");
    CHECK(nx.lastVector() == kPF);
    CHECK(nx.stack(0, 8) == (mmu::kPfPresent | mmu::kPfFetch));
    CHECK(nx.stack(1, 8) == 0x30000);
    CHECK(nx.s.cr2 == 0x30000);

    Machine rsvd(Mode::Long);
    rsvd.write(Machine::kPt64 + 0x30 * 8, 8, 0x30000 | 7 | (1ull << 63));  // NX bit set but EFER.NXE = 0
    rsvd.run("mov rax, [0x30000]");
    CHECK(rsvd.lastVector() == kPF);
    CHECK(rsvd.stack(0, 8) == (mmu::kPfPresent | mmu::kPfReserved));
}

// ---------------------------------------------------------------------------------------------
// #DE, #NP

TEST_CASE("exceptions: #DE through the protected- and long-mode IDT", "[exception]") {
    Machine p(Mode::Protected);
    p.run("mov eax, 10\n xor edx, edx\n xor ecx, ecx\n div ecx");
    CHECK(p.lastVector() == kDE);
    CHECK(p.stack(0, 4) == Machine::kCode + 9);  // no error code: EIP first
    CHECK(p.stack(1, 4) == Machine::kCode32);
    CHECK(p.reg(RSP) == Machine::kStackTop - 12);
    CHECK(p.reg(RAX) == 10);

    Machine l(Mode::Long);
    l.run("mov rax, 10\n xor edx, edx\n xor ecx, ecx\n lea rsi, [rel .f]\n .f: div rcx");
    CHECK(l.lastVector() == kDE);
    CHECK(l.stack(0, 8) == l.reg(RSI));
    CHECK(l.reg(RSP) == Machine::kStackTop - 40);
}

TEST_CASE("exceptions: a not-present gate is #NP with the IDT error code", "[exception]") {
    Machine p(Mode::Protected);
    p.setGate(0x31, Machine::handlerAddress(0x31), 0x0e);  // P = 0
    p.run("int 0x31");
    CHECK(p.lastVector() == kNP);
    CHECK(p.stack(0, 4) == 0x31 * 8 + 2);

    Machine l(Mode::Long);
    l.setGate(0x31, Machine::handlerAddress(0x31), 0x0e);
    l.run("int 0x31");
    CHECK(l.lastVector() == kNP);
    CHECK(l.stack(0, 8) == 0x31 * 8 + 2);  // the gate's index, not its byte offset

    // An exception (not INT n) through a not-present gate sets EXT in the error code.
    Machine x(Mode::Protected);
    x.setGate(kUD, Machine::handlerAddress(kUD), 0x0e);
    x.run("ud2");
    CHECK(x.lastVector() == kNP);
    CHECK(x.stack(0, 4) == kUD * 8 + 2 + 1);
}

// ---------------------------------------------------------------------------------------------
// Gate types

TEST_CASE("exceptions: trap gates keep IF, interrupt gates clear it", "[exception][interrupt]") {
    Machine trap(Mode::Protected);
    trap.setGate(0x30, Machine::handlerAddress(0x30), 0x8f);  // 32-bit trap gate
    trap.run("sti\n int 0x30");
    CHECK(trap.lastVector() == 0x30);
    CHECK(trap.s.flags.test(rflag::IF));

    Machine intr(Mode::Protected);
    intr.run("sti\n int 0x30");
    CHECK(intr.lastVector() == 0x30);
    CHECK_FALSE(intr.s.flags.test(rflag::IF));
    CHECK((intr.stack(2, 4) & rflag::IF) != 0);  // the saved EFLAGS still has it

    Machine trap64(Mode::Long);
    trap64.setGate(0x30, Machine::handlerAddress(0x30), 0x8f);  // 64-bit trap gate
    trap64.run("sti\n int 0x30");
    CHECK(trap64.s.flags.test(rflag::IF));
}

TEST_CASE("exceptions: a 16-bit interrupt gate pushes a 16-bit frame", "[exception][interrupt]") {
    Machine m(Mode::Protected);
    m.setGate(0x30, Machine::handlerAddress(0x30), 0x86);  // 16-bit interrupt gate
    m.run("int 0x30\n .after: nop");
    CHECK(m.lastVector() == 0x30);
    CHECK(m.reg(RSP) == Machine::kStackTop - 6);
    CHECK(m.stack(0, 2) == Machine::kCode + 2);  // IP after INT 0x30
    CHECK(m.stack(1, 2) == Machine::kCode32);
}

TEST_CASE("exceptions: a long-mode gate with an IST index switches stacks", "[exception][interrupt]") {
    Machine m(Mode::Long);
    m.write(Machine::kTss + 0x24, 8, 0x5808);              // IST1 (misaligned: the frame is aligned down)
    m.write(Machine::kIdt + 0x50 * 16 + 4, 1, 1);          // gate 0x50 uses IST1
    m.run("int 0x50");
    CHECK(m.lastVector() == 0x50);
    CHECK(m.reg(RSP) == 0x5800 - 40);
    CHECK(m.stack(3, 8) == Machine::kStackTop);  // the interrupted RSP
}

// ---------------------------------------------------------------------------------------------
// Double and triple faults

TEST_CASE("exceptions: a contributory fault while delivering #GP is a double fault", "[exception]") {
    Machine p(Mode::Protected);
    p.setGate(kGP, Machine::handlerAddress(kGP), 0x0e);  // the #GP gate is not present: #NP
    p.run("mov eax, cr4\n or eax, 1 << 12\n mov cr4, eax");
    CHECK(p.lastVector() == kDF);
    CHECK(p.stack(0, 4) == 0);                   // #DF's error code is zero
    CHECK(p.stack(1, 4) == Machine::kCode + 8);  // the instruction that faulted first

    Machine l(Mode::Long);
    l.setGate(kGP, Machine::handlerAddress(kGP), 0x0e);
    l.run("mov rax, 0x0000800000000000\n mov rbx, [rax]");
    CHECK(l.lastVector() == kDF);
    CHECK(l.stack(0, 8) == 0);
    CHECK(l.stack(1, 8) == Machine::kCode + 10);
}

TEST_CASE("exceptions: #GP while delivering #PF is a double fault", "[exception][paging]") {
    Machine m(Mode::ProtectedPaging);
    m.unmap(0x20000);
    // The #PF gate names a selector beyond the GDT limit.
    m.write(Machine::kIdt + kPF * 8, 8, (m.read(Machine::kIdt + kPF * 8, 8) & ~0xffff0000ull) | (0x58ull << 16));
    m.run("mov eax, [0x20000]");
    CHECK(m.lastVector() == kDF);
    CHECK(m.s.cr2 == 0x20000);
}

TEST_CASE("exceptions: #PF while delivering #PF is a double fault, taken on an IST stack", "[exception][paging]") {
    Machine m(Mode::Long);
    m.unmap(0x6000);                                 // the stack page
    m.write(Machine::kTss + 0x24, 8, 0x5000);        // IST1 for #DF
    m.write(Machine::kIdt + kDF * 16 + 4, 1, 1);
    m.run("mov rax, [0x30000]\n");                  // mapped: fine
    CHECK(m.lastVector() == -1);

    Machine f(Mode::Long);
    f.unmap(0x6000);
    f.unmap(0x30000);
    f.write(Machine::kTss + 0x24, 8, 0x5000);
    f.write(Machine::kIdt + kDF * 16 + 4, 1, 1);
    f.run("mov rax, [0x30000]");
    CHECK(f.lastVector() == kDF);
    CHECK(f.reg(RSP) == 0x5000 - 48);
    CHECK(f.stack(0, 8) == 0);
    CHECK(f.stack(1, 8) == Machine::kCode);
    CHECK(f.s.cr2 == Machine::kStackTop - 8);  // the second fault: pushing the #PF frame
}

TEST_CASE("exceptions: #PF while delivering #DF on the same bad stack shuts down", "[exception][paging]") {
    Machine m(Mode::ProtectedPaging);
    m.unmap(0x6000);
    m.unmap(0x20000);
    const VmExit e = m.runExit("mov eax, [0x20000]");
    CHECK(e.reason == ExitReason::Shutdown);
    CHECK(e.rip == Machine::kCode);
}

TEST_CASE("exceptions: a benign fault while delivering is handled serially", "[exception]") {
    // #UD whose gate is not present: #NP is delivered normally (no #DF).
    Machine m(Mode::Protected);
    m.setGate(kUD, Machine::handlerAddress(kUD), 0x0e);
    m.run("ud2");
    CHECK(m.lastVector() == kNP);
}

TEST_CASE("exceptions: a fault while delivering #DF is a triple fault (shutdown)", "[exception]") {
    Machine p(Mode::Protected);
    p.setGate(kGP, Machine::handlerAddress(kGP), 0x0e);
    p.setGate(kDF, Machine::handlerAddress(kDF), 0x0e);
    const VmExit e = p.runExit("nop\n mov eax, cr4\n or eax, 1 << 12\n mov cr4, eax");
    CHECK(e.reason == ExitReason::Shutdown);
    CHECK(e.rip == Machine::kCode + 9);
    CHECK(p.lastVector() == -1);

    SECTION("an empty IDT in protected mode") {
        Machine m(Mode::Protected);
        m.s.idtr.limit = 0;
        CHECK(m.runExit("ud2").reason == ExitReason::Shutdown);
    }
    SECTION("an empty IDT in long mode") {
        Machine m(Mode::Long);
        m.s.idtr.limit = 0;
        CHECK(m.runExit("xor ecx, ecx\n div ecx").reason == ExitReason::Shutdown);
    }
}

TEST_CASE("exceptions: a real-mode fault with the IVT limit too small shuts down", "[exception]") {
    Machine m(Mode::Real);
    const VmExit e = m.runExit("lidt [.idt]\n jmp .go\n .idt: dw 0\n dd 0\n .go: ud2");
    CHECK(e.reason == ExitReason::Shutdown);
    CHECK(m.lastVector() == -1);
}

// ---------------------------------------------------------------------------------------------
// Unimplemented instructions

TEST_CASE("exceptions: an unimplemented instruction leaves with its RIP and bytes", "[exception]") {
    Machine m(Mode::Protected);
    const VmExit e = m.runExit("mov eax, 1\n fld1\n mov eax, 2");
    REQUIRE(e.reason == ExitReason::UnimplementedInsn);
    CHECK(e.rip == Machine::kCode + 5);
    CHECK(e.insn.length == 2);
    CHECK(e.insn.bytes[0] == 0xd9);
    CHECK(e.insn.bytes[1] == 0xe8);
    CHECK(m.s.rip == Machine::kCode + 5);  // not skipped
    CHECK(m.reg(RAX) == 1);
    CHECK(describeExit(e) == "bytes d9 e8");
    // Running again reports it again.
    const VmExit again = m.cpu.run(10);
    CHECK(again.reason == ExitReason::UnimplementedInsn);
    CHECK(again.rip == Machine::kCode + 5);

    Machine l(Mode::Long);
    const VmExit b = l.runExit("nop\n db 0x48, 0xdd, 0x04, 0x24");  // fld qword [rsp] with REX.W
    REQUIRE(b.reason == ExitReason::UnimplementedInsn);
    CHECK(b.rip == Machine::kCode + 1);
    CHECK(b.insn.length == 4);
    CHECK(b.insn.bytes[0] == 0x48);
    CHECK(b.insn.bytes[3] == 0x24);

    const std::vector<std::string> unimplemented = {"fninit", "fwait", "fld dword [DATA]", "fnstsw ax",
                                                    "fadd st0, st1", "fild dword [DATA]"};
    preassemble(Mode::Protected, unimplemented);
    for (const std::string& code : unimplemented) {
        INFO(code);
        Machine u(Mode::Protected);
        CHECK(u.runExit(code).reason == ExitReason::UnimplementedInsn);
        CHECK(u.s.rip == Machine::kCode);
    }
}

// ---------------------------------------------------------------------------------------------
// Mode switches

TEST_CASE("exceptions: real -> protected -> long mode, and back to protected", "[exception][modes]") {
    Machine m(Mode::Real);
    m.run(R"(
    bits 16
        cli
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax               ; PE: CS still holds its real-mode cache (16-bit)
        jmp 0x08:pm
    gdtr: dw 0x57
          dd 0x1000
    bits 32
    pm:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x7000
        mov dword [DATA], 0x32323232
        mov eax, cr4
        or eax, 0x20               ; PAE
        mov cr4, eax
        mov eax, 0x12000           ; the harness's PML4
        mov cr3, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x100              ; EFER.LME
        wrmsr
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax               ; paging on: IA-32e mode, still compatibility code
        mov ecx, 0xc0000080
        rdmsr
        mov [DATA+4], eax          ; EFER with LMA
        jmp 0x28:lm
    bits 64
    lm:
        mov rax, 0x6464646464646464
        mov [DATA+8], rax
        push 0x08
        lea rax, [rel compat]
        push rax
        retfq                      ; back to compatibility mode
    bits 32
    compat:
        mov eax, cr0
        and eax, 0x7fffffff
        mov cr0, eax               ; paging off from compatibility mode leaves IA-32e mode
        mov ecx, 0xc0000080
        rdmsr
        mov [DATA+16], eax
        mov dword [DATA+20], 0x33333333
    )");
    CHECK(m.read(Machine::kData, 4) == 0x32323232);
    CHECK(m.read(Machine::kData + 4, 4) == (efer::LME | efer::LMA));
    CHECK(m.read(Machine::kData + 8, 8) == 0x6464646464646464ull);
    CHECK(m.read(Machine::kData + 16, 4) == efer::LME);
    CHECK(m.read(Machine::kData + 20, 4) == 0x33333333);
    CHECK(m.s.mode() == CpuMode::Protected32);
    CHECK_FALSE(m.s.longModeActive());
    CHECK_FALSE(m.s.pagingEnabled());
    CHECK(m.lastVector() == -1);
}

TEST_CASE("exceptions: enabling paging with LME but without PAE is #GP", "[exception][modes]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov eax, 0x12000
        mov cr3, eax
        mov ecx, 0xc0000080
        rdmsr
        or eax, 0x100
        wrmsr
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
    )");
    CHECK(m.lastVector() == kGP);
    CHECK_FALSE(m.s.pagingEnabled());
    CHECK_FALSE(m.s.longModeActive());
}

TEST_CASE("exceptions: the mode each harness setup produces", "[exception][modes]") {
    CHECK(Machine(Mode::Real).s.mode() == CpuMode::Real);
    CHECK(Machine(Mode::Protected).s.mode() == CpuMode::Protected32);
    CHECK(Machine(Mode::ProtectedPaging).s.pagingEnabled());
    CHECK(Machine(Mode::Long).s.mode() == CpuMode::Long64);
    Machine u(Mode::Long);
    u.enterUser();
    CHECK(u.s.cpl() == 3);
}

// ---------------------------------------------------------------------------------------------
// #DB single-step (RFLAGS.TF) and #AC alignment checks

TEST_CASE("exceptions: TF traps after the next instruction with DR6.BS", "[exception][debug]") {
    Machine p(Mode::Protected);
    // pushfd (1) + or dword [esp], 0x100 (7) + popfd (1): TF is set from the first NOP on;
    // the trap comes after that NOP, with EIP pointing at the second one.
    p.run("pushfd\n or dword [esp], 0x100\n popfd\n nop\n nop");
    CHECK(p.lastVector() == kDB);
    CHECK(p.stack(0, 4) == Machine::kCode + 10);
    CHECK((p.stack(2, 4) & rflag::TF) != 0);  // the pushed EFLAGS still has TF: IRET resumes stepping
    CHECK((p.s.dr[6] & (1ull << 14)) != 0);
    CHECK_FALSE(p.s.flags.test(rflag::TF));   // the handler runs with TF clear

    Machine l(Mode::Long);
    l.run("pushfq\n or qword [rsp], 0x100\n popfq\n lea rax, [rel .next]\n .next: nop");
    CHECK(l.lastVector() == kDB);
    CHECK(l.stack(0, 8) == l.reg(RAX));  // after the LEA, before the NOP
}

TEST_CASE("exceptions: POPF that clears TF still traps once; INT n does not trap", "[exception][debug]") {
    Machine p(Mode::Protected);
    p.run("pushfd\n or dword [esp], 0x100\n popfd\n pushfd\n and dword [esp], ~0x100\n popfd\n nop");
    // The first pushfd after TF was set traps (TF was set when it started).
    CHECK(p.lastVector() == kDB);
    CHECK(p.stack(0, 4) == Machine::kCode + 10);

    Machine n(Mode::Protected);
    n.setGate(0x40, Machine::handlerAddress(0x40), 0x8e);
    n.run("pushfd\n or dword [esp], 0x100\n popfd\n int 0x40");
    CHECK(n.lastVector() == 0x40);  // the software interrupt's handler, not #DB
}

TEST_CASE("exceptions: #AC for misaligned user accesses with CR0.AM and EFLAGS.AC", "[exception][align]") {
    auto userRun = [](bool am, bool ac, const char* code) {
        auto m = std::make_unique<Machine>(Mode::ProtectedPaging);
        for (unsigned page = 0; page < 0x40; ++page)  // low memory user-accessible
            m->write(Machine::kPt32 + page * 4, 4, (page << 12) | 7);
        if (am) m->s.cr0 |= cr0::AM;
        if (ac) m->s.flags.setSystem(rflag::AC, true);
        m->enterUser();
        m->run(code);
        return m;
    };
    SECTION("a misaligned dword read faults with error code 0") {
        auto m = userRun(true, true, "mov eax, [0x21001]");
        CHECK(m->lastVector() == kAC);
        CHECK(m->stack(0, 4) == 0);
    }
    SECTION("a misaligned word write faults; aligned accesses and bytes do not") {
        auto ok = userRun(true, true, "mov eax, [0x21004]\n mov byte [0x21003], 1\n mov word [0x21002], 2");
        CHECK(ok->lastVector() != kAC);
        auto m = userRun(true, true, "mov word [0x21003], 2");
        CHECK(m->lastVector() == kAC);
    }
    SECTION("without CR0.AM or EFLAGS.AC there is no check") {
        CHECK(userRun(false, true, "mov eax, [0x21001]")->lastVector() != kAC);
        CHECK(userRun(true, false, "mov eax, [0x21001]")->lastVector() != kAC);
    }
}
