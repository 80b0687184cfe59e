// The TSS I/O permission bitmap: IN/OUT/INS/OUTS at CPL > IOPL and in virtual-8086 mode.
#include <string>
#include <vector>

#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;
using namespace hvlab::test;

namespace {

// A bitmap right after the 104-byte TSS: ports 0-0x3ff (0x80 bytes), then one 0xff byte.
// Every port is denied except 0x80, 0x71 and 0x3f8-0x3ff.
constexpr uint64_t kMapBase = 0x68, kMapBytes = 0x80;

void installBitmap(Machine& m) {
    for (uint64_t k = 0; k <= kMapBytes; ++k) m.write(Machine::kTss + kMapBase + k, 1, 0xff);
    auto allow = [&](unsigned port) {
        const uint64_t a = Machine::kTss + kMapBase + port / 8;
        m.write(a, 1, m.read(a, 1) & ~(1u << (port % 8)));
    };
    allow(0x80);
    allow(0x71);
    for (unsigned p = 0x3f8; p < 0x400; ++p) allow(p);
    m.write(Machine::kTss + 0x66, 2, kMapBase);
    m.s.tr.limit = static_cast<uint32_t>(kMapBase + kMapBytes);  // includes the trailing 0xff byte
}

}  // namespace

TEST_CASE("io: the TSS bitmap decides at CPL 3 with IOPL 0", "[io]") {
    struct Case {
        const char* code;
        bool allowed;
    };
    const Case cases[] = {
        {"in al, 0x80", true},
        {"in al, 0x81", false},
        {"out 0x71, al", true},
        {"in ax, 0x70", false},                  // 0x70 denied, 0x71 allowed: all bits must be clear
        {"in ax, 0x71", false},                  // 0x72 denied
        {"mov dx, 0x3f8\n out dx, al", true},
        {"mov dx, 0x3fc\n out dx, eax", true},   // 0x3fc-0x3ff
        {"mov dx, 0x3fe\n in eax, dx", false},   // 0x400 and 0x401 lie in the trailing 0xff byte
        {"mov dx, 0x3ff\n out dx, al", true},
        {"mov dx, 0x8000\n in al, dx", false},   // beyond the TSS limit
        {"mov dx, 0x3f8\n mov ecx, 2\n mov edi, DATA\n rep insb", true},
        {"mov dx, 0x3f7\n mov esi, DATA\n outsb", false},
    };
    std::vector<std::string> programs;
    for (const Case& c : cases) programs.push_back(c.code);
    preassemble(Mode::Protected, programs);
    for (const Case& c : cases) {
        INFO(c.code);
        Machine m(Mode::Protected);
        installBitmap(m);
        m.enterUser();
        m.run(c.code);
        CHECK(m.lastVector() == kGP);  // the final HLT, or the access itself
        const bool faultedOnHlt = m.read(m.stack(1, 4), 1) == 0xf4;
        CHECK(faultedOnHlt == c.allowed);
        CHECK(m.ports.empty() != c.allowed);
        if (!c.allowed) CHECK(m.stack(0, 4) == 0);
    }
}

TEST_CASE("io: CPL <= IOPL ignores the bitmap; no bitmap or a 16-bit TSS denies", "[io]") {
    Machine k(Mode::Protected);  // CPL 0, IOPL 0
    installBitmap(k);
    k.run("in al, 0x81");
    CHECK(k.ports.size() == 1);
    CHECK(k.lastVector() == -1);

    Machine i(Mode::Protected);  // CPL 3, IOPL 3
    installBitmap(i);
    i.s.setRflags(rflag::IOPL | rflag::RESERVED1);
    i.enterUser();
    i.run("in al, 0x81");
    CHECK(i.ports.size() == 1);

    Machine n(Mode::Protected);  // the harness TSS: map base 0x68 = the limit + 1: no bitmap
    n.enterUser();
    n.run("in al, 0x80");
    CHECK(n.ports.empty());
    CHECK(n.read(n.stack(1, 4), 1) != 0xf4);

    Machine t(Mode::Protected);  // a (busy) 16-bit TSS has no bitmap at all
    installBitmap(t);
    t.s.tr.attributes = static_cast<uint16_t>((t.s.tr.attributes & ~0xfu) | 0x3);
    t.enterUser();
    t.run("in al, 0x80");
    CHECK(t.ports.empty());

    Machine s(Mode::Protected);  // a TSS limit below 0x67
    installBitmap(s);
    s.s.tr.limit = 0x50;
    s.enterUser();
    s.run("in al, 0x80");
    CHECK(s.ports.empty());
}

TEST_CASE("io: the bitmap in IA-32e mode and in virtual-8086 mode", "[io]") {
    Machine l(Mode::Long);
    installBitmap(l);
    l.enterUser();
    l.run("in al, 0x80\n in al, 0x81");
    REQUIRE(l.ports.size() == 1);
    CHECK(l.ports[0].port == 0x80);
    CHECK(l.lastVector() == kGP);
    CHECK(l.stack(1, 8) == Machine::kCode + 2);

    // Virtual-8086 mode consults the bitmap even with IOPL 3.
    Machine v(Mode::Protected);
    installBitmap(v);
    v.s.setRflags(rflag::VM | rflag::IOPL | rflag::RESERVED1);
    for (Segment& sg : v.s.seg) sg = Segment{0, 0, 0xffff, 0xf3};
    v.cpu.stateLoaded();
    v.run("in al, 0x80\n out 0x71, al\n in al, 0x81");
    REQUIRE(v.ports.size() == 2);
    CHECK(v.ports[1].port == 0x71);
    CHECK(v.lastVector() == kGP);
    CHECK(v.stack(1, 4) == Machine::kCode + 4);  // IP of the denied IN (pushed with the V86 frame)
    CHECK(v.stack(3, 4) & rflag::VM);            // the interrupted EFLAGS had VM
}
