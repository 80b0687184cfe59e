// One VM as the debugger holds it: its session (or why it could not be built), the latest
// snapshot, the exit records fetched so far, the exit rate history, and the view state of its
// column. Everything the panels draw and the script checks comes from here, refreshed once a frame.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/gui/concern_meter.hpp"
#include "frontend/gui/disassembler.hpp"
#include "frontend/gui/exit_log.hpp"
#include "frontend/gui/exit_rate_history.hpp"
#include "frontend/gui/vm_techniques.hpp"
#include "hv/vm_session.hpp"

namespace hvlab::frontend::gui {

// The tabs of a VM's column, in order.
enum class VmTab : uint8_t { Cpu, Memory, Exits, Devices, Console, Screen, Breakpoints };
constexpr size_t kVmTabCount = 7;
const char* vmTabName(VmTab tab);
std::optional<VmTab> parseVmTab(const std::string& name);  // case-insensitive

// What the column's panels remember between frames.
struct VmViewState {
    std::optional<VmTab> requestedTab;  // select this tab on the next frame
    VmTab shownTab = VmTab::Cpu;
    // Exits
    int exitFilter = -1;           // an ExitReason, or -1 for all
    uint64_t selectedExit = 0;     // sequence number; 0: the newest
    // Memory
    bool memoryPhysical = false;
    uint64_t memoryAddress = 0;
    std::string memoryAddressText = "0";
    uint64_t walkAddress = 0;
    std::string walkAddressText = "0";
    bool walkFollowsRip = true;
    // Console
    std::string serialInput;
    bool consoleAutoScroll = true;
    // Breakpoints editor
    int breakKind = 0;             // rip, port, mmio, exit reason
    std::string breakValue, breakValueLast;
    int breakReason = 1;
    // Disassembly: the last decode, redone when the bytes or RIP change
    uint64_t disasmRip = ~0ull;
    unsigned disasmBits = 0;
    std::vector<uint8_t> disasmBytes;
    std::vector<DisassembledLine> disasmLines;
};

class VmSlot {
public:
    // Builds the session; a VM that cannot be built (no KVM, a bad disk) keeps the error to show.
    VmSlot(std::string label, hv::VmConfig config, VmModeFacts facts, bool startRunning);
    // A VM refused before it was built (a configuration its engine cannot run).
    VmSlot(std::string label, VmModeFacts facts, std::string error);
    ~VmSlot();

    const std::string& label() const { return label_; }
    const VmModeFacts& facts() const { return facts_; }
    bool hasSession() const { return session_ != nullptr; }
    const std::string& error() const { return error_; }
    hv::VmSession* session() { return session_.get(); }
    const hv::VmSession* session() const { return session_.get(); }

    // Once a frame: a fresh snapshot, the new exit records, the rate history; the console when
    // `withConsole` (it is a copy of up to 256 KiB).
    void refresh(double nowSeconds, bool withConsole);
    const hv::SessionSnapshot& snapshot() const { return snapshot_; }
    const ExitLog& exitLog() const { return exitLog_; }
    const ExitRateHistory& exitRate() const { return exitRate_; }
    // Exits and handler time per concern over the VM's life (every exit, not only those fetched).
    ConcernCosts concernCosts() const { return meter_.totals(snapshot_.counters); }
    const std::string& console() const { return console_; }
    void refreshConsole();

    // Commands; nothing happens without a session.
    void resume();
    void pause();
    void reset();
    void stepInstruction();
    void stepExit();
    void sendSerial(std::string_view bytes);
    const hv::Breakpoints& breakpoints() const { return breakpoints_; }
    void setBreakpoints(hv::Breakpoints breakpoints);
    // Runs until `stop` matches (on top of the breakpoints set), then drops it again.
    void runUntil(const hv::Breakpoints& stop);
    bool runUntilPending() const { return restoreBreakpoints_.has_value(); }

    VmViewState view;

private:
    const std::string label_;
    const VmModeFacts facts_;
    ConcernMeter meter_;  // fed by the VM thread: outlives the session
    std::unique_ptr<hv::VmSession> session_;
    std::string error_;
    hv::SessionSnapshot snapshot_;
    ExitLog exitLog_;
    ExitRateHistory exitRate_;
    std::string console_;
    hv::Breakpoints breakpoints_;
    std::optional<hv::Breakpoints> restoreBreakpoints_;  // while a run-until is on its way
    uint64_t runUntilGeneration_ = 0;
};

// Adds the conditions of `extra` to `base`.
hv::Breakpoints mergeBreakpoints(hv::Breakpoints base, const hv::Breakpoints& extra);

}  // namespace hvlab::frontend::gui
