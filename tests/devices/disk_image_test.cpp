// Raw disk images: opening rules, sector I/O, read-only refusal, copy-on-write overlay, locking.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "devices/disk_image.hpp"

using namespace hvlab::devices;

namespace {

uint8_t patternByte(uint64_t offset) { return static_cast<uint8_t>(offset * 7 + (offset >> 9) * 13 + 1); }

// A temporary file filled with patternByte(), removed at scope exit.
struct TempImage {
    std::string path;
    explicit TempImage(uint64_t bytes) {
        char name[] = "/tmp/hvlab-disk-XXXXXX";
        const int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::vector<char> data(bytes);
        for (uint64_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(patternByte(i));
        std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    ~TempImage() { std::remove(path.c_str()); }
    std::vector<uint8_t> contents() const {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

std::vector<uint8_t> expectedSectors(uint64_t lba, uint64_t count) {
    std::vector<uint8_t> v(count * 512);
    for (uint64_t i = 0; i < v.size(); ++i) v[i] = patternByte(lba * 512 + i);
    return v;
}

}  // namespace

TEST_CASE("Disk image: opening reports missing files, bad sizes and non-files clearly", "[disk_image]") {
    const std::string missing = "/tmp/hvlab-no-such-disk-image.img";
    std::remove(missing.c_str());
    CHECK_THROWS_WITH(DiskImage::open(missing, true),
                      Catch::Contains(missing) && Catch::Contains("No such file or directory"));
    CHECK_THROWS_WITH(DiskImage::openOverlay(missing), Catch::Contains(missing));

    TempImage odd(1000);
    CHECK_THROWS_WITH(DiskImage::open(odd.path, false),
                      Catch::Contains(odd.path) && Catch::Contains("not a multiple of 512"));
    TempImage empty(0);
    CHECK_THROWS_WITH(DiskImage::open(empty.path, true), Catch::Contains("empty"));
    CHECK_THROWS_WITH(DiskImage::open("/tmp", true), Catch::Contains("not a regular file"));
}

TEST_CASE("Disk image: read-write image reads and writes sectors in place", "[disk_image]") {
    TempImage file(16 * 512);
    auto image = DiskImage::open(file.path, false);
    CHECK(image->sectorCount() == 16);
    CHECK_FALSE(image->readOnly());
    CHECK_FALSE(image->hasOverlay());

    std::vector<uint8_t> buf(3 * 512);
    REQUIRE(image->read(4, 3, buf.data()) == DiskStatus::Ok);
    CHECK(buf == expectedSectors(4, 3));

    std::vector<uint8_t> ones(2 * 512, 0xA5);
    REQUIRE(image->write(14, 2, ones.data()) == DiskStatus::Ok);
    CHECK(image->flush() == DiskStatus::Ok);
    const std::vector<uint8_t> disk = file.contents();
    CHECK(std::equal(ones.begin(), ones.end(), disk.begin() + 14 * 512));
    CHECK(disk[14 * 512 - 1] == patternByte(14 * 512 - 1));  // the sector before is untouched
}

TEST_CASE("Disk image: ranges beyond the end transfer nothing", "[disk_image]") {
    TempImage file(8 * 512);
    auto image = DiskImage::open(file.path, false);
    std::vector<uint8_t> buf(4 * 512, 0xEE);
    CHECK(image->read(6, 3, buf.data()) == DiskStatus::OutOfRange);
    CHECK(buf[0] == 0xEE);
    CHECK(image->read(8, 1, buf.data()) == DiskStatus::OutOfRange);
    CHECK(image->read(~0ull, 2, buf.data()) == DiskStatus::OutOfRange);  // no wrap-around
    CHECK(image->write(7, 2, buf.data()) == DiskStatus::OutOfRange);
    CHECK(file.contents()[7 * 512] == patternByte(7 * 512));
    CHECK(image->read(8, 0, buf.data()) == DiskStatus::Ok);  // an empty range at the end is fine
}

TEST_CASE("Disk image: read-only images refuse writes and leave the file alone", "[disk_image]") {
    TempImage file(4 * 512);
    auto image = DiskImage::open(file.path, true);
    CHECK(image->readOnly());
    std::vector<uint8_t> buf(512, 0x11);
    CHECK(image->write(0, 1, buf.data()) == DiskStatus::ReadOnly);
    CHECK(image->flush() == DiskStatus::Ok);
    CHECK(file.contents() == expectedSectors(0, 4));

    if (::geteuid() != 0) {  // root ignores file permissions
        ::chmod(file.path.c_str(), 0444);
        CHECK_THROWS_WITH(DiskImage::open(file.path, false), Catch::Contains("read-write"));
    }
}

TEST_CASE("Disk image: overlay keeps the base file untouched and serves the guest's writes", "[disk_image]") {
    TempImage file(8 * 512);
    auto image = DiskImage::openOverlay(file.path);
    CHECK_FALSE(image->readOnly());
    CHECK(image->hasOverlay());

    std::vector<uint8_t> a(512, 0xAA), b(2 * 512, 0xBB);
    REQUIRE(image->write(2, 1, a.data()) == DiskStatus::Ok);
    REQUIRE(image->write(5, 2, b.data()) == DiskStatus::Ok);
    CHECK(image->overlaySectorCount() == 3);

    std::vector<uint8_t> all(8 * 512);
    REQUIRE(image->read(0, 8, all.data()) == DiskStatus::Ok);
    std::vector<uint8_t> expected = expectedSectors(0, 8);
    std::fill(expected.begin() + 2 * 512, expected.begin() + 3 * 512, 0xAA);
    std::fill(expected.begin() + 5 * 512, expected.begin() + 7 * 512, 0xBB);
    CHECK(all == expected);

    // Rewriting an overlaid sector replaces it; the file never changes.
    REQUIRE(image->write(2, 1, b.data()) == DiskStatus::Ok);
    REQUIRE(image->read(2, 1, all.data()) == DiskStatus::Ok);
    CHECK(all[0] == 0xBB);
    CHECK(image->overlaySectorCount() == 3);
    CHECK(image->flush() == DiskStatus::Ok);
    CHECK(file.contents() == expectedSectors(0, 8));
}

TEST_CASE("Disk image: a writer locks the file against other users", "[disk_image]") {
    TempImage file(2 * 512);
    {
        auto reader1 = DiskImage::open(file.path, true);
        auto reader2 = DiskImage::openOverlay(file.path);  // shared locks coexist
        CHECK_THROWS_WITH(DiskImage::open(file.path, false), Catch::Contains("in use"));
    }
    auto writer = DiskImage::open(file.path, false);
    CHECK_THROWS_WITH(DiskImage::open(file.path, true), Catch::Contains("in use"));
    CHECK_THROWS_WITH(DiskImage::openOverlay(file.path), Catch::Contains("in use"));
}

TEST_CASE("Disk image: large sparse files are addressed with 64-bit offsets", "[disk_image]") {
    TempImage file(0);
    constexpr uint64_t kSectors = (uint64_t{1} << 33) / 512 + 8;  // 8 GiB + 4 KiB, sparse
    std::filesystem::resize_file(file.path, kSectors * 512);
    auto image = DiskImage::open(file.path, false);
    CHECK(image->sectorCount() == kSectors);
    std::vector<uint8_t> buf(512, 0x5A), back(512);
    REQUIRE(image->write(kSectors - 1, 1, buf.data()) == DiskStatus::Ok);
    REQUIRE(image->read(kSectors - 1, 1, back.data()) == DiskStatus::Ok);
    CHECK(back == buf);
}
