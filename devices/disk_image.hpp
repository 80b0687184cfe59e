// A raw disk image: a host file (or block device) read and written in 512-byte sectors.
//
// Three ways to open one:
//  - read-write (open(path, false)): guest writes go to the file (pwrite);
//  - read-only  (open(path, true)):  guest writes fail with DiskStatus::ReadOnly;
//  - overlay    (openOverlay(path)): the file is opened read-only and guest writes go to a
//    sparse in-memory copy-on-write layer of 512-byte sectors that reads prefer. The base
//    file is never modified; the overlay is discarded when the image is destroyed.
//
// Decisions:
//  - The file size must be a non-zero multiple of 512: anything else is refused at open()
//    with a message that says so (QEMU would expose a partial last sector; a clear refusal is
//    easier to reason about than a silently truncated disk). `truncate -s` fixes such a file.
//  - A read-write image takes an exclusive flock(), read-only and overlay images a shared one,
//    so two VMs (or two drives) can never write one file at the same time.
//  - Data goes through pread/pwrite on the descriptor; the image is never loaded whole.
//  - Errors on the guest path (read/write/flush) are returned as a DiskStatus, never thrown.
//    Only opening throws (std::runtime_error naming the path and the system error).
//
// Thread-compatible: const members may be called concurrently; anything else needs external
// synchronisation (one VM thread owns the drives that use the image).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace hvlab::devices {

enum class DiskStatus : uint8_t {
    Ok,
    OutOfRange,  // the sector range leaves the image
    ReadOnly,    // a write to a read-only image: nothing was written
    IoError,     // the host read/write/flush failed (errno logged at debug level)
};

const char* toString(DiskStatus status);

class DiskImage {
public:
    static constexpr uint32_t kSectorSize = 512;

    // Opens a raw image. Throws std::runtime_error (path + strerror, or the size problem) if
    // the file is missing, unreadable, not writable when readOnly is false, locked by another
    // user, empty, or not a multiple of 512 bytes.
    static std::unique_ptr<DiskImage> open(const std::string& path, bool readOnly);
    // Opens `path` read-only with a copy-on-write overlay in memory: the guest sees a writable
    // disk, the file stays untouched.
    static std::unique_ptr<DiskImage> openOverlay(const std::string& path);

    ~DiskImage();
    DiskImage(const DiskImage&) = delete;
    DiskImage& operator=(const DiskImage&) = delete;

    uint64_t sectorCount() const { return sectors_; }
    // True if guest writes are refused (opened read-only without an overlay).
    bool readOnly() const { return readOnly_; }
    bool hasOverlay() const { return overlayEnabled_; }
    // Sectors currently held by the overlay (0 without one).
    std::size_t overlaySectorCount() const { return overlay_.size(); }
    const std::string& path() const { return path_; }

    // Reads/writes `count` whole sectors starting at `lba`. `buffer` holds count * 512 bytes.
    // A range that leaves the image transfers nothing and returns OutOfRange.
    DiskStatus read(uint64_t lba, uint64_t count, void* buffer) const;
    DiskStatus write(uint64_t lba, uint64_t count, const void* buffer);
    // Makes written data durable (fdatasync). A no-op for read-only and overlay images.
    DiskStatus flush();

private:
    using Sector = std::array<uint8_t, kSectorSize>;
    DiskImage(std::string path, int fd, uint64_t sectors, bool readOnly, bool overlay);
    static std::unique_ptr<DiskImage> openFile(const std::string& path, bool writable, bool overlay);
    bool rangeValid(uint64_t lba, uint64_t count) const;
    DiskStatus readBase(uint64_t lba, uint64_t count, uint8_t* out) const;

    std::string path_;
    int fd_ = -1;
    uint64_t sectors_ = 0;
    bool readOnly_ = false;
    bool overlayEnabled_ = false;
    std::unordered_map<uint64_t, Sector> overlay_;  // sparse: only sectors the guest wrote
};

}  // namespace hvlab::devices
