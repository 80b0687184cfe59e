// Exits per second over the last half minute, sampled from a VM's exit counter each frame.
#pragma once

#include <array>
#include <cstdint>

namespace hvlab::frontend::gui {

class ExitRateHistory {
public:
    static constexpr size_t kSamples = 120;
    static constexpr double kIntervalSeconds = 0.25;

    // `totalExits` at `seconds` (any clock, increasing). Adds a sample every interval.
    void observe(double seconds, uint64_t totalExits) {
        if (!started_) {
            started_ = true;
            lastSeconds_ = seconds;
            lastTotal_ = totalExits;
            return;
        }
        const double elapsed = seconds - lastSeconds_;
        if (elapsed < kIntervalSeconds) return;
        const uint64_t delta = totalExits >= lastTotal_ ? totalExits - lastTotal_ : totalExits;  // reset: from 0
        rates_[next_ % kSamples] = static_cast<float>(static_cast<double>(delta) / elapsed);
        ++next_;
        lastSeconds_ = seconds;
        lastTotal_ = totalExits;
    }

    // The samples oldest first for ImGui::PlotLines: values(), count(), offset().
    const float* values() const { return rates_.data(); }
    int count() const { return static_cast<int>(kSamples); }
    int offset() const { return static_cast<int>(next_ % kSamples); }
    float latest() const { return next_ ? rates_[(next_ - 1) % kSamples] : 0.0f; }
    float peak() const {
        float p = 0;
        for (float v : rates_) p = v > p ? v : p;
        return p;
    }

private:
    std::array<float, kSamples> rates_{};
    size_t next_ = 0;
    bool started_ = false;
    double lastSeconds_ = 0;
    uint64_t lastTotal_ = 0;
};

}  // namespace hvlab::frontend::gui
