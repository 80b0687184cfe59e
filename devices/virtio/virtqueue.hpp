// A split virtqueue (virtio 1.1, 2.6) as the device walks it: the descriptor table, the available
// ring the driver fills and the used ring the device fills, in guest memory.
//
// Every guest-supplied value is checked: ring addresses and descriptor buffers go through
// GuestMemory (DMA outside RAM fails), a head or next index outside the table, a chain longer than
// the table (a loop), an indirect descriptor inside an indirect table or with NEXT set, an indirect
// table whose length is not a multiple of 16 or longer than kMaxQueueSize entries, a readable
// buffer after a writable one, and an available index that moved by more than the queue size.
// Each of these throws VirtioError; the transport turns it into DEVICE_NEEDS_RESET.
//
// Interrupt suppression: without VIRTIO_F_EVENT_IDX the driver's VIRTQ_AVAIL_F_NO_INTERRUPT flag,
// with it used_event (2.6.7); with EVENT_IDX the device also publishes avail_event (2.6.8).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/guest_memory.hpp"

namespace hvlab::devices::virtio {

// A guest's misuse of the device (bad ring, bad descriptor, DMA outside RAM).
class VirtioError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct GuestBuffer {
    uint64_t address = 0;
    uint32_t length = 0;
};

// One descriptor chain taken from the available ring: the device-readable buffers, then the
// device-writable ones.
struct DescriptorChain {
    uint16_t head = 0;
    std::vector<GuestBuffer> readable;
    std::vector<GuestBuffer> writable;
    uint64_t readableBytes = 0;
    uint64_t writableBytes = 0;
};

class Virtqueue {
public:
    explicit Virtqueue(uint16_t maxSize) : maxSize_(maxSize), size_(maxSize) {}

    // The registers of the common configuration for this queue.
    uint16_t maxSize() const { return maxSize_; }
    uint16_t size() const { return size_; }
    void setSize(uint16_t size) { size_ = size; }
    bool enabled() const { return enabled_; }
    uint64_t descriptorTable() const { return desc_; }
    uint64_t driverArea() const { return driver_; }
    uint64_t deviceArea() const { return device_; }
    void setDescriptorTable(uint64_t gpa) { desc_ = gpa; }
    void setDriverArea(uint64_t gpa) { driver_ = gpa; }
    void setDeviceArea(uint64_t gpa) { device_ = gpa; }
    uint16_t msixVector() const { return msixVector_; }
    void setMsixVector(uint16_t v) { msixVector_ = v; }

    // Checks the size (a power of 2, 1..maxSize), the ring alignments (16, 2, 4) and that the three
    // areas lie in guest RAM, then enables the queue. Throws VirtioError (the queue stays disabled).
    void enable(GuestMemory& memory);
    // Back to the reset state (disabled, maximum size, addresses 0).
    void reset();
    // Features negotiated for this queue (at FEATURES_OK).
    void setFeatures(bool indirect, bool eventIdx) { indirect_ = indirect; eventIdx_ = eventIdx; }

    // Takes the next available chain into `chain`; false when the ring is empty.
    bool pop(GuestMemory& memory, DescriptorChain& chain);
    // Whether the driver has made a chain available that pop() has not taken.
    bool hasAvailable(GuestMemory& memory) const;
    // Returns a chain to the device's used ring with `written` bytes written to its writable part.
    void pushUsed(GuestMemory& memory, uint16_t head, uint32_t written);
    // Whether the driver wants an interrupt for the chains used since the last call (and forgets them).
    bool takeInterruptDue(GuestMemory& memory);

    uint16_t lastAvailIndex() const { return lastAvail_; }
    uint16_t usedIndex() const { return usedIdx_; }

private:
    uint16_t read16(GuestMemory& memory, uint64_t gpa) const;
    void write16(GuestMemory& memory, uint64_t gpa, uint16_t value) const;
    void publishAvailEvent(GuestMemory& memory);
    // Appends the chain at table[index] (a table of `entries` descriptors at `table`).
    void walk(GuestMemory& memory, uint64_t table, uint32_t entries, uint16_t index, bool inIndirect,
              DescriptorChain& chain);

    const uint16_t maxSize_;
    uint16_t size_;
    bool enabled_ = false;
    uint64_t desc_ = 0, driver_ = 0, device_ = 0;
    uint16_t msixVector_ = kNoVectorValue;
    bool indirect_ = false;
    bool eventIdx_ = false;
    uint16_t lastAvail_ = 0;
    uint16_t usedIdx_ = 0;
    uint16_t signalledUsed_ = 0;  // usedIdx_ when the interrupt decision was last taken
    static constexpr uint16_t kNoVectorValue = 0xFFFF;
};

// Reads the readable part of a chain as one byte stream.
class ChainReader {
public:
    ChainReader(GuestMemory& memory, const DescriptorChain& chain) : memory_(memory), chain_(chain) {}
    uint64_t remaining() const { return chain_.readableBytes - consumed_; }
    // Copies `length` bytes; throws VirtioError if the chain is shorter or the DMA fails.
    void read(void* out, uint64_t length);

private:
    GuestMemory& memory_;
    const DescriptorChain& chain_;
    size_t buffer_ = 0;
    uint64_t offset_ = 0;  // inside chain_.readable[buffer_]
    uint64_t consumed_ = 0;
};

// Writes the writable part of a chain as one byte stream.
class ChainWriter {
public:
    ChainWriter(GuestMemory& memory, const DescriptorChain& chain) : memory_(memory), chain_(chain) {}
    uint64_t remaining() const { return chain_.writableBytes - written_; }
    uint64_t written() const { return written_; }
    // Copies `length` bytes; throws VirtioError if the chain is shorter or the DMA fails.
    void write(const void* in, uint64_t length);

private:
    GuestMemory& memory_;
    const DescriptorChain& chain_;
    size_t buffer_ = 0;
    uint64_t offset_ = 0;
    uint64_t written_ = 0;
};

}  // namespace hvlab::devices::virtio
