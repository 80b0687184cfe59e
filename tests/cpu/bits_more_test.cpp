// Bit instructions: BT/BTS/BTR/BTC with register and immediate offsets (including the
// register offset reaching memory beyond the operand, negative too), BSF/BSR (ZF, the
// destination on a zero source), SHLD/SHRD (imm8 and CL, count masking, flags).
#include <bit>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;
using namespace hvlab::test::fl;

namespace {
__extension__ using u128 = unsigned __int128;
uint64_t maskOf(unsigned size) { return size == 8 ? ~0ull : (1ull << (size * 8)) - 1; }
}  // namespace

TEST_CASE("bits: BT/BTS/BTR/BTC register forms, every operand size", "[bits]") {
    // {code, expected RAX, expected CF}. RBX holds the offset; it is taken modulo the size.
    struct Case {
        const char* code;
        uint64_t rax;
        bool cf;
    };
    const Case cases[] = {
        {"mov rax, 0x8000000000000001\n mov rbx, 63\n bt rax, rbx", 0x8000000000000001, true},
        {"mov rax, 0x8000000000000001\n mov rbx, 127\n bts rax, rbx", 0x8000000000000001, true},  // 127 mod 64
        {"mov rax, 0x8000000000000001\n mov rbx, 62\n bts rax, rbx", 0xc000000000000001, false},
        {"mov rax, 0x8000000000000001\n mov rbx, 0\n btr rax, rbx", 0x8000000000000000, true},
        {"mov rax, 0x8000000000000001\n mov rbx, 4\n btc rax, rbx", 0x8000000000000011, false},
        {"mov rax, -1\n mov ebx, 33\n btr eax, ebx", 0xfffffffd, true},         // 32-bit: zero-extends
        {"mov rax, -1\n mov ebx, 31\n bt eax, ebx", 0xffffffffffffffff, true},  // BT writes nothing
        {"mov rax, -1\n mov ebx, 17\n btc ax, bx", 0xfffffffffffffffd, true},   // 16-bit: 17 mod 16
        {"mov rax, 0\n mov ebx, 15\n bts ax, bx", 0x8000, false},
        {"mov rax, 0x10\n bt eax, 4", 0x10, true},                                 // 0F BA /4
        {"mov rax, 0x10\n bts rax, 68", 0x10, true},                               // imm 68 mod 64
        {"mov rax, 0x10\n btr eax, 36", 0x0, true},                                // imm 36 mod 32
        {"mov rax, 0x10\n btc ax, 31", 0x8010, false},                             // imm 31 mod 16
        {"mov rax, 0\n btc rax, 63", 0x8000000000000000, false},
    };
    std::vector<std::string> snippets;
    for (const Case& c : cases) snippets.push_back(c.code);
    for (bool carryIn : {false, true}) {
        std::vector<std::string> withFlags;
        for (const std::string& s : snippets)
            withFlags.push_back("xor edx, edx\n" + std::string(carryIn ? "stc\n" : "clc\n") + s);  // ZF = 1
        Machine m(Mode::Long);
        const auto r = m.snapshots(withFlags);
        for (size_t k = 0; k < std::size(cases); ++k) {
            INFO(cases[k].code);
            CHECK(r[k].rax == cases[k].rax);
            CHECK(((r[k].rflags & rflag::CF) != 0) == cases[k].cf);
            CHECK((r[k].rflags & rflag::ZF) != 0);  // ZF unaffected
        }
    }
}

