// tinyos deprivileged: the `pv` preset (privileged, boot, interrupts and devices all P) on the
// interpreter. hvlab enters the same kernel.elf the disk image carries through its "hvlab" ELF
// note at ring 1; tinyos notices how it was entered and does through hypercalls what it otherwise
// does with CR3, INVLPG, CLI/STI, HLT, LIDT/LTR and the SYSCALL MSRs. The test drives the shell
// and then checks the exit counters: not one privileged-instruction exit in the whole run.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "cpu/hypercall_abi.hpp"
#include "hv/presets.hpp"
#include "hv/vm.hpp"

using namespace hvlab;
using namespace std::chrono_literals;

namespace {

const std::string kFirmware = HVLAB_FIRMWARE_DIR;

// tinyos under `--preset pv`, on its own thread; the test types at its console.
class PvTinyos {
public:
    PvTinyos() {
        hv::VmConfig config;
        config.directBoot = hv::boot::DirectBootRequest{kFirmware + "/tinyos-kernel.elf", "", ""};
        config.disks.push_back({kFirmware + "/tinyos.img", false, true, false});
        const hv::Preset* pv = hv::findPreset("pv");
        REQUIRE(pv != nullptr);
        REQUIRE_FALSE(hv::whyInvalid(pv->modes, true));
        hv::applyModes(pv->modes, config);
        config.serialOut = [this](uint8_t byte) {
            std::lock_guard lock(mutex_);
            output_.push_back(static_cast<char>(byte));
            changed_.notify_all();
        };
        vm_ = std::make_unique<hv::Vm>(std::move(config));
        thread_ = std::thread([this] {
            hv::RunOutcome outcome = vm_->run();
            std::lock_guard lock(mutex_);
            outcome_ = std::move(outcome);
            finished_ = true;
            changed_.notify_all();
        });
    }

    ~PvTinyos() {
        vm_->stop(0, "test over");
        thread_.join();
    }

    // Waits until `text` appears after the previous match; false on timeout or when the VM stopped.
    bool waitFor(const std::string& text, std::chrono::seconds timeout = 120s) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout,
                          [&] { return output_.find(text, searchFrom_) != std::string::npos || finished_; });
        const size_t at = output_.find(text, searchFrom_);
        if (at == std::string::npos) return false;
        searchFrom_ = at + text.size();
        return true;
    }

    void type(const std::string& text) { vm_->queueSerialInput(text); }

    // Types a shell command and waits for the next prompt.
    bool command(const std::string& line, std::chrono::seconds timeout = 180s) {
        type(line + "\n");
        return waitFor(line + "\r\n") && waitFor("tinyos> ", timeout);
    }

    hv::RunOutcome waitUntilFinished(std::chrono::seconds timeout = 60s) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return finished_; });
        return outcome_;
    }

    std::string output() {
        std::lock_guard lock(mutex_);
        return output_;
    }

    std::string lineWith(const std::string& text) {
        std::istringstream in(output());
        for (std::string line; std::getline(in, line);)
            if (line.find(text) != std::string::npos) return line;
        return {};
    }

    // Read once the VM has finished.
    uint64_t exits(cpu::ExitReason reason) const {
        const hv::ExitCounters c = vm_->exits().counters();
        return c.byVmm[static_cast<size_t>(reason)] + c.inEngine[static_cast<size_t>(reason)];
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string output_;
    size_t searchFrom_ = 0;
    bool finished_ = false;
    hv::RunOutcome outcome_;
    std::unique_ptr<hv::Vm> vm_;
    std::thread thread_;
};

std::string tail(const std::string& text, size_t n = 4000) { return text.substr(text.size() > n ? text.size() - n : 0); }

}  // namespace

TEST_CASE("tinyos runs deprivileged under the PV MMU with no privileged-instruction exit",
          "[integration][tinyos][paravirt][pvmmu]") {
    PvTinyos vm;
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
