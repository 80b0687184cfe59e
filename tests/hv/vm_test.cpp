#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "cpu/hypercall_abi.hpp"
#include "hv/firmware_image.hpp"
#include "hv/kvm_engine.hpp"
#include "hv/vm.hpp"
#include "tests/hv/test_roms.hpp"

using namespace hvlab;

using test::loadTestImage;
using test::RomRun;
using test::runTestRom;
using test::spinningRom;

TEST_CASE("firmware images are validated", "[hv][firmware]") {
    std::vector<uint8_t> rom(4096, 0x90);
    rom[4096 - 16] = 0xea;
    CHECK_NOTHROW(hv::validateFirmware("ok", rom));
    CHECK_THROWS_WITH(hv::validateFirmware("empty", {}), Catch::Contains("is empty"));
    std::vector<uint8_t> odd(1000, 0);
    CHECK_THROWS_WITH(hv::validateFirmware("odd", odd), Catch::Contains("multiple of 4 KiB"));
    std::vector<uint8_t> elf(4096, 0);
    elf[0] = 0x7f, elf[1] = 'E', elf[2] = 'L', elf[3] = 'F';
    CHECK_THROWS_WITH(hv::validateFirmware("elf", elf), Catch::Contains("ELF"));
    std::vector<uint8_t> zeros(4096, 0);
    CHECK_THROWS_WITH(hv::validateFirmware("zeros", zeros), Catch::Contains("no jump at its reset vector"));
    CHECK_THROWS_AS(hv::loadFirmwareFile("/nonexistent.bin"), hv::ImageError);
}

TEST_CASE("the VM maps RAM, the VGA window and the firmware like a PC", "[hv][vm]") {
    hv::VmConfig config;
    config.memoryBytes = 16ull << 20;
    config.firmware = loadTestImage("firstboot");
    hv::Vm vm(std::move(config));
    auto& map = vm.memory();
    REQUIRE(map.find(0x0));
    CHECK(map.find(0x0)->kind == mmu::RegionKind::Ram);
    REQUIRE(map.find(0xb8000));  // the VGA window is memory (the text buffer lives there)
    CHECK(map.find(0xb8000)->name == "vga window");
    REQUIRE(map.find(0xffff0));
    CHECK(map.find(0xffff0)->kind == mmu::RegionKind::Rom);
    REQUIRE(map.find(0xfffffff0));
    CHECK(map.find(0xfffffff0)->kind == mmu::RegionKind::Rom);
    CHECK(map.find((16ull << 20) - 1)->kind == mmu::RegionKind::Ram);
    CHECK(map.find(16ull << 20) == nullptr);
    // The alias below 1 MiB and the top of 4 GiB show the same bytes (the reset vector).
    uint8_t low = 0, high = 0;
    REQUIRE(map.read(0xffff0, &low, 1));
    REQUIRE(map.read(0xfffffff0, &high, 1));
    CHECK(low == 0xea);
    CHECK(high == 0xea);
    // ROM is read-only.
    const uint8_t junk = 0;
    CHECK_FALSE(map.write(0xffff0, &junk, 1));
    CHECK(map.ramBytes() == (16ull << 20) - 0x10000);  // all but the ROM alias below 1 MiB
}

TEST_CASE("guest memory size is checked", "[hv][vm]") {
    hv::VmConfig config;
    config.firmware = loadTestImage("firstboot");
    config.memoryBytes = 1ull << 20;
    CHECK_THROWS_WITH(hv::Vm(config), Catch::Contains("between 2 MiB and 3 GiB"));
    config.memoryBytes = 4ull << 30;
    CHECK_THROWS_WITH(hv::Vm(config), Catch::Contains("between 2 MiB and 3 GiB"));
}

TEST_CASE("the VM runs the first guest on the interpreter and records its exits", "[hv][vm]") {
    hv::VmConfig config;
    config.firmware = loadTestImage("firstboot");
    std::string serial;
    config.serialOut = [&](uint8_t b) { serial.push_back(static_cast<char>(b)); };
    size_t traced = 0;
    config.onExit = [&](const hv::ExitRecord&) { ++traced; };
    hv::Vm vm(std::move(config));
    const hv::RunOutcome outcome = vm.run();
    CHECK(outcome.kind == hv::StopKind::Halted);
    CHECK(outcome.exitStatus == 0);
    CHECK(serial.find("self-checks passed") != std::string::npos);
    const auto c = vm.exits().counters();
    CHECK(c.byVmm[static_cast<size_t>(cpu::ExitReason::PortIo)] > 100);
    CHECK(c.byVmm[static_cast<size_t>(cpu::ExitReason::Hlt)] == 1);
    CHECK(c.inEngine[static_cast<size_t>(cpu::ExitReason::Cpuid)] > 0);
    CHECK(c.inEngine[static_cast<size_t>(cpu::ExitReason::MsrWrite)] == 1);  // EFER.LME
    CHECK(traced == c.byVmm[static_cast<size_t>(cpu::ExitReason::PortIo)] + 1);
    // The final state is 64-bit long mode with paging.
    CHECK(vm.state().mode() == cpu::CpuMode::Long64);
    CHECK(vm.state().pagingEnabled());
    CHECK(vm.secondsToFirstEntry().has_value());
}

