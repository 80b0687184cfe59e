// tinyos on the P column of "interrupts and timers" plus the PV console: with
// VmConfig::paravirt = console|clock|events it detects hvlab through CPUID, prints through
// console_write, reads input on event 1, takes its 1000 Hz tick from one-shot timer_set deadlines
// and leaves the PIT and the PIC's timer line alone. The VM runs in this process so the test can
// read its exit counters: idle, the PV tick costs hypercalls but no port I/O.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "cpu/hypercall_abi.hpp"
#include "hv/firmware_image.hpp"
#include "hv/vm.hpp"
#include "tests/integration/console_vm.hpp"

using namespace hvlab;
using namespace std::chrono_literals;

namespace {

const std::string kFirmware = HVLAB_FIRMWARE_DIR;
constexpr uint32_t kAllPv =
    cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock | cpu::hypercall::kFeatureEvents;

struct ExitSnapshot {
    hv::ExitCounters counts;
    uint64_t guestNs = 0;
    uint64_t of(cpu::ExitReason reason) const { return counts.byVmm[static_cast<size_t>(reason)]; }
};

// Exits per second of guest time between two snapshots.
struct IdleRates {
    double io = 0, hypercalls = 0, seconds = 0;
};

IdleRates ratesBetween(const ExitSnapshot& a, const ExitSnapshot& b) {
    IdleRates r;
    r.seconds = static_cast<double>(b.guestNs - a.guestNs) / 1e9;
    r.io = static_cast<double>(b.of(cpu::ExitReason::PortIo) - a.of(cpu::ExitReason::PortIo)) / r.seconds;
    r.hypercalls =
        static_cast<double>(b.of(cpu::ExitReason::Hypercall) - a.of(cpu::ExitReason::Hypercall)) / r.seconds;
    return r;
}

hv::VmConfig biosTinyosConfig(uint32_t paravirt, hv::EngineKind engine) {
    hv::VmConfig config;
    config.engine = engine;
    config.firmware = hv::loadFirmwareFile(kFirmware + "/bios.bin");
    config.disks.push_back({kFirmware + "/tinyos.img", false, true, false});
    config.paravirt = paravirt;
    return config;
}

// tinyos booted from its disk image by the hvlab BIOS (console_vm.hpp), plus snapshots of the
// exit counters and the guest clock taken on the vCPU thread between two exits.
class TinyosVm {
public:
    TinyosVm(uint32_t paravirt, hv::EngineKind engine = hv::EngineKind::Interpreter)
        : console_(biosTinyosConfig(paravirt, engine), [this](hv::Vm& vm) {
              vm.setInspector([this](hv::Vm& inspected) {
                  std::lock_guard lock(snapshotMutex_);
                  snapshot_ = ExitSnapshot{inspected.exits().counters(), inspected.guestNowNs()};
                  snapshotTaken_ = true;
                  snapshotTakenCv_.notify_all();
              });
          }) {}

    bool waitFor(const std::string& text, std::chrono::seconds timeout = 120s) { return console_.waitFor(text, timeout); }
    void type(const std::string& text) { console_.type(text); }
    hv::RunOutcome waitUntilFinished(std::chrono::seconds timeout = 60s) { return console_.waitUntilFinished(timeout); }
    bool finished() { return console_.finished(); }
    std::string output() { return console_.output(); }
    std::string lineWith(const std::string& text) { return console_.lineWith(text); }
    // The VMM's PV counters; read them once the VM has finished.
    const hv::ParavirtPlatform* paravirt() { return console_.vm().paravirt(); }

    ExitSnapshot snapshot() {
        {
            std::lock_guard lock(snapshotMutex_);
            snapshotTaken_ = false;
        }
        console_.vm().requestInspection();
        std::unique_lock lock(snapshotMutex_);
        snapshotTakenCv_.wait_for(lock, 30s, [&] { return snapshotTaken_; });
        return snapshot_;
    }

