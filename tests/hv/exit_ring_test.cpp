#include <catch2/catch.hpp>

#include "hv/exit_ring.hpp"

using hvlab::cpu::ExitReason;
using hvlab::cpu::VmExit;
using hvlab::hv::ExitRing;

namespace {
VmExit makeExit(ExitReason reason, uint64_t rip, bool inEngine = false) {
    VmExit e;
    e.reason = reason;
    e.rip = rip;
    e.inEngine = inEngine;
    return e;
}
}  // namespace

TEST_CASE("the exit ring counts by reason, VMM and in-engine apart", "[hv][exits]") {
    ExitRing ring(8);
    ring.record(10, 0, makeExit(ExitReason::PortIo, 0x100), 50);
    ring.record(20, 0, makeExit(ExitReason::PortIo, 0x102), 70);
    ring.record(30, 0, makeExit(ExitReason::Cpuid, 0x104, true), 0);
    ring.record(40, 0, makeExit(ExitReason::Hlt, 0x106), 5);
    const auto c = ring.counters();
    CHECK(c.byVmm[static_cast<size_t>(ExitReason::PortIo)] == 2);
    CHECK(c.byVmm[static_cast<size_t>(ExitReason::Hlt)] == 1);
    CHECK(c.byVmm[static_cast<size_t>(ExitReason::Cpuid)] == 0);
    CHECK(c.inEngine[static_cast<size_t>(ExitReason::Cpuid)] == 1);
    CHECK(c.costNs[static_cast<size_t>(ExitReason::PortIo)] == 120);
    CHECK(c.total() == 4);
    CHECK(ring.recorded() == 4);
}

TEST_CASE("the exit ring keeps the newest records, oldest first", "[hv][exits]") {
    ExitRing ring(4);
    for (uint64_t k = 1; k <= 10; ++k) ring.record(k, 0, makeExit(ExitReason::PortIo, k), 0);
    const auto last = ring.latest(100);
    REQUIRE(last.size() == 4);
    CHECK(last.front().exit.rip == 7);
    CHECK(last.back().exit.rip == 10);
    CHECK(last.back().sequence == 10);
    const auto two = ring.latest(2);
    REQUIRE(two.size() == 2);
    CHECK(two[0].exit.rip == 9);
    // Counters are not bounded by the ring.
    CHECK(ring.counters().byVmm[static_cast<size_t>(ExitReason::PortIo)] == 10);
}

TEST_CASE("after() returns the records newer than a sequence number, bounded by the ring", "[hv][exits]") {
    ExitRing ring(4);
    CHECK(ring.after(0, 10).empty());
    for (uint64_t k = 1; k <= 10; ++k) ring.record(k, 0, makeExit(ExitReason::PortIo, k), 0);
    const auto newer = ring.after(8, 10);
    REQUIRE(newer.size() == 2);
    CHECK(newer[0].sequence == 9);
    CHECK(newer[1].sequence == 10);
    CHECK(ring.after(10, 10).empty());
    CHECK(ring.after(11, 10).empty());
    const auto old = ring.after(2, 10);  // 3..6 fell out of the ring: the 4 newest remain
    REQUIRE(old.size() == 4);
    CHECK(old.front().sequence == 7);
    const auto bounded = ring.after(0, 3);
    REQUIRE(bounded.size() == 3);
    CHECK(bounded.front().sequence == 8);
}

TEST_CASE("setCost updates a record still in the ring, and ignores old ones", "[hv][exits]") {
    ExitRing ring(2);
    const uint64_t first = ring.record(1, 0, makeExit(ExitReason::Mmio, 1), 0).sequence;
    ring.setCost(first, 99);
    CHECK(ring.latest(1)[0].costNs == 99);
    ring.record(2, 0, makeExit(ExitReason::Mmio, 2), 0);
    ring.record(3, 0, makeExit(ExitReason::Mmio, 3), 0);
    ring.setCost(first, 1000);  // evicted: no effect
    CHECK(ring.counters().costNs[static_cast<size_t>(ExitReason::Mmio)] == 99);
}

TEST_CASE("exit descriptions name the detail", "[hv][exits]") {
    VmExit out = makeExit(ExitReason::PortIo, 0);
    out.io = {0x3f8, 1, true, 0x41};
    CHECK(hvlab::cpu::describeExit(out) == "out 0x3f8 <- 0x41 (1 byte)");
    VmExit in = makeExit(ExitReason::PortIo, 0);
    in.io = {0x3fd, 1, false, 0x60};
    CHECK(hvlab::cpu::describeExit(in) == "in 0x3fd -> 0x60 (1 byte)");
    VmExit bad = makeExit(ExitReason::UnimplementedInsn, 0);
    bad.insn.length = 2;
    bad.insn.bytes[0] = 0xd9;
    bad.insn.bytes[1] = 0xe8;
    CHECK(hvlab::cpu::describeExit(bad) == "bytes d9 e8");
    CHECK(std::string(hvlab::cpu::exitReasonName(ExitReason::Shutdown)) == "shutdown");
}
