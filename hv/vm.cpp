#include "hv/vm.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hv/interpreter_engine.hpp"
#include "hv/kvm_breakpoint_probe.hpp"
#include "hv/kvm_engine.hpp"
#include "cpu/hypercall_abi.hpp"

namespace hvlab::hv {

namespace {

std::chrono::steady_clock::time_point& processStart() {
    static std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
    return t;
}

constexpr uint64_t kLowRamEnd = 0xa0000;      // conventional memory ends at 640 KiB
constexpr uint64_t kVgaWindowEnd = 0xc0000;   // 0xA0000-0xBFFFF: the VGA window, plain RAM here
constexpr uint64_t kUpperRamStart = 0xc0000;
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
    if (config_.bootsWithoutFirmware())
        config_.firmware = {};  // boot P: no BIOS ROM at all
    else
        validateFirmware(config_.firmware.name, config_.firmware.view());
    if (config_.kernelIrqchip && config_.engine != EngineKind::Kvm)
        throw std::invalid_argument("the in-kernel irqchip (VH interrupts) needs the KVM engine; the interpreter "
                                    "uses the emulated PIC, PIT and APICs");
    if (config_.kernelIrqchip && (config_.paravirt & cpu::hypercall::kFeatureEvents))
        throw std::invalid_argument("PV events (P interrupts) and the in-kernel irqchip (VH interrupts) exclude each "
                                    "other: the upcall is injected by the VMM, which KVM's own irqchip does not allow");
    if (config_.pvMmu) {
        if (config_.engine != EngineKind::Interpreter)
            throw std::invalid_argument("privileged P (a ring-1 kernel on the PV MMU) runs on the interpreter only");
        if (!config_.directBoot || config_.directBootAfterPost)
            throw std::invalid_argument("privileged P needs boot P: a PV kernel (--kernel, an ELF64 with the \"hvlab\" "
                                        "note) entered directly, without firmware");
        config_.paravirt |= cpu::hypercall::kFeaturePvMmu;
    } else {
        config_.paravirt &= ~uint32_t{cpu::hypercall::kFeaturePvMmu};  // offered only to a VM booted as PV
    }
    if (config_.paravirt)
        cpuid_.setLeaf({cpu::hypercall::kFeatureLeaf, 0, false, cpu::hypercall::kAbiVersion, config_.paravirt,
                        cpu::hypercall::kPort, 0});
    buildMemory();
    buildDevices();

