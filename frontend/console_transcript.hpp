// A guest's console output collected as it comes (any thread), so a driver on another thread can
// wait for a prompt and type the next command, as a person at the console would.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace hvlab::frontend {

class ConsoleTranscript {
public:
    void append(uint8_t byte);
    // Waits until `text` has appeared at least `count` times in all; false on timeout.
    bool waitFor(std::string_view text, size_t count, std::chrono::milliseconds timeout);
    size_t occurrences(std::string_view text) const;
    std::string text() const;

private:
    size_t countLocked(std::string_view text) const;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string text_;
};

}  // namespace hvlab::frontend
