// tinyos deprivileged: the `pv` preset (privileged, boot, interrupts and devices all P) on the
// interpreter. hvlab enters the same kernel.elf the disk image carries through its "hvlab" ELF
// note at ring 1; tinyos notices how it was entered and does through hypercalls what it otherwise
// does with CR3, INVLPG, CLI/STI, HLT, LIDT/LTR and the SYSCALL MSRs. The test drives the shell
// and then checks the exit counters: not one privileged-instruction exit in the whole run.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "cpu/hypercall_abi.hpp"
#include "hv/presets.hpp"
#include "hv/vm.hpp"
#include "tests/integration/console_vm.hpp"

using namespace hvlab;
using namespace std::chrono_literals;

namespace {

const std::string kFirmware = HVLAB_FIRMWARE_DIR;

// tinyos under `--preset pv`; the test types at its console (console_vm.hpp).
hv::VmConfig pvConfig() {
    hv::VmConfig config;
    config.directBoot = hv::boot::DirectBootRequest{kFirmware + "/tinyos-kernel.elf", "", ""};
    config.disks.push_back({kFirmware + "/tinyos.img", false, true, false});
    const hv::Preset* pv = hv::findPreset("pv");
    REQUIRE(pv != nullptr);
    REQUIRE_FALSE(hv::whyInvalid(pv->modes, true));
    hv::applyModes(pv->modes, config);
    return config;
}

std::string tail(const std::string& text, size_t n = 4000) { return text.substr(text.size() > n ? text.size() - n : 0); }

}  // namespace

TEST_CASE("tinyos runs deprivileged under the PV MMU with no privileged-instruction exit",
          "[integration][tinyos][paravirt][pvmmu]") {
    test::ConsoleVm vm(pvConfig());
    REQUIRE(vm.waitFor("tinyos> "));
    const std::string boot = vm.output();
    INFO(tail(vm.output()));
    CHECK(boot.find("entered by hvlab at ring 1 (PV MMU)") != std::string::npos);
    CHECK(boot.find("hvlab hypercalls v1: console clock events pv_mmu") != std::string::npos);
    CHECK(boot.find("paths: boot pv, console pv (input pv), timer pv, interrupts pv-events, idle block, "
                    "privileged pv") != std::string::npos);
    CHECK(boot.find("disk: using virtio-blk") != std::string::npos);
    CHECK(boot.find("started process 3: spinner") != std::string::npos);

    // Processes: address spaces built through mmu_update, switched with mmu_set_cr3.
    REQUIRE(vm.command("ps"));
    CHECK_FALSE(vm.lineWith(" counter").empty());
    CHECK_FALSE(vm.lineWith(" spinner").empty());
    REQUIRE(vm.command("run hello"));
    CHECK(vm.output().find("exited with code 0") != std::string::npos);
    // A ring-3 page fault (read_cr2) ends the process; its page tables are unpinned and freed.
    REQUIRE(vm.command("run crash 3"));
    CHECK(vm.output().find("exception 14 #PF page fault, error code 4") != std::string::npos);
    // Ring 3 cannot write the kernel: the kernel's GiB is supervisor-only in every address space.
    REQUIRE(vm.command("run crash 0"));
    CHECK(vm.output().find("exception 14 #PF page fault, error code 7") != std::string::npos);
    // System calls bounce through hvlab's stub and return with IRETQ.
    REQUIRE(vm.command("bench syscall"));
    CHECK_FALSE(vm.lineWith("syscall: ").empty());
    // Demand paging: one mmu_update per fault.
    REQUIRE(vm.command("bench pagefault"));
    CHECK(vm.lineWith("pagefault: touched").find(" page faults") != std::string::npos);
    // virtio-blk: its BARs mapped page by page, its interrupt line bound to an event port.
    REQUIRE(vm.command("bench disk"));
    CHECK(vm.lineWith("disk virtio-blk: read 1024 sectors").find("KiB/s") != std::string::npos);
    REQUIRE(vm.command("uptime"));
    CHECK(vm.lineWith(" s, idle ").find("no RTC") != std::string::npos);
    REQUIRE(vm.command("pv"));
    CHECK(vm.lineWith("offers:").find("pv_mmu") != std::string::npos);
    CHECK(vm.lineWith("PV MMU: ").find("mmu_update calls") != std::string::npos);
    CHECK(vm.lineWith("no PIC; interrupt lines as events:").find("->port") != std::string::npos);  // virtio-blk's

    // No RTC: the tick is measured against the PV clock.
    REQUIRE(vm.command("bench timer"));
    CHECK(vm.lineWith("timer: no RTC here").find(" ticks in ") != std::string::npos);
    // Reset through port 0xCF9 (open to ring 1): hvlab loads the PV kernel again.
    vm.type("reboot\n");
    REQUIRE(vm.waitFor("port 0xCF9"));
    REQUIRE(vm.waitFor("entered by hvlab at ring 1 (PV MMU)"));
    REQUIRE(vm.waitFor("tinyos> "));

    vm.type("poweroff\n");
    const hv::RunOutcome outcome = vm.waitUntilFinished();
    CHECK(outcome.kind == hv::StopKind::DebugExit);
    CHECK(outcome.exitStatus == 1);
    CHECK(vm.output().find("KERNEL PANIC") == std::string::npos);

    for (cpu::ExitReason reason : {cpu::ExitReason::Hlt, cpu::ExitReason::CrAccess, cpu::ExitReason::Invlpg,
                                   cpu::ExitReason::MsrRead, cpu::ExitReason::MsrWrite}) {
        INFO(cpu::exitReasonName(reason));
        CHECK(vm.exits(reason) == 0);
    }
    CHECK(vm.exits(cpu::ExitReason::Hypercall) > 1000);
}
