#include "hv/firmware_image.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <fmt/format.h>

namespace hvlab::hv {

void validateFirmware(const std::string& name, std::span<const uint8_t> bytes) {
    if (bytes.empty()) throw ImageError(fmt::format("'{}' is empty: not a firmware image", name));
    if (bytes.size() > kMaxFirmwareSize || bytes.size() % 4096 != 0)
        throw ImageError(fmt::format(
            "'{}' is {} bytes: a firmware image must be a multiple of 4 KiB, at most 16 MiB, with the reset "
            "vector in its last 16 bytes",
            name, bytes.size()));
    if (bytes.size() >= 4 && std::memcmp(bytes.data(), "\x7f" "ELF", 4) == 0)
        throw ImageError(fmt::format("'{}' is an ELF file, not a flat firmware ROM image", name));
    // The reset vector (the last 16 bytes) must start with a jump, possibly after CLI/CLD/NOPs:
    // anything else would execute garbage from the first instruction.
    const uint8_t* v = bytes.data() + bytes.size() - 16;
    size_t k = 0;
    while (k < 8 && (v[k] == 0x90 || v[k] == 0xfa || v[k] == 0xfc)) ++k;
    const uint8_t op = v[k];
    if (op != 0xea && op != 0xe9 && op != 0xeb)
        throw ImageError(fmt::format(
            "'{}' has no jump at its reset vector (offset {:#x} holds {:02x}): not a firmware image", name,
            bytes.size() - 16 + k, op));
}

FirmwareImage loadFirmwareFile(const std::string& path) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0) throw ImageError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) throw ImageError(fmt::format("'{}' is a directory, not a firmware image", path));
    if (static_cast<uint64_t>(st.st_size) > kMaxFirmwareSize)
        throw ImageError(fmt::format("'{}' is {} bytes: larger than the 16 MiB a firmware image may be", path,
                                     static_cast<uint64_t>(st.st_size)));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ImageError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    FirmwareImage image{path, std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), {}};
    validateFirmware(path, image.bytes);
    return image;
}

}  // namespace hvlab::hv
