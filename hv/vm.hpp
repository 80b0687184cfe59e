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
#include "devices/bus.hpp"
#include "devices/debug_exit.hpp"
#include "devices/uart16550.hpp"
#include "hv/engine.hpp"
#include "hv/exit_ring.hpp"
#include "hv/firmware_image.hpp"
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
};

constexpr uint64_t kMinMemory = 2ull << 20;
constexpr uint64_t kMaxMemory = 3ull << 30;  // below the 4 GiB hole, for now

// How a run ended.
enum class StopKind {
    DebugExit,        // the guest wrote to isa-debug-exit
    Halted,           // HLT that nothing can wake: a clean end
    TripleFault,      // shutdown
    Unimplemented,    // an instruction the interpreter does not implement
    EngineError,      // the engine failed (entry failure, internal error)
    Stopped,          // stopped from outside (signal, timeout, UI)
};

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

    Engine& engine() { return *engine_; }
    const ExitRing& exits() const { return exits_; }
    devices::Uart16550& uart() { return *uart_; }
    mmu::PhysicalMap& memory() { return map_; }
    const mmu::HostMemory& hostMemory() const { return *host_; }
    cpu::CpuState& state() { return state_; }  // valid while not running
    const cpu::CpuidModel& cpuid() const { return cpuid_; }

    // Startup figures: seconds from main() (markProcessStart) and from the start of VM
    // construction to the first guest entry.
    std::optional<double> secondsToFirstEntry() const { return firstEntrySeconds_; }
    std::optional<double> vmCreateToFirstEntry() const { return createToEntrySeconds_; }
    static void markProcessStart();

private:
    void buildMemory();
    void buildDevices();
    bool handle(cpu::VmExit& exit, RunOutcome& outcome);
    void onInEngineExit(const cpu::VmExit& exit) override;
    uint64_t nowNs() const;
    std::string lastExitsText(size_t count) const;

    VmConfig config_;
    cpu::CpuidModel cpuid_;
    std::unique_ptr<mmu::HostMemory> host_;
    mmu::PhysicalMap map_;
    devices::IoBus io_;
    devices::MmioBus mmio_;
    devices::LatchedIrqLine com1Irq_;
    std::unique_ptr<devices::Uart16550> uart_;
    std::unique_ptr<devices::DebugExit> debugExit_;
    cpu::CpuState state_;
    std::unique_ptr<Engine> engine_;
    ExitRing exits_;

    std::chrono::steady_clock::time_point start_;
    std::optional<double> firstEntrySeconds_;
    std::optional<double> createToEntrySeconds_;
    std::optional<uint32_t> debugExitValue_;
    std::atomic<bool> stopRequested_{false};
    int stopStatus_ = exit_status::kInterrupted;
    std::string stopReason_;
};

}  // namespace hvlab::hv
