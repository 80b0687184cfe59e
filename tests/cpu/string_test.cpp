// String instructions: MOVS/STOS/LODS/CMPS/SCAS with and without REP/REPE/REPNE, DF = 0/1,
// 16- vs 32-bit address size, segment overrides, long REPs, and INS/OUTS port exits.
#include <cstring>
#include <string>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;
namespace mmu = hvlab::mmu;

namespace {

void writeString(Machine& m, uint64_t address, const std::string& text) {
    m.writeBytes(address, std::vector<uint8_t>(text.begin(), text.end()));
}

std::string readString(const Machine& m, uint64_t address, size_t length) {
    std::string out;
    for (size_t k = 0; k < length; ++k) out += static_cast<char>(m.read(address + k, 1));
    return out;
}

constexpr uint64_t kSrc = Machine::kData, kDst = Machine::kData + 0x100;

}  // namespace

TEST_CASE("string: REP MOVSB forward copies and advances ESI/EDI", "[string]") {
    Machine m(Mode::Protected);
    writeString(m, kSrc, "hello, world!");
    m.run("cld\n mov esi, DATA\n mov edi, DATA+0x100\n mov ecx, 13\n push 0x8d5\n popfd\n rep movsb");
    CHECK(readString(m, kDst, 13) == "hello, world!");
    CHECK(m.read(kDst + 13, 1) == 0);
    CHECK(m.reg(RSI) == kSrc + 13);
    CHECK(m.reg(RDI) == kDst + 13);
    CHECK(m.reg(RCX) == 0);
    CHECK(m.arith() == (CF | PF | AF | ZF | SF | OF));  // MOVS changes no flags
}

TEST_CASE("string: MOVS with DF = 1 copies backwards", "[string]") {
    Machine m(Mode::Protected);
    for (unsigned k = 0; k < 4; ++k) m.write(kSrc + 4 * k, 4, 0x11111111u * (k + 1));
    m.run("std\n mov esi, DATA+12\n mov edi, DATA+0x10c\n mov ecx, 4\n rep movsd\n cld");
    for (unsigned k = 0; k < 4; ++k) CHECK(m.read(kDst + 4 * k, 4) == 0x11111111u * (k + 1));
    CHECK(m.reg(RSI) == kSrc - 4);
    CHECK(m.reg(RDI) == kDst - 4);
    CHECK(m.reg(RCX) == 0);
}

TEST_CASE("string: single MOVSB/MOVSW/MOVSD/MOVSQ", "[string]") {
    Machine m(Mode::Long);
    m.write(kSrc, 8, 0x8877665544332211ull);
    m.run(R"(
        mov rsi, DATA
        mov rdi, DATA+0x100
        movsb
        movsw
        movsd
        mov rsi, DATA
        movsq
    )");
    CHECK(m.read(kDst, 8) == 0x1177665544332211ull);
    CHECK(m.read(kDst + 7, 8) == 0x8877665544332211ull);
    CHECK(m.reg(RSI) == kSrc + 8);
    CHECK(m.reg(RDI) == kDst + 15);
}

TEST_CASE("string: overlapping REP MOVSB replicates like a byte loop", "[string]") {
    Machine m(Mode::Protected);
    m.write(kSrc, 1, 0xab);
    m.run("mov esi, DATA\n mov edi, DATA+1\n mov ecx, 8\n rep movsb");
    for (unsigned k = 0; k <= 8; ++k) CHECK(m.read(kSrc + k, 1) == 0xab);
}

TEST_CASE("string: 16-bit address size in 32-bit code wraps SI/DI and counts with CX", "[string]") {
    Machine m(Mode::Protected);
    m.write(0xfffe, 1, 'A');
    m.write(0xffff, 1, 'B');
    m.write(0x0000, 1, 'C');
    m.run("mov esi, 0x1fffe\n mov edi, 0x1c100\n mov ecx, 0x10003\n a16 rep movsb");
    CHECK(readString(m, 0xc100, 3) == "ABC");
    CHECK(m.reg(RSI) == 0x10001);  // SI wrapped, the upper half of ESI is untouched
    CHECK(m.reg(RDI) == 0x1c103);
    CHECK(m.reg(RCX) == 0x10000);
}

