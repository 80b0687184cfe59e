// Kicks a vCPU out of the engine at a host-time deadline: KVM runs on host time, so a timer
// event due while the guest runs in KVM_RUN needs someone to interrupt it. One thread, one
// deadline at a time; re-arming replaces the deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace hvlab::hv {

class DeadlineKicker {
public:
    using Clock = std::chrono::steady_clock;
    DeadlineKicker() = default;
    ~DeadlineKicker();
    DeadlineKicker(const DeadlineKicker&) = delete;
    DeadlineKicker& operator=(const DeadlineKicker&) = delete;

    // Calls `kick` once when `deadline` passes (unless re-armed or disarmed before).
    void arm(Clock::time_point deadline, std::function<void()> kick);
    void disarm();

private:
    void loop();
    std::mutex mutex_;
    std::condition_variable cv_;
    std::optional<Clock::time_point> deadline_;
    std::function<void()> kick_;
    bool quit_ = false;
    std::thread thread_;
};

}  // namespace hvlab::hv
