// Memory sizes as QEMU's -m takes them: a number with an optional K, M, G suffix (default M).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace hvlab::frontend {

std::optional<uint64_t> parseMemorySize(const std::string& text);

}  // namespace hvlab::frontend
