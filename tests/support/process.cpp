#include "tests/support/process.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hvlab::test {

ProcessResult runProcess(const std::vector<std::string>& argv, double timeoutSeconds) {
    return runConversation(argv, {}, timeoutSeconds);
}

ProcessResult runConversation(const std::vector<std::string>& argv, const std::vector<ConsoleStep>& script,
                              double timeoutSeconds) {
    ProcessResult result;
    std::signal(SIGPIPE, SIG_IGN);  // the program may exit before it reads what we type
    int outPipe[2], errPipe[2], inPipe[2];
    if (pipe(outPipe) != 0 || pipe(errPipe) != 0 || pipe(inPipe) != 0) return result;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(outPipe[1], STDOUT_FILENO);
        dup2(errPipe[1], STDERR_FILENO);
        if (script.empty()) {
            const int devnull = open("/dev/null", O_RDONLY);
            dup2(devnull, STDIN_FILENO);
        } else {
            dup2(inPipe[0], STDIN_FILENO);
        }
        close(inPipe[1]);
        close(outPipe[0]);
        close(errPipe[0]);
        std::vector<char*> args;
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(outPipe[1]);
    close(errPipe[1]);
    close(inPipe[0]);
    size_t step = 0, matchedUpTo = 0;
    auto feed = [&] {
        while (step < script.size()) {
            const size_t at = result.out.find(script[step].waitFor, matchedUpTo);
            if (at == std::string::npos) return;
            matchedUpTo = at + script[step].waitFor.size();
            const std::string& text = script[step].send;
            if (!text.empty() && write(inPipe[1], text.data(), text.size()) < 0) return;
            ++step;
        }
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeoutSeconds);
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    int open = 2;
    char buf[4096];
    while (open > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timedOut = true;
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
        for (int k = 0; k < 2; ++k) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[k].fd);
                fds[k].fd = -1;
                --open;
            } else {
                (k == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
                if (k == 0) feed();
            }
        }
    }
    for (pollfd& f : fds)
        if (f.fd >= 0) close(f.fd);
    close(inPipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace hvlab::test
