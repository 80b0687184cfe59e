#include "devices/virtio/virtio_pci_device.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace hvlab::devices::virtio {

namespace {

// struct virtio_pci_cap after the two header bytes (cap_vndr, cap_next): cap_len, cfg_type, bar,
// id, padding[2], offset, length; `extra` bytes follow (notify_off_multiplier, pci_cfg_data).
std::vector<uint8_t> capabilityBody(uint8_t type, uint32_t offset, uint32_t length, size_t extra) {
    std::vector<uint8_t> body(14 + extra, 0);
    body[0] = static_cast<uint8_t>(16 + extra);
    body[1] = type;
    body[2] = type == kCapPciCfg ? 0 : static_cast<uint8_t>(layout::kBar);
    for (int i = 0; i < 4; ++i) {
        body[6 + static_cast<size_t>(i)] = static_cast<uint8_t>(offset >> (8 * i));
        body[10 + static_cast<size_t>(i)] = static_cast<uint8_t>(length >> (8 * i));
    }
    return body;
}

uint64_t widthMask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1; }

// The writable fields of the common configuration and their widths.
struct CommonField {
    uint32_t offset;
    unsigned size;
};
constexpr CommonField kWritableCommonFields[] = {
    {common::kDeviceFeatureSelect, 4}, {common::kDriverFeatureSelect, 4}, {common::kDriverFeature, 4},
    {common::kConfigMsixVector, 2},    {common::kDeviceStatus, 1},        {common::kQueueSelect, 2},
    {common::kQueueSize, 2},           {common::kQueueMsixVector, 2},     {common::kQueueEnable, 2},
    {common::kQueueDesc, 8},           {common::kQueueDriver, 8},         {common::kQueueDevice, 8},
};

template <size_t N>
uint64_t loadLe(const std::array<uint8_t, N>& bytes, uint32_t offset, unsigned size) {
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;) v = v << 8 | bytes[offset + i];
    return v;
}

