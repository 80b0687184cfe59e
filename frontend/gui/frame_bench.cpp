#include "frontend/gui/frame_bench.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace hvlab::frontend::gui {

namespace {

// The first frames of each phase settle the layout and are not counted.
constexpr unsigned kWarmupFrames = 5;

}  // namespace

FrameBench::FrameBench(unsigned frames) : frames_(frames) {
    for (size_t k = 0; k < kVmTabCount; ++k) phases_.push_back(Phase{vmTabName(static_cast<VmTab>(k))});
    phases_.push_back(Phase{"Taxonomy"});
}

size_t FrameBench::phaseOf(unsigned frame) const {
    const unsigned perPhase = std::max(1u, frames_ / static_cast<unsigned>(phases_.size()));
    return std::min<size_t>(frame / perPhase, phases_.size() - 1);
}

void FrameBench::beforeFrame(DebuggerModel& model) {
    const size_t phase = phaseOf(frame_);
    if (frame_ == 0 || phase != phaseOf(frame_ - 1)) {
        if (phase < kVmTabCount) {
            model.requestedView = MainView::Machines;
            for (auto& vm : model.vms) vm->view.requestedTab = static_cast<VmTab>(phase);
        } else {
            model.requestedView = MainView::Taxonomy;
        }
    }
    restartedAtGeneration_.resize(model.vms.size(), ~0ull);
    for (size_t k = 0; k < model.vms.size(); ++k) {
        VmSlot& vm = *model.vms[k];
        if (!vm.hasSession()) continue;
        const hv::SessionSnapshot& s = vm.snapshot();
        if (s.state == hv::SessionState::Running || s.generation == restartedAtGeneration_[k]) continue;
        // Stopped: power-cycle and run again; paused (start-paused, a breakpoint): run on.
        if (s.state == hv::SessionState::Stopped) {
            vm.reset();
            ++restarts_;
        }
        vm.resume();
        restartedAtGeneration_[k] = s.generation;
    }
}

void FrameBench::afterFrame(double seconds, double uiCpuSeconds) {
    const size_t phase = phaseOf(frame_);
    const unsigned perPhase = std::max(1u, frames_ / static_cast<unsigned>(phases_.size()));
    const bool warmup = frame_ - std::min<unsigned>(frame_, static_cast<unsigned>(phase) * perPhase) < kWarmupFrames;
    if (!warmup) {
        Phase& p = phases_[phase];
        p.seconds += seconds;
        ++p.frames;
        p.worst = std::max(p.worst, seconds);
        p.uiCpu += uiCpuSeconds;
    }
    ++frame_;
}

void FrameBench::report(std::FILE* out, const DebuggerModel& model) const {
    double seconds = 0, worst = 0, uiCpu = 0;
    unsigned frames = 0;
    for (const Phase& p : phases_) {
        seconds += p.seconds;
        uiCpu += p.uiCpu;
        frames += p.frames;
        worst = std::max(worst, p.worst);
    }
    std::string labels;
    for (const auto& vm : model.vms) labels += (labels.empty() ? "" : ", ") + vm->label();
    fmt::print(out, "gui bench: {} VMs ({}), {} frames measured, renderer {}, vsync off\n", model.vms.size(), labels,
               frames, model.rendererName);
    fmt::print(out, "gui bench: {:.1f} frames/s, mean frame {:.2f} ms, worst {:.2f} ms, UI thread CPU {:.2f} ms/frame; "
               "{} guest runs restarted\n",
               seconds > 0 ? frames / seconds : 0.0, frames ? seconds * 1e3 / frames : 0.0, worst * 1e3,
               frames ? uiCpu * 1e3 / frames : 0.0, restarts_);
    for (const Phase& p : phases_)
        if (p.frames)
            fmt::print(out, "  {:<12} {:8.1f} frames/s  mean {:6.2f} ms  worst {:6.2f} ms  UI CPU {:5.2f} ms\n", p.name,
                       p.frames / p.seconds, p.seconds * 1e3 / p.frames, p.worst * 1e3, p.uiCpu * 1e3 / p.frames);
}

}  // namespace hvlab::frontend::gui
