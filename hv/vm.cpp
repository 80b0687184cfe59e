#include "hv/vm.hpp"

#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hv/interpreter_engine.hpp"
#include "hv/kvm_engine.hpp"

namespace hvlab::hv {

namespace {

std::chrono::steady_clock::time_point& processStart() {
    static std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
    return t;
}

constexpr uint64_t kLowRamEnd = 0xa0000;    // conventional memory ends at 640 KiB
constexpr uint64_t kUpperRamStart = 0xc0000;  // the VGA window 0xA0000-0xBFFFF stays unmapped
constexpr uint64_t kOneMiB = 0x100000;
constexpr uint64_t k4GiB = 0x100000000ull;

}  // namespace

void Vm::markProcessStart() { processStart() = std::chrono::steady_clock::now(); }

Vm::Vm(VmConfig config) : config_(std::move(config)), cpuid_(cpu::CpuidModel::hvlabDefault()) {
    start_ = std::chrono::steady_clock::now();
    (void)processStart();
    if (config_.memoryBytes < kMinMemory || config_.memoryBytes > kMaxMemory)
        throw std::invalid_argument(fmt::format("guest memory must be between 2 MiB and 3 GiB (got {} MiB)",
                                                config_.memoryBytes >> 20));
    if (config_.memoryBytes % 4096)
        throw std::invalid_argument("guest memory must be a multiple of 4 KiB");
    validateFirmware(config_.firmware.name, config_.firmware.view());
    buildMemory();
    buildDevices();

    state_ = cpu::CpuState::atReset();
    state_.gpr[cpu::RDX] = cpuid_.signature();  // EDX holds the processor signature after RESET

    if (config_.engine == EngineKind::Kvm)
        engine_ = std::make_unique<KvmEngine>(map_, cpuid_, config_.kvmDevice);
    else
        engine_ = std::make_unique<InterpreterEngine>(map_, cpuid_, this);
    engine_->loadState(state_);
}

Vm::~Vm() = default;

void Vm::buildMemory() {
    // One host mapping: guest RAM first, then the firmware ROM.
    const uint64_t ram = config_.memoryBytes;
    const std::span<const uint8_t> image = config_.firmware.view();
    const uint64_t romSize = image.size();
    host_ = std::make_unique<mmu::HostMemory>(ram + romSize);
    uint8_t* base = host_->data();
    uint8_t* rom = base + ram;
    std::copy(image.begin(), image.end(), rom);
    config_.firmware.bytes = {};  // the guest ROM holds the image now

    // The ROM's last 128 KiB (or all of it) also appear just below 1 MiB, as on a PC.
    const uint64_t alias = std::min<uint64_t>(romSize, 128 * 1024);
    const uint64_t aliasBase = kOneMiB - alias;
    map_.addRam(0, std::min(ram, kLowRamEnd), base, "ram (conventional)");
    if (aliasBase > kUpperRamStart) map_.addRam(kUpperRamStart, aliasBase - kUpperRamStart, base + kUpperRamStart, "ram (upper)");
    map_.addRom(aliasBase, alias, rom + romSize - alias, "firmware (below 1 MiB)");
    if (ram > kOneMiB) map_.addRam(kOneMiB, ram - kOneMiB, base + kOneMiB, "ram");
    map_.addRom(k4GiB - romSize, romSize, rom, "firmware");
}

void Vm::buildDevices() {
    uart_ = std::make_unique<devices::Uart16550>(0x3f8, &com1Irq_, [this](uint8_t byte) {
        if (config_.serialOut) config_.serialOut(byte);
    });
    io_.attach(0x3f8, 8, uart_.get());
    debugExit_ = std::make_unique<devices::DebugExit>(devices::DebugExit::kDefaultPort,
                                                      [this](uint32_t value) { debugExitValue_ = value; });
    io_.attach(devices::DebugExit::kDefaultPort, 1, debugExit_.get());
}

uint64_t Vm::nowNs() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
}

void Vm::onInEngineExit(const cpu::VmExit& exit) { exits_.record(nowNs(), 0, exit, 0); }

void Vm::stop(int exitStatus, std::string why) {
    if (stopRequested_.exchange(true)) return;
    stopStatus_ = exitStatus;
    stopReason_ = std::move(why);
    engine_->kick();
}

std::string Vm::lastExitsText(size_t count) const {
    std::string text;
    for (const ExitRecord& r : exits_.latest(count)) {
        if (!text.empty()) text += ", ";
        text += fmt::format("{}@{:#x}", cpu::exitReasonName(r.exit.reason), r.exit.rip);
    }
    return text.empty() ? "none" : text;
}

