#include "hv/deadline_kicker.hpp"

namespace hvlab::hv {

DeadlineKicker::~DeadlineKicker() {
    {
        std::lock_guard lock(mutex_);
        quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void DeadlineKicker::arm(Clock::time_point deadline, std::function<void()> kick) {
    {
        std::lock_guard lock(mutex_);
        deadline_ = deadline;
        kick_ = std::move(kick);
        if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    cv_.notify_all();
}

void DeadlineKicker::disarm() {
    std::lock_guard lock(mutex_);
    deadline_.reset();
}

void DeadlineKicker::loop() {
    std::unique_lock lock(mutex_);
    while (!quit_) {
        if (!deadline_) {
            cv_.wait(lock);
            continue;
        }
        const Clock::time_point due = *deadline_;
        if (cv_.wait_until(lock, due) == std::cv_status::timeout && deadline_ && *deadline_ == due) {
            deadline_.reset();
            auto kick = kick_;
            lock.unlock();
            if (kick) kick();
            lock.lock();
        }
    }
}

}  // namespace hvlab::hv
