// The Vm: guest memory and its physical map, the devices on their buses, one vCPU's state,
// an engine, and the one exit loop that serves both engines.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cpu/cpu_state.hpp"
#include "cpu/cpuid_model.hpp"
#include "cpu/vm_exit.hpp"
#include <condition_variable>
#include <mutex>

#include "devices/bus.hpp"
#include "devices/clock.hpp"
#include "devices/uart16550.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/breakpoints.hpp"
#include "hv/paravirt/paravirt_platform.hpp"
#include "hv/paravirt/pv_machine.hpp"
#include "hv/deadline_kicker.hpp"
#include "hv/engine.hpp"
#include "hv/exit_ring.hpp"
#include "hv/firmware_image.hpp"
#include "hv/pc_board.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {

struct VmConfig {
    EngineKind engine = EngineKind::Interpreter;
    uint64_t memoryBytes = 128ull << 20;
    FirmwareImage firmware;
    // Where COM1's output goes (default: nowhere).
    std::function<void(uint8_t)> serialOut;
    // Called for every exit the VMM handles, after handling (for --trace-exits).
    std::function<void(const ExitRecord&)> onExit;
    const char* kvmDevice = "/dev/kvm";
    // IDE disks: primary master, primary slave, secondary master, secondary slave.
    std::vector<DiskConfig> disks;
    // Networking: an e1000 or a virtio-net on this switch, with this MAC (see BoardConfig).
    devices::VirtualSwitch* network = nullptr;
    NicModel nicModel = NicModel::E1000;
    // The console on a virtio-console (output as COM1's; host input goes to it instead of COM1).
    bool virtioConsole = false;
    devices::MacAddress mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x02};
    std::string name = "vm1";
    // RTC time at power-on (Unix seconds); by default a fixed date on the interpreter (so runs
    // are deterministic) and the host's time on KVM.
    std::optional<int64_t> rtcStartUnixSeconds;
    // A guest reset request stops the VM instead of rebooting it (QEMU's -no-reboot).
    bool noReboot = false;
    // VH interrupts: KVM's in-kernel irqchip and PIT instead of the emulated ones (KVM only).
    bool kernelIrqchip = false;
    // Direct boot (--kernel/--initrd/--append). With `directBootAfterPost` (the hvlab BIOS) the
    // firmware runs its POST first and the kernel is loaded and entered when INT 19h starts (POST
    // code 0x12), so it finds the BIOS's MP and ACPI tables, as after SeaBIOS + linuxboot under
    // QEMU; again after every reset. Otherwise the vCPU starts in the kernel and no firmware runs.
    std::optional<boot::DirectBootRequest> directBoot;
    bool directBootAfterPost = false;
    // Boot P: direct boot with no firmware at all. No ROM is mapped (`firmware` is ignored), the
    // VMM sets up PCI as the BIOS would, and a reset enters the kernel again.
    bool bootsWithoutFirmware() const { return directBoot.has_value() && !directBootAfterPost; }
    // The paravirtual interfaces offered through hypercalls (cpu::hypercall::Feature bits; CPUID
    // 0x40000001 EBX): the PV console, clock and timer, event channel. None by default (a plain
    // PC). Events (P interrupts) exclude the in-kernel irqchip (VH interrupts).
    uint32_t paravirt = 0;
    // Privileged P: the kernel (`directBoot`, an ELF64 with the "hvlab" note) runs deprivileged at
    // ring 1 on the PV MMU (hv/paravirt/pv_machine.hpp); the VM offers kFeaturePvMmu. Interpreter
    // only, boot P only (no firmware runs).
    bool pvMmu = false;
    // Boot P with P interrupts (events): the board has no legacy devices (no PIC, PIT, RTC,
    // i8042, VGA, port 0x92, 0x61 or POST port; docs/hypercalls.md "PVH boot").
    bool legacyFree() const { return bootsWithoutFirmware() && (paravirt & cpu::hypercall::kFeatureEvents) != 0; }
    // The interpreter's virtual clock while the CPU is halted: false skips to the next timer
    // event at once (deterministic and fast: tests, benchmarks); true lets that time pass at host
    // speed (QEMU's icount sleep=on), so VMs that talk to each other or to a person see sensible
    // latencies and an idle guest uses no host CPU. A halted guest still wakes at the same virtual
    // time unless host input arrives first.
    bool idleAtHostRate = false;
};

// The POST code the hvlab BIOS writes when POST is done and INT 19h looks for something to boot
// (firmware/bios/defs.inc, POST_BOOT).
constexpr uint8_t kPostCodeBoot = 0x12;

// The interpreter's virtual clock: every retired instruction is this long, and a halted CPU
// skips ahead to the next timer event. It makes VS runs deterministic.
constexpr uint64_t kNsPerInstruction = 4;
constexpr uint64_t kNsPerPortIo = 1000;  // an ISA I/O cycle is about 1 us on a PC

