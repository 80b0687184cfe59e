// Run control for the debugger: Vm::step, pause, exit-by-exit stepping, breakpoints, and the
// VmSession thread that drives a Vm for the GUI.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "hv/firmware_image.hpp"
#include "hv/kvm_engine.hpp"
#include "hv/vm.hpp"
#include "hv/vm_session.hpp"
#include "tests/hv/test_roms.hpp"

using namespace hvlab;

namespace {

hv::VmConfig firstbootConfig(hv::EngineKind engine, std::string* serial = nullptr) {
    hv::VmConfig config;
    config.engine = engine;
    config.firmware = test::loadTestImage("firstboot");
    if (serial) config.serialOut = [serial](uint8_t b) { serial->push_back(static_cast<char>(b)); };
    return config;
}

struct ExitKey {
    cpu::ExitReason reason;
    uint64_t rip;
    uint32_t detail;  // port and value for port I/O
    bool operator==(const ExitKey&) const = default;
};

std::vector<ExitKey> keysOf(const std::vector<hv::ExitRecord>& records) {
    std::vector<ExitKey> keys;
    for (const hv::ExitRecord& r : records) {
        uint32_t detail = 0;
        if (r.exit.reason == cpu::ExitReason::PortIo) detail = (uint32_t{r.exit.io.port} << 16) ^ r.exit.io.value;
        if (!r.exit.inEngine) keys.push_back({r.exit.reason, r.exit.rip, detail});
    }
    return keys;
}

// The exits of a free run of the first guest (the reference the stepped runs must match).
std::vector<ExitKey> freeRunExits(hv::EngineKind engine) {
    hv::Vm vm(firstbootConfig(engine));
    REQUIRE(vm.run().kind == hv::StopKind::Halted);
    return keysOf(vm.exits().latest(vm.exits().capacity()));
}

bool kvmOrSkip() {
    std::string why;
    if (hv::KvmEngine::available(&why)) return true;
    WARN("skipped: " << why);
    return false;
}

// Polls a session until `done` holds for its snapshot (or 10 s pass).
hv::SessionSnapshot waitFor(const hv::VmSession& session, const std::function<bool(const hv::SessionSnapshot&)>& done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        hv::SessionSnapshot s = session.snapshot();
        if (done(s) || std::chrono::steady_clock::now() > until) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void checkExitByExitMatchesFreeRun(hv::EngineKind engine) {
    const std::vector<ExitKey> reference = freeRunExits(engine);
    REQUIRE(reference.size() > 100);

    hv::Vm vm(firstbootConfig(engine));
    std::vector<std::string> messages;
    hv::RunOutcome outcome;
    for (;;) {
        vm.pauseAfterNextExit();
        outcome = vm.run();
        if (outcome.kind != hv::StopKind::Paused) break;
        messages.push_back(outcome.message);
    }
    CHECK(outcome.kind == hv::StopKind::Halted);
    // One pause per handled exit but the last (the HLT that ends the run).
    CHECK(messages.size() + 1 == reference.size());
    CHECK(keysOf(vm.exits().latest(vm.exits().capacity())) == reference);
    REQUIRE_FALSE(messages.empty());
    CHECK(messages.front().find("io exit at rip") == 0);
}

}  // namespace

TEST_CASE("step() runs one instruction at a time and the exits match a free run", "[hv][debug]") {
    const std::vector<ExitKey> reference = freeRunExits(hv::EngineKind::Interpreter);
    std::string serial;
    hv::Vm vm(firstbootConfig(hv::EngineKind::Interpreter, &serial));
    const uint64_t resetRip = vm.state().rip;
    hv::RunOutcome first = vm.step();
    CHECK(first.kind == hv::StopKind::Paused);
    CHECK(first.message == "step");
    CHECK(vm.engine().instructionsRetired() == 1);
    CHECK(vm.state().rip != resetRip);

    hv::RunOutcome outcome = first;
    uint64_t steps = 1;
    while (outcome.kind == hv::StopKind::Paused && steps < 5'000'000) {
        outcome = vm.step();
        ++steps;
    }
    CHECK(outcome.kind == hv::StopKind::Halted);
    CHECK(serial.find("self-checks passed") != std::string::npos);
    // Every step retired exactly one instruction (an IN too: it completes within its step).
    CHECK(vm.engine().instructionsRetired() == steps);
    CHECK(keysOf(vm.exits().latest(vm.exits().capacity())) == reference);
}

TEST_CASE("stepping from exit to exit stops at every exit the VMM handles", "[hv][debug]") {
    checkExitByExitMatchesFreeRun(hv::EngineKind::Interpreter);
}

TEST_CASE("a port breakpoint pauses after the access; run() again goes on", "[hv][debug]") {
    std::string serial;
    hv::Vm vm(firstbootConfig(hv::EngineKind::Interpreter, &serial));
    hv::Breakpoints breakpoints;
    breakpoints.ports = {0x3f8};
    vm.setBreakpoints(breakpoints);
    hv::RunOutcome outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::Paused);
    CHECK(outcome.message.find("break on port 0x3f8 (write") == 0);
    const auto matched = vm.exits().latest(1);  // the write that matched is recorded and was handled
    REQUIRE(matched.size() == 1);
    CHECK(matched[0].exit.io.port == 0x3f8);
    CHECK(matched[0].exit.io.write);
    const size_t exitsAtFirst = vm.exits().recorded();
    outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::Paused);
    CHECK(vm.exits().latest(1)[0].exit.io.port == 0x3f8);
    CHECK(vm.exits().recorded() > exitsAtFirst);
    vm.setBreakpoints({});
    CHECK(vm.run().kind == hv::StopKind::Halted);
    CHECK(serial.find("self-checks passed") != std::string::npos);
}

