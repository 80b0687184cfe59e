// `hvlab gui --bench-frames N`: draws N frames as fast as the renderer goes (no vsync) while the
// VMs run, switching every column through every tab and the taxonomy view, and reports frames
// per second overall and per view. VMs that stop are reset and run again, so they never idle.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "frontend/gui/debugger_model.hpp"

namespace hvlab::frontend::gui {

class FrameBench {
public:
    explicit FrameBench(unsigned frames);

    // Before frame `index` is drawn: picks the view for it and keeps the VMs running.
    void beforeFrame(DebuggerModel& model);
    // After the frame was presented: how long it took from the end of the previous one, and the
    // CPU time the UI thread spent on it (refresh, script, ImGui, submitting to the renderer).
    void afterFrame(double seconds, double uiCpuSeconds);
    bool done() const { return frame_ >= frames_; }
    void report(std::FILE* out, const DebuggerModel& model) const;

private:
    struct Phase {
        std::string name;
        double seconds = 0;
        unsigned frames = 0;
        double worst = 0;
        double uiCpu = 0;
    };
    size_t phaseOf(unsigned frame) const;

    unsigned frames_;
    unsigned frame_ = 0;
    std::vector<Phase> phases_;  // one per tab, then the taxonomy view
    std::vector<uint64_t> restartedAtGeneration_;
    uint64_t restarts_ = 0;
};

}  // namespace hvlab::frontend::gui
