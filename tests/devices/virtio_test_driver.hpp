// Test helper: a virtio-pci driver in a few lines, over a byte-vector guest memory. It reads the
// capabilities from config space, negotiates features, lays out split virtqueues, makes chains
// available, notifies, and reads the used ring back, as a guest driver would.
#pragma once

#include "tests/devices/vector_memory.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "devices/guest_memory.hpp"
#include "devices/virtio/virtio_pci_device.hpp"

namespace hvlab::test {

using namespace hvlab::devices;
using namespace hvlab::devices::virtio;
using VirtioMemory = VectorMemory;


struct Segment {
    uint64_t address;
    uint32_t length;
    bool writable;
};

// One split virtqueue as the driver keeps it.
struct DriverQueue {
    uint16_t index = 0;
    uint16_t size = 0;
    uint64_t desc = 0, avail = 0, used = 0;
    uint16_t nextDesc = 0;
    uint16_t availIdx = 0;
    uint16_t lastUsed = 0;
};

class VirtioTestDriver {
public:
    VirtioTestDriver(VirtioPciDevice& device, VirtioMemory& memory) : dev(device), mem(memory) {
        dev.connectIrq(&irq);
        findCapabilities();
    }

    // BAR 4 accesses through the capability offsets.
    uint64_t common(uint32_t offset, unsigned size) { return dev.barMmioRead(4, commonAt + offset, size); }
    void setCommon(uint32_t offset, unsigned size, uint64_t v) { dev.barMmioWrite(4, commonAt + offset, size, v); }
    uint64_t deviceConfig(uint32_t offset, unsigned size) { return dev.barMmioRead(4, deviceAt + offset, size); }
    uint8_t readIsr() { return static_cast<uint8_t>(dev.barMmioRead(4, isrAt, 1)); }
    uint8_t status() { return static_cast<uint8_t>(common(common::kDeviceStatus, 1)); }
    void setStatus(uint8_t s) { setCommon(common::kDeviceStatus, 1, s); }

