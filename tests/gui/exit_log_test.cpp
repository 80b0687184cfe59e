#include <catch2/catch.hpp>

#include "frontend/gui/concern_meter.hpp"
#include "frontend/gui/exit_log.hpp"
#include "frontend/gui/exit_rate_history.hpp"
#include "frontend/gui/exit_reason_names.hpp"

using namespace hvlab;
using namespace hvlab::frontend::gui;

namespace {
hv::ExitRecord record(uint64_t sequence, uint16_t port, uint32_t costNs) {
    hv::ExitRecord r;
    r.sequence = sequence;
    r.costNs = costNs;
    r.exit.reason = cpu::ExitReason::PortIo;
    r.exit.io = {port, 1, true, 0};
    return r;
}
}  // namespace

TEST_CASE("the exit log keeps new records and counts the ones it missed", "[gui][exits]") {
    ExitLog log;
    log.append({record(1, 0x20, 100), record(2, 0x3f8, 50)});
    log.append({record(2, 0x3f8, 50), record(5, 0x1f7, 700)});  // 2 again: skipped; 3 and 4 missed
    CHECK(log.lastSequence() == 5);
    CHECK(log.records().size() == 3);
    CHECK(log.missed() == 2);
    REQUIRE(log.find(5) != nullptr);
    CHECK(log.find(5)->exit.io.port == 0x1f7);
    CHECK(log.find(3) == nullptr);
    log.clear();
    CHECK(log.records().empty());
    CHECK(log.lastSequence() == 0);
}

TEST_CASE("the concern meter sums every handled exit and the engine's own by reason", "[gui][taxonomy]") {
    ConcernMeter meter;
    meter.record(record(1, 0x20, 100).exit, 100);
    meter.record(record(2, 0x1f7, 700).exit, 700);
    meter.record(record(3, 0x1f0, 300).exit, 300);
    hv::ExitCounters counters;
    counters.inEngine[static_cast<size_t>(cpu::ExitReason::Cpuid)] = 7;
    const ConcernCosts costs = meter.totals(counters);
    CHECK(costs[static_cast<size_t>(Concern::Interrupts)].exits == 1);
    CHECK(costs[static_cast<size_t>(Concern::Interrupts)].handlerNs == 100);
    CHECK(costs[static_cast<size_t>(Concern::DiskNet)].exits == 2);
    CHECK(costs[static_cast<size_t>(Concern::DiskNet)].handlerNs == 1000);
    CHECK(costs[static_cast<size_t>(Concern::Privileged)].exits == 7);
    CHECK(costs[static_cast<size_t>(Concern::Privileged)].inEngine == 7);
    CHECK(costs[static_cast<size_t>(Concern::Privileged)].handlerNs == 0);
    CHECK(costs[static_cast<size_t>(Concern::Other)].exits == 0);
}

TEST_CASE("the exit log is bounded", "[gui][exits]") {
    ExitLog log;
    std::vector<hv::ExitRecord> many;
    for (uint64_t k = 1; k <= ExitLog::kCapacity + 10; ++k) many.push_back(record(k, 0x3f8, 1));
    log.append(many);
    CHECK(log.records().size() == ExitLog::kCapacity);
    CHECK(log.records().front().sequence == 11);
    CHECK(log.missed() == 0);
}

TEST_CASE("exits per second are sampled every quarter second", "[gui][exits]") {
    ExitRateHistory rate;
    rate.observe(0.0, 0);
    rate.observe(0.1, 50);  // too early for a sample
    CHECK(rate.latest() == 0.0f);
    rate.observe(0.5, 100);
    CHECK(rate.latest() == Approx(200.0f));
    rate.observe(1.0, 100);
    CHECK(rate.latest() == 0.0f);
    CHECK(rate.peak() == Approx(200.0f));
    CHECK(rate.offset() == 2);
}

TEST_CASE("exit reasons are named by identifier or short name", "[gui][exits]") {
    CHECK(parseExitReason("PortIo") == cpu::ExitReason::PortIo);
    CHECK(parseExitReason("portio") == cpu::ExitReason::PortIo);
    CHECK(parseExitReason("io") == cpu::ExitReason::PortIo);
    CHECK(parseExitReason("irq-window") == cpu::ExitReason::InterruptWindow);
    CHECK(!parseExitReason("teleport"));
    CHECK(std::string(exitReasonIdentifier(cpu::ExitReason::CrAccess)) == "CrAccess");
}
