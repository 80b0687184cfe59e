// Test helper: assemble a snippet with nasm, so instruction tests read as assembly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hvlab::test {

// Assembles `source` (nasm syntax, flat binary; add "bits 32"/"bits 64" as needed).
// Throws std::runtime_error with nasm's message if it does not assemble.
std::vector<uint8_t> assemble(const std::string& source);

}  // namespace hvlab::test