    state_ = resetState();
    if (config_.engine == EngineKind::Kvm) {
        cpuid_.addHardwareFloatingPoint();  // the guest's x87/SSE code runs on the host CPU
        engine_ = std::make_unique<KvmEngine>(map_, cpuid_, config_.kvmDevice, config_.kernelIrqchip);
    } else {
        engine_ = makeInterpreter();
    }
    kickTarget_.store(engine_.get());
    engine_->loadState(state_);
    if (config_.pvMmu) {
        const boot::DirectBootResult loaded = loadPvKernel();
        directBootSummary_ = loaded.summary;
        startAt(loaded.entry);
    } else if (config_.directBoot) {
        // Load once now, so a bad kernel or initrd is reported before the VM runs.
        const boot::DirectBootResult loaded = boot::loadDirectBoot(*config_.directBoot, map_, config_.memoryBytes);
        directBootSummary_ = loaded.summary;
        if (!config_.directBootAfterPost) startAt(loaded.entry);
    }
}

bool Vm::enterDirectBoot(RunOutcome& outcome) {
    directBootDue_ = false;
    engine_->saveState(state_);
    try {
        const boot::DirectBootResult loaded = boot::loadDirectBoot(*config_.directBoot, map_, config_.memoryBytes);
        spdlog::info("{}: firmware POST done, entering the kernel: {}", config_.name, loaded.summary);
        engine_->requestInterruptWindow(false);
        startAt(loaded.entry);
        return true;
    } catch (const boot::BootImageError& e) {
        outcome.kind = StopKind::EngineError;
        outcome.exitStatus = exit_status::kUsage;
        outcome.message = fmt::format("direct boot after POST failed: {}", e.what());
        return false;
    }
}

boot::DirectBootResult Vm::loadPvKernel() {
    // hvlab's pages sit at the top of RAM below the PCI hole (all of it: kMaxMemory is 3 GiB).
    pvMachine_ = std::make_unique<PvMachine>(map_, config_.memoryBytes, [this]() -> PvVcpu* {
        return engine_ ? engine_->pvVcpu() : nullptr;
    });
    return boot::loadDirectBoot(*config_.directBoot, map_, config_.memoryBytes, pvMachine_.get());
}

cpu::CpuState Vm::resetState() const {
    cpu::CpuState s = cpu::CpuState::atReset();
    s.gpr[cpu::RDX] = cpuid_.signature();  // EDX holds the processor signature after RESET
    return s;
}

Vm::~Vm() {
    // Devices first: their callbacks (wake, reset, A20) reach into the engine and the Vm.
    kicker_.disarm();
    board_.reset();
}

void Vm::buildMemory() {
    // One host mapping: guest RAM first, then the firmware ROM.
    const uint64_t ram = config_.memoryBytes;
    const std::span<const uint8_t> image = config_.firmware.view();
    const uint64_t romSize = image.size();
    host_ = std::make_unique<mmu::HostMemory>(ram + romSize);  // no ROM with boot P
    uint8_t* base = host_->data();
    uint8_t* rom = base + ram;
    std::copy(image.begin(), image.end(), rom);
    config_.firmware.bytes = {};  // the guest ROM holds the image now

    // The ROM's last 128 KiB (or all of it) also appear just below 1 MiB, as on a PC.
    const uint64_t alias = std::min<uint64_t>(romSize, 128 * 1024);
    const uint64_t aliasBase = kOneMiB - alias;
    map_.addRam(0, std::min(ram, kLowRamEnd), base, "ram (conventional)");
    // The VGA window is backed by memory so the text buffer at 0xB8000 is written at RAM speed
    // (the VGA device reads it for the screen); graphics modes are not modelled.
    map_.addRam(kLowRamEnd, kVgaWindowEnd - kLowRamEnd, base + kLowRamEnd, "vga window");
    if (aliasBase > kUpperRamStart) map_.addRam(kUpperRamStart, aliasBase - kUpperRamStart, base + kUpperRamStart, "ram (upper)");
    if (alias) map_.addRom(aliasBase, alias, rom + romSize - alias, "firmware (below 1 MiB)");
    if (ram > kOneMiB) map_.addRam(kOneMiB, ram - kOneMiB, base + kOneMiB, "ram");
    if (romSize) map_.addRom(k4GiB - romSize, romSize, rom, "firmware");
}

void Vm::buildDevices(std::vector<std::unique_ptr<devices::DiskImage>> disks) {
    BoardConfig board;
    board.ramBytes = config_.memoryBytes;
    board.disks = config_.disks;
    board.network = config_.network;
    board.nicModel = config_.nicModel;
    board.virtioConsole = config_.virtioConsole;
    board.mac = config_.mac;
    board.name = config_.name;
    if (config_.rtcStartUnixSeconds)
        board.rtcStartUnixSeconds = *config_.rtcStartUnixSeconds;
    else if (config_.engine == EngineKind::Kvm)
        board.rtcStartUnixSeconds = std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
    board.serialOut = [this](uint8_t byte) {
        if (config_.serialOut) config_.serialOut(byte);
    };
    board.wake = [this] { wake(); };
    board.onResetRequest = [this](std::string why) {
        if (!resetRequest_) resetRequest_ = std::move(why);
    };
    board.onDebugExit = [this](uint32_t value) { debugExitValue_ = value; };
    board.onPowerOff = [this](std::string why) { powerOffRequest_ = std::move(why); };
    if (config_.kernelIrqchip) {
        board.kernelIrqLine = [this](unsigned irq, bool level) {
            if (auto* kvm = dynamic_cast<KvmEngine*>(engine_.get())) kvm->setIrqLine(irq, level);
        };
    }
    board.onA20 = [this](bool enabled) {
        if (engine_) engine_->setA20(enabled);
    };
    board.configurePciWithoutFirmware = config_.bootsWithoutFirmware();
    board.legacyDevices = !config_.legacyFree();
    paravirt_.reset();
    if (config_.paravirt) {
        // EVENT_BIND_IRQ: the board's line stops at the controllers and raises the port instead.
        auto divert = [this](unsigned irq, std::function<void()> onEdge) {
            return board_ && board_->divertIrqLine(irq, [this, onEdge = std::move(onEdge)] {
                       onEdge();
                       wake();
                   });
        };
        paravirt_ = std::make_unique<ParavirtPlatform>(
            config_.paravirt, map_,
            [this](uint8_t byte) {
                if (config_.serialOut) config_.serialOut(byte);
            },
            divert, [this] { return guestNowNs(); });
    }
    if (config_.directBoot && config_.directBootAfterPost)
        board.onPostCode = [this](uint8_t code) { directBootDue_ = directBootDue_ || code == kPostCodeBoot; };
    board_ = std::make_unique<PcBoard>(board, clock_, map_, std::move(disks));
    if (config_.pvMmu) {
        // A ring-1 kernel must not reach its page tables or hvlab's pages through a device or a
        // hypercall buffer either.
        auto guard = [this](uint64_t gpa, uint64_t len) { return !pvMachine_ || pvMachine_->mmu().writableByDevices(gpa, len); };
        board_->setDmaWriteGuard(guard);
        if (paravirt_) paravirt_->setWriteGuard(guard);
    }
}

uint64_t Vm::nowNs() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
}

