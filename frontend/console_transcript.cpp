#include "frontend/console_transcript.hpp"

#include <algorithm>

namespace hvlab::frontend {

void ConsoleTranscript::append(uint8_t byte) {
    {
        std::lock_guard lock(mutex_);
        text_.push_back(static_cast<char>(byte));
    }
    changed_.notify_all();
}

size_t ConsoleTranscript::countLocked(std::string_view text) const {
    size_t n = 0;
    for (size_t at = text_.find(text); at != std::string::npos; at = text_.find(text, at + text.size())) ++n;
    return n;
}

bool ConsoleTranscript::waitFor(std::string_view text, size_t count, std::chrono::milliseconds timeout) {
    // Counts incrementally: each wake-up looks only at what arrived since the last one.
    std::unique_lock lock(mutex_);
    size_t seen = 0;
    size_t from = 0;
    const auto scan = [&] {
        for (size_t at = text_.find(text, from); at != std::string::npos; at = text_.find(text, at + text.size())) {
            ++seen;
            from = at + text.size();
        }
        if (text_.size() + 1 > from + text.size()) from = std::max(from, text_.size() + 1 - text.size());
        return seen >= count;
    };
    return changed_.wait_for(lock, timeout, scan);
}

size_t ConsoleTranscript::occurrences(std::string_view text) const {
    std::lock_guard lock(mutex_);
    return countLocked(text);
}

std::string ConsoleTranscript::text() const {
    std::lock_guard lock(mutex_);
    return text_;
}

}  // namespace hvlab::frontend
