// A VmSession is one VM on its own thread, driven from another thread (the debugger's UI):
// run, pause, reset, step one instruction, step to the next exit, run until a breakpoint.
// The UI never touches the Vm directly: it sends commands and reads snapshots the VM thread
// publishes, so drawing a frame never stops a VM and a guest can never stall the UI.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/vm_exit.hpp"
#include "devices/local_apic.hpp"
#include "devices/pic8259.hpp"
#include "devices/pit8254.hpp"
#include "devices/uart16550.hpp"
#include "hv/breakpoints.hpp"
#include "hv/exit_ring.hpp"
#include "hv/vm.hpp"
#include "mmu/page_walker.hpp"
#include "mmu/tlb.hpp"

namespace hvlab::hv {

enum class SessionState : uint8_t {
    Running,  // the guest runs
    Paused,   // stopped between two instructions; can be resumed or stepped
    Stopped,  // the guest ended (power-off, debug-exit, triple fault, ...); only reset helps
};
const char* sessionStateName(SessionState state);

// The IDE channel and drive registers as the debugger shows them.
struct IdeDriveView {
    bool present = false;
    std::string model;
    uint64_t sectors = 0;
    uint8_t status = 0, error = 0;
};
struct IdeView {
    std::array<IdeDriveView, 4> drives;  // primary master, primary slave, secondary master, slave
    std::array<uint8_t, 2> busMasterStatus{};
    std::array<uint8_t, 2> busMasterCommand{};
    std::array<uint32_t, 2> prdTable{};
};

struct E1000View {
    bool present = false;
    std::array<uint8_t, 6> mac{};
    uint32_t ctrl = 0, status = 0, icr = 0, ims = 0, rctl = 0, tctl = 0;
    uint64_t rdba = 0, tdba = 0;
    uint32_t rdlen = 0, rdh = 0, rdt = 0, tdlen = 0, tdh = 0, tdt = 0;
    uint64_t framesSent = 0, framesReceived = 0, framesDropped = 0;
};

struct DeviceView {
    std::array<devices::PicChipState, 2> pic{};  // master, slave
    std::array<devices::PitChannelState, 3> pit{};
    devices::ApicTimerState apicTimer{};
    uint32_t apicId = 0, apicTpr = 0, apicSvr = 0;
    devices::UartState uart{};
    IdeView ide;
    E1000View e1000;
    bool kernelIrqchip = false;  // PIC/PIT/LAPIC live in KVM: the emulated ones above are idle
};

// 80x25 text screen at 0xB8000: character in the low byte, attribute in the high byte.
struct TextScreen {
    std::array<uint16_t, 80 * 25> cells{};
    uint16_t cursor = 0;  // row * 80 + column
    bool cursorVisible = true;
};

// Everything the UI draws for one VM, copied by the VM thread; `generation` grows with each copy.
struct SessionSnapshot {
    uint64_t generation = 0;
    SessionState state = SessionState::Paused;
    std::string why;  // why it paused or stopped ("step", "breakpoint at rip 0x7c00", the stop message)
    cpu::CpuState cpu;
    uint64_t rflags = 0;
    uint64_t instructions = 0;  // retired (interpreter); 0 on KVM
    uint64_t guestNs = 0;       // the guest's clock
    double hostSeconds = 0;     // wall time since the session started
    ExitCounters counters;
    uint64_t exitsRecorded = 0;
    std::optional<mmu::TlbCounters> tlb;  // interpreter only: the shadow TLB's counters
    DeviceView devices;
    TextScreen screen;
};

class VmSession {
public:
    // Builds the VM (throws what Vm's constructor throws) and starts its thread, paused unless
    // `startRunning`. `label` names the VM in the UI ("interp", "kvm").
    VmSession(std::string label, VmConfig config, bool startRunning = true);
    ~VmSession();  // stops the guest and joins the thread
    VmSession(const VmSession&) = delete;
    VmSession& operator=(const VmSession&) = delete;

    const std::string& label() const { return label_; }
    EngineKind engineKind() const { return engineKind_; }
    const std::string& engineDescription() const { return engineDescription_; }

    // Commands (any thread). They return at once; the VM thread carries them out.
    void resume();
    void pause();
    void reset();               // power-cycle: firmware again, same disks
    void stepInstruction();     // one guest instruction, then pause (on KVM: run on the interpreter)
    void stepExit();            // run until the next exit the VMM handles, then pause
    void setBreakpoints(Breakpoints breakpoints);
    void sendSerial(std::string_view bytes);

    // The latest snapshot (cheap). Asking also makes the VM thread publish a fresh one soon.
    SessionSnapshot snapshot() const;
    // Exit records with sequence > `after`, oldest first, at most `max` (the ring keeps the newest).
    std::vector<ExitRecord> exitsAfter(uint64_t after, size_t max) const;
    // COM1 output so far (the newest 256 KiB).
    std::string console() const;

    // Guest memory for the hex view (read while the VM runs: a view may be torn, never unsafe).
    // Returns false where no RAM/ROM backs the range.
    bool readPhysical(uint64_t gpa, void* out, size_t length) const;
    // Translates through the guest's page tables as of the latest snapshot (no A/D updates).
    mmu::WalkResult translate(uint64_t linear) const;

private:
    enum class Command : uint8_t { Resume, Pause, Reset, StepInstruction, StepExit, ApplyBreakpoints, Quit };

    void enqueue(Command command);
    void threadMain();
    void carryOut(Command command);
    void publish(std::string why);
    std::string snapshotWhy() const;

    const std::string label_;
    std::unique_ptr<Vm> vm_;
    EngineKind engineKind_;
    std::string engineDescription_;
    std::thread thread_;
    std::atomic<SessionState> state_{SessionState::Paused};

    mutable std::mutex commandMutex_;
    std::condition_variable commandCv_;
    std::deque<Command> commands_;
    bool running_ = false;  // inside Vm::run() or step(): commands must pause it first
    Breakpoints pendingBreakpoints_;
    bool resumeAfterBreakpoints_ = false;

    mutable std::mutex snapshotMutex_;
    SessionSnapshot snapshot_;

    mutable std::mutex consoleMutex_;
    std::string console_;

    std::chrono::steady_clock::time_point started_;
};

}  // namespace hvlab::hv
