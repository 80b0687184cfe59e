#include "devices/virtio/virtio_blk.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <spdlog/spdlog.h>

namespace hvlab::devices::virtio {

using namespace blk;

namespace {
constexpr uint64_t kSector = DiskImage::kSectorSize;
constexpr uint64_t kChunkBytes = 64 * 1024;  // host bounce buffer per step of a transfer

// The request's status: the last byte of the device-writable part (5.2.6).
void writeLastByte(GuestMemory& memory, const DescriptorChain& chain, uint8_t value) {
    for (auto it = chain.writable.rbegin(); it != chain.writable.rend(); ++it) {
        if (it->length == 0) continue;
        if (!memory.write(it->address + it->length - 1, &value, 1))
            throw VirtioError("virtio-blk status byte outside RAM");
        return;
    }
}

void putLe(std::vector<uint8_t>& bytes, uint32_t offset, unsigned size, uint64_t value) {
    for (unsigned i = 0; i < size; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}
}  // namespace

VirtioBlk::VirtioBlk(GuestMemory& memory, std::unique_ptr<DiskImage> image, std::string serial)
    : VirtioPciDevice(DeviceType::Block, 0x01, 0x00, memory, 1, kQueueSize, kConfigSize),  // class: SCSI storage, as QEMU
      image_(std::move(image)),
      serial_(std::move(serial)) {
    putLe(deviceConfig_, kConfigCapacity, 8, image_->sectorCount());
    putLe(deviceConfig_, kConfigSegMax, 4, kQueueSize - 2);
    putLe(deviceConfig_, kConfigBlkSize, 4, kSector);
}

uint64_t VirtioBlk::deviceFeatures() const {
    uint64_t f = kFeatureSegMax | kFeatureBlkSize | kFeatureFlush;
    if (image_ && image_->readOnly()) f |= kFeatureReadOnly;
    return f;
}

void VirtioBlk::queueNotified(uint16_t index) {
    if (index != 0 || !image_) return;
    DescriptorChain chain;
    while (running() && queue(0).pop(memory(), chain)) {
        const uint32_t written = execute(chain);
        queue(0).pushUsed(memory(), chain.head, written);
    }
    signalUsed(0);
}

uint32_t VirtioBlk::execute(const DescriptorChain& chain) {
    if (chain.readableBytes < 16 || chain.writableBytes < 1)
        throw VirtioError("virtio-blk request without its header or status byte");
    ChainReader in(memory(), chain);
    std::array<uint8_t, 16> header{};
    in.read(header.data(), header.size());
    const uint32_t type = header[0] | header[1] << 8 | header[2] << 16 | static_cast<uint32_t>(header[3]) << 24;
    uint64_t sector = 0;
    for (int i = 15; i >= 8; --i) sector = sector << 8 | header[static_cast<size_t>(i)];

    ChainWriter out(memory(), chain);
    const uint64_t dataIn = chain.writableBytes - 1;  // the last writable byte is the status
    uint8_t status = kStatusOk;
    switch (type) {
    case kTypeIn: status = transferIn(out, sector, dataIn); break;
    case kTypeOut: status = transferOut(in, sector, in.remaining()); break;
    case kTypeFlush:
        ++counters_.flushes;
        status = image_->flush() == DiskStatus::Ok ? kStatusOk : kStatusIoErr;
        break;
    case kTypeGetId: {
        ++counters_.ids;
        std::array<uint8_t, kIdBytes> id{};
        std::copy_n(serial_.begin(), std::min<size_t>(serial_.size(), kIdBytes), id.begin());
        out.write(id.data(), std::min<uint64_t>(dataIn, kIdBytes));
        break;
    }
    default:
        ++counters_.unsupported;
        spdlog::debug("virtio-blk: request type {} not supported", type);
        status = kStatusUnsupported;
        break;
    }
    if (status == kStatusIoErr) ++counters_.ioErrors;
    writeLastByte(memory(), chain, status);
    return static_cast<uint32_t>(std::min<uint64_t>(out.written() + 1, chain.writableBytes));
}

uint8_t VirtioBlk::transferIn(ChainWriter& out, uint64_t sector, uint64_t bytes) {
    ++counters_.reads;
    if (bytes % kSector) return kStatusIoErr;
    std::vector<uint8_t> chunk(std::min(bytes, kChunkBytes));
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min(bytes - done, kChunkBytes);
        const DiskStatus s = image_->read(sector + done / kSector, n / kSector, chunk.data());
        if (s != DiskStatus::Ok) {
            spdlog::debug("virtio-blk: read of {} sectors at {}: {}", bytes / kSector, sector, toString(s));
            return kStatusIoErr;
        }
        out.write(chunk.data(), n);
        done += n;
        counters_.bytesRead += n;
    }
    return kStatusOk;
}

uint8_t VirtioBlk::transferOut(ChainReader& in, uint64_t sector, uint64_t bytes) {
    ++counters_.writes;
    if (bytes % kSector) return kStatusIoErr;
    if (image_->readOnly()) return kStatusIoErr;  // VIRTIO_BLK_F_RO was offered
    std::vector<uint8_t> chunk(std::min(bytes, kChunkBytes));
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min(bytes - done, kChunkBytes);
        in.read(chunk.data(), n);
        const DiskStatus s = image_->write(sector + done / kSector, n / kSector, chunk.data());
        if (s != DiskStatus::Ok) {
            spdlog::debug("virtio-blk: write of {} sectors at {}: {}", bytes / kSector, sector, toString(s));
            return kStatusIoErr;
        }
        done += n;
        counters_.bytesWritten += n;
    }
    return kStatusOk;
}

}  // namespace hvlab::devices::virtio