template <size_t N>
void storeLe(std::array<uint8_t, N>& bytes, uint32_t offset, unsigned size, uint64_t value) {
    for (unsigned i = 0; i < size; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

VirtioPciDevice::VirtioPciDevice(DeviceType type, uint8_t classCode, uint8_t subclass, GuestMemory& memory,
                                 uint16_t queueCount, uint16_t queueSize, size_t configSize)
    : PciFunction(kPciVendor, static_cast<uint16_t>(kPciDeviceBase + static_cast<uint16_t>(type)), classCode, subclass,
                  0x00, kPciRevision),
      deviceConfig_(configSize, 0),
      memory_(memory),
      queues_(queueCount, Virtqueue(queueSize)) {
    setSubsystem(kPciSubsystemVendor, kPciSubsystemId);
    defineBar(layout::kBar, BarKind::Memory64, layout::kBarSize);
    setInterruptPin(1);
    const auto add = [this](const std::vector<uint8_t>& body) {
        return addCapability(pci::kCapabilityVendor, body.data(), body.size());
    };
    add(capabilityBody(kCapCommonCfg, layout::kCommon, layout::kRegionSize, 0));
    add(capabilityBody(kCapIsrCfg, layout::kIsr, layout::kRegionSize, 0));
    add(capabilityBody(kCapDeviceCfg, layout::kDevice, layout::kRegionSize, 0));
    std::vector<uint8_t> notifyBody = capabilityBody(kCapNotifyCfg, layout::kNotify, layout::kRegionSize, 4);
    notifyBody[14] = static_cast<uint8_t>(layout::kNotifyMultiplier);
    add(notifyBody);
    pciCfgCap_ = add(capabilityBody(kCapPciCfg, 0, 0, 4));
}

// ---- the BAR -----------------------------------------------------------------------------------

uint64_t VirtioPciDevice::barMmioRead(int bar, uint64_t offset, unsigned size) {
    if (bar != layout::kBar || offset >= layout::kBarSize) return PciFunction::barMmioRead(bar, offset, size);
    const auto region = static_cast<uint32_t>(offset & ~uint64_t{layout::kRegionSize - 1});
    const auto inRegion = static_cast<uint32_t>(offset - region);
    switch (region) {
    case layout::kCommon: return readCommon(inRegion, size);
    case layout::kIsr: {
        if (inRegion != 0) return 0;
        const uint8_t value = isr_;  // read-to-clear (4.1.4.5.1)
        isr_ = 0;
        updateIrq();
        return value;
    }
    case layout::kDevice: {
        uint64_t v = 0;
        for (unsigned i = size; i-- > 0;)
            v = v << 8 | (inRegion + i < deviceConfig_.size() ? deviceConfig_[inRegion + i] : 0);
        return v;
    }
    default: return 0;  // the notification area reads as 0
    }
}

void VirtioPciDevice::barMmioWrite(int bar, uint64_t offset, unsigned size, uint64_t value) {
    if (bar != layout::kBar || offset >= layout::kBarSize) return;
    const auto region = static_cast<uint32_t>(offset & ~uint64_t{layout::kRegionSize - 1});
    const auto inRegion = static_cast<uint32_t>(offset - region);
    switch (region) {
    case layout::kCommon: writeCommon(inRegion, size, value); break;
    case layout::kDevice: deviceConfigWrite(inRegion, size, value & widthMask(size)); break;
    case layout::kNotify: notify(inRegion); break;
    default: break;  // the ISR is read-only
    }
}

// ---- common configuration ----------------------------------------------------------------------

std::array<uint8_t, common::kSize> VirtioPciDevice::commonSnapshot() const {
    std::array<uint8_t, common::kSize> b{};
    const uint64_t offered = offeredFeatures();
    storeLe(b, common::kDeviceFeatureSelect, 4, deviceFeatureSelect_);
    storeLe(b, common::kDeviceFeature, 4, deviceFeatureSelect_ < 2 ? offered >> (32 * deviceFeatureSelect_) : 0);
    storeLe(b, common::kDriverFeatureSelect, 4, driverFeatureSelect_);
    storeLe(b, common::kDriverFeature, 4,
            driverFeatureSelect_ < 2 ? driverFeatures_ >> (32 * driverFeatureSelect_) : 0);
    storeLe(b, common::kConfigMsixVector, 2, kNoVector);
    storeLe(b, common::kNumQueues, 2, queues_.size());
    b[common::kDeviceStatus] = status_;
    b[common::kConfigGeneration] = configGeneration_;
    storeLe(b, common::kQueueSelect, 2, queueSelect_);
    if (queueSelect_ < queues_.size()) {  // an absent queue reads as size 0 (4.1.4.3.2)
        const Virtqueue& q = queues_[queueSelect_];
        storeLe(b, common::kQueueSize, 2, q.size());
        storeLe(b, common::kQueueMsixVector, 2, q.msixVector());
        storeLe(b, common::kQueueEnable, 2, q.enabled() ? 1 : 0);
        storeLe(b, common::kQueueNotifyOff, 2, queueSelect_);
        storeLe(b, common::kQueueDesc, 8, q.descriptorTable());
        storeLe(b, common::kQueueDriver, 8, q.driverArea());
        storeLe(b, common::kQueueDevice, 8, q.deviceArea());
    }
    return b;
}

uint64_t VirtioPciDevice::readCommon(uint32_t offset, unsigned size) {
    if (offset >= common::kSize) return 0;
    const auto b = commonSnapshot();
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;) v = v << 8 | (offset + i < common::kSize ? b[offset + i] : 0);
    return v;
}

void VirtioPciDevice::writeCommon(uint32_t offset, unsigned size, uint64_t value) {
    if (offset >= common::kSize) return;
    // Merge the written bytes into the current values, then apply each field the write touched
    // (a 64-bit address may come as two 32-bit halves or as one 64-bit write).
    auto b = commonSnapshot();
    const unsigned n = std::min<unsigned>(size, common::kSize - offset);
    storeLe(b, offset, n, value);
    for (const CommonField& f : kWritableCommonFields)
        if (offset < f.offset + f.size && f.offset < offset + n) applyCommonField(f.offset, b);
}

void VirtioPciDevice::applyCommonField(uint32_t field, const std::array<uint8_t, common::kSize>& b) {
    const bool featuresLocked = status_ & kStatusFeaturesOk;
    Virtqueue* q = queueSelect_ < queues_.size() ? &queues_[queueSelect_] : nullptr;
    const bool queueLocked = q && q->enabled();
    switch (field) {
    case common::kDeviceFeatureSelect: deviceFeatureSelect_ = static_cast<uint32_t>(loadLe(b, field, 4)); break;
    case common::kDriverFeatureSelect: driverFeatureSelect_ = static_cast<uint32_t>(loadLe(b, field, 4)); break;
    case common::kDriverFeature: {
        if (featuresLocked || driverFeatureSelect_ > 1) break;
        const unsigned shift = 32 * driverFeatureSelect_;
        driverFeatures_ = (driverFeatures_ & ~(0xFFFFFFFFull << shift)) | (loadLe(b, field, 4) << shift);
        break;
    }
    case common::kConfigMsixVector: break;  // no MSI-X: stays VIRTIO_MSI_NO_VECTOR
    case common::kDeviceStatus: writeStatus(b[field]); break;
    case common::kQueueSelect: queueSelect_ = static_cast<uint16_t>(loadLe(b, field, 2)); break;
    case common::kQueueSize:
        if (q && !queueLocked) q->setSize(static_cast<uint16_t>(loadLe(b, field, 2)));
        break;
    case common::kQueueMsixVector: break;  // no MSI-X
    case common::kQueueEnable:
        if (!q || queueLocked || loadLe(b, field, 2) != 1) break;  // only 1 may be written (4.1.4.3.2)
        try {
            q->enable(memory_);
        } catch (const VirtioError& e) {
            deviceError(fmt::format("queue {}: {}", queueSelect_, e.what()));
        }
        break;
    case common::kQueueDesc:
        if (q && !queueLocked) q->setDescriptorTable(loadLe(b, field, 8));
        break;
    case common::kQueueDriver:
        if (q && !queueLocked) q->setDriverArea(loadLe(b, field, 8));
        break;
    case common::kQueueDevice:
        if (q && !queueLocked) q->setDeviceArea(loadLe(b, field, 8));
        break;
    default: break;
    }
}

void VirtioPciDevice::writeStatus(uint8_t value) {
    if (value == 0) {
        resetTransport();
        return;
    }
    value |= status_ & kStatusNeedsReset;  // only a reset clears it
    if ((value & kStatusFeaturesOk) && !(status_ & kStatusFeaturesOk)) {
        const uint64_t unknown = driverFeatures_ & ~offeredFeatures();
        if (unknown || !(driverFeatures_ & kFeatureVersion1)) {
            spdlog::warn("{}: FEATURES_OK refused: the driver accepted {:#x}{}", name(), driverFeatures_,
                         unknown ? " (not offered)" : " (without VIRTIO_F_VERSION_1)");
            value &= static_cast<uint8_t>(~kStatusFeaturesOk);
        } else {
            for (Virtqueue& q : queues_) q.setFeatures(negotiated(kFeatureIndirectDesc), negotiated(kFeatureEventIdx));
        }
    }
    const bool becameReady = (value & kStatusDriverOk) && !(status_ & kStatusDriverOk);
    status_ = value;
    if (!becameReady) return;
    if (!(status_ & kStatusFeaturesOk)) {
        deviceError("DRIVER_OK without FEATURES_OK");
        return;
    }
    // Buffers made available (and notified) before DRIVER_OK are processed now.
    for (uint16_t i = 0; i < queues_.size(); ++i)
        if (queues_[i].enabled()) runQueue(i);
}

void VirtioPciDevice::resetTransport() {
    status_ = 0;
    driverFeatures_ = 0;
    deviceFeatureSelect_ = driverFeatureSelect_ = 0;
    queueSelect_ = 0;
    for (Virtqueue& q : queues_) q.reset();
    isr_ = 0;
    updateIrq();
    resetDevice();
}

// ---- notifications, interrupts, errors ---------------------------------------------------------

void VirtioPciDevice::notify(uint32_t offset) {
    const uint32_t index = offset / layout::kNotifyMultiplier;
    if (status_ & kStatusNeedsReset) return;  // stopped until the driver resets the device
    if (index >= queues_.size() || !queues_[index].enabled()) {
        deviceError(fmt::format("notify for queue {}, which is not enabled", index));
        return;
    }
    if (running()) runQueue(static_cast<uint16_t>(index));
}

void VirtioPciDevice::runQueue(uint16_t index) {
    try {
        queueNotified(index);
    } catch (const VirtioError& e) {
        deviceError(fmt::format("queue {}: {}", index, e.what()));
    }
}

void VirtioPciDevice::signalUsed(uint16_t index) {
    if (queues_.at(index).takeInterruptDue(memory_)) {
        isr_ |= kIsrQueue;
        updateIrq();
    }
}

void VirtioPciDevice::signalConfigChanged() {
    ++configGeneration_;
    if (!(status_ & kStatusDriverOk)) return;
    isr_ |= kIsrConfig;
    updateIrq();
}

void VirtioPciDevice::deviceError(const std::string& what) {
    spdlog::warn("{}: {}: the device needs a reset", name(), what);
    if (status_ & kStatusNeedsReset) return;
    status_ |= kStatusNeedsReset;
    ++configGeneration_;
    if (status_ & kStatusDriverOk) {  // 2.1.2: a configuration change notification, once the driver runs
        isr_ |= kIsrConfig;
        updateIrq();
    }
}

// ---- the PCI configuration access window (VIRTIO_PCI_CAP_PCI_CFG) -----------------------------

uint32_t VirtioPciDevice::extendedConfigRead(uint8_t offset, unsigned size) const {
    const unsigned data = pciCfgCap_ + 16u;
    if (offset == data)  // a BAR read may have side effects (the ISR clears): not const
        return const_cast<VirtioPciDevice*>(this)->pciCfgWindowAccess(false, 0) & static_cast<uint32_t>(widthMask(size));
    return PciFunction::extendedConfigRead(offset, size);
}

void VirtioPciDevice::extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) {
    const unsigned cap = pciCfgCap_;
    if (offset == cap + 16u) {
        pciCfgWindowAccess(true, value);
        return;
    }
    // cap.bar, cap.offset and cap.length are the window's writable fields.
    for (unsigned i = 0; i < size; ++i) {
        const unsigned at = offset + i;
        if (at == cap + 4u || (at >= cap + 8u && at < cap + 16u)) config_[at] = static_cast<uint8_t>(value >> (8 * i));
    }
}

uint32_t VirtioPciDevice::pciCfgWindowAccess(bool write, uint32_t value) {
    const unsigned cap = pciCfgCap_;
    const uint8_t bar = config_[cap + 4u];
    const uint32_t offset = read32(static_cast<uint8_t>(cap + 8u));
    const uint32_t length = read32(static_cast<uint8_t>(cap + 12u));
    if (bar != layout::kBar || (length != 1 && length != 2 && length != 4) || offset % length) return 0;
    if (write) {
        barMmioWrite(bar, offset, length, value);
        return 0;
    }
    return static_cast<uint32_t>(barMmioRead(bar, offset, length));
}

}  // namespace hvlab::devices::virtio