RunOutcome Vm::run() {
    RunOutcome outcome;
    if (!firstEntrySeconds_) {
        const auto now = std::chrono::steady_clock::now();
        firstEntrySeconds_ = std::chrono::duration<double>(now - processStart()).count();
        createToEntrySeconds_ = std::chrono::duration<double>(now - start_).count();
    }
    for (;;) {
        if (stopRequested_.load()) {
            engine_->saveState(state_);
            outcome.kind = StopKind::Stopped;
            outcome.exitStatus = stopStatus_;
            outcome.rip = state_.rip;
            outcome.message = fmt::format("{} (rip {:#x})", stopReason_, state_.rip);
            return outcome;
        }
        cpu::VmExit exit = engine_->run();
        if (exit.reason == cpu::ExitReason::None || exit.reason == cpu::ExitReason::Kicked) continue;
        const auto t0 = std::chrono::steady_clock::now();
        const bool keepRunning = handle(exit, outcome);
        const auto cost = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
        const ExitRecord& rec = exits_.record(nowNs(), 0, exit, static_cast<uint32_t>(cost.count()));
        if (config_.onExit) config_.onExit(rec);
        if (!keepRunning) {
            engine_->saveState(state_);
            return outcome;
        }
    }
}

// Handles one exit for the VMM. Returns false when the run is over (outcome filled in).
bool Vm::handle(cpu::VmExit& exit, RunOutcome& outcome) {
    using cpu::ExitReason;
    outcome.rip = exit.rip;
    switch (exit.reason) {
        case ExitReason::PortIo:
            if (exit.io.write) {
                io_.write(exit.io.port, exit.io.size, exit.io.value);
            } else {
                exit.io.value = io_.read(exit.io.port, exit.io.size);
                engine_->complete(exit);
            }
            if (debugExitValue_) {
                outcome.kind = StopKind::DebugExit;
                outcome.exitStatus = devices::DebugExit::exitStatusFor(*debugExitValue_);
                outcome.message = fmt::format("guest wrote {:#x} to isa-debug-exit (port {:#x}): status {}",
                                              *debugExitValue_, devices::DebugExit::kDefaultPort, outcome.exitStatus);
                return false;
            }
            return true;
        case ExitReason::Mmio:
            if (exit.mmio.write) {
                mmio_.write(exit.mmio.gpa, exit.mmio.size, exit.mmio.value);
            } else {
                mmio_.read(exit.mmio.gpa, exit.mmio.size, exit.mmio.value);
                engine_->complete(exit);
            }
            return true;
        case ExitReason::Hlt: {
            // No interrupt controller or timer exists yet, so nothing can ever wake a halted
            // CPU: end the run cleanly, and say whether the guest expected to be woken.
            const bool ifSet = engine_->interruptsEnabled();
            outcome.kind = StopKind::Halted;
            outcome.exitStatus = exit_status::kOk;
            outcome.message = ifSet ? fmt::format("guest halted at rip {:#x} waiting for an interrupt, but no device "
                                                  "can raise one: stopped",
                                                  exit.rip)
                                    : fmt::format("guest halted with interrupts disabled at rip {:#x}", exit.rip);
            return false;
        }
        case ExitReason::Shutdown:
            outcome.kind = StopKind::TripleFault;
            outcome.exitStatus = exit_status::kTripleFault;
            outcome.message = fmt::format("triple fault (shutdown) at rip {:#x}; last exits: {}", exit.rip,
                                          lastExitsText(5));
            return false;
        case ExitReason::UnimplementedInsn:
            outcome.kind = StopKind::Unimplemented;
            outcome.exitStatus = exit_status::kUnimplemented;
            outcome.message = fmt::format("unimplemented instruction at rip {:#x} ({}): the interpreter does not "
                                          "emulate it yet, VM stopped",
                                          exit.rip, cpu::describeExit(exit));
            return false;
        case ExitReason::EntryFailure:
        case ExitReason::InternalError:
            outcome.kind = StopKind::EngineError;
            outcome.exitStatus = exit_status::kEngineError;
            outcome.message = fmt::format("{} {} ({}) at rip {:#x}; last exits: {}", engine_->description(),
                                          cpu::exitReasonName(exit.reason), cpu::describeExit(exit), exit.rip,
                                          lastExitsText(5));
            return false;
        default:
            return true;  // recorded; nothing for the VMM to do yet
    }
}

}  // namespace hvlab::hv
