// Test helper: a raw disk image in /tmp filled with a known pattern, removed at scope exit.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdlib.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace hvlab::test {

// The byte at `offset` of a fresh image: differs between neighbouring bytes and sectors.
inline uint8_t patternByte(uint64_t offset) { return static_cast<uint8_t>(offset * 7 + (offset >> 9) * 13 + 1); }

struct TempImage {
    std::string path;
    explicit TempImage(uint64_t sectors) {
        char name[] = "/tmp/hvlab-disk-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::vector<char> data(sectors * 512);
        for (uint64_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(patternByte(i));
        std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    ~TempImage() { std::remove(path.c_str()); }
    TempImage(const TempImage&) = delete;
    TempImage& operator=(const TempImage&) = delete;
    std::vector<uint8_t> contents() const {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

}  // namespace hvlab::test