constexpr uint64_t kMinMemory = 2ull << 20;
constexpr uint64_t kMaxMemory = 3ull << 30;  // below the 4 GiB hole, for now

// How a run ended (see endedCleanly()).
enum class StopKind {
    DebugExit,        // the guest wrote to isa-debug-exit
    Reset,            // the guest asked for a reset (i8042, port 0x92, 0xCF9) and --no-reboot was given
    Halted,           // HLT that nothing can wake: a clean end
    PowerOff,         // ACPI soft-off (S5) through the PIIX4 PM block: a clean end
    TripleFault,      // shutdown
    Unimplemented,    // an instruction the interpreter does not implement
    EngineError,      // the engine failed (entry failure, internal error)
    Stopped,          // stopped from outside (signal, timeout, UI)
    Paused,           // pause(), a step or a breakpoint: run() or step() again continues
};

// The guest ended the run itself, without an error: `hvlab run` exits with outcome.exitStatus.
inline bool endedCleanly(StopKind kind) {
    return kind == StopKind::Halted || kind == StopKind::PowerOff || kind == StopKind::DebugExit ||
           kind == StopKind::Reset;
}

struct RunOutcome {
    StopKind kind = StopKind::Stopped;
    int exitStatus = 0;  // what `hvlab run` exits with
    uint64_t rip = 0;
    std::string message;  // one line: what happened and where
};

// Distinct process statuses for failures (even, so they never collide with debug-exit's odd ones).
namespace exit_status {
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kKvmUnavailable = 4;
constexpr int kTripleFault = 6;
constexpr int kUnimplemented = 8;
constexpr int kEngineError = 10;
constexpr int kTimeout = 12;
constexpr int kInterrupted = 130;
}  // namespace exit_status

class Vm : public cpu::InEngineExitObserver {
public:
    // Builds memory, devices and the engine. Throws ImageError, KvmUnavailable, std::invalid_argument.
    explicit Vm(VmConfig config);
    ~Vm() override;

    // Runs the exit loop on the calling thread until the guest stops or stop() is called.
    RunOutcome run();
    // Thread-safe: ends run() soon with StopKind::Stopped and this status and message.
    void stop(int exitStatus, std::string why);

    // ---- Run control for the debugger (VmSession). ----
    // Thread-safe: ends run() soon with StopKind::Paused; run() again continues the guest.
    void pause();
    // Clears a pause() that came too late to stop the last run (call before run()).
    void cancelPause() { pauseRequested_.store(false); }
    // The next exit the VMM handles pauses run() (stepping from exit to exit).
    void pauseAfterNextExit() { pauseAfterExit_ = true; }
    // Runs exactly one guest instruction (an interrupt due now is delivered first, as on hardware)
    // and handles the exit it caused, if any. On KVM the instruction runs on the interpreter over
    // the same memory and state, then the state goes back to KVM (guest single-step is unreliable on
    // some KVM hosts; this never hangs). Returns Paused, or how the guest ended.
    RunOutcome step();
    // Pauses run() at these RIPs (before the instruction) and after exits they match. Only while
    // not running.
    void setBreakpoints(Breakpoints breakpoints);
    // Thread-safe: asks the running loop to call the inspector (on the vCPU thread, state saved into
    // state()) between two exits, soon.
    void setInspector(std::function<void(Vm&)> inspector) { inspector_ = std::move(inspector); }
    void requestInspection();
    // Power-cycles the PC (firmware again, fresh devices, the same disks). Only while not running.
    void powerCycle();

    Engine& engine() { return *engine_; }
    const ExitRing& exits() const { return exits_; }
    devices::Uart16550& uart() { return board_->uart(); }
    PcBoard& board() { return *board_; }
    // Host console input (any thread): queued for COM1 (or the virtio-console) and, with the PV
    // console, for CONSOLE_READ (only there once the guest reads it); a halted guest is woken.
    void queueSerialInput(std::string_view bytes);
    // The guest's clock as devices see it (virtual on the interpreter, host time on KVM).
    uint64_t guestNowNs() const;
    mmu::PhysicalMap& memory() { return map_; }
    // The PV console, clock and event channel (its counters), or nullptr without them.
    const ParavirtPlatform* paravirt() const { return paravirt_.get(); }
    // The PV MMU and hvlab's pages of a privileged-P VM, or nullptr.
    const PvMachine* pvMachine() const { return pvMachine_.get(); }
    const mmu::HostMemory& hostMemory() const { return *host_; }
    cpu::CpuState& state() { return state_; }  // valid while not running
    // Direct boot: start the vCPU from `entry` (a loader's state) instead of the reset vector.
    void startAt(const cpu::CpuState& entry) {
        state_ = entry;
        engine_->loadState(state_);
    }
    const cpu::CpuidModel& cpuid() const { return cpuid_; }
    // Direct boot: the loader's one-line summary (format, entry, where things went); empty without.
    const std::string& directBootSummary() const { return directBootSummary_; }