TEST_CASE("string: real-mode REP MOVSW with segments, and a 32-bit address size", "[string]") {
    Machine m(Mode::Real);
    writeString(m, 0x20010, "abcdefgh");
    m.run(R"(
        mov ax, 0x2000
        mov ds, ax
        mov ax, 0x0c00
        mov es, ax
        mov si, 0x10
        mov di, 0x40
        mov cx, 4
        rep movsw            ; DS:SI -> ES:DI
        mov esi, 0x10
        mov edi, 0x80
        mov ecx, 3
        a32 rep movsb        ; ESI/EDI/ECX
    )");
    CHECK(readString(m, 0xc040, 8) == "abcdefgh");
    CHECK(readString(m, 0xc080, 3) == "abc");
    CHECK(m.reg(RSI) == 0x13);
    CHECK(m.reg(RDI) == 0x83);
    CHECK(m.reg(RCX) == 0);
}

TEST_CASE("string: a segment override replaces DS for the source only", "[string]") {
    Machine m(Mode::Real);
    writeString(m, 0xc000 + 0x20, "xyz");
    m.run(R"(
        mov ax, 0x0c00
        mov fs, ax
        xor ax, ax
        mov es, ax
        mov si, 0x20
        mov di, 0xc100
        mov cx, 3
        rep fs movsb         ; FS:SI -> ES:DI
        mov si, 0x20
        fs lodsb
    )");
    CHECK(readString(m, 0xc100, 3) == "xyz");
    CHECK((m.reg(RAX) & 0xff) == 'x');
}

TEST_CASE("string: REP with a zero count does nothing", "[string]") {
    Machine m(Mode::Protected);
    m.write(kDst, 4, 0x12345678);
    m.run("mov eax, 0\n mov esi, DATA\n mov edi, DATA+0x100\n mov ecx, 0\n push 0x8d5\n popfd\n rep stosd\n repe cmpsb\n rep movsb");
    CHECK(m.read(kDst, 4) == 0x12345678);
    CHECK(m.reg(RSI) == kSrc);
    CHECK(m.reg(RDI) == kDst);
    CHECK(m.arith() == (CF | PF | AF | ZF | SF | OF));
}

TEST_CASE("string: long REPs run across slices", "[string]") {
    Machine m(Mode::Protected);
    m.run(R"(
        mov edi, DATA2
        mov ecx, 10000
        mov al, 0x5a
        rep stosb
        mov esi, DATA2
        mov edi, DATA2 + 0x4000
        mov ecx, 2500
        rep movsd
    )");
    CHECK(m.reg(RCX) == 0);
    CHECK(m.reg(RDI) == Machine::kData2 + 0x4000 + 10000);
    bool allSet = true;
    for (unsigned k = 0; k < 10000; ++k)
        allSet = allSet && m.read(Machine::kData2 + k, 1) == 0x5a && m.read(Machine::kData2 + 0x4000 + k, 1) == 0x5a;
    CHECK(allSet);
    CHECK(m.read(Machine::kData2 + 10000, 1) == 0);
}

TEST_CASE("string: STOS in every size and direction", "[string]") {
    Machine m(Mode::Long);
    m.run(R"(
        mov rdi, DATA
        mov rax, 0x1122334455667788
        stosb
        stosw
        stosd
        stosq
        mov [DATA2], rdi
        std
        mov rdi, DATA+0x100+6
        mov ecx, 4
        mov ax, 0xbeef
        rep stosw
        cld
    )");
    CHECK(m.read(kSrc, 8) == 0x8855667788778888ull);
    CHECK(m.read(kSrc + 7, 8) == 0x1122334455667788ull);
    CHECK(m.read(Machine::kData2, 8) == kSrc + 15);
    for (unsigned k = 0; k < 4; ++k) CHECK(m.read(kDst + 2 * k, 2) == 0xbeef);
    CHECK(m.reg(RDI) == kDst - 2);
}