TEST_CASE("the PIT's IRQ 0 reaches the local APIC through IOAPIC pin 2, as the MP tables say", "[hv][vm]") {
    const RomRun r = runTestRom("ioapic-timer");
    CHECK(r.outcome.kind == hv::StopKind::DebugExit);
    CHECK(r.outcome.exitStatus == 33);
    CHECK(r.serial.find("3 timer interrupts on vector 0x30 via IOAPIC pin 2: PASS") != std::string::npos);
}

TEST_CASE("ACPI soft-off through the PIIX4 PM block powers the VM off cleanly", "[hv][vm]") {
    const RomRun r = runTestRom("acpi-poweroff");
    const hv::RunOutcome& outcome = r.outcome;
    INFO(r.serial);
    CHECK(outcome.kind == hv::StopKind::PowerOff);
    CHECK(outcome.exitStatus == 0);
    CHECK(hv::endedCleanly(outcome.kind));
    CHECK(outcome.message.find("ACPI power-off") == 0);
    CHECK(r.serial.find("FAIL") == std::string::npos);
}

TEST_CASE("stop() from another thread ends a guest that never stops", "[hv][vm]") {
    hv::VmConfig config;
    config.firmware = spinningRom();
    hv::Vm vm(std::move(config));
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        vm.stop(hv::exit_status::kTimeout, "test stop");
    });
    const auto t0 = std::chrono::steady_clock::now();
    const hv::RunOutcome outcome = vm.run();
    stopper.join();
    CHECK(outcome.kind == hv::StopKind::Stopped);
    CHECK(outcome.exitStatus == hv::exit_status::kTimeout);
    CHECK(outcome.message.find("test stop") == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(vm.engine().instructionsRetired() > 1000);
}

TEST_CASE("KVM availability is reported with a reason", "[hv][kvm]") {
    std::string why;
    CHECK_FALSE(hv::KvmEngine::available(&why, "/nonexistent/kvm"));
    CHECK(why == "cannot open /nonexistent/kvm: No such file or directory");
    hv::VmConfig config;
    config.firmware = loadTestImage("firstboot");
    config.engine = hv::EngineKind::Kvm;
    config.kvmDevice = "/nonexistent/kvm";
    CHECK_THROWS_AS(hv::Vm(config), hv::KvmUnavailable);
}

TEST_CASE("the VM runs the first guest on KVM like on the interpreter", "[hv][kvm]") {
    std::string why;
    if (!hv::KvmEngine::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    std::string outputs[2];
    for (int k = 0; k < 2; ++k) {
        hv::VmConfig config;
        config.engine = k ? hv::EngineKind::Kvm : hv::EngineKind::Interpreter;
        config.firmware = loadTestImage("firstboot");
        config.serialOut = [&, k](uint8_t b) { outputs[k].push_back(static_cast<char>(b)); };
        hv::Vm vm(std::move(config));
        const auto outcome = vm.run();
        CHECK(outcome.kind == hv::StopKind::Halted);
        CHECK(vm.state().mode() == cpu::CpuMode::Long64);
    }
    CHECK(outputs[0] == outputs[1]);
}

TEST_CASE("a KVM guest that never stops is kicked out of KVM_RUN by stop()", "[hv][kvm]") {
    std::string why;
    if (!hv::KvmEngine::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    hv::VmConfig config;
    config.engine = hv::EngineKind::Kvm;
    config.firmware = spinningRom();
    hv::Vm vm(std::move(config));
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        vm.stop(hv::exit_status::kTimeout, "kick test");
    });
    const auto t0 = std::chrono::steady_clock::now();
    const hv::RunOutcome outcome = vm.run();
    stopper.join();
    CHECK(outcome.kind == hv::StopKind::Stopped);
    CHECK(outcome.exitStatus == hv::exit_status::kTimeout);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    // The state came back from KVM: still in real mode at the spinning jump.
    CHECK(vm.state().mode() == cpu::CpuMode::Real);
    CHECK(vm.state().rip == 0xfff0);
}