TEST_CASE("a RIP breakpoint pauses before the instruction and resuming runs it", "[hv][debug]") {
    const std::vector<ExitKey> reference = freeRunExits(hv::EngineKind::Interpreter);
    // The OUT of the 10th port exit: the breakpoint fires before it, so 9 port exits are done.
    std::vector<ExitKey> ports;
    for (const ExitKey& k : reference)
        if (k.reason == cpu::ExitReason::PortIo) ports.push_back(k);
    REQUIRE(ports.size() > 10);
    const uint64_t target = ports[9].rip;
    size_t before = 0;  // port exits at the same RIP before the 10th (a loop may pass it again)
    for (size_t k = 0; k < 9; ++k) before += ports[k].rip == target;

    hv::Vm vm(firstbootConfig(hv::EngineKind::Interpreter));
    hv::Breakpoints breakpoints;
    breakpoints.rips = {target};
    vm.setBreakpoints(breakpoints);
    hv::RunOutcome outcome = vm.run();
    for (size_t hit = 0; hit < before; ++hit) outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::Paused);
    CHECK(outcome.message == fmt::format("breakpoint at rip {:#x}", target));
    CHECK(vm.state().rip == target);
    CHECK(vm.exits().counters().byVmm[static_cast<size_t>(cpu::ExitReason::PortIo)] == 9);
    vm.setBreakpoints({});
    CHECK(vm.run().kind == hv::StopKind::Halted);
    CHECK(keysOf(vm.exits().latest(vm.exits().capacity())).size() ==
          reference.size() + 1 + before);  // + the Debug exits of the breakpoint hits
}

TEST_CASE("pause() from another thread pauses a spinning guest and run() resumes it", "[hv][debug]") {
    hv::VmConfig config;
    config.firmware = test::spinningRom();
    hv::Vm vm(std::move(config));
    std::thread pauser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        vm.pause();
    });
    hv::RunOutcome outcome = vm.run();
    pauser.join();
    CHECK(outcome.kind == hv::StopKind::Paused);
    CHECK(outcome.message == "paused");
    const uint64_t retired = vm.engine().instructionsRetired();
    CHECK(retired > 1000);
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        vm.stop(hv::exit_status::kOk, "test stop");
    });
    outcome = vm.run();
    stopper.join();
    CHECK(outcome.kind == hv::StopKind::Stopped);
    CHECK(vm.engine().instructionsRetired() > retired);
}

