#include "tests/cpu/harness.hpp"
using namespace hvlab::test;
using namespace hvlab::cpu;
using namespace hvlab::test::fl;
TEST_CASE("smoke") {
    for (Mode mo : {Mode::Real, Mode::Protected, Mode::ProtectedPaging, Mode::Long}) {
        Machine m(mo);
        m.run("mov eax, 0x7fffffff\n add eax, 1");
        CHECK(m.reg(RAX) == 0x80000000);
        CHECK(m.arith() == (OF | SF | AF | PF));
        m.run("ud2");
        CHECK(m.lastVector() == 6);
    }
}
