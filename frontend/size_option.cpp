#include "frontend/size_option.hpp"

#include <cctype>
#include <charconv>

namespace hvlab::frontend {

std::optional<uint64_t> parseMemorySize(const std::string& text) {
    uint64_t value = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr == begin) return std::nullopt;
    std::string suffix(ptr, end);
    for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (suffix.size() == 2 && suffix[1] == 'B') suffix.pop_back();  // "MB", "GB", "KB"
    unsigned shift;
    if (suffix.empty() || suffix == "M") shift = 20;
    else if (suffix == "K") shift = 10;
    else if (suffix == "G") shift = 30;
    else return std::nullopt;
    if (value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

}  // namespace hvlab::frontend
