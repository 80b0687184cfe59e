#include "frontend/gui/script_runner.hpp"

#include <fmt/format.h>

#include "frontend/gui/exit_reason_names.hpp"
#include "frontend/gui/script_expectations.hpp"

namespace hvlab::frontend::gui {

namespace {

// Frames drawn after a UI change before a screenshot shows it (tab switches take a frame).
constexpr unsigned kFramesBeforeScreenshot = 3;

// "a\nb" in a script's serial line becomes a newline, as do \r, \t and \\.
std::string unescape(const std::string& text) {
    std::string out;
    for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] != '\\' || k + 1 == text.size()) {
            out.push_back(text[k]);
            continue;
        }
        const char c = text[++k];
        out.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c);
    }
    return out;
}

// The breakpoint a `break-*` or `run-until` line describes.
hv::Breakpoints breakpointOf(const std::string& kind, const std::string& value, const std::string& last) {
    hv::Breakpoints b;
    if (kind == "port") {
        const uint64_t port = parseScriptNumber(value);
        if (port > 0xffff) throw std::invalid_argument(fmt::format("port {} is above 0xffff", value));
        b.ports.push_back(static_cast<uint16_t>(port));
    } else if (kind == "rip") {
        b.rips.push_back(parseScriptNumber(value));
    } else if (kind == "mmio") {
        const uint64_t first = parseScriptNumber(value);
        b.mmioRanges.emplace_back(first, last.empty() ? first : parseScriptNumber(last));
    } else if (kind == "exit") {
        const auto reason = parseExitReason(value);
        if (!reason) throw std::invalid_argument(fmt::format("unknown exit reason '{}'", value));
        b.exitReasons[static_cast<size_t>(*reason)] = true;
    } else {
        throw std::invalid_argument(fmt::format("unknown breakpoint kind '{}' (port, rip, mmio, exit)", kind));
    }
    return b;
}

std::string stateLine(const VmSlot& vm) {
    if (!vm.hasSession()) return fmt::format("no session ({})", vm.error());
    return fmt::format("state {} ({}), generation {}", hv::sessionStateName(vm.snapshot().state), vm.snapshot().why,
                       vm.snapshot().generation);
}

}  // namespace

ScriptRunner::ScriptRunner(std::vector<ScriptLine> lines, std::string scriptName, std::filesystem::path screenshotDir)
    : lines_(std::move(lines)), name_(std::move(scriptName)), screenshotDir_(std::move(screenshotDir)) {}

std::optional<std::string> ScriptRunner::validate(DebuggerModel& model) const {
    // Commands whose first argument names a VM.
    static const std::vector<std::string> kVmCommands = {
        "wait-until-exits", "wait-until-state", "press",       "break-port", "break-rip", "break-exit",
        "break-mmio",       "clear-breaks",     "run-until",   "select-tab", "filter-exits", "select-exit",
        "memory",           "walk",             "serial",      "expect"};
    for (const ScriptLine& line : lines_) {
        if (std::find(kVmCommands.begin(), kVmCommands.end(), line.command) == kVmCommands.end()) continue;
        if (!model.find(line.args[0]))
            return fmt::format("{}:{}: no VM '{}' (VMs are named by engine label, vmN or N)", name_, line.number,
                               line.args[0]);
    }
    return std::nullopt;
}

bool ScriptRunner::fail(const ScriptLine& line, const std::string& message) {
    failure_ = fmt::format("{}:{}: {}: {}", name_, line.number, line.text(), message);
    return false;
}

VmSlot* ScriptRunner::vmOf(const ScriptLine& line, DebuggerModel& model) {
    VmSlot* vm = model.find(line.args[0]);
    if (!vm) fail(line, fmt::format("no VM '{}'", line.args[0]));
    return vm;
}

ScriptStatus ScriptRunner::advance(DebuggerModel& model, double now) {
    now_ = now;
    if (!failure_.empty()) return ScriptStatus::Failed;
    if (framesToWait_ > 0) {
        if (--framesToWait_ > 0) return ScriptStatus::Running;
        if (screenshotDue_) {
            screenshotNow_ = std::move(screenshotDue_);
            screenshotDue_.reset();
            return ScriptStatus::Running;  // captured after this frame is drawn
        }
    }
    if (wait_) {
        if (!wait_->done(model)) {
            if (now <= wait_->deadline) return ScriptStatus::Running;
            fail(*waitingLine_, fmt::format("timed out after {} s waiting for {}; {}", timeoutSeconds_, wait_->what,
                                            wait_->actual(model)));
            return ScriptStatus::Failed;
        }
        auto then = std::move(wait_->then);
        wait_.reset();
        if (then) then(model);  // a press that waited for its VM to pause issues its command now
        if (wait_) return ScriptStatus::Running;
    }
    // Run lines until one waits (at most a handful a frame, so the UI shows each step).
    for (unsigned budget = 0; budget < 16 && next_ < lines_.size(); ++budget) {
        const ScriptLine& line = lines_[next_++];
        if (line.command == "quit") {
            next_ = lines_.size();
            break;
        }
        if (!start(line, model, now)) return ScriptStatus::Failed;
        if (wait_ || framesToWait_ > 0) {
            waitingLine_ = &line;
            return ScriptStatus::Running;
        }
    }
    return next_ < lines_.size() ? ScriptStatus::Running : ScriptStatus::Finished;
}

