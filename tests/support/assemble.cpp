#include "tests/support/assemble.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

namespace hvlab::test {

std::vector<uint8_t> assemble(const std::string& source) {
    char dir[] = "/tmp/hvlab-asm-XXXXXX";
    if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    const std::string src = fmt::format("{}/snippet.asm", dir);
    const std::string bin = fmt::format("{}/snippet.bin", dir);
    const std::string log = fmt::format("{}/nasm.log", dir);
    std::ofstream(src) << source << '\n';
    const std::string cmd = fmt::format("'{}' -f bin -o '{}' '{}' 2>'{}'", HVLAB_NASM, bin, src, log);
    const int rc = std::system(cmd.c_str());
    std::ifstream in(bin, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream logIn(log);
    std::string message((std::istreambuf_iterator<char>(logIn)), std::istreambuf_iterator<char>());
    std::remove(src.c_str());
    std::remove(bin.c_str());
    std::remove(log.c_str());
    rmdir(dir);
    if (rc != 0) throw std::runtime_error("nasm failed: " + message + "\n" + source);
    return bytes;
}

}  // namespace hvlab::test