TEST_CASE("a VmSession steps exit by exit, pauses on a port breakpoint and runs to the end", "[hv][debug][session]") {
    hv::VmSession session("interp", firstbootConfig(hv::EngineKind::Interpreter), /*startRunning=*/false);
    CHECK(session.label() == "interp");
    CHECK(session.engineKind() == hv::EngineKind::Interpreter);
    hv::SessionSnapshot s = session.snapshot();
    CHECK(s.state == hv::SessionState::Paused);
    CHECK(s.why == "ready");

    const std::vector<ExitKey> reference = freeRunExits(hv::EngineKind::Interpreter);
    for (size_t k = 0; k < 3; ++k) {
        const uint64_t generation = s.generation;
        session.stepExit();
        s = waitFor(session, [&](const hv::SessionSnapshot& n) {
            return n.generation > generation && n.state == hv::SessionState::Paused && n.exitsRecorded > 0 &&
                   n.why != "running";
        });
        REQUIRE(s.state == hv::SessionState::Paused);
        const auto records = session.exitsAfter(0, 1000);
        REQUIRE(keysOf(records).size() == k + 1);
        CHECK(keysOf(records).back() == reference[k]);
        CHECK(s.why.find("io exit at rip") == 0);
    }

    const uint64_t before = session.snapshot().generation;
    session.stepInstruction();
    s = waitFor(session, [&](const hv::SessionSnapshot& n) { return n.generation > before && n.why == "step"; });
    CHECK(s.why == "step");

    hv::Breakpoints breakpoints;
    breakpoints.ports = {0x3f8};
    session.setBreakpoints(breakpoints);
    session.resume();
    s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.why.find("break on port 0x3f8") == 0; });
    CHECK(s.state == hv::SessionState::Paused);
    CHECK(s.why.find("break on port 0x3f8 (write") == 0);
    CHECK(session.exitsAfter(0, 1).back().exit.io.port == 0x3f8);
    CHECK(s.devices.uart.base == 0x3f8);

    session.setBreakpoints({});
    session.resume();
    s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.state == hv::SessionState::Stopped; });
    CHECK(s.state == hv::SessionState::Stopped);
    CHECK(s.why.find("guest halted with interrupts disabled") == 0);
    CHECK(session.console().find("self-checks passed") != std::string::npos);
    CHECK(s.cpu.mode() == cpu::CpuMode::Long64);
    REQUIRE(s.tlb.has_value());
    CHECK(s.tlb->fills > 0);
    // The debugger's translation walks the guest's page tables without touching them.
    const mmu::WalkResult walk = session.translate(s.cpu.rip);
    CHECK(walk.ok);
    CHECK(walk.stepCount == 4);
    uint8_t code[4] = {};
    CHECK(session.readPhysical(walk.physical, code, sizeof code));

    // A stopped VM only runs again after a reset, which puts it at the reset vector.
    session.reset();
    s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.why.find("reset") == 0; });
    CHECK(s.state == hv::SessionState::Paused);
    CHECK(s.cpu.rip == 0xfff0);
    session.resume();
    s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.state == hv::SessionState::Stopped; });
    CHECK(s.why.find("guest halted with interrupts disabled") == 0);
}

TEST_CASE("a running VmSession publishes snapshots while it runs and pauses on request", "[hv][debug][session]") {
    hv::VmConfig config;
    config.firmware = test::spinningRom();
    hv::VmSession session("spin", std::move(config));
    hv::SessionSnapshot s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.instructions > 100000; });
    CHECK(s.state == hv::SessionState::Running);
    const uint64_t seen = s.instructions;
    s = waitFor(session, [&](const hv::SessionSnapshot& n) { return n.instructions > seen; });
    CHECK(s.instructions > seen);
    session.pause();
    s = waitFor(session, [](const hv::SessionSnapshot& n) { return n.state == hv::SessionState::Paused; });
    CHECK(s.why == "paused");
    CHECK(s.cpu.rip == 0xfff0);
}

TEST_CASE("KVM: exit-by-exit stepping and instruction steps (on the interpreter) match a free run", "[hv][debug][kvm]") {
    if (!kvmOrSkip()) return;
    checkExitByExitMatchesFreeRun(hv::EngineKind::Kvm);

    // Instruction steps hand the state to the interpreter and back: run the first 2000 that way,
    // then the rest on KVM; the guest must still pass its self-checks.
    std::string serial;
    hv::Vm vm(firstbootConfig(hv::EngineKind::Kvm, &serial));
    for (int k = 0; k < 2000; ++k) REQUIRE(vm.step().kind == hv::StopKind::Paused);
    CHECK(vm.run().kind == hv::StopKind::Halted);
    CHECK(serial.find("self-checks passed") != std::string::npos);
}

