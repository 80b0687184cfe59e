#include "devices/virtio/virtqueue.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "devices/virtio/virtio_spec.hpp"

namespace hvlab::devices::virtio {

namespace {

// Offsets in the driver area (struct virtq_avail) and the device area (struct virtq_used).
constexpr uint64_t kAvailIdx = 2;
constexpr uint64_t kAvailRing = 4;
constexpr uint64_t kUsedIdx = 2;
constexpr uint64_t kUsedRing = 4;

uint64_t descriptorTableBytes(uint16_t size) { return uint64_t{kDescriptorSize} * size; }
uint64_t driverAreaBytes(uint16_t size) { return 6 + 2ull * size; }                   // flags, idx, ring, used_event
uint64_t deviceAreaBytes(uint16_t size) { return 6 + uint64_t{kUsedElementSize} * size; }  // flags, idx, ring, avail_event

bool inMemory(GuestMemory& memory, uint64_t gpa, uint64_t length) {
    std::vector<uint8_t> probe(length);
    return memory.read(gpa, probe.data(), length);
}

}  // namespace

void Virtqueue::enable(GuestMemory& memory) {
    if (size_ == 0 || (size_ & (size_ - 1)) != 0 || size_ > maxSize_)
        throw VirtioError(fmt::format("queue size {} is not a power of 2 in 1..{}", size_, maxSize_));
    if (desc_ % 16 || driver_ % 2 || device_ % 4)
        throw VirtioError(fmt::format("misaligned rings (descriptors {:#x}, driver {:#x}, device {:#x})", desc_,
                                      driver_, device_));
    if (!inMemory(memory, desc_, descriptorTableBytes(size_)) || !inMemory(memory, driver_, driverAreaBytes(size_)) ||
        !inMemory(memory, device_, deviceAreaBytes(size_)))
        throw VirtioError(fmt::format("rings outside guest RAM (descriptors {:#x}, driver {:#x}, device {:#x})", desc_,
                                      driver_, device_));
    enabled_ = true;
    lastAvail_ = usedIdx_ = signalledUsed_ = 0;
}

void Virtqueue::reset() {
    size_ = maxSize_;
    enabled_ = false;
    desc_ = driver_ = device_ = 0;
    msixVector_ = kNoVectorValue;
    indirect_ = eventIdx_ = false;
    lastAvail_ = usedIdx_ = signalledUsed_ = 0;
}

uint16_t Virtqueue::read16(GuestMemory& memory, uint64_t gpa) const {
    std::array<uint8_t, 2> b{};
    if (!memory.read(gpa, b.data(), 2)) throw VirtioError(fmt::format("ring read at {:#x} outside RAM", gpa));
    return static_cast<uint16_t>(b[0] | b[1] << 8);
}

void Virtqueue::write16(GuestMemory& memory, uint64_t gpa, uint16_t value) const {
    const std::array<uint8_t, 2> b{static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
    if (!memory.write(gpa, b.data(), 2)) throw VirtioError(fmt::format("ring write at {:#x} outside RAM", gpa));
}

bool Virtqueue::hasAvailable(GuestMemory& memory) const {
    return enabled_ && read16(memory, driver_ + kAvailIdx) != lastAvail_;
}

void Virtqueue::publishAvailEvent(GuestMemory& memory) {
    if (eventIdx_) write16(memory, device_ + kUsedRing + uint64_t{kUsedElementSize} * size_, lastAvail_);
}

bool Virtqueue::pop(GuestMemory& memory, DescriptorChain& chain) {
    if (!enabled_) return false;
    const uint16_t availIdx = read16(memory, driver_ + kAvailIdx);
    const auto pending = static_cast<uint16_t>(availIdx - lastAvail_);
    if (pending > size_)
        throw VirtioError(fmt::format("available index moved from {} to {} (queue size {})", lastAvail_, availIdx,
                                      size_));
    if (pending == 0) {
        publishAvailEvent(memory);
        return false;
    }
    const uint16_t head = read16(memory, driver_ + kAvailRing + 2ull * (lastAvail_ % size_));
    ++lastAvail_;
    publishAvailEvent(memory);
    if (head >= size_) throw VirtioError(fmt::format("available ring names descriptor {} of {}", head, size_));
    chain = DescriptorChain{};
    chain.head = head;
    walk(memory, desc_, size_, head, false, chain);
    return true;
}

void Virtqueue::walk(GuestMemory& memory, uint64_t table, uint32_t entries, uint16_t index, bool inIndirect,
                     DescriptorChain& chain) {
    for (uint32_t visited = 0;; ++visited) {
        if (visited >= entries) throw VirtioError(fmt::format("descriptor chain from {} loops", chain.head));
        std::array<uint8_t, kDescriptorSize> raw{};
        const uint64_t at = table + uint64_t{kDescriptorSize} * index;
        if (!memory.read(at, raw.data(), raw.size()))
            throw VirtioError(fmt::format("descriptor at {:#x} outside RAM", at));
        uint64_t address = 0;
        for (int i = 7; i >= 0; --i) address = address << 8 | raw[static_cast<size_t>(i)];
        const uint32_t length = raw[8] | raw[9] << 8 | raw[10] << 16 | static_cast<uint32_t>(raw[11]) << 24;
        const auto flags = static_cast<uint16_t>(raw[12] | raw[13] << 8);
        const auto next = static_cast<uint16_t>(raw[14] | raw[15] << 8);

        if (flags & kDescIndirect) {
            if (!indirect_) throw VirtioError("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
            if (inIndirect) throw VirtioError("indirect descriptor inside an indirect table");
            if (flags & kDescNext) throw VirtioError("indirect descriptor with NEXT set");
            if (length == 0 || length % kDescriptorSize || length / kDescriptorSize > kMaxQueueSize)
                throw VirtioError(fmt::format("indirect table of {} bytes", length));
            walk(memory, address, length / kDescriptorSize, 0, true, chain);
            return;
        }
        const GuestBuffer buffer{address, length};
        if (flags & kDescWrite) {
            chain.writable.push_back(buffer);
            chain.writableBytes += length;
        } else {
            if (!chain.writable.empty()) throw VirtioError("device-readable buffer after a device-writable one");
            chain.readable.push_back(buffer);
            chain.readableBytes += length;
        }
        if (!(flags & kDescNext)) return;
        if (next >= entries) throw VirtioError(fmt::format("next descriptor {} outside a table of {}", next, entries));
        index = next;
    }
}

void Virtqueue::pushUsed(GuestMemory& memory, uint16_t head, uint32_t written) {
    std::array<uint8_t, kUsedElementSize> element{};
    for (int i = 0; i < 4; ++i) {
        element[static_cast<size_t>(i)] = static_cast<uint8_t>(uint32_t{head} >> (8 * i));
        element[static_cast<size_t>(4 + i)] = static_cast<uint8_t>(written >> (8 * i));
    }
    const uint64_t at = device_ + kUsedRing + uint64_t{kUsedElementSize} * (usedIdx_ % size_);
    if (!memory.write(at, element.data(), element.size()))
        throw VirtioError(fmt::format("used ring write at {:#x} outside RAM", at));
    ++usedIdx_;
    write16(memory, device_ + kUsedIdx, usedIdx_);
}

bool Virtqueue::takeInterruptDue(GuestMemory& memory) {
    const uint16_t old = signalledUsed_;
    signalledUsed_ = usedIdx_;
    if (old == usedIdx_) return false;
    if (!eventIdx_) return !(read16(memory, driver_) & kAvailNoInterrupt);
    // vring_need_event (2.6.7.2): interrupt if used_event lies in [old, new).
    const uint16_t usedEvent = read16(memory, driver_ + kAvailRing + 2ull * size_);
    return static_cast<uint16_t>(usedIdx_ - usedEvent - 1) < static_cast<uint16_t>(usedIdx_ - old);
}

void ChainReader::read(void* out, uint64_t length) {
    if (length > remaining()) throw VirtioError("request shorter than its header");
    auto* dst = static_cast<uint8_t*>(out);
    while (length > 0) {
        const GuestBuffer& b = chain_.readable[buffer_];
        const uint64_t n = std::min<uint64_t>(length, b.length - offset_);
        if (n > 0 && !memory_.read(b.address + offset_, dst, n))
            throw VirtioError(fmt::format("buffer read at {:#x} outside RAM", b.address + offset_));
        dst += n;
        length -= n;
        consumed_ += n;
        offset_ += n;
        if (offset_ == b.length) {
            ++buffer_;
            offset_ = 0;
        }
    }
}

void ChainWriter::write(const void* in, uint64_t length) {
    if (length > remaining()) throw VirtioError("device-writable buffers too short");
    const auto* src = static_cast<const uint8_t*>(in);
    while (length > 0) {
        const GuestBuffer& b = chain_.writable[buffer_];
        const uint64_t n = std::min<uint64_t>(length, b.length - offset_);
        if (n > 0 && !memory_.write(b.address + offset_, src, n))
            throw VirtioError(fmt::format("buffer write at {:#x} outside RAM", b.address + offset_));
        src += n;
        length -= n;
        written_ += n;
        offset_ += n;
        if (offset_ == b.length) {
            ++buffer_;
            offset_ = 0;
        }
    }
}

}  // namespace hvlab::devices::virtio