uint64_t Vm::guestNowNs() const {
    if (config_.engine == EngineKind::Kvm) return nowNs();
    const uint64_t retired = engine_ ? engine_->instructionsRetired() : 0;
    return retired * kNsPerInstruction + idleNs_;
}

// A system reset, as the chipset's reset line does it: every device back to power-on (the
// board is rebuilt; disk overlays and RAM contents survive, as on a warm reset) and the CPU at
// the reset vector. The firmware then boots again.
void Vm::reboot() {
    spdlog::info("{}: rebooting", *resetRequest_);
    resetRequest_.reset();
    ++reboots_;
    kicker_.disarm();
    auto disks = board_->takeDisks();  // the media (and their overlays) outlive the reset
    board_.reset();
    buildDevices(std::move(disks));
    state_ = resetState();
    engine_->setA20(true);
    engine_->requestInterruptWindow(false);
    engine_->loadState(state_);
    if (config_.bootsWithoutFirmware()) {
        // No firmware to run: the kernel is loaded and entered again, as Xen restarts a PVH guest
        // (a PV kernel into a fresh PV machine).
        try {
            startAt(config_.pvMmu ? loadPvKernel().entry
                                  : boot::loadDirectBoot(*config_.directBoot, map_, config_.memoryBytes).entry);
        } catch (const boot::BootImageError& e) {
            stop(exit_status::kUsage, fmt::format("direct boot after a reset failed: {}", e.what()));
        }
    }
}

void Vm::wake() {
    {
        std::lock_guard lock(wakeMutex_);
        woken_ = true;
    }
    wakeCv_.notify_all();
    if (Engine* engine = kickTarget_.load()) engine->kick();
}

uint64_t Vm::nextDeadlineNs() const {
    uint64_t next = devices::kNoDeadline;
    for (const devices::TimedDevice* d : board_->timedDevices()) next = std::min(next, d->nextDeadlineNs());
    if (paravirt_) next = std::min(next, paravirt_->nextDeadlineNs());
    return next;
}

void Vm::queueSerialInput(std::string_view bytes) {
    // With the PV console offered, input goes to it as well as to COM1 (the guest reads one of
    // them), and to it only once the guest has read it (COM1 would queue it for nobody).
    if (config_.paravirt & cpu::hypercall::kFeatureConsole) {
        std::lock_guard lock(paravirtInputMutex_);
        paravirtInput_ += bytes;
        paravirtInputWaiting_.store(true, std::memory_order_release);
    }
    if (!pvConsoleReader_.load()) board_->queueConsoleInput(bytes);
    wake();
}

void Vm::serviceDevices() {
    board_->pollInputs();
    const uint64_t now = guestNowNs();
    if (paravirt_ && paravirtInputWaiting_.load(std::memory_order_acquire)) {
        std::string input;
        {
            std::lock_guard lock(paravirtInputMutex_);
            input.swap(paravirtInput_);
            paravirtInputWaiting_.store(false, std::memory_order_relaxed);
        }
        for (char c : input) paravirt_->consoleInput(static_cast<uint8_t>(c), now);
    }
    for (devices::TimedDevice* d : board_->timedDevices()) d->advanceTo(now);
    if (paravirt_) paravirt_->advanceTo(now);
}

