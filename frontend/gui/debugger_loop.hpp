// The debugger's frame loop: refresh every VM, advance the script, draw, screenshot, present.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "frontend/gui/debugger_model.hpp"
#include "frontend/gui/script_runner.hpp"
#include "frontend/gui/sdl_imgui_window.hpp"

namespace hvlab::frontend::gui {

// Statuses of `hvlab gui` besides 0 and kUsage (even, like hvlab's other failure statuses).
namespace gui_status {
constexpr int kScriptFailed = 14;  // an `expect` failed or a script line could not be carried out
constexpr int kNoDisplay = 16;     // no window could be opened (no X server / Wayland display)
}  // namespace gui_status

struct LoopOptions {
    WindowOptions window;
    std::unique_ptr<ScriptRunner> script;  // none: interactive
    unsigned benchFrames = 0;              // > 0: --bench-frames
    double timeoutSeconds = 0;             // > 0: close after this long
};

// Opens the window and runs until it is closed, the script or the bench ends, or the timeout.
int runDebuggerLoop(DebuggerModel& model, LoopOptions options);

}  // namespace hvlab::frontend::gui