    uint64_t deviceFeatures() {
        setCommon(common::kDeviceFeatureSelect, 4, 0);
        uint64_t f = common(common::kDeviceFeature, 4);
        setCommon(common::kDeviceFeatureSelect, 4, 1);
        return f | common(common::kDeviceFeature, 4) << 32;
    }
    // ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns whether the device kept FEATURES_OK.
    bool negotiate(uint64_t features) {
        setStatus(0);
        setStatus(kStatusAcknowledge);
        setStatus(kStatusAcknowledge | kStatusDriver);
        setCommon(common::kDriverFeatureSelect, 4, 0);
        setCommon(common::kDriverFeature, 4, features & 0xFFFFFFFF);
        setCommon(common::kDriverFeatureSelect, 4, 1);
        setCommon(common::kDriverFeature, 4, features >> 32);
        setStatus(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
        return (status() & kStatusFeaturesOk) != 0;
    }
    // Lays out queue `index` with `size` entries at `base` (descriptors, avail, used; 4 KiB apart
    // per 256 entries) and enables it.
    DriverQueue& setupQueue(uint16_t index, uint16_t size, uint64_t base) {
        DriverQueue q;
        q.index = index;
        q.size = size;
        q.desc = base;
        q.avail = base + 16ull * size;
        q.used = (q.avail + 6 + 2ull * size + 4095) & ~4095ull;
        setCommon(common::kQueueSelect, 2, index);
        setCommon(common::kQueueSize, 2, size);
        setCommon(common::kQueueDesc, 8, q.desc);
        setCommon(common::kQueueDriver, 4, q.avail & 0xFFFFFFFF);  // two halves, as Linux writes it
        setCommon(common::kQueueDriver + 4, 4, q.avail >> 32);
        setCommon(common::kQueueDevice, 8, q.used);
        setCommon(common::kQueueEnable, 2, 1);
        queues.resize(std::max<size_t>(queues.size(), index + 1u));
        queues[index] = q;
        return queues[index];
    }
    void driverOk() { setStatus(status() | kStatusDriverOk); }

    void writeDescriptor(uint64_t table, uint16_t slot, const Segment& s, uint16_t flags, uint16_t next) {
        const uint64_t at = table + 16ull * slot;
        mem.put(at, s.address, 8);
        mem.put(at + 8, s.length, 4);
        mem.put(at + 12, flags, 2);
        mem.put(at + 14, next, 2);
    }
    // Puts a chain in the descriptor table and the available ring (not yet notified); returns its head.
    uint16_t addChain(DriverQueue& q, const std::vector<Segment>& segments) {
        const uint16_t head = q.nextDesc;
        for (size_t i = 0; i < segments.size(); ++i) {
            const auto slot = static_cast<uint16_t>((head + i) % q.size);
            const bool last = i + 1 == segments.size();
            const auto flags = static_cast<uint16_t>((segments[i].writable ? kDescWrite : 0) | (last ? 0 : kDescNext));
            writeDescriptor(q.desc, slot, segments[i], flags, static_cast<uint16_t>((slot + 1) % q.size));
        }
        q.nextDesc = static_cast<uint16_t>((head + segments.size()) % q.size);
        makeAvailable(q, head);
        return head;
    }
    // A chain of one indirect descriptor pointing at a table at `table`.
    uint16_t addIndirectChain(DriverQueue& q, uint64_t table, const std::vector<Segment>& segments) {
        for (size_t i = 0; i < segments.size(); ++i) {
            const bool last = i + 1 == segments.size();
            const auto flags = static_cast<uint16_t>((segments[i].writable ? kDescWrite : 0) | (last ? 0 : kDescNext));
            writeDescriptor(table, static_cast<uint16_t>(i), segments[i], flags, static_cast<uint16_t>(i + 1));
        }
        const uint16_t head = q.nextDesc;
        writeDescriptor(q.desc, head, {table, static_cast<uint32_t>(16 * segments.size()), false}, kDescIndirect, 0);
        q.nextDesc = static_cast<uint16_t>((head + 1) % q.size);
        makeAvailable(q, head);
        return head;
    }
    void makeAvailable(DriverQueue& q, uint16_t head) {
        mem.put(q.avail + 4 + 2ull * (q.availIdx % q.size), head, 2);
        ++q.availIdx;
        mem.put(q.avail + 2, q.availIdx, 2);
    }
    void notify(uint16_t index) { dev.barMmioWrite(4, notifyAt + uint64_t{notifyMultiplier} * index, 2, index); }

    struct Used {
        uint32_t id;
        uint32_t length;
    };
    // The used elements the device added since the last call.
    std::vector<Used> takeUsed(DriverQueue& q) {
        std::vector<Used> out;
        const auto idx = static_cast<uint16_t>(mem.get(q.used + 2, 2));
        while (q.lastUsed != idx) {
            const uint64_t at = q.used + 4 + 8ull * (q.lastUsed % q.size);
            out.push_back({static_cast<uint32_t>(mem.get(at, 4)), static_cast<uint32_t>(mem.get(at + 4, 4))});
            ++q.lastUsed;
        }
        return out;
    }

    VirtioPciDevice& dev;
    VirtioMemory& mem;
    LatchedIrqLine irq;
    std::vector<DriverQueue> queues;
    uint32_t commonAt = 0, isrAt = 0, deviceAt = 0, notifyAt = 0, notifyMultiplier = 0;
    int capabilitiesFound = 0;

private:
    void findCapabilities() {
        REQUIRE((dev.configRead(pci::kStatus, 2) & pci::kStatusCapabilities) != 0);
        auto at = static_cast<uint8_t>(dev.configRead(pci::kCapabilitiesPointer, 1));
        for (int guard = 0; at != 0 && guard < 48; ++guard) {
            if (dev.configRead(at, 1) == pci::kCapabilityVendor) {
                const auto type = static_cast<uint8_t>(dev.configRead(at + 3, 1));
                const auto bar = dev.configRead(at + 4, 1);
                const uint32_t offset = dev.configRead(at + 8, 4);
                if (type != kCapPciCfg) REQUIRE(bar == 4u);
                switch (type) {
                case kCapCommonCfg: commonAt = offset; break;
                case kCapIsrCfg: isrAt = offset; break;
                case kCapDeviceCfg: deviceAt = offset; break;
                case kCapNotifyCfg:
                    notifyAt = offset;
                    notifyMultiplier = dev.configRead(at + 16, 4);
                    break;
                default: break;
                }
                ++capabilitiesFound;
            }
            at = static_cast<uint8_t>(dev.configRead(at + 1, 1));
        }
    }
};

}  // namespace hvlab::test