// The INTR pin: deliver now if the guest can take it, otherwise ask for an interrupt window.
void Vm::deliverInterrupt() {
    if (board_->kernelIrqchip()) return;  // KVM's own irqchip injects
    if (paravirt_ && paravirt_->upcallOwed()) {  // the PV event upcall goes first
        if (engine_->canInjectInterrupt()) {
            engine_->requestInterruptWindow(false);
            engine_->injectInterrupt(paravirt_->upcallVector());
            paravirt_->upcallDelivered();
            if (pvMachine_) paravirt_->maskUpcalls();  // the ring-1 kernel's virtual IF
        } else {
            engine_->requestInterruptWindow(true);
        }
        return;
    }
    devices::InterruptSource& intr = board_->interruptSource();
    if (!intr.intrAsserted()) {
        engine_->requestInterruptWindow(false);
        return;
    }
    if (engine_->canInjectInterrupt()) {
        engine_->requestInterruptWindow(false);
        if (const std::optional<uint8_t> vector = intr.acknowledge()) engine_->injectInterrupt(*vector);
    } else {
        engine_->requestInterruptWindow(true);
    }
}

void Vm::armNextDeadline() {
    const uint64_t next = nextDeadlineNs();
    if (config_.engine == EngineKind::Kvm) {
        if (next == devices::kNoDeadline) {
            kicker_.disarm();
        } else {
            const uint64_t now = nowNs();
            const auto delay = std::chrono::nanoseconds(next > now ? next - now : 0);
            kicker_.arm(std::chrono::steady_clock::now() + delay, [this] { kickTarget_.load()->kick(); });
        }
        return;
    }
    const uint64_t now = guestNowNs();
    if (next != devices::kNoDeadline) engine_->setRunBudget(next > now ? (next - now + kNsPerInstruction - 1) / kNsPerInstruction : 1);
}

bool Vm::waitForInterrupt(RunOutcome& outcome, uint64_t rip) {
    for (;;) {
        if (stopRequested_.load() || pauseRequested_.load()) return true;  // run() reports it
        serviceInspection();
        serviceDevices();
        if (resetRequest_ || debugExitValue_) return true;
        if (board_->kernelIrqchip() || board_->interruptSource().intrAsserted()) return true;
        if (paravirt_ && paravirt_->upcallOwed()) return true;
        const uint64_t next = nextDeadlineNs();
        if (config_.engine != EngineKind::Kvm && next != devices::kNoDeadline) {
            // Virtual time: nothing happens while halted, so jump to the next timer event, at
            // once or (idleAtHostRate) after as much host time; input or a stop ends it early.
            const uint64_t now = guestNowNs();
            if (next > now) idleNs_ += config_.idleAtHostRate ? sleepUpTo(next - now) : next - now;
            continue;
        }
        if (next == devices::kNoDeadline && !board_->waitsForHostInput() &&
            !(paravirt_ && paravirt_->waitsForInput())) {
            outcome.kind = StopKind::Halted;
            outcome.exitStatus = exit_status::kOk;
            outcome.message = fmt::format("guest halted at rip {:#x} waiting for an interrupt, but no timer is "
                                          "armed and no device waits for input: stopped",
                                          rip);
            return false;
        }
        // Host time (KVM), or waiting for host input: sleep until the deadline or a wake-up.
        std::unique_lock lock(wakeMutex_);
        const auto until = next == devices::kNoDeadline
                               ? std::chrono::steady_clock::now() + std::chrono::milliseconds(20)
                               : start_ + std::chrono::nanoseconds(next);
        wakeCv_.wait_until(lock, until, [this] { return woken_ || stopRequested_.load() || pauseRequested_.load(); });
        woken_ = false;
    }
}

uint64_t Vm::sleepUpTo(uint64_t ns) {
    const auto began = std::chrono::steady_clock::now();
    {
        std::unique_lock lock(wakeMutex_);
        wakeCv_.wait_until(lock, began + std::chrono::nanoseconds(ns),
                           [this] { return woken_ || stopRequested_.load() || pauseRequested_.load(); });
        woken_ = false;
    }
    const auto slept = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - began);
    return std::min<uint64_t>(ns, static_cast<uint64_t>(slept.count()));
}