TEST_CASE("KVM: RIP breakpoints (INT3 while the guest runs) pause before the instruction", "[hv][debug][kvm]") {
    if (!kvmOrSkip()) return;
    const std::vector<ExitKey> reference = freeRunExits(hv::EngineKind::Kvm);
    std::vector<ExitKey> ports;
    for (const ExitKey& k : reference)
        if (k.reason == cpu::ExitReason::PortIo) ports.push_back(k);
    REQUIRE(ports.size() > 10);
    const ExitKey last = ports.back();  // an OUT in the guest's final (64-bit) code, in the ROM

    std::string serial;
    hv::Vm vm(firstbootConfig(hv::EngineKind::Kvm, &serial));
    // KVM's breakpoints are linear addresses (CS.base + RIP when set): set them in 64-bit code.
    while (vm.state().mode() != cpu::CpuMode::Long64) {
        vm.pauseAfterNextExit();
        REQUIRE(vm.run().kind == hv::StopKind::Paused);
    }
    const uint64_t pausedAt = vm.state().rip;
    hv::Breakpoints breakpoints;
    // More than the four debug registers; the others are never reached.
    breakpoints.rips = {0x7f0000, 0x7f0010, 0x7f0020, 0x7f0030, last.rip};
    vm.setBreakpoints(breakpoints);
    hv::RunOutcome outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::Paused);
    CHECK(outcome.message == fmt::format("breakpoint at rip {:#x}", last.rip));
    CHECK(vm.state().rip == last.rip);
    // Guest memory shows the guest's own bytes while paused (the INT3 is only there while it runs):
    // the guest's code is identity-mapped (the BIOS area), so the RIP is the physical address.
    uint8_t opcode = 0;
    REQUIRE(vm.memory().read(last.rip, &opcode, 1));
    CHECK(opcode != 0xcc);
    CHECK(pausedAt != last.rip);
    // The OUT writes each character of the guest's last line. Resuming with the breakpoint still
    // set steps over it (one character out) and stops at its next execution.
    const size_t printed = serial.size();
    outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::Paused);
    CHECK(vm.state().rip == last.rip);
    CHECK(serial.size() == printed + 1);
    vm.setBreakpoints({});
    CHECK(vm.run().kind == hv::StopKind::Halted);
    CHECK(serial.find("self-checks passed") != std::string::npos);
}

TEST_CASE("KVM: two sessions, interpreter and KVM, step exit by exit through the same exit reasons",
          "[hv][debug][session][kvm]") {
    if (!kvmOrSkip()) return;
    hv::VmSession interp("interp", firstbootConfig(hv::EngineKind::Interpreter), /*startRunning=*/false);
    hv::VmSession kvm("kvm", firstbootConfig(hv::EngineKind::Kvm), /*startRunning=*/false);
    CHECK(kvm.engineKind() == hv::EngineKind::Kvm);
    std::vector<std::string> reasons[2];
    hv::VmSession* sessions[2] = {&interp, &kvm};
    for (int step = 0; step < 40; ++step) {
        for (int k = 0; k < 2; ++k) {
            const uint64_t generation = sessions[k]->snapshot().generation;
            sessions[k]->stepExit();
            const hv::SessionSnapshot s = waitFor(*sessions[k], [&](const hv::SessionSnapshot& n) {
                return n.generation > generation && n.state != hv::SessionState::Running && n.why != "running";
            });
            REQUIRE(s.state == hv::SessionState::Paused);
            reasons[k].push_back(s.why.substr(0, s.why.find(" at rip")));
        }
    }
    CHECK(reasons[0] == reasons[1]);
    // A breakpoint on a port write stops the KVM session there too.
    hv::Breakpoints breakpoints;
    breakpoints.ports = {0x3f8};
    kvm.setBreakpoints(breakpoints);
    kvm.resume();
    const hv::SessionSnapshot s =
        waitFor(kvm, [](const hv::SessionSnapshot& n) { return n.why.find("break on port 0x3f8") == 0; });
    CHECK(s.why.find("break on port 0x3f8 (write") == 0);
}
