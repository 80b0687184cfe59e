// The specialised fast handlers (cpu/exec_fast.cpp) must do exactly what the generic handlers
// of the opcode table do: run both on the same random states and compare everything.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include <fmt/format.h>

#include "cpu/decoder.hpp"
#include "cpu/exec_fast.hpp"
#include "cpu/interpreter.hpp"
#include "tests/support/assemble.hpp"

using namespace hvlab;

namespace {

// Identity-maps the first 2 MiB with one 2 MiB page (tables at 0x10000, above the data).
void writePageTables(mmu::PhysicalMap& map) {
    const uint64_t pml4 = 0x11003, pdpt = 0x12003, pd = 0x83;
    map.write(0x10000, &pml4, 8);
    map.write(0x11000, &pdpt, 8);
    map.write(0x12000, &pd, 8);
}

struct Rig {
    mmu::HostMemory host{1 << 20};
    mmu::PhysicalMap map;
    cpu::CpuState s;
    cpu::CpuidModel model = cpu::CpuidModel::hvlabDefault();
    cpu::Interpreter interp{s, map, model};
    Rig() {
        map.addRam(0, host.size(), host.data());
        writePageTables(map);
    }
};

void setMode(cpu::CpuState& s, unsigned bits) {
    s = cpu::CpuState::atReset();
    s.cr0 = cpu::cr0::PE | cpu::cr0::ET;
    for (auto& sg : s.seg) sg = cpu::Segment{0x10, 0, 0xffffffff, 0xc093};
    s.seg[cpu::CS] = cpu::Segment{0x08, 0, 0xffffffff, static_cast<uint16_t>(bits == 64 ? 0xa09b : 0xc09b)};
    if (bits == 64) {
        s.efer = cpu::efer::LME | cpu::efer::LMA;
        s.cr4 = cpu::cr4::PAE;
        s.cr0 |= cpu::cr0::PG;
        s.cr3 = 0x10000;
    }
}

}  // namespace

TEST_CASE("fast handlers agree with the generic ones", "[cpu][fast]") {
    const char* forms32[] = {
        "add eax, ebx", "adc ecx, edx", "sbb esi, edi", "sub eax, ecx", "and ebx, edx", "or edx, esi",
        "xor edi, eax", "cmp eax, ebx", "db 0x03, 0xc1", "add eax, 0x12345678",
        "sub ecx, 7", "and edx, -3", "xor esi, 0x7fffffff", "cmp edi, 100", "adc eax, 5", "sbb ebx, -1",
        "or eax, 0x80000000", "test eax, ebx", "mov eax, ebx", "db 0x8b, 0xc3", "mov ecx, [0x100]",
        "mov [0x104], edx", "lea eax, [ebx + ecx*4 + 12]", "rol eax, 3", "ror ebx, 31", "shl ecx, 1",
        "shr edx, 17", "sar esi, 5", "sal edi, 4", "rol eax, 1", "shr ebx, 1", "sar ecx, 1", "inc eax",
        "dec ebx", "db 0xff, 0xc1", "db 0xff, 0xca", "mov esi, 0xdeadbeef", "rol eax, 0", "shl eax, 32",
    };
    const char* forms64[] = {
        "add rax, rbx", "adc r8, r9", "sub r10, rax", "cmp rax, rbx", "xor r15, r14", "and rax, -2",
        "or rbx, 0x7fffffff", "sub rcx, 1", "test r8, r9", "mov rax, r12", "mov r9, [rax]",
        "mov [rbx], r10", "lea rax, [rbx + rcx*8 - 5]", "rol rax, 13", "ror r8, 63", "shl rbx, 63",
        "shr rcx, 40", "sar rdx, 3", "inc r11", "dec r12", "mov r13, 0x123456789abcdef0",
        "mov eax, ebx", "add eax, r9d", "inc eax",
    };
    std::mt19937_64 rng(1234);
    size_t compared = 0;
    for (unsigned bits : {32u, 64u}) {
        const auto& forms = bits == 32 ? std::vector<const char*>(std::begin(forms32), std::end(forms32))
                                       : std::vector<const char*>(std::begin(forms64), std::end(forms64));
        for (const char* form : forms) {
            const auto bytes = test::assemble(fmt::format("bits {}\n{}", bits, form));
            cpu::DecodedInsn d;
            REQUIRE(cpu::decode(bytes.data(), bytes.size(), bits == 64 ? cpu::CodeSize::Bits64 : cpu::CodeSize::Bits32,
                                d) == cpu::DecodeStatus::Ok);
            const cpu::ExecFn fast = d.exec;
            const cpu::ExecFn generic = d.entry->exec;
            INFO(form);
            REQUIRE(fast != generic);  // the form list only names forms that have a fast handler
            Rig a, b;
            for (int trial = 0; trial < 200; ++trial) {
                setMode(a.s, bits);
                a.interp.stateLoaded();
                for (unsigned r = 0; r < 16; ++r) {
                    a.s.gpr[r] = rng();
                    if (r == cpu::RAX || r == cpu::RBX) a.s.gpr[r] &= 0xff0;  // memory operands land in the compared RAM
                }
                if (trial % 4 == 0) a.s.gpr[cpu::RAX] = a.s.gpr[cpu::RBX];   // equal operands
                a.s.setRflags((rng() & cpu::rflag::ARITH) | cpu::rflag::RESERVED1);
                for (uint64_t k = 0; k < 0x1000; k += 8) {
                    const uint64_t v = k * 0x9e3779b97f4a7c15ull;
                    std::memcpy(a.host.data() + k, &v, 8);
                }
                b.s = a.s;
                b.interp.stateLoaded();
                std::memcpy(b.host.data(), a.host.data(), 0x1000);
                fast(a.interp, d);
                generic(b.interp, d);
                for (unsigned r = 0; r < 16; ++r) REQUIRE(a.s.gpr[r] == b.s.gpr[r]);
                REQUIRE(a.s.rflags() == b.s.rflags());
                REQUIRE(std::memcmp(a.host.data(), b.host.data(), 0x1000) == 0);
                ++compared;
            }
        }
    }
    CHECK(compared > 10000);
}