    // Exit rates over `guestSeconds` of guest time with nobody typing (the shell waits for input;
    // counter and spinner wake now and then, the same in every mode).
    IdleRates idleRates(double guestSeconds) {
        const ExitSnapshot start = snapshot();
        ExitSnapshot now = start;
        const auto giveUp = std::chrono::steady_clock::now() + 60s;
        while (static_cast<double>(now.guestNs - start.guestNs) < guestSeconds * 1e9 &&
               std::chrono::steady_clock::now() < giveUp && !finished()) {
            std::this_thread::sleep_for(20ms);
            now = snapshot();
        }
        return ratesBetween(start, now);
    }

private:
    std::mutex snapshotMutex_;
    std::condition_variable snapshotTakenCv_;
    ExitSnapshot snapshot_;
    bool snapshotTaken_ = false;
    test::ConsoleVm console_;  // last: its thread may call the inspector, which uses the above
};

size_t occurrences(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

std::string tail(const std::string& text, size_t n = 4000) {
    return text.substr(text.size() > n ? text.size() - n : 0);
}

}  // namespace

TEST_CASE("tinyos takes the PV console, timer and events when hvlab offers them, and idles without port I/O",
          "[integration][tinyos][paravirt]") {
    // First the emulated paths (no --pv): the same image finds nothing and keeps UART, PIT, PIC.
    IdleRates emulated;
    {
        TinyosVm vm(0);
        REQUIRE(vm.waitFor("tinyos> "));
        const std::string boot = vm.output();
        INFO(tail(boot));
        CHECK(boot.find("no hypervisor interfaces") != std::string::npos);
        CHECK(boot.find("paths: boot bios, console uart (input uart), timer pit, interrupts pic, idle hlt") != std::string::npos);
        CHECK(boot.find("timer: PIT at 1000 Hz") != std::string::npos);
        emulated = vm.idleRates(1.0);
        vm.type("pv\n");
        REQUIRE(vm.waitFor("PIC lines unmasked:"));
        REQUIRE(vm.waitFor("tinyos> "));
        CHECK(vm.lineWith("PIC lines unmasked:").find(" 0") != std::string::npos);  // the PIT's line
        vm.type("poweroff\n");
        CHECK(vm.waitUntilFinished().exitStatus == 1);
    }

    // Then everything PV.
    TinyosVm vm(kAllPv);
    REQUIRE(vm.waitFor("tinyos> "));
    const std::string boot = vm.output();
    INFO(tail(vm.output()));
    CHECK(boot.find("hvlab hypercalls v1: console clock events") != std::string::npos);
    CHECK(boot.find("paths: boot bios, console pv (input pv), timer pv, interrupts pv-events, idle hlt") != std::string::npos);
    CHECK(boot.find("timer: PV one-shot timer (hvlab clock) at 1000 Hz") != std::string::npos);
    CHECK(occurrences(boot, "tinyos shell, process 1") == 1);  // console_write only, not the UART too
    const IdleRates pv = vm.idleRates(1.0);

    // Input arrives through console_read (event 1); every command still works.
    vm.type("uptime\n");
    REQUIRE(vm.waitFor("RTC time"));
    vm.type("ticks\n");
    REQUIRE(vm.waitFor("ticks at 1000 Hz from the PV timer"));
    vm.type("pv\n");
    REQUIRE(vm.waitFor("late timer upcalls"));
    REQUIRE(vm.waitFor("tinyos> "));
    const std::string picLine = vm.lineWith("PIC lines unmasked:");
    CHECK(picLine.find(" 0") == std::string::npos);  // neither the timer ...
    CHECK(picLine.find(" 4") == std::string::npos);  // ... nor the UART's line
    CHECK(vm.lineWith("paths:").find("console pv (input pv), timer pv, interrupts pv-events") != std::string::npos);
    vm.type("bench timer\n");
    REQUIRE(vm.waitFor("counting PV timer ticks"));
    REQUIRE(vm.waitFor("ppm off the RTC", 180s));
    REQUIRE(vm.waitFor("tinyos> "));
    CHECK(vm.output().find("RTC seconds (expected 2000 at 1000 Hz)") != std::string::npos);
    vm.type("bench disk\n");
    REQUIRE(vm.waitFor("disk DMA: read 1024 sectors", 180s));  // IDE's DMA interrupt: still INTx via the PIC
    REQUIRE(vm.waitFor("tinyos> "));
    CHECK(vm.output().find("disk PIO: read 1024 sectors") != std::string::npos);
    vm.type("poweroff\n");
    const hv::RunOutcome outcome = vm.waitUntilFinished();
    CHECK(outcome.kind == hv::StopKind::DebugExit);
    CHECK(outcome.exitStatus == 1);
    const std::string all = vm.output();
    CHECK(all.find("timer: failed") == std::string::npos);
    CHECK(occurrences(all, "uptime") == 1);  // the echo of what we typed, once
    REQUIRE(vm.paravirt() != nullptr);
    CHECK(vm.paravirt()->upcallCount() > 1000);

    std::cout << "tinyos idle exits per second of guest time (interpreter):\n"
              << "  emulated (PIT + PIC + UART): " << emulated.io << " io, " << emulated.hypercalls
              << " hypercall, over " << emulated.seconds << " s\n"
              << "  PV (timer_set + events + console): " << pv.io << " io, " << pv.hypercalls
              << " hypercall, over " << pv.seconds << " s\n";
    CHECK(emulated.seconds >= 1.0);
    CHECK(pv.seconds >= 1.0);
    CHECK(emulated.io >= 900);             // at least the PIC's EOI for each of the 1000 ticks
    CHECK(pv.io * 20 <= emulated.io);      // no PIT/PIC port traffic per tick
    CHECK(pv.hypercalls >= 950);           // one timer_set per tick (the time comes from the event page)
    CHECK(pv.hypercalls <= 1100);
}
