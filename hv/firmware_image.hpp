// Firmware images as QEMU's -bios takes them: a flat ROM mapped so that its last 16 bytes hold
// the reset vector at 0xFFFFFFF0, with its last 128 KiB (at most) aliased below 1 MiB.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace hvlab::hv {

// The image is missing, unreadable or not a firmware image; the message says why in one line.
class ImageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A firmware image: bytes read from a file, or a view of an image compiled into the program
// (which is not copied: the VM copies it once, into guest ROM).
struct FirmwareImage {
    std::string name;
    std::vector<uint8_t> bytes;         // owned bytes (images read from files)
    std::span<const uint8_t> embedded;  // or: bytes with static storage duration

    std::span<const uint8_t> view() const { return embedded.empty() ? std::span<const uint8_t>(bytes) : embedded; }
};

constexpr uint64_t kMaxFirmwareSize = 16ull << 20;

// Checks size and reset vector; throws ImageError with the reason.
void validateFirmware(const std::string& name, std::span<const uint8_t> bytes);
FirmwareImage loadFirmwareFile(const std::string& path);

}  // namespace hvlab::hv
