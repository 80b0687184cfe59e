// The virtio-pci modern transport (virtio 1.1, 4.1), device side: a PCI function that a device
// type (virtio-blk, virtio-net, virtio-console) derives from.
//
// Register level, as QEMU's virtio-*-pci with disable-legacy=on:
//  - PCI 1af4:(1040 + type), revision 1, subsystem 1af4:1100, INTA#;
//  - one 64-bit prefetchable memory BAR (BAR 4, 16 KiB) holding, 4 KiB apart: the common
//    configuration (0x0000), the ISR status (0x1000), the device-specific configuration (0x2000)
//    and the notification area (0x3000, notify_off_multiplier 4, queue_notify_off = queue index);
//    each is described by a vendor-specific capability, plus a VIRTIO_PCI_CAP_PCI_CFG window;
//  - features: the device's own, VIRTIO_F_VERSION_1 (the driver must accept it, else FEATURES_OK
//    stays clear), VIRTIO_F_INDIRECT_DESC and VIRTIO_F_EVENT_IDX;
//  - device status: writing 0 resets the device; FEATURES_OK is refused for features not offered
//    or without VERSION_1; queues are processed only after DRIVER_OK;
//  - interrupts: INTx only (no MSI-X capability: every vector reads VIRTIO_MSI_NO_VECTOR); the
//    ISR is read-to-clear and INTA# is asserted while it is non-zero.
//
// Guest errors (a bad queue size, rings or buffers outside RAM, a looping chain, a notify for a
// queue that is not enabled, a malformed request) are logged; the device sets
// DEVICE_NEEDS_RESET, raises a configuration-change interrupt (4.1.4.5 / 2.1.2) and then ignores
// its queues until the driver resets it.
//
// Threading: as every PCI function, it belongs to the thread that runs the guest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "devices/guest_memory.hpp"
#include "devices/pci_function.hpp"
#include "devices/virtio/virtio_spec.hpp"
#include "devices/virtio/virtqueue.hpp"

namespace hvlab::devices::virtio {

class VirtioPciDevice : public PciFunction {
public:
    uint64_t barMmioRead(int bar, uint64_t offset, unsigned size) override;
    void barMmioWrite(int bar, uint64_t offset, unsigned size, uint64_t value) override;

    uint8_t status() const { return status_; }
    uint8_t isr() const { return isr_; }
    uint64_t offeredFeatures() const { return deviceFeatures() | kTransportFeatures; }
    uint64_t negotiatedFeatures() const { return driverFeatures_; }
    bool needsReset() const { return status_ & kStatusNeedsReset; }
    const Virtqueue& queueState(uint16_t index) const { return queues_.at(index); }
    uint16_t queueCount() const { return static_cast<uint16_t>(queues_.size()); }
    // The device's configuration structure as the guest reads it.
    const std::vector<uint8_t>& deviceConfig() const { return deviceConfig_; }

    static constexpr uint64_t kTransportFeatures = kFeatureVersion1 | kFeatureIndirectDesc | kFeatureEventIdx;

protected:
    VirtioPciDevice(DeviceType type, uint8_t classCode, uint8_t subclass, GuestMemory& memory, uint16_t queueCount,
                    uint16_t queueSize, size_t configSize);

    // ---- what a device type provides
    virtual uint64_t deviceFeatures() const = 0;
    // The driver notified queue `index` (enabled, DRIVER_OK set), or the driver became ready.
    // May throw VirtioError: the transport then asks for a reset.
    virtual void queueNotified(uint16_t index) = 0;
    // Device-specific state back to power-on (the transport has reset itself).
    virtual void resetDevice() {}
    // A driver write to the device configuration (read-only by default).
    virtual void deviceConfigWrite(uint32_t, unsigned, uint64_t) {}

    // ---- what the transport offers a device type
    Virtqueue& queue(uint16_t index) { return queues_.at(index); }
    GuestMemory& memory() { return memory_; }
    bool negotiated(uint64_t feature) const { return (driverFeatures_ & feature) != 0; }
    // DRIVER_OK is set and no reset is pending: the device may use its queues.
    bool running() const { return (status_ & kStatusDriverOk) && !(status_ & kStatusNeedsReset); }
    // Interrupts the driver if queue `index`'s suppression settings ask for it.
    void signalUsed(uint16_t index);
    // The configuration changed (e.g. link status): new generation, configuration interrupt.
    void signalConfigChanged();
    // A guest error: log, DEVICE_NEEDS_RESET, configuration interrupt; queues stop.
    void deviceError(const std::string& what);
    std::vector<uint8_t> deviceConfig_;

    uint32_t extendedConfigRead(uint8_t offset, unsigned size) const override;
    void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) override;

private:
    uint64_t readCommon(uint32_t offset, unsigned size);
    void writeCommon(uint32_t offset, unsigned size, uint64_t value);
    std::array<uint8_t, common::kSize> commonSnapshot() const;
    void applyCommonField(uint32_t field, const std::array<uint8_t, common::kSize>& bytes);
    void writeStatus(uint8_t value);
    void resetTransport();
    void notify(uint32_t offset);
    void runQueue(uint16_t index);
    void updateIrq() { setIrq(isr_ != 0); }
    // The VIRTIO_PCI_CAP_PCI_CFG window: a BAR access through config space.
    uint32_t pciCfgWindowAccess(bool write, uint32_t value);

    GuestMemory& memory_;
    std::vector<Virtqueue> queues_;
    uint32_t deviceFeatureSelect_ = 0;
    uint32_t driverFeatureSelect_ = 0;
    uint64_t driverFeatures_ = 0;
    uint16_t queueSelect_ = 0;
    uint8_t status_ = 0;
    uint8_t configGeneration_ = 0;
    uint8_t isr_ = 0;
    uint8_t pciCfgCap_ = 0;  // offset of the PCI_CFG capability in config space
};

}  // namespace hvlab::devices::virtio