void Vm::onInEngineExit(const cpu::VmExit& exit) { exits_.record(nowNs(), 0, exit, 0); }

void Vm::stop(int exitStatus, std::string why) {
    if (stopRequested_.exchange(true)) return;
    stopStatus_ = exitStatus;
    stopReason_ = std::move(why);
    wake();
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
    // Paused on a RIP breakpoint: run that instruction first, or the breakpoint would fire again.
    if (pausedAtBreakpoint_) {
        const uint64_t at = *pausedAtBreakpoint_;
        pausedAtBreakpoint_.reset();
        if (state_.rip == at) {
            RunOutcome stepped = step();
            if (stepped.kind != StopKind::Paused || stepped.message != "step") return stepped;
        }
    }
    for (;;) {
        if (stopRequested_.load()) {
            outcome.kind = StopKind::Stopped;
            outcome.exitStatus = stopStatus_;
            engine_->saveState(state_);
            outcome.rip = state_.rip;
            outcome.message = fmt::format("{} (rip {:#x})", stopReason_, state_.rip);
            return leaveRun(outcome);
        }
        if (pauseRequested_.load() && !engine_->midInstruction()) {
            pauseRequested_.store(false);
            outcome.kind = StopKind::Paused;
            outcome.message = "paused";
            return leaveRun(outcome);
        }
        serviceInspection();
        serviceDevices();
        if (resetRequest_) {
            if (!rebootOrStop(outcome)) return leaveRun(outcome);
            continue;
        }
        deliverInterrupt();
        armNextDeadline();
        cpu::VmExit exit = engine_->run();
        if (exit.reason == cpu::ExitReason::None || exit.reason == cpu::ExitReason::Kicked) continue;
        if (!handleAndRecord(exit, outcome)) return leaveRun(outcome);
    }
}

bool Vm::handleAndRecord(cpu::VmExit& exit, RunOutcome& outcome) {
    const auto t0 = std::chrono::steady_clock::now();
    bool keepRunning = handle(exit, outcome);
    const auto cost = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    const ExitRecord& rec = exits_.record(nowNs(), 0, exit, static_cast<uint32_t>(cost.count()));
    if (config_.onExit) config_.onExit(rec);
    std::string why;
    if (keepRunning && pauseAfterExit_) {
        pauseAfterExit_ = false;
        outcome.kind = StopKind::Paused;
        outcome.message = fmt::format("{} exit at rip {:#x}: {}", cpu::exitReasonName(exit.reason), exit.rip,
                                      cpu::describeExit(exit));
        return false;
    }
    if (keepRunning && breakpoints_.hasExitConditions() && breakpoints_.matchesExit(exit, why)) {
        outcome.kind = StopKind::Paused;
        outcome.message = std::move(why);
        return false;
    }
    return keepRunning;
}

// Leaving run() or step(): the deadline thread stops and the state is saved for the caller.
RunOutcome Vm::leaveRun(RunOutcome outcome) {
    kicker_.disarm();
    engine_->saveState(state_);
    if (outcome.kind == StopKind::Paused || outcome.kind == StopKind::Reset || outcome.kind == StopKind::Stopped)
        outcome.rip = state_.rip;
    return outcome;
}

void Vm::pause() {
    pauseRequested_.store(true);
    wake();
}

void Vm::requestInspection() {
    inspectionRequested_.store(true);
    wake();
}

void Vm::serviceInspection() {
    if (!inspector_ || !inspectionRequested_.load(std::memory_order_relaxed) || engine_->midInstruction()) return;
    inspectionRequested_.store(false);
    engine_->saveState(state_);
    inspector_(*this);
}

std::unique_ptr<Engine> Vm::makeInterpreter() {
    auto interp = std::make_unique<InterpreterEngine>(map_, cpuid_, this);
    interp->interpreter().setTscSource([this] { return guestNowNs(); });
    return interp;
}

// A KVM VM's CPU state moves to the interpreter (which then runs it on the same memory and
// devices) or back. Only between exits, on the VM thread.
void Vm::handOver(bool toInterpreter) {
    if (toInterpreter) {
        if (!stepper_) stepper_ = makeInterpreter();
        engine_->saveState(state_);
        stepper_->loadState(state_);
        std::swap(engine_, stepper_);
    } else {
        std::swap(engine_, stepper_);
        stepper_->saveState(state_);
        engine_->loadState(state_);
    }
    kickTarget_.store(engine_.get());
}