std::optional<std::filesystem::path> ScriptRunner::takeScreenshotRequest() {
    auto request = std::move(screenshotNow_);
    screenshotNow_.reset();
    return request;
}

std::vector<std::string> ScriptRunner::takeMessages() { return std::exchange(messages_, {}); }

bool ScriptRunner::start(const ScriptLine& line, DebuggerModel& model, double now) {
    const std::string& c = line.command;
    try {
        if (c == "wait-frames") {
            framesToWait_ = static_cast<unsigned>(parseScriptNumber(line.args[0]));
            return true;
        }
        if (c == "wait-seconds") {
            const double until = now + std::stod(line.args[0]);
            wait_ = Wait{[this, until](DebuggerModel&) { return now_ >= until; }, "time to pass",
                         [](DebuggerModel&) { return std::string(); }, until + 1, {}};
            return true;
        }
        if (c == "timeout") {
            timeoutSeconds_ = std::stod(line.args[0]);
            return true;
        }
        if (c == "screenshot") {
            std::filesystem::path file = line.args[0];
            if (file.extension() != ".png") file += ".png";
            screenshotDue_ = file.is_absolute() ? file : screenshotDir_ / file;
            framesToWait_ = kFramesBeforeScreenshot;
            return true;
        }
        if (c == "select-view") {
            const auto view = parseMainView(line.args[0]);
            if (!view) return fail(line, "the views are Machines and Taxonomy");
            model.requestedView = *view;
            return true;
        }

        VmSlot* vm = vmOf(line, model);
        if (!vm) return false;
        const std::string label = vm->label();
        if (c == "wait-until-exits") {
            const uint64_t count = parseScriptNumber(line.args[1]);
            wait_ = Wait{[label, count](DebuggerModel& m) { return m.find(label)->snapshot().exitsRecorded >= count; },
                         fmt::format("{} exits", count),
                         [label](DebuggerModel& m) { return fmt::format("{} exits recorded", m.find(label)->snapshot().exitsRecorded); },
                         now + timeoutSeconds_, {}};
            return true;
        }
        if (c == "wait-until-state") {
            const std::string state = line.args[1];
            wait_ = Wait{[label, state](DebuggerModel& m) {
                             VmSlot* v = m.find(label);
                             return v->hasSession() && state == hv::sessionStateName(v->snapshot().state);
                         },
                         "state " + state, [label](DebuggerModel& m) { return stateLine(*m.find(label)); },
                         now + timeoutSeconds_, {}};
            return true;
        }
        if (c == "press") return startPress(line, *vm, line.args[1], now);
        if (c == "expect") return startExpect(line, *vm, now);
        if (c == "break-port" || c == "break-rip" || c == "break-exit") {
            vm->setBreakpoints(mergeBreakpoints(vm->breakpoints(), breakpointOf(c.substr(6), line.args[1], "")));
            return true;
        }
        if (c == "break-mmio") {
            vm->setBreakpoints(mergeBreakpoints(vm->breakpoints(), breakpointOf("mmio", line.args[1], line.args[2])));
            return true;
        }
        if (c == "clear-breaks") {
            vm->setBreakpoints({});
            return true;
        }
        if (c == "run-until") {
            if (!vm->hasSession()) return fail(line, stateLine(*vm));
            vm->runUntil(breakpointOf(line.args[1], line.args[2], line.args.size() > 3 ? line.args[3] : ""));
            wait_ = Wait{[label](DebuggerModel& m) { return !m.find(label)->runUntilPending(); }, "the run to stop there",
                         [label](DebuggerModel& m) { return stateLine(*m.find(label)); }, now + timeoutSeconds_, {}};
            return true;
        }
        if (c == "select-tab") {
            const auto tab = parseVmTab(line.args[1]);
            if (!tab) return fail(line, "the tabs are CPU, Memory, Exits, Devices, Console, Screen, Breakpoints");
            vm->view.requestedTab = *tab;
            model.requestedView = MainView::Machines;
            return true;
        }
        if (c == "filter-exits") {
            if (line.args[1] == "all") {
                vm->view.exitFilter = -1;
                return true;
            }
            const auto reason = parseExitReason(line.args[1]);
            if (!reason) return fail(line, fmt::format("unknown exit reason '{}'", line.args[1]));
            vm->view.exitFilter = static_cast<int>(*reason);
            return true;
        }
        if (c == "select-exit") {
            vm->view.selectedExit = line.args[1] == "newest" ? 0 : parseScriptNumber(line.args[1]);
            return true;
        }
        if (c == "memory") {
            if (line.args[1] != "virtual" && line.args[1] != "physical")
                return fail(line, "the address kinds are virtual and physical");
            vm->view.memoryPhysical = line.args[1] == "physical";
            vm->view.memoryAddress = parseScriptNumber(line.args[2]);
            vm->view.memoryAddressText = fmt::format("{:x}", vm->view.memoryAddress);
            return true;
        }
        if (c == "walk") {
            vm->view.walkAddress = parseScriptNumber(line.args[1]);
            vm->view.walkAddressText = fmt::format("{:x}", vm->view.walkAddress);
            vm->view.walkFollowsRip = false;
            return true;
        }
        if (c == "serial") {
            vm->sendSerial(unescape(line.args[1]));
            return true;
        }
    } catch (const std::exception& e) {
        return fail(line, e.what());
    }
    return fail(line, "not understood");
}