TEST_CASE("string: LODS in every size and direction", "[string]") {
    Machine m(Mode::Long);
    m.write(kSrc, 8, 0x8877665544332211ull);
    m.write(kSrc + 8, 8, 0x0102030405060708ull);
    const auto r = m.snapshots({
        "mov rsi, DATA\n mov rax, -1\n lodsb",
        "lodsw",
        "mov rax, -1\n lodsd",  // zero-extends RAX
        "mov rsi, DATA+8\n lodsq",
        "std\n mov rsi, DATA+3\n lodsb\n mov rbx, rsi\n cld",
        "mov rsi, DATA\n mov ecx, 3\n rep lodsb\n mov rbx, rsi",
    });
    CHECK(r[0].rax == 0xffffffffffffff11ull);
    CHECK(r[1].rax == 0xffffffffffff3322ull);
    CHECK(r[2].rax == 0x77665544ull);
    CHECK(r[3].rax == 0x0102030405060708ull);
    CHECK((r[4].rax & 0xff) == 0x44);
    CHECK(r[4].rbx == kSrc + 2);
    CHECK((r[5].rax & 0xff) == 0x33);
    CHECK(r[5].rbx == kSrc + 3);
}

TEST_CASE("string: REPE/REPNE CMPS stop on the first difference/match", "[string]") {
    Machine m(Mode::Protected);
    writeString(m, kSrc, "hello world");
    writeString(m, kDst, "hello there");
    const auto r = m.snapshots({
        "cld\n mov esi, DATA\n mov edi, DATA+0x100\n mov ecx, 11\n repe cmpsb\n mov ebx, esi",
        "mov esi, DATA+5\n mov edi, DATA+0x100+6\n mov ecx, 10\n repne cmpsb\n mov ebx, esi",
        "mov esi, DATA\n mov edi, DATA+0x100\n mov ecx, 5\n repe cmpsb\n mov ebx, esi",   // all equal
        "mov dword [DATA+0x20], 5\n mov dword [DATA+0x24], 7\n mov esi, DATA+0x20\n mov edi, DATA+0x24\n cmpsd",
    });
    // 'w' (0x77) vs 't' (0x74) at index 6: stops after comparing it.
    CHECK(r[0].rbx == kSrc + 7);
    CHECK(r[0].rcx == 4);
    CHECK(r[0].arith() == PF);  // 0x77 - 0x74 = 3
    // " world" vs "there": ' '/'t', 'w'/'h', 'o'/'e' differ; 'r'/'r' is the first equal pair.
    CHECK(r[1].rbx == kSrc + 9);
    CHECK(r[1].rcx == 6);
    CHECK((r[1].rflags & rflag::ZF) != 0);
    CHECK(r[2].rbx == kSrc + 5);
    CHECK(r[2].rcx == 0);
    CHECK((r[2].rflags & rflag::ZF) != 0);
    CHECK(r[3].arith() == (CF | AF | SF));  // 5 - 7: [ESI] - [EDI]
}

TEST_CASE("string: SCAS finds a byte and compares accumulators", "[string]") {
    Machine m(Mode::Long);
    writeString(m, kSrc, "find the x here");
    m.write(Machine::kData2, 8, 0x1111111111111111ull);
    m.write(Machine::kData2 + 8, 8, 0x1111111111111111ull);
    m.write(Machine::kData2 + 16, 8, 0x2222222222222222ull);
    const auto r = m.snapshots({
        "mov rdi, DATA\n mov al, 'x'\n mov rcx, -1\n repne scasb\n mov rbx, rdi",
        "mov rdi, DATA2\n mov rax, 0x1111111111111111\n mov ecx, 5\n repe scasq\n mov rbx, rdi",
        "std\n mov rdi, DATA+14\n mov al, ' '\n mov ecx, 20\n repne scasb\n mov rbx, rdi\n cld",
        "mov rdi, DATA\n mov eax, 0x646e6967\n scasd",  // EAX - "find" (0x646e6966) = 1
    });
    CHECK(r[0].rbx == kSrc + 10);  // one past the 'x' at index 9
    CHECK(r[0].rcx == static_cast<uint64_t>(-11));
    CHECK((r[0].rflags & rflag::ZF) != 0);
    CHECK(r[1].rbx == Machine::kData2 + 24);  // stopped after the mismatching third qword
    CHECK(r[1].rcx == 2);
    CHECK((r[1].rflags & rflag::CF) != 0);    // 0x1111... - 0x2222... borrows
    CHECK(r[2].rbx == kSrc + 9);              // the space at index 10, and DI moved one further down
    CHECK(r[2].rcx == 15);
    CHECK(r[3].arith() == NONE);              // 0x646e6967 - 0x646e6966 = 1
}

