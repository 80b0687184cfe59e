#include "hv/vm_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cpu/paging_controls.hpp"
#include "devices/e1000_regs.hpp"
#include "hv/interpreter_engine.hpp"

namespace hvlab::hv {

namespace {

constexpr size_t kConsoleLimit = 256 * 1024;

// ATA strings are stored two characters per word, high byte first, padded with spaces.
std::string ataString(const std::array<uint16_t, 256>& id, unsigned firstWord, unsigned words) {
    std::string text;
    for (unsigned w = firstWord; w < firstWord + words; ++w) {
        text.push_back(static_cast<char>(id[w] >> 8));
        text.push_back(static_cast<char>(id[w] & 0xff));
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

IdeView ideView(devices::PiixIde& ide) {
    IdeView view;
    for (unsigned channel = 0; channel < 2; ++channel) {
        const devices::AtaChannel& ata = ide.channel(channel);
        for (unsigned unit = 0; unit < 2; ++unit) {
            const devices::AtaDrive& drive = ata.drive(unit);
            IdeDriveView& d = view.drives[channel * 2 + unit];
            d.present = drive.present();
            if (!d.present) continue;
            d.model = ataString(drive.identifyData(), 27, 20);
            d.sectors = drive.image()->sectorCount();
            d.status = drive.status();
            d.error = drive.readRegister(1, false);
        }
        const devices::BusMasterRegisters bm = ide.busMaster(channel);
        view.busMasterCommand[channel] = bm.command;
        view.busMasterStatus[channel] = bm.status;
        view.prdTable[channel] = bm.prdAddress;
    }
    return view;
}

E1000View e1000View(const devices::E1000* nic) {
    E1000View view;
    if (!nic) return view;
    namespace r = devices::e1000;
    view.present = true;
    std::copy(nic->mac().begin(), nic->mac().end(), view.mac.begin());
    view.ctrl = nic->peekRegister(r::kCtrl);
    view.status = nic->peekRegister(r::kStatus);
    view.icr = nic->peekRegister(r::kIcr);
    view.ims = nic->peekRegister(r::kIms);
    view.rctl = nic->peekRegister(r::kRctl);
    view.tctl = nic->peekRegister(r::kTctl);
    view.rdba = nic->peekRegister(r::kRdbal) | uint64_t{nic->peekRegister(r::kRdbah)} << 32;
    view.tdba = nic->peekRegister(r::kTdbal) | uint64_t{nic->peekRegister(r::kTdbah)} << 32;
    view.rdlen = nic->peekRegister(r::kRdlen);
    view.rdh = nic->peekRegister(r::kRdh);
    view.rdt = nic->peekRegister(r::kRdt);
    view.tdlen = nic->peekRegister(r::kTdlen);
    view.tdh = nic->peekRegister(r::kTdh);
    view.tdt = nic->peekRegister(r::kTdt);
    const devices::E1000Counters& c = nic->counters();
    view.framesSent = c.txFrames;
    view.framesReceived = c.rxFrames;
    view.framesDropped = c.txDropped + c.rxDiscarded + c.rxQueueOverruns;
    return view;
}

}  // namespace

const char* sessionStateName(SessionState state) {
    switch (state) {
        case SessionState::Running: return "running";
        case SessionState::Paused: return "paused";
        case SessionState::Stopped: return "stopped";
    }
    return "?";
}

VmSession::VmSession(std::string label, VmConfig config, bool startRunning) : label_(std::move(label)) {
    started_ = std::chrono::steady_clock::now();
    auto forward = std::move(config.serialOut);
    config.serialOut = [this, forward = std::move(forward)](uint8_t byte) {
        {
            std::lock_guard lock(consoleMutex_);
            console_.push_back(static_cast<char>(byte));
            if (console_.size() > kConsoleLimit) console_.erase(0, console_.size() - kConsoleLimit / 2);
        }
        if (forward) forward(byte);
    };
    vm_ = std::make_unique<Vm>(std::move(config));
    engineKind_ = vm_->engine().kind();
    engineDescription_ = vm_->engine().description();
    vm_->setInspector([this](Vm&) { publish("running"); });
    publish("ready");
    if (startRunning) commands_.push_back(Command::Resume);
    thread_ = std::thread([this] { threadMain(); });
}

VmSession::~VmSession() {
    {
        std::lock_guard lock(commandMutex_);
        commands_.clear();
        commands_.push_back(Command::Quit);
        if (running_) vm_->stop(exit_status::kOk, "session closed");
    }
    commandCv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void VmSession::enqueue(Command command) {
    {
        std::lock_guard lock(commandMutex_);
        commands_.push_back(command);
        // Everything but Resume acts on a paused VM: a running one pauses first.
        if (command != Command::Resume && running_) vm_->pause();
    }
    commandCv_.notify_all();
}

void VmSession::resume() { enqueue(Command::Resume); }
void VmSession::pause() { enqueue(Command::Pause); }
void VmSession::reset() { enqueue(Command::Reset); }
void VmSession::stepInstruction() { enqueue(Command::StepInstruction); }
void VmSession::stepExit() { enqueue(Command::StepExit); }

void VmSession::setBreakpoints(Breakpoints breakpoints) {
    {
        std::lock_guard lock(commandMutex_);
        pendingBreakpoints_ = std::move(breakpoints);
        commands_.push_back(Command::ApplyBreakpoints);
        if (running_) vm_->pause();  // applied between two runs; the VM then runs on
        resumeAfterBreakpoints_ = resumeAfterBreakpoints_ || running_;
    }
    commandCv_.notify_all();
}

void VmSession::sendSerial(std::string_view bytes) { vm_->queueSerialInput(bytes); }

SessionSnapshot VmSession::snapshot() const {
    if (state_.load() == SessionState::Running) vm_->requestInspection();
    std::lock_guard lock(snapshotMutex_);
    return snapshot_;
}

std::vector<ExitRecord> VmSession::exitsAfter(uint64_t after, size_t max) const {
    return vm_->exits().after(after, max);
}

std::string VmSession::console() const {
    std::lock_guard lock(consoleMutex_);
    return console_;
}

bool VmSession::readPhysical(uint64_t gpa, void* out, size_t length) const {
    return vm_->memory().read(gpa, out, length);
}

mmu::WalkResult VmSession::translate(uint64_t linear) const {
    cpu::CpuState cpu;
    {
        std::lock_guard lock(snapshotMutex_);
        cpu = snapshot_.cpu;
    }
    const mmu::PagingControls controls = cpu::pagingControlsOf(cpu);
    if (controls.mode == mmu::PagingMode::None) {
        mmu::WalkResult identity;
        identity.ok = true;
        identity.physical = linear;
        identity.writable = identity.user = true;
        return identity;
    }
    return mmu::walk(vm_->memory(), controls, linear, mmu::AccessKind{}, /*setAccessedDirty=*/false);
}

// On the VM thread (between runs, or from the inspector inside a run): copy what the UI draws.
void VmSession::publish(std::string why) {
    SessionSnapshot s;
    s.state = state_.load();
    s.why = std::move(why);
    s.cpu = vm_->state();
    s.rflags = s.cpu.rflags();
    s.instructions = vm_->engine().instructionsRetired();
    s.guestNs = vm_->guestNowNs();
    s.hostSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    s.counters = vm_->exits().counters();
    s.exitsRecorded = vm_->exits().recorded();
    if (auto* interp = dynamic_cast<InterpreterEngine*>(&vm_->engine())) s.tlb = interp->interpreter().tlbCounters();

    PcBoard& board = vm_->board();
    DeviceView& d = s.devices;
    d.kernelIrqchip = board.kernelIrqchip();
    d.pic = {board.pic().state(devices::Pic8259Pair::Chip::Master), board.pic().state(devices::Pic8259Pair::Chip::Slave)};
    if (devices::Pit8254* pit = board.pit())
        for (int k = 0; k < 3; ++k) d.pit[static_cast<size_t>(k)] = pit->channelState(k);
    d.apicTimer = board.lapic().timerState();
    d.apicId = board.lapic().id();
    d.apicTpr = board.lapic().tpr();
    d.apicSvr = board.lapic().svr();
    d.uart = board.uart().state();
    d.ide = ideView(board.ide());
    d.e1000 = e1000View(board.nic());

    if (devices::VgaText* vga = board.vga()) {  // none on a board without legacy devices
        s.screen.cells = vga->cells();
        const devices::VgaCursor cursor = vga->cursor();
        s.screen.cursor = static_cast<uint16_t>(cursor.row * 80 + cursor.col);
        s.screen.cursorVisible = cursor.visible;
    }

    std::lock_guard lock(snapshotMutex_);
    s.generation = snapshot_.generation + 1;
    snapshot_ = std::move(s);
}

void VmSession::threadMain() {
    for (;;) {
        Command command;
        {
            std::unique_lock lock(commandMutex_);
            commandCv_.wait(lock, [this] { return !commands_.empty(); });
            command = commands_.front();
            commands_.pop_front();
            if (command == Command::Quit) return;
            if (command == Command::ApplyBreakpoints) {
                vm_->setBreakpoints(pendingBreakpoints_);
                if (!resumeAfterBreakpoints_) continue;
                resumeAfterBreakpoints_ = false;
                command = Command::Resume;
            }
            const bool runs = command == Command::Resume || command == Command::StepExit ||
                              command == Command::StepInstruction;
            if (runs && state_.load() != SessionState::Stopped) {
                running_ = true;
                vm_->cancelPause();
            }
        }
        carryOut(command);
    }
}

void VmSession::carryOut(Command command) {
    if (command == Command::Pause) {
        if (state_.load() != SessionState::Stopped) publish("paused");
        return;
    }
    if (command == Command::Reset) {
        vm_->powerCycle();
        state_.store(SessionState::Paused);
        publish("reset: at the reset vector");
        return;
    }
    if (state_.load() == SessionState::Stopped) {
        publish(snapshotWhy() + " (reset to start again)");
        return;
    }
    RunOutcome outcome;
    if (command == Command::StepInstruction) {
        outcome = vm_->step();
    } else {
        state_.store(SessionState::Running);
        publish("running");
        if (command == Command::StepExit) vm_->pauseAfterNextExit();
        outcome = vm_->run();
    }
    {
        std::lock_guard lock(commandMutex_);
        running_ = false;
    }
    state_.store(outcome.kind == StopKind::Paused ? SessionState::Paused : SessionState::Stopped);
    if (outcome.kind != StopKind::Paused)
        spdlog::info("{}: {}", label_, outcome.message);
    publish(outcome.message);
}

std::string VmSession::snapshotWhy() const {
    std::lock_guard lock(snapshotMutex_);
    return snapshot_.why;
}

}  // namespace hvlab::hv