void Vm::setBreakpoints(Breakpoints breakpoints) {
    breakpoints_ = std::move(breakpoints);
    std::vector<uint64_t> rips = breakpoints_.rips;
    if (config_.engine == EngineKind::Kvm && !rips.empty()) {
        const BreakpointProbe& probe = probeKvmSoftwareBreakpoints(config_.kvmDevice);
        if (!probe.works && board_->kernelIrqchip()) {
            // The interpreter cannot take over: KVM's in-kernel irqchip has the interrupt state.
            spdlog::warn("{}: RIP breakpoints ignored: this KVM does not report breakpoint exits ({}), and with "
                         "--irqchip kernel the interpreter cannot run the VM instead",
                         config_.name, probe.detail);
            rips.clear();
        } else if (!probe.works && !breakpointsOnInterpreter_) {
            spdlog::warn("{}: this KVM does not report breakpoint exits ({}): the interpreter runs the VM while "
                         "RIP breakpoints are set",
                         config_.name, probe.detail);
        }
    }
    const bool onInterpreter = config_.engine == EngineKind::Kvm && !rips.empty() &&
                               !probeKvmSoftwareBreakpoints(config_.kvmDevice).works;
    if (onInterpreter != breakpointsOnInterpreter_) {
        if (!onInterpreter) engine_->setBreakpoints({});
        handOver(onInterpreter);
        breakpointsOnInterpreter_ = onInterpreter;
    }
    const size_t taken = engine_->setBreakpoints(rips);
    if (taken < rips.size())
        spdlog::warn("{}: {} supports {} RIP breakpoints; the other {} are ignored", config_.name,
                     engine_->description(), taken, rips.size() - taken);
}

// A reset was requested: reboot, or with --no-reboot fill in the outcome and return false.
bool Vm::rebootOrStop(RunOutcome& outcome) {
    if (!config_.noReboot) {
        reboot();
        return true;
    }
    outcome.kind = StopKind::Reset;
    outcome.exitStatus = exit_status::kOk;
    engine_->saveState(state_);
    outcome.message = fmt::format("{} (rip {:#x}): VM stopped (--no-reboot)", *resetRequest_, state_.rip);
    return false;
}

RunOutcome Vm::step() {
    RunOutcome outcome;
    pausedAtBreakpoint_.reset();
    serviceDevices();
    if (resetRequest_ && !rebootOrStop(outcome)) return leaveRun(outcome);
    // KVM: the interpreter runs the instruction on the same memory and the same CPU state.
    const bool handOverForStep = engine_->kind() == EngineKind::Kvm;
    if (handOverForStep) handOver(true);
    if (!board_->kernelIrqchip()) deliverInterrupt();
    engine_->setBreakpoints({});
    const uint64_t retiredBefore = engine_->instructionsRetired();
    bool keepRunning = true;
    // An IN or MMIO read exits before it completes and runs again with the VMM's answer: a step
    // takes both runs, so it always ends after one whole instruction.
    for (int run = 0; run < 2 && keepRunning; ++run) {
        engine_->setRunBudget(1);
        cpu::VmExit exit = engine_->run();
        if (exit.reason == cpu::ExitReason::None || exit.reason == cpu::ExitReason::Kicked) break;
        if (handOverForStep && exit.reason == cpu::ExitReason::UnimplementedInsn) {
            // x87/SSE and the like run on KVM but not on the interpreter: the step leaves the
            // instruction unexecuted instead of stopping a VM that is fine.
            keepRunning = false;
            outcome.kind = StopKind::Paused;
            outcome.message = fmt::format("cannot single-step the instruction at rip {:#x} ({}): the interpreter "
                                          "that steps KVM guests does not implement it; step to the next exit or "
                                          "run instead",
                                          exit.rip, cpu::describeExit(exit));
            break;
        }
        keepRunning = handleAndRecord(exit, outcome);
        const bool restarts = exit.reason == cpu::ExitReason::PortIo || exit.reason == cpu::ExitReason::Mmio;
        if (!restarts || engine_->instructionsRetired() != retiredBefore) break;
    }
    if (handOverForStep) {
        handOver(false);
    } else {
        engine_->setBreakpoints(breakpoints_.rips);
    }
    if (keepRunning) {
        outcome.kind = StopKind::Paused;
        outcome.message = "step";
    }
    return leaveRun(outcome);
}