TEST_CASE("bits: a register bit offset addresses memory beyond the operand", "[bits]") {
    // The operand at DATA+16; the offset selects a unit relative to it, signed.
    Machine m(Mode::Protected);
    m.run(R"(
        mov dword [DATA], 0
        mov dword [DATA+4], 0
        mov dword [DATA+8], 0
        mov dword [DATA+12], 0x80000000
        mov dword [DATA+16], 0
        mov dword [DATA+20], 0
        mov dword [DATA+24], 0
        mov ecx, 35
        bts dword [DATA+16], ecx      ; bit 3 of the dword at DATA+20
        setc bl
        mov ecx, -1
        bt dword [DATA+16], ecx       ; bit 31 of the dword at DATA+12
        setc bh
        mov ecx, -33
        bts dword [DATA+16], ecx      ; bit 31 of the dword at DATA+8
        mov cx, 0x21
        btc word [DATA+16], cx        ; 16-bit: bit 1 of the word at DATA+20
        mov cx, 0xfff0                ; -16: bit 0 of the word at DATA+14
        btr word [DATA+16], cx
        setc dl
        mov ecx, 100
        bts dword [DATA+16], 100      ; immediate: 100 mod 32 = bit 4 of DATA+16 itself
    )");
    CHECK(m.read(Machine::kData + 20, 4) == (8 | 2));
    CHECK(m.read(Machine::kData + 8, 4) == 0x80000000);
    CHECK(m.read(Machine::kData + 16, 4) == 0x10);
    CHECK(m.read(Machine::kData + 12, 4) == 0x80000000);  // BTR of bit 0 of the word at DATA+14 left it
    CHECK((m.reg(RBX) & 0xffff) == 0x0100);              // BTS found 0, BT found 1
    CHECK((m.reg(RDX) & 0xff) == 0);

    // 64-bit: offset 200 is bit 8 of the qword at +24; -1 is bit 63 of the qword at -8.
    Machine l(Mode::Long);
    l.run(R"(
        mov qword [DATA], 0
        mov qword [DATA+8], 0
        mov qword [DATA+32], 0
        mov rcx, 200
        bts qword [DATA+8], rcx
        mov rcx, -1
        bts qword [DATA+8], rcx
        mov rcx, 0x100000000          ; 2^32: 2^26 qwords on, far beyond 32 bits of offset
        lea rsi, [DATA2]
        sub rsi, 0x20000000           ; so that rsi + 2^29 bytes = DATA2
        mov qword [DATA2], 0
        bts qword [rsi], rcx
    )");
    CHECK(l.read(Machine::kData + 32, 8) == 0x100);
    CHECK(l.read(Machine::kData, 8) == 0x8000000000000000ull);
    CHECK(l.read(Machine::kData2, 8) == 1);
    CHECK(l.lastVector() == -1);

    // 16-bit addressing wraps the address in 64 KiB.
    Machine r(Mode::Real);
    r.run(R"(
        mov word [0xfffe], 0
        mov bx, 0x0002
        mov ax, -32                   ; two words below [bx] = 0xfffe
        bts word [bx], ax
    )");
    CHECK(r.read(0xfffe, 2) == 1);
}

TEST_CASE("bits: BSF and BSR", "[bits]") {
    Machine m(Mode::Long);
    const auto r = m.snapshots({
        "mov rbx, 0x0000100000000100\n mov rax, -1\n bsf rax, rbx",  // 0
        "mov rbx, 0x0000100000000100\n mov rax, -1\n bsr rax, rbx",
        "mov rbx, 0x80000000\n mov rax, -1\n bsf eax, ebx",
        "mov rbx, 0x12340\n mov rax, -1\n bsr ax, bx",
        "mov rbx, 1\n mov rax, -1\n bsf rax, rbx",                   // index 0: ZF still 0
        "mov rbx, 0\n mov rax, 0x123456789abcdef0\n bsf rax, rbx",   // 5: zero source, 64-bit
        "mov rbx, 0\n mov rax, 0x123456789abcdef0\n bsr eax, ebx",   // 32-bit: bits 63:32 cleared
        "mov rbx, 0\n mov rax, 0x123456789abcdef0\n bsf ax, bx",     // 16-bit: unchanged
        "mov qword [DATA], 0x400\n mov rax, 0\n bsr rax, [DATA]",
        "mov rbx, 0x100\n mov rax, 0\n db 0xf3\n bsf rax, rbx",      // F3 0F BC (TZCNT) is BSF here
    });
    CHECK(r[0].rax == 8);
    CHECK(r[1].rax == 44);
    CHECK(r[2].rax == 31);
    CHECK(r[3].rax == 0xffffffffffff000dull);
    CHECK(r[4].rax == 0);
    for (int k : {0, 1, 2, 3, 4, 8, 9}) CHECK((r[k].rflags & rflag::ZF) == 0);
    CHECK(r[5].rax == 0x123456789abcdef0ull);
    CHECK(r[6].rax == 0x9abcdef0ull);
    CHECK(r[7].rax == 0x123456789abcdef0ull);
    for (int k : {5, 6, 7}) CHECK((r[k].rflags & rflag::ZF) != 0);
    CHECK(r[8].rax == 10);
    CHECK(r[9].rax == 8);
}

