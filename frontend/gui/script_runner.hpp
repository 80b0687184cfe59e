// Carries out a debugger script (gui_script.hpp) against the live UI, a few lines a frame.
// Actions go through the same VmSlot calls the buttons use, and expectations read the same
// snapshot, exit log and console the panels draw.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "frontend/gui/debugger_model.hpp"
#include "frontend/gui/gui_script.hpp"

namespace hvlab::frontend::gui {

enum class ScriptStatus { Running, Finished, Failed };

class ScriptRunner {
public:
    ScriptRunner(std::vector<ScriptLine> lines, std::string scriptName, std::filesystem::path screenshotDir);

    // Checks that every VM the script names exists; returns the problem, if any.
    std::optional<std::string> validate(DebuggerModel& model) const;

    // Once a frame, before the frame is drawn: runs lines until one has to wait.
    ScriptStatus advance(DebuggerModel& model, double nowSeconds);
    // After advance(): the file a screenshot of this frame goes to, if one is due.
    std::optional<std::filesystem::path> takeScreenshotRequest();
    // Why the script failed: "FILE:LINE: command: message".
    const std::string& failure() const { return failure_; }
    // Progress messages ("screenshot saved"), collected for the log.
    std::vector<std::string> takeMessages();

private:
    // A line that waits: true when it is done (the runner moves on).
    using Condition = std::function<bool(DebuggerModel&)>;
    struct Wait {
        Condition done;
        std::string what;  // for the timeout message
        std::function<std::string(DebuggerModel&)> actual;
        double deadline = 0;
        std::function<void(DebuggerModel&)> then;  // run when done (a press after the VM paused)
    };

    // Starts line `line`; returns false if it failed (failure_ set).
    bool start(const ScriptLine& line, DebuggerModel& model, double now);
    bool startPress(const ScriptLine& line, VmSlot& vm, const std::string& action, double now);
    bool startExpect(const ScriptLine& line, VmSlot& vm, double now);
    bool fail(const ScriptLine& line, const std::string& message);
    VmSlot* vmOf(const ScriptLine& line, DebuggerModel& model);

    std::vector<ScriptLine> lines_;
    std::string name_;
    std::filesystem::path screenshotDir_;
    size_t next_ = 0;
    std::optional<Wait> wait_;
    const ScriptLine* waitingLine_ = nullptr;
    unsigned framesToWait_ = 0;
    std::optional<std::filesystem::path> screenshotDue_;  // captured after framesToWait_ frames
    std::optional<std::filesystem::path> screenshotNow_;
    double timeoutSeconds_ = 10;
    double now_ = 0;
    std::string failure_;
    std::vector<std::string> messages_;
};

}  // namespace hvlab::frontend::gui
