// virtio-blk (device type 2, virtio 1.1 section 5.2) on the virtio-pci transport: one request
// queue of 256 entries over a DiskImage (the same raw, read-only and copy-on-write backends as the
// ATA drive).
//
// Offered: VIRTIO_BLK_F_SEG_MAX (254 = queue size - 2, as QEMU), VIRTIO_BLK_F_BLK_SIZE (512),
// VIRTIO_BLK_F_FLUSH, and VIRTIO_BLK_F_RO for a read-only image. Requests: VIRTIO_BLK_T_IN, OUT,
// FLUSH and GET_ID (the serial "hvlab-vdN", NUL-padded to 20 bytes); other types answer
// VIRTIO_BLK_S_UNSUPP. A transfer that leaves the disk, is not a whole number of sectors, or fails
// on the host (a write to a read-only image included) answers VIRTIO_BLK_S_IOERR; a request without
// its 16-byte header or status byte is a driver error (DEVICE_NEEDS_RESET).
#pragma once

#include <memory>
#include <string>

#include "devices/disk_image.hpp"
#include "devices/virtio/virtio_pci_device.hpp"

namespace hvlab::devices::virtio {

namespace blk {
inline constexpr uint64_t kFeatureSegMax = 1ull << 2;
inline constexpr uint64_t kFeatureReadOnly = 1ull << 5;
inline constexpr uint64_t kFeatureBlkSize = 1ull << 6;
inline constexpr uint64_t kFeatureFlush = 1ull << 9;
inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeGetId = 8;
inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupported = 2;
inline constexpr uint32_t kIdBytes = 20;
inline constexpr uint16_t kQueueSize = 256;
// struct virtio_blk_config offsets.
inline constexpr uint32_t kConfigCapacity = 0;
inline constexpr uint32_t kConfigSegMax = 12;
inline constexpr uint32_t kConfigBlkSize = 20;
inline constexpr size_t kConfigSize = 0x3C;
}  // namespace blk

struct VirtioBlkCounters {
    uint64_t reads = 0, writes = 0, flushes = 0, ids = 0, unsupported = 0, ioErrors = 0;
    uint64_t bytesRead = 0, bytesWritten = 0;
};

class VirtioBlk final : public VirtioPciDevice {
public:
    // `serial` is what GET_ID returns (at most 20 bytes are used).
    VirtioBlk(GuestMemory& memory, std::unique_ptr<DiskImage> image, std::string serial);
    std::string name() const override { return "virtio-blk"; }

    DiskImage& image() { return *image_; }
    // Takes the image out (for a board reset that keeps the disks).
    std::unique_ptr<DiskImage> eject() { return std::move(image_); }
    const VirtioBlkCounters& counters() const { return counters_; }

protected:
    uint64_t deviceFeatures() const override;
    void queueNotified(uint16_t index) override;

private:
    // Executes one request; returns the bytes written into the chain (data and status).
    uint32_t execute(const DescriptorChain& chain);
    uint8_t transferIn(ChainWriter& out, uint64_t sector, uint64_t bytes);
    uint8_t transferOut(ChainReader& in, uint64_t sector, uint64_t bytes);

    std::unique_ptr<DiskImage> image_;
    std::string serial_;
    VirtioBlkCounters counters_;
};

}  // namespace hvlab::devices::virtio