namespace {

struct Shift {
    uint64_t r;
    uint64_t flags;  // CF, OF, SF, ZF, PF
};

// SHLD/SHRD from the definition: the destination concatenated with the source, shifted.
Shift modelDoubleShift(bool left, unsigned size, uint64_t dst, uint64_t src, unsigned count) {
    const unsigned bits = size * 8;
    const uint64_t m = maskOf(size);
    dst &= m;
    src &= m;
    count &= size == 8 ? 63 : 31;
    u128 wide;
    uint64_t r;
    bool cf;
    if (left) {
        wide = (static_cast<u128>(dst) << bits) | src;
        r = static_cast<uint64_t>((wide << count) >> bits) & m;
        cf = static_cast<uint64_t>(wide >> (2 * bits - count)) & 1;
    } else {
        wide = (static_cast<u128>(src) << bits) | dst;
        r = static_cast<uint64_t>(wide >> count) & m;
        cf = static_cast<uint64_t>(wide >> (count - 1)) & 1;
    }
    const bool msb = (r >> (bits - 1)) & 1;
    const bool of = left ? msb != cf : msb != ((r >> (bits - 2)) & 1);
    uint64_t f = (cf ? rflag::CF : 0) | (of ? rflag::OF : 0) | (msb ? rflag::SF : 0) | (r == 0 ? rflag::ZF : 0);
    if (std::popcount(r & 0xff) % 2 == 0) f |= rflag::PF;
    return {r, f};
}

}  // namespace

TEST_CASE("bits: SHLD and SHRD against a model, imm8 and CL, all sizes", "[bits]") {
    const uint64_t dsts[] = {0x8123456789abcdefull, 0x1, 0x7fffffffffffffffull};
    const uint64_t srcs[] = {0xfedcba9876543210ull, 0x0};
    const unsigned counts[] = {1, 4, 15, 31, 33, 63, 64 + 7};
    struct Case {
        bool left;
        unsigned size, count;
        uint64_t dst, src;
        bool cl;
    };
    std::vector<Case> cases;
    std::vector<std::string> snippets;
    const char* a[] = {"", "", "ax", "", "eax", "", "", "", "rax"};
    const char* b[] = {"", "", "bx", "", "ebx", "", "", "", "rbx"};
    for (bool left : {true, false})
        for (unsigned size : {2u, 4u, 8u})
            for (uint64_t dst : dsts)
                for (uint64_t src : srcs)
                    for (unsigned count : counts) {
                        if (size == 2 && (count & 31) > 16) continue;  // undefined for 16-bit operands
                        const bool cl = cases.size() & 1;
                        cases.push_back({left, size, count, dst, src, cl});
                        snippets.push_back(fmt::format(
                            "mov rax, {:#x}\n mov rbx, {:#x}\n mov ecx, {}\n {} {}, {}, {}", dst, src,
                            count, left ? "shld" : "shrd", a[size], b[size],
                            cl ? std::string("cl") : std::to_string(count & 0xff)));
                    }
    // Run in batches (the snapshot area holds 85).
    for (size_t first = 0; first < cases.size(); first += 80) {
        const size_t n = std::min<size_t>(80, cases.size() - first);
        Machine m(Mode::Long);
        const auto r = m.snapshots({snippets.begin() + first, snippets.begin() + first + n});
        for (size_t k = 0; k < n; ++k) {
            const Case& c = cases[first + k];
            const Shift e = modelDoubleShift(c.left, c.size, c.dst, c.src, c.count);
            INFO(snippets[first + k]);
            const uint64_t keep = c.size == 2 ? c.dst & ~0xffffull : 0;  // 32-bit results zero-extend
            CHECK(r[k].rax == (keep | e.r));
            const uint64_t masked = (c.count & (c.size == 8 ? 63 : 31)) == 1 ? rflag::OF : 0;
            const uint64_t compare = rflag::CF | rflag::SF | rflag::ZF | rflag::PF | masked;
            CHECK(Flags{r[k].rflags & compare} == Flags{e.flags & compare});
        }
    }
}