    // Startup figures: seconds from main() (markProcessStart) and from the start of VM
    // construction to the first guest entry.
    std::optional<double> secondsToFirstEntry() const { return firstEntrySeconds_; }
    std::optional<double> vmCreateToFirstEntry() const { return createToEntrySeconds_; }
    static void markProcessStart();

private:
    class GuestClock final : public devices::Clock {
    public:
        explicit GuestClock(const Vm& vm) : vm_(vm) {}
        uint64_t nowNs() const override { return vm_.guestNowNs(); }

    private:
        const Vm& vm_;
    };

    void buildMemory();
    void buildDevices(std::vector<std::unique_ptr<devices::DiskImage>> disks = {});
    bool handle(cpu::VmExit& exit, RunOutcome& outcome);
    // Handles and records one exit; false when the run is over or paused (outcome filled in).
    bool handleAndRecord(cpu::VmExit& exit, RunOutcome& outcome);
    RunOutcome leaveRun(RunOutcome outcome);
    bool rebootOrStop(RunOutcome& outcome);
    void serviceInspection();
    // The firmware handed over (POST code kPostCodeBoot): load the kernel and enter it.
    bool enterDirectBoot(RunOutcome& outcome);
    // Between runs: host input in, timers up to now, INTR to the engine, the next deadline out.
    void serviceDevices();
    void deliverInterrupt();
    void armNextDeadline();
    uint64_t nextDeadlineNs() const;
    // HLT with interrupts enabled: wait (virtual or host time) until an interrupt is delivered.
    // Returns false (outcome filled in) when nothing can ever wake the CPU or the VM stops.
    bool waitForInterrupt(RunOutcome& outcome, uint64_t rip);
    void wake();
    void reboot();
    std::unique_ptr<Engine> makeInterpreter();
    // Waits up to `ns` of host time (less when woken); returns the time waited.
    uint64_t sleepUpTo(uint64_t ns);
    void handOver(bool toInterpreter);
    cpu::CpuState resetState() const;  // the CPU after RESET
    void onInEngineExit(const cpu::VmExit& exit) override;
    uint64_t nowNs() const;
    std::string lastExitsText(size_t count) const;

    VmConfig config_;
    cpu::CpuidModel cpuid_;
    std::unique_ptr<mmu::HostMemory> host_;
    mmu::PhysicalMap map_;
    GuestClock clock_{*this};
    std::unique_ptr<PcBoard> board_;
    cpu::CpuState state_;
    uint64_t idleNs_ = 0;  // virtual time not spent in instructions: halts, I/O cycles (interpreter)
    DeadlineKicker kicker_;
    std::mutex wakeMutex_;
    std::condition_variable wakeCv_;
    bool woken_ = false;
    std::optional<std::string> resetRequest_;
    std::optional<std::string> powerOffRequest_;  // the guest entered ACPI S5
    unsigned reboots_ = 0;
    std::unique_ptr<Engine> engine_;
    ExitRing exits_;

    std::chrono::steady_clock::time_point start_;
    std::optional<double> firstEntrySeconds_;
    std::optional<double> createToEntrySeconds_;
    std::optional<uint32_t> debugExitValue_;
    std::atomic<bool> stopRequested_{false};
    std::atomic<bool> pauseRequested_{false};
    std::atomic<bool> inspectionRequested_{false};
    std::function<void(Vm&)> inspector_;
    Breakpoints breakpoints_;
    bool pauseAfterExit_ = false;
    bool directBootDue_ = false;
    std::string directBootSummary_;
    std::optional<uint64_t> pausedAtBreakpoint_;  // resuming there steps over it first
    std::unique_ptr<ParavirtPlatform> paravirt_;  // rebuilt with the devices on reset
    std::unique_ptr<PvMachine> pvMachine_;        // privileged P: rebuilt with the kernel on reset
    // Privileged P: a fresh PV machine and the kernel loaded into it.
    boot::DirectBootResult loadPvKernel();
    std::mutex paravirtInputMutex_;
    std::string paravirtInput_;  // host input on its way to the PV console
    std::atomic<bool> pvConsoleReader_{false};  // the guest reads the PV console (input goes there)
    std::unique_ptr<Engine> stepper_;  // KVM VMs: the interpreter that runs single steps
    // The engine running now (the kick threads read it while the VM thread may hand over).
    std::atomic<Engine*> kickTarget_{nullptr};
    // KVM VMs on a KVM that does not report breakpoint exits run on the interpreter while RIP
    // breakpoints are set.
    bool breakpointsOnInterpreter_ = false;
    int stopStatus_ = exit_status::kInterrupted;
    std::string stopReason_;
};

}  // namespace hvlab::hv
