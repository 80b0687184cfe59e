// Privileged P end to end: firmware/tests/pv/pv-kernel.asm, a ring-1 kernel, booted by hvlab's
// PV loader on the interpreter (`--preset pv`), with no privileged-instruction exits at all.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cpu/hypercall_abi.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/presets.hpp"
#include "tests/hv/test_roms.hpp"

using namespace hvlab;
using test::spinningRom;

namespace {

const std::string kPvKernel = std::string(HVLAB_FIRMWARE_DIR) + "/pv-kernel.elf";

hv::VmConfig pvConfig(std::string* serial) {
    hv::VmConfig config;
    config.firmware = spinningRom();
    config.serialOut = [serial](uint8_t b) { serial->push_back(static_cast<char>(b)); };
    config.directBoot = hv::boot::DirectBootRequest{kPvKernel, "", "console=pv"};
    hv::applyModes(hv::findPreset("pv")->modes, config);
    return config;
}

uint64_t exits(const hv::ExitCounters& c, cpu::ExitReason reason) {
    const auto k = static_cast<size_t>(reason);
    return c.byVmm[k] + c.inEngine[k];
}

}  // namespace

TEST_CASE("pv: a ring-1 kernel on the PV MMU passes its checks with no privileged exits", "[hv][vm][paravirt][pvmmu]") {
    if (!std::filesystem::exists(kPvKernel)) FAIL(kPvKernel << " was not built (it needs GNU ld)");
    std::string serial;
    hv::Vm vm(pvConfig(&serial));
    CHECK(vm.directBootSummary().find("PV kernel") != std::string::npos);
    const hv::RunOutcome outcome = vm.run();
    INFO(serial);
    INFO(outcome.message);
    CHECK(serial.find("pv: hello from ring 1") != std::string::npos);
    CHECK(serial.find("pv: second address space pinned and loaded") != std::string::npos);
    CHECK(serial.find("pv: ring 3, #GP to ring 1, two system calls through the bounce") != std::string::npos);
    CHECK(serial.find("pv: timer upcall after block") != std::string::npos);
    CHECK(serial.find("FAIL") == std::string::npos);
    CHECK(serial.find("pv: all checks passed") != std::string::npos);
    CHECK(outcome.kind == hv::StopKind::DebugExit);
    CHECK(outcome.exitStatus == 33);

    // The kernel never ran a privileged instruction that reached the VMM or the engine's exit model.
    const hv::ExitCounters c = vm.exits().counters();
    for (cpu::ExitReason r : {cpu::ExitReason::Hlt, cpu::ExitReason::CrAccess, cpu::ExitReason::Invlpg,
                              cpu::ExitReason::MsrRead, cpu::ExitReason::MsrWrite}) {
        INFO(cpu::exitReasonName(r));
        CHECK(exits(c, r) == 0);
    }
    CHECK(exits(c, cpu::ExitReason::Hypercall) > 20);
    // The upcall came while the kernel was blocked (BLOCK, not a spin on the fallback path).
    bool blocked = false;
    for (const hv::ExitRecord& r : vm.exits().latest(vm.exits().capacity()))
        if (r.exit.reason == cpu::ExitReason::Hypercall && r.exit.hypercall.number == cpu::hypercall::kBlock)
            blocked = r.exit.hypercall.result == 0;
    CHECK(blocked);
    REQUIRE(vm.pvMachine());
    CHECK(vm.pvMachine()->syscallBounces() == 2);
    CHECK(vm.paravirt()->features() & cpu::hypercall::kFeaturePvMmu);
}

TEST_CASE("pv: privileged P refuses what a ring-1 kernel cannot use", "[hv][vm][paravirt][pvmmu]") {
    std::string serial;
    SECTION("not a PV kernel") {
        hv::VmConfig config = pvConfig(&serial);
        config.directBoot->kernelPath = std::string(HVLAB_FIRMWARE_DIR) + "/multiboot-hello-aout.bin";
        CHECK_THROWS_WITH(hv::Vm(std::move(config)), Catch::Contains("\"hvlab\" note"));
    }
    SECTION("a PV kernel without privileged P") {
        hv::VmConfig config = pvConfig(&serial);
        config.pvMmu = false;
        CHECK_THROWS_WITH(hv::Vm(std::move(config)), Catch::Contains("--preset pv"));
    }
    SECTION("KVM") {
        hv::VmConfig config = pvConfig(&serial);
        config.engine = hv::EngineKind::Kvm;
        CHECK_THROWS_WITH(hv::Vm(std::move(config)), Catch::Contains("interpreter only"));
    }
    SECTION("firmware first") {
        hv::VmConfig config = pvConfig(&serial);
        config.directBootAfterPost = true;
        CHECK_THROWS_WITH(hv::Vm(std::move(config)), Catch::Contains("boot P"));
    }
}

TEST_CASE("pv: the pv_mmu feature bit is offered only to a VM booted as PV", "[hv][vm][paravirt][pvmmu]") {
    hv::VmConfig config;
    config.firmware = test::loadTestImage("hypercalls");
    config.paravirt = cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeaturePvMmu;
    hv::Vm vm(std::move(config));
    REQUIRE(vm.paravirt());
    CHECK(vm.paravirt()->features() == cpu::hypercall::kFeatureConsole);
    CHECK(vm.pvMachine() == nullptr);
}