void Vm::powerCycle() {
    stopRequested_.store(false);
    pauseRequested_.store(false);
    debugExitValue_.reset();
    powerOffRequest_.reset();
    pausedAtBreakpoint_.reset();
    if (!resetRequest_) resetRequest_ = "power cycle";
    reboot();
}

// Handles one exit for the VMM. Returns false when the run is over (outcome filled in).
bool Vm::handle(cpu::VmExit& exit, RunOutcome& outcome) {
    using cpu::ExitReason;
    outcome.rip = exit.rip;
    switch (exit.reason) {
        case ExitReason::PortIo:
            // On the virtual clock an I/O access takes as long as an ISA bus cycle does, so
            // polling loops timed by the PIT or port 0x61 see time pass as on hardware.
            if (config_.engine != EngineKind::Kvm) idleNs_ += kNsPerPortIo;
            if (exit.io.write) {
                board_->io().write(exit.io.port, exit.io.size, exit.io.value);
                if (directBootDue_) return enterDirectBoot(outcome);
            } else {
                exit.io.value = board_->io().read(exit.io.port, exit.io.size);
                engine_->complete(exit);
            }
            if (powerOffRequest_) {
                outcome.kind = StopKind::PowerOff;
                outcome.exitStatus = exit_status::kOk;
                outcome.message = fmt::format("{} at rip {:#x}: powered off", *powerOffRequest_, exit.rip);
                return false;
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
                board_->mmio().write(exit.mmio.gpa, exit.mmio.size, exit.mmio.value);
            } else {
                board_->mmio().read(exit.mmio.gpa, exit.mmio.size, exit.mmio.value);
                engine_->complete(exit);
            }
            return true;
        case ExitReason::Hypercall:
            if (config_.engine != EngineKind::Kvm) idleNs_ += kNsPerPortIo;  // it is a port write
            if (pvMachine_ && PvMachine::handles(exit.hypercall.number)) {
                // The PV MMU and the ring-1 kernel's machine; the SYSCALL bounce sets the registers itself.
                const std::optional<int64_t> result = pvMachine_->call(exit.hypercall, exit.rip);
                exit.hypercall.result = result.value_or(0);
                if (result) engine_->complete(exit);
                // The bounce lands on the user's stack: no upcall may come before the kernel's
                // entry has switched stacks, so events are masked there (Xen's syscall callback).
                else if (exit.hypercall.number == cpu::hypercall::kSyscallBounce && paravirt_)
                    paravirt_->maskUpcalls();
                return true;
            }
            exit.hypercall.result =
                paravirt_ ? paravirt_->call(exit.hypercall, guestNowNs()) : cpu::hypercall::kErrorNoSys;
            if (exit.hypercall.number == cpu::hypercall::kConsoleRead && exit.hypercall.result >= 0)
                pvConsoleReader_.store(true);
            engine_->complete(exit);
            // BLOCK: idle as on HLT (the exit stays a hypercall exit) until an upcall is owed.
            if (paravirt_ && paravirt_->takeBlockRequest()) return waitForInterrupt(outcome, exit.rip);
            return true;
        case ExitReason::Hlt:
            // HLT with interrupts disabled is how small guests power off; otherwise wait for one.
            if (!engine_->interruptsEnabled()) {
                outcome.kind = StopKind::Halted;
                outcome.exitStatus = exit_status::kOk;
                outcome.message = fmt::format("guest halted with interrupts disabled at rip {:#x}", exit.rip);
                return false;
            }
            return waitForInterrupt(outcome, exit.rip);
        case ExitReason::InterruptWindow:
            return true;  // the loop delivers the interrupt before the next entry
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
        case ExitReason::Debug:
            if (std::find(breakpoints_.rips.begin(), breakpoints_.rips.end(), exit.rip) != breakpoints_.rips.end()) {
                pausedAtBreakpoint_ = exit.rip;
                outcome.kind = StopKind::Paused;
                outcome.message = fmt::format("breakpoint at rip {:#x}", exit.rip);
                return false;
            }
            return true;
        default:
            return true;  // recorded; nothing for the VMM to do yet
    }
}

}  // namespace hvlab::hv
