// A VM of the integration tests, run in this process on its own thread: the test types at its
// serial console and waits for output as a person would, and can read the VM's counters.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "hv/vm.hpp"

namespace hvlab::test {

class ConsoleVm {
public:
    // `beforeRun` sees the VM before its thread starts (to install an inspector, say).
    explicit ConsoleVm(hv::VmConfig config, const std::function<void(hv::Vm&)>& beforeRun = {}) {
        config.serialOut = [this](uint8_t byte) {
            std::lock_guard lock(mutex_);
            output_.push_back(static_cast<char>(byte));
            changed_.notify_all();
        };
        vm_ = std::make_unique<hv::Vm>(std::move(config));
        if (beforeRun) beforeRun(*vm_);
        thread_ = std::thread([this] {
            hv::RunOutcome outcome = vm_->run();
            std::lock_guard lock(mutex_);
            outcome_ = std::move(outcome);
            finished_ = true;
            changed_.notify_all();
        });
    }

    ~ConsoleVm() {
        vm_->stop(0, "test over");
        thread_.join();
    }

    ConsoleVm(const ConsoleVm&) = delete;
    ConsoleVm& operator=(const ConsoleVm&) = delete;

    // Waits until `text` appears after the previous match; false on timeout or when the VM stopped.
    bool waitFor(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(120)) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout,
                          [&] { return output_.find(text, searchFrom_) != std::string::npos || finished_; });
        const size_t at = output_.find(text, searchFrom_);
        if (at == std::string::npos) return false;
        searchFrom_ = at + text.size();
        return true;
    }

    void type(const std::string& text) { vm_->queueSerialInput(text); }

    // Types a tinyos shell command and waits for its echo and the next prompt.
    bool command(const std::string& line, std::chrono::seconds timeout = std::chrono::seconds(180)) {
        type(line + "\n");
        return waitFor(line + "\r\n") && waitFor("tinyos> ", timeout);
    }

    hv::RunOutcome waitUntilFinished(std::chrono::seconds timeout = std::chrono::seconds(60)) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return finished_; });
        return outcome_;
    }

    bool finished() {
        std::lock_guard lock(mutex_);
        return finished_;
    }

    std::string output() {
        std::lock_guard lock(mutex_);
        return output_;
    }

    // The line of the output that contains `text` (empty if none).
    std::string lineWith(const std::string& text) {
        std::istringstream in(output());
        for (std::string line; std::getline(in, line);)
            if (line.find(text) != std::string::npos) return line;
        return {};
    }

    // Exits of `reason`, by the VMM and inside the engine; read once the VM has finished.
    uint64_t exits(cpu::ExitReason reason) const {
        const hv::ExitCounters c = vm_->exits().counters();
        return c.byVmm[static_cast<size_t>(reason)] + c.inEngine[static_cast<size_t>(reason)];
    }

    hv::Vm& vm() { return *vm_; }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string output_;
    size_t searchFrom_ = 0;
    bool finished_ = false;
    hv::RunOutcome outcome_;
    std::unique_ptr<hv::Vm> vm_;
    std::thread thread_;
};

}  // namespace hvlab::test