TEST_CASE("string: REPNE CMPSB stops at the first equal pair", "[string]") {
    Machine m(Mode::Protected);
    writeString(m, kSrc, "abcdef");
    writeString(m, kDst, "xyzdqq");
    m.run("mov esi, DATA\n mov edi, DATA+0x100\n mov ecx, 6\n repne cmpsb");
    CHECK(m.reg(RSI) == kSrc + 4);
    CHECK(m.reg(RCX) == 2);
    CHECK(m.arith() == (PF | ZF));
}

TEST_CASE("string: OUTS and INS leave with one port exit per element", "[string][io]") {
    Machine m(Mode::Protected);
    writeString(m, kSrc, "Hi!");
    m.write(kSrc + 4, 4, 0xdeadbeef);
    m.inValue = 0x41424344;
    m.run(R"(
        mov dx, 0x3f8
        mov esi, DATA
        mov ecx, 3
        rep outsb
        mov esi, DATA+4
        outsw
        outsd
        mov dx, 0x60
        mov edi, DATA+0x100
        mov ecx, 4
        rep insb
        insd
        std
        mov edi, DATA+0x120
        insw
        mov ebx, edi
        cld
    )");
    REQUIRE(m.ports.size() == 11);
    const char expected[] = "Hi!";
    for (unsigned k = 0; k < 3; ++k) {
        CHECK(m.ports[k].write);
        CHECK(m.ports[k].port == 0x3f8);
        CHECK(m.ports[k].size == 1);
        CHECK(m.ports[k].value == static_cast<uint8_t>(expected[k]));
    }
    CHECK(m.ports[3].size == 2);
    CHECK(m.ports[3].value == 0xbeef);
    CHECK(m.ports[4].size == 4);
    CHECK(m.ports[4].value == 0x0000dead);  // ESI moved on by 2: bytes 6..9
    for (unsigned k = 5; k < 11; ++k) {
        CHECK_FALSE(m.ports[k].write);
        CHECK(m.ports[k].port == 0x60);
    }
    CHECK(m.ports[5].size == 1);
    CHECK(m.ports[9].size == 4);
    CHECK(m.ports[10].size == 2);
    CHECK(readString(m, kDst, 4) == "DDDD");
    CHECK(m.read(kDst + 4, 4) == 0x41424344);
    CHECK(m.read(kDst + 0x20, 2) == 0x4344);
    CHECK(m.reg(RBX) == kDst + 0x1e);
    CHECK(m.reg(RCX) == 0);
}

TEST_CASE("string: INS/OUTS at CPL 3 without I/O privilege are #GP", "[string][io]") {
    Machine m(Mode::Protected);
    m.enterUser();
    m.run("mov dx, 0x3f8\n mov esi, DATA\n outsb");
    CHECK(m.lastVector() == kGP);
    CHECK(m.ports.empty());
    CHECK(m.reg(RSI) == kSrc);
}

TEST_CASE("string: INS checks the destination before reading the port", "[string][io]") {
    Machine m(Mode::ProtectedPaging);
    m.unmap(0x20000);
    m.run("mov edi, 0x20000\n mov dx, 0x60\n insb");
    CHECK(m.lastVector() == kPF);
    CHECK(m.stack(0, 4) == mmu::kPfWrite);
    CHECK(m.ports.empty());  // the device never saw a read it could not deliver
    CHECK(m.reg(RDI) == 0x20000);
}
