// Bounds-checked little-endian reads from a kernel file. A read past the end throws
// BootImageError naming the file, the field and the offset: a truncated file is an error
// the user can act on, never undefined behaviour.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "hv/boot/boot_image_error.hpp"

namespace hvlab::hv::boot {

class ImageReader {
public:
    ImageReader(std::string name, std::span<const uint8_t> bytes) : name_(std::move(name)), bytes_(bytes) {}

    const std::string& name() const { return name_; }
    std::span<const uint8_t> bytes() const { return bytes_; }
    uint64_t size() const { return bytes_.size(); }
    bool has(uint64_t offset, uint64_t length) const {
        return offset <= bytes_.size() && length <= bytes_.size() - offset;
    }

    // Throws "NAME: truncated: FIELD at offset X (N bytes) lies past the end of the file (S bytes)".
    void require(uint64_t offset, uint64_t length, std::string_view field) const {
        if (!has(offset, length))
            throw BootImageError(fmt::format("{}: truncated: {} at offset {:#x} ({} bytes) lies past the end of the "
                                             "file ({} bytes)",
                                             name_, field, offset, length, bytes_.size()));
    }
    std::span<const uint8_t> slice(uint64_t offset, uint64_t length, std::string_view field) const {
        require(offset, length, field);
        return bytes_.subspan(offset, length);
    }

    template <typename T>
    T read(uint64_t offset, std::string_view field) const {
        require(offset, sizeof(T), field);
        T value = 0;
        for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<T>(bytes_[offset + i]) << (8 * i));
        return value;
    }
    uint8_t u8(uint64_t offset, std::string_view field) const { return read<uint8_t>(offset, field); }
    uint16_t u16(uint64_t offset, std::string_view field) const { return read<uint16_t>(offset, field); }
    uint32_t u32(uint64_t offset, std::string_view field) const { return read<uint32_t>(offset, field); }
    uint64_t u64(uint64_t offset, std::string_view field) const { return read<uint64_t>(offset, field); }

private:
    std::string name_;
    std::span<const uint8_t> bytes_;
};

}  // namespace hvlab::hv::boot
