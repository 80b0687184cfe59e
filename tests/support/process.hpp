// Test helper: run a program, capture stdout and stderr, with a timeout.
#pragma once

#include <string>
#include <vector>

namespace hvlab::test {

struct ProcessResult {
    int status = -1;  // exit status, or 128 + signal
    bool timedOut = false;
    std::string out;
    std::string err;
};

ProcessResult runProcess(const std::vector<std::string>& argv, double timeoutSeconds = 60);

// One step of a conversation with a program's console: wait until stdout contains `waitFor`
// (counting from the end of the previous match), then type `send` on its stdin.
struct ConsoleStep {
    std::string waitFor;
    std::string send;
};

// As runProcess, but stdin is a pipe fed by `script`, step by step, as a person would type.
// After the last step stdin stays open until the program exits (or the timeout).
ProcessResult runConversation(const std::vector<std::string>& argv, const std::vector<ConsoleStep>& script,
                              double timeoutSeconds = 60);

}  // namespace hvlab::test
