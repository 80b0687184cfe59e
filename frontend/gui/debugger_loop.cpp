#include "frontend/gui/debugger_loop.hpp"

#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "frontend/gui/debugger_window.hpp"
#include "frontend/gui/frame_bench.hpp"
#include "frontend/gui/png_file.hpp"

namespace hvlab::frontend::gui {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double threadCpuSeconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Frame rate and frame time smoothed over about half a second, for the status line.
void updateFrameStats(FrameStats& stats, double frameSeconds) {
    constexpr double kSmoothing = 0.05;
    const double ms = frameSeconds * 1e3;
    stats.frameMs = stats.frameMs == 0 ? ms : stats.frameMs + (ms - stats.frameMs) * kSmoothing;
    stats.framesPerSecond = stats.frameMs > 0 ? 1e3 / stats.frameMs : 0;
}

void saveScreenshot(SdlImGuiWindow& window, const std::filesystem::path& path) {
    int width = 0, height = 0;
    const std::vector<uint8_t> pixels = window.readPixels(width, height);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    writePng(path.string(), width, height, pixels);
    spdlog::info("screenshot {}x{} saved to {}", width, height, path.string());
}

}  // namespace

int runDebuggerLoop(DebuggerModel& model, LoopOptions options) {
    if (options.benchFrames) options.window.vsync = false;
    std::unique_ptr<SdlImGuiWindow> window;
    try {
        window = std::make_unique<SdlImGuiWindow>(options.window);
    } catch (const WindowError& e) {
        fmt::print(stderr, "hvlab: error: {} (is there an X server? under a headless system use xvfb-run)\n", e.what());
        return gui_status::kNoDisplay;
    }
    model.rendererName = window->rendererName();
    const Disassembler disassembler;
    std::optional<FrameBench> bench;
    if (options.benchFrames) bench.emplace(options.benchFrames);
    if (options.script) {
        if (const auto problem = options.script->validate(model)) {
            fmt::print(stderr, "hvlab: error: {}\n", *problem);
            return gui_status::kScriptFailed;
        }
    }

    const Clock::time_point start = Clock::now();
    Clock::time_point lastFrame = start;
    int status = 0;
    double lastCpu = threadCpuSeconds();
    while (window->pollEvents()) {
        const double now = secondsSince(start);
        for (auto& vm : model.vms) vm->refresh(now, vm->view.shownTab == VmTab::Console && model.view == MainView::Machines);
        if (bench) bench->beforeFrame(model);
        if (options.script) {
            const ScriptStatus s = options.script->advance(model, now);
            if (s == ScriptStatus::Failed) {
                fmt::print(stderr, "hvlab: gui script failed: {}\n", options.script->failure());
                status = gui_status::kScriptFailed;
                break;
            }
            if (s == ScriptStatus::Finished) break;
        }

        window->beginFrame();
        drawDebuggerWindow(model, disassembler);
        window->render();
        if (options.script) {
            if (const auto path = options.script->takeScreenshotRequest()) {
                try {
                    saveScreenshot(*window, *path);
                } catch (const std::exception& e) {
                    fmt::print(stderr, "hvlab: gui script failed: {}\n", e.what());
                    status = gui_status::kScriptFailed;
                    break;
                }
            }
        }
        window->present();

        const Clock::time_point frameEnd = Clock::now();
        const double frameSeconds = std::chrono::duration<double>(frameEnd - lastFrame).count();
        lastFrame = frameEnd;
        updateFrameStats(model.frame, frameSeconds);
        if (bench) {
            const double cpu = threadCpuSeconds();
            bench->afterFrame(frameSeconds, cpu - lastCpu);
            lastCpu = cpu;
            if (bench->done()) break;
        }
        if (options.timeoutSeconds > 0 && now > options.timeoutSeconds) break;
    }
    if (bench) bench->report(stdout, model);
    return status;
}

}  // namespace hvlab::frontend::gui
