#include "devices/disk_image.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hvlab::devices {

namespace {

[[noreturn]] void failOpen(const std::string& path, const std::string& what, int error) {
    throw std::runtime_error(fmt::format("disk image {}: {}: {}", path, what, std::strerror(error)));
}

// pread/pwrite until done: they may transfer less than asked (signals, large requests).
bool preadAll(int fd, uint8_t* out, uint64_t len, uint64_t offset) {
    while (len > 0) {
        const ssize_t n = ::pread(fd, out, len, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;  // error, or the file shrank under us (EOF)
        out += n;
        len -= static_cast<uint64_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return true;
}

bool pwriteAll(int fd, const uint8_t* in, uint64_t len, uint64_t offset) {
    while (len > 0) {
        const ssize_t n = ::pwrite(fd, in, len, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        in += n;
        len -= static_cast<uint64_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return true;
}

}  // namespace

const char* toString(DiskStatus status) {
    switch (status) {
    case DiskStatus::Ok: return "ok";
    case DiskStatus::OutOfRange: return "out of range";
    case DiskStatus::ReadOnly: return "read-only";
    case DiskStatus::IoError: return "I/O error";
    }
    return "?";
}

DiskImage::DiskImage(std::string path, int fd, uint64_t sectors, bool readOnly, bool overlay)
    : path_(std::move(path)), fd_(fd), sectors_(sectors), readOnly_(readOnly), overlayEnabled_(overlay) {}

DiskImage::~DiskImage() {
    if (fd_ >= 0) ::close(fd_);  // also releases the flock
}

std::unique_ptr<DiskImage> DiskImage::open(const std::string& path, bool readOnly) {
    return openFile(path, !readOnly, false);
}

std::unique_ptr<DiskImage> DiskImage::openOverlay(const std::string& path) { return openFile(path, false, true); }

std::unique_ptr<DiskImage> DiskImage::openFile(const std::string& path, bool writable, bool overlay) {
    const int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) failOpen(path, writable ? "cannot open read-write" : "cannot open", errno);

    // From here on the descriptor must be closed on every failure.
    auto fail = [&](const std::string& what, int error) {
        ::close(fd);
        failOpen(path, what, error);
    };
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail("cannot stat", errno);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) fail("not a regular file or block device", EINVAL);
    if (::flock(fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0)
        fail(errno == EWOULDBLOCK ? "already in use (locked by another writer or reader)" : "cannot lock", errno);
    const off_t size = ::lseek(fd, 0, SEEK_END);  // works for block devices too
    if (size < 0) fail("cannot determine the size", errno);

    if (size == 0 || size % kSectorSize != 0) {
        ::close(fd);
        throw std::runtime_error(fmt::format(
            "disk image {}: size {} bytes is {}; raw images must hold whole 512-byte sectors "
            "(pad it, e.g. with `truncate -s %512 {}`)",
            path, size, size == 0 ? "empty" : "not a multiple of 512", path));
    }
    const uint64_t sectors = static_cast<uint64_t>(size) / kSectorSize;
    spdlog::debug("disk image {}: {} sectors, {}", path, sectors,
                  overlay ? "copy-on-write overlay" : writable ? "read-write" : "read-only");
    return std::unique_ptr<DiskImage>(new DiskImage(path, fd, sectors, !writable && !overlay, overlay));
}

bool DiskImage::rangeValid(uint64_t lba, uint64_t count) const {
    return lba <= sectors_ && count <= sectors_ - lba;
}

DiskStatus DiskImage::readBase(uint64_t lba, uint64_t count, uint8_t* out) const {
    if (count == 0) return DiskStatus::Ok;
    if (!preadAll(fd_, out, count * kSectorSize, lba * kSectorSize)) {
        spdlog::debug("disk image {}: read of {} sectors at {} failed: {}", path_, count, lba, std::strerror(errno));
        return DiskStatus::IoError;
    }
    return DiskStatus::Ok;
}

DiskStatus DiskImage::read(uint64_t lba, uint64_t count, void* buffer) const {
    if (!rangeValid(lba, count)) return DiskStatus::OutOfRange;
    auto* out = static_cast<uint8_t*>(buffer);
    if (overlay_.empty()) return readBase(lba, count, out);

    // Runs of sectors the overlay does not hold come from the file in one pread each.
    uint64_t runStart = 0;
    uint64_t runLength = 0;
    for (uint64_t i = 0; i < count; ++i) {
        auto it = overlay_.find(lba + i);
        if (it == overlay_.end()) {
            if (runLength == 0) runStart = i;
            ++runLength;
            continue;
        }
        if (DiskStatus s = readBase(lba + runStart, runLength, out + runStart * kSectorSize); s != DiskStatus::Ok)
            return s;
        runLength = 0;
        std::memcpy(out + i * kSectorSize, it->second.data(), kSectorSize);
    }
    return readBase(lba + runStart, runLength, out + runStart * kSectorSize);
}

DiskStatus DiskImage::write(uint64_t lba, uint64_t count, const void* buffer) {
    if (readOnly_) return DiskStatus::ReadOnly;
    if (!rangeValid(lba, count)) return DiskStatus::OutOfRange;
    const auto* in = static_cast<const uint8_t*>(buffer);
    if (overlayEnabled_) {
        for (uint64_t i = 0; i < count; ++i)
            std::memcpy(overlay_[lba + i].data(), in + i * kSectorSize, kSectorSize);
        return DiskStatus::Ok;
    }
    if (!pwriteAll(fd_, in, count * kSectorSize, lba * kSectorSize)) {
        spdlog::debug("disk image {}: write of {} sectors at {} failed: {}", path_, count, lba, std::strerror(errno));
        return DiskStatus::IoError;
    }
    return DiskStatus::Ok;
}

DiskStatus DiskImage::flush() {
    if (readOnly_ || overlayEnabled_) return DiskStatus::Ok;
    if (::fdatasync(fd_) != 0) {
        spdlog::debug("disk image {}: fdatasync failed: {}", path_, std::strerror(errno));
        return DiskStatus::IoError;
    }
    return DiskStatus::Ok;
}

}  // namespace hvlab::devices