TEST_CASE("hypercalls: PV console, clock, one-shot timer and event channel (firmware/tests/hypercalls.asm)",
          "[hv][vm][paravirt]") {
    const RomRun r = runTestRom("hypercalls", [](hv::VmConfig& c) {
        c.paravirt = cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock | cpu::hypercall::kFeatureEvents;
    });
    INFO(r.serial);
    CHECK(r.outcome.kind == hv::StopKind::DebugExit);
    CHECK(r.outcome.exitStatus == 33);
    CHECK(r.serial.find("hypercall console: hello from the guest\r\n") != std::string::npos);
    CHECK(r.serial.find("hypercalls: all checks passed") != std::string::npos);
    const auto& counts = r.vm->exits().counters();
    CHECK(counts.byVmm[static_cast<size_t>(cpu::ExitReason::Hypercall)] >= 12);
    REQUIRE(r.vm->paravirt());
    CHECK(r.vm->paravirt()->upcallCount() == 2);
}

TEST_CASE("event_bind_irq and block (firmware/tests/pv-irq-block.asm)", "[hv][vm][paravirt]") {
    const RomRun r = runTestRom("pv-irq-block", [](hv::VmConfig& c) {
        c.paravirt = cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock | cpu::hypercall::kFeatureEvents;
    });
    INFO(r.serial);
    CHECK(r.outcome.kind == hv::StopKind::DebugExit);
    CHECK(r.outcome.exitStatus == 33);
    CHECK(r.serial.find("pv-irq-block: all checks passed") != std::string::npos);
    // The guest idled three times, all through BLOCK: hypercall exits (11 calls at least),
    // never a HLT exit.
    const auto& counts = r.vm->exits().counters();
    CHECK(counts.byVmm[static_cast<size_t>(cpu::ExitReason::Hlt)] == 0);
    CHECK(counts.byVmm[static_cast<size_t>(cpu::ExitReason::Hypercall)] >= 11);
    REQUIRE(r.vm->paravirt());
    CHECK(r.vm->paravirt()->upcallCount() >= 3);
}

TEST_CASE("block and event_bind_irq need the events feature", "[hv][vm][paravirt]") {
    const RomRun r = runTestRom("pv-irq-block", [](hv::VmConfig& c) {
        c.paravirt = cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock;
    });
    INFO(r.serial);
    CHECK(r.outcome.exitStatus == 3);
    CHECK(r.serial.find("FAIL: event_bind_irq line 24 -> -EINVAL") != std::string::npos);
    CHECK(r.serial.find("FAIL: block returns 0") != std::string::npos);
}

TEST_CASE("hypercalls without PV features: -ENOSYS, and CPUID offers nothing", "[hv][vm][paravirt]") {
    const RomRun r = runTestRom("hypercalls");
    INFO(r.serial);
    CHECK(r.outcome.kind == hv::StopKind::DebugExit);
    CHECK(r.outcome.exitStatus == 3);
    CHECK(r.serial.find("FAIL: ABI version 1") != std::string::npos);
    CHECK(r.serial.find("FAIL: console_write returns the length") != std::string::npos);
    CHECK(r.serial.find("hello from the guest") == std::string::npos);
    CHECK(r.vm->paravirt() == nullptr);
}

TEST_CASE("PV events and the in-kernel irqchip are refused together", "[hv][vm][paravirt]") {
    hv::VmConfig config;
    config.firmware = loadTestImage("hypercalls");
    config.engine = hv::EngineKind::Kvm;
    config.kernelIrqchip = true;
    config.paravirt = cpu::hypercall::kFeatureEvents;
    CHECK_THROWS_WITH(hv::Vm(std::move(config)), Catch::Contains("exclude each other"));
}

TEST_CASE("idle at host rate: the halted CPU's waits take as long in host time, with the same guest result",
          "[hv][vm]") {
    // ioapic-timer.bin halts until three 100 Hz PIT ticks have come: about 30 ms of halted time.
    auto run = [](bool hostRate) {
        hv::VmConfig config;
        config.firmware = loadTestImage("ioapic-timer");
        config.idleAtHostRate = hostRate;
        hv::Vm vm(std::move(config));
        const auto began = std::chrono::steady_clock::now();
        const hv::RunOutcome outcome = vm.run();
        CHECK(outcome.exitStatus == 33);
        return std::make_pair(std::chrono::steady_clock::now() - began, vm.guestNowNs());
    };
    const auto [realWall, realGuest] = run(true);
    const auto [fastWall, fastGuest] = run(false);
    CHECK(realWall >= std::chrono::milliseconds(20));
    CHECK(fastWall < std::chrono::milliseconds(20));
    // Woken at the same virtual deadlines, the guest sees the same time either way.
    CHECK(realGuest == fastGuest);
}