bool ScriptRunner::startPress(const ScriptLine& line, VmSlot& vm, const std::string& action, double now) {
    if (!vm.hasSession()) return fail(line, stateLine(vm));
    const std::string label = vm.label();
    const auto actual = [label](DebuggerModel& m) { return stateLine(*m.find(label)); };
    const auto notRunning = [label](DebuggerModel& m) { return m.find(label)->snapshot().state != hv::SessionState::Running; };

    std::function<void(VmSlot&)> issue;
    bool mustSettlePaused = true;  // the press is over when the VM is no longer running
    if (action == "pause") {
        vm.pause();
        wait_ = Wait{notRunning, "the VM to pause", actual, now + timeoutSeconds_, {}};
        return true;
    } else if (action == "resume" || action == "run") {
        issue = [](VmSlot& v) { v.resume(); };
        mustSettlePaused = false;
    } else if (action == "step") {
        issue = [](VmSlot& v) { v.stepInstruction(); };
    } else if (action == "step-exit") {
        issue = [](VmSlot& v) { v.stepExit(); };
    } else if (action == "reset") {
        issue = [](VmSlot& v) { v.reset(); };
    } else {
        return fail(line, "the buttons are pause, resume (run), step, step-exit, reset");
    }

    const double deadline = now + timeoutSeconds_;
    // The VM carries a command out, then publishes a snapshot with a higher generation.
    const auto settledAfter = [label, mustSettlePaused](uint64_t before) -> Condition {
        return [label, before, mustSettlePaused](DebuggerModel& m) {
            const hv::SessionSnapshot& s = m.find(label)->snapshot();
            return s.generation > before && (!mustSettlePaused || s.state != hv::SessionState::Running);
        };
    };
    const auto issueAndSettle = [this, label, issue, settledAfter, actual, deadline](DebuggerModel& m) {
        VmSlot& v = *m.find(label);
        const uint64_t before = v.snapshot().generation;
        issue(v);
        wait_ = Wait{settledAfter(before), "the VM to carry the command out", actual, deadline, {}};
    };
    if (action != "resume" && action != "run" && vm.snapshot().state == hv::SessionState::Running) {
        // Steps and resets act on a paused VM: pause first, so the snapshot waited for is the command's.
        vm.pause();
        wait_ = Wait{notRunning, "the VM to pause before the command", actual, deadline, issueAndSettle};
        return true;
    }
    const uint64_t before = vm.snapshot().generation;
    issue(vm);
    wait_ = Wait{settledAfter(before), "the VM to carry the command out", actual, deadline, {}};
    return true;
}

bool ScriptRunner::startExpect(const ScriptLine& line, VmSlot& vm, double now) {
    const Expectation e = makeExpectation(line.args[1], line.args.size() > 2 ? line.args[2] : "");
    const std::string label = vm.label();
    // Expectations wait (up to the timeout) for the UI to show the expected state.
    wait_ = Wait{[label, e](DebuggerModel& m) { return e.holds(*m.find(label)); }, "the expectation",
                 [label, e](DebuggerModel& m) { return e.actual(*m.find(label)); }, now + timeoutSeconds_, {}};
    return true;
}

}  // namespace hvlab::frontend::gui