TEST_CASE("bits: SHLD/SHRD count 0 changes nothing; memory destinations; 16-bit counts above 16", "[bits]") {
    Machine m(Mode::Protected);
    const auto r = m.snapshots({
        "mov eax, 0x12345678\n mov ebx, 0xffffffff\n mov ecx, 32\n stc\n shld eax, ebx, cl",  // 32 masks to 0
        "mov eax, 0\n mov ebx, 0xffffffff\n xor ecx, ecx\n shrd eax, ebx, 0",                // flags of XOR kept
        "mov dword [DATA], 0x80000001\n mov ebx, 0x40000000\n shld dword [DATA], ebx, 2",
        "mov word [DATA], 0x8001\n mov ebx, 0x4000\n mov cl, 1\n shrd word [DATA], bx, cl",
        // Undefined for 16-bit operands, documented behaviour: the 48-bit dst:src:dst shifts.
        "mov eax, 0x1234\n mov ebx, 0xabcd\n shld ax, bx, 20",
        "mov eax, 0x1234\n mov ebx, 0xabcd\n shrd ax, bx, 20",
    });
    CHECK(r[0].rax == 0x12345678);
    CHECK((r[0].rflags & rflag::CF) != 0);
    CHECK(r[1].rax == 0);
    CHECK(r[1].arith() == (ZF | PF));
    CHECK(r[2].mem == 0x5);  // 0x80000001 << 2 | top two bits of 0x40000000 (01)
    CHECK(r[2].arith() == PF);  // CF = bit 30 of the old value = 0
    CHECK((r[3].mem & 0xffff) == 0x4000);  // 0x8001 >> 1 with bit 0 of 0x4000 (0) in, CF = 1
    CHECK((r[3].rflags & (rflag::CF | rflag::OF)) == (rflag::CF | rflag::OF));
    CHECK(r[4].rax == 0xbcd1);  // src[11:0] then dst[15:12]
    CHECK(r[5].rax == 0x4abc);  // src[15:4] then dst[3:0] from the next copy
}

TEST_CASE("bits: LOCK on BTS/BTR/BTC memory is accepted; on BT or a register it is #UD", "[bits][lock]") {
    struct Case {
        const char* code;
        int vector;
        uint64_t mem;
    };
    const Case cases[] = {
        {"mov dword [DATA], 0\n mov ecx, 3\n lock bts [DATA], ecx", -1, 8},
        {"mov dword [DATA], 0\n lock bts dword [DATA], 3", -1, 8},
        {"mov dword [DATA], 9\n lock btr dword [DATA], 3", -1, 1},
        {"mov dword [DATA], 0\n lock btc dword [DATA], 3", -1, 8},
        {"mov dword [DATA], 7\n lock bt dword [DATA], 3", kUD, 7},
        {"mov dword [DATA], 7\n mov ecx, 3\n lock bt [DATA], ecx", kUD, 7},
        {"mov dword [DATA], 7\n mov eax, 0\n lock bts eax, 3", kUD, 7},
        {"mov dword [DATA], 7\n lock bsf eax, [DATA]", kUD, 7},
        {"mov dword [DATA], 7\n mov eax, 1\n lock shld [DATA], eax, 1", kUD, 7},
    };
    std::vector<std::string> programs;
    for (const Case& c : cases) programs.push_back(c.code);
    preassemble(Mode::Protected, programs);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(Mode::Protected);
        m.run(c.code);
        CHECK(m.lastVector() == c.vector);
        CHECK(m.read(Machine::kData, 4) == c.mem);
    }
}
