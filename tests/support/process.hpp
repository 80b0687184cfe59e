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

}  // namespace hvlab::test
