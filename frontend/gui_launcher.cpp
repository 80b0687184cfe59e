#include "frontend/gui_launcher.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace hvlab::frontend {

namespace {
constexpr int kCannotStart = 127;  // as a shell reports a program it cannot run
}  // namespace

int execGui(int argc, char** argv, int first) {
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    const std::filesystem::path gui = (error ? std::filesystem::path(argv[0]) : self).parent_path() / "hvlab-gui";
    std::vector<char*> args{const_cast<char*>("hvlab-gui")};
    for (int k = first; k < argc; ++k) args.push_back(argv[k]);
    args.push_back(nullptr);
    execv(gui.c_str(), args.data());
    fmt::print(stderr, "hvlab: error: cannot start the debugger {}: {}\n", gui.string(), std::strerror(errno));
    return kCannotStart;
}

}  // namespace hvlab::frontend
