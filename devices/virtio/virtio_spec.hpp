// Constants of the virtio 1.x specification (OASIS "Virtual I/O Device (VIRTIO) Version 1.1",
// sections 2, 4.1 and 5) that the virtio-pci transport and the devices share.
#pragma once

#include <cstdint>

namespace hvlab::devices::virtio {

// PCI identity of a modern (non-transitional) device: device ID 0x1040 + device type, revision 1
// (4.1.2.1). The subsystem is QEMU's (1af4:1100), which the spec's ">= 0x40" rule allows.
inline constexpr uint16_t kPciVendor = 0x1AF4;
inline constexpr uint16_t kPciDeviceBase = 0x1040;
inline constexpr uint8_t kPciRevision = 1;
inline constexpr uint16_t kPciSubsystemVendor = 0x1AF4;
inline constexpr uint16_t kPciSubsystemId = 0x1100;

enum class DeviceType : uint16_t { Net = 1, Block = 2, Console = 3 };

// Device status (2.1).
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

// Reserved (transport-independent) feature bits (6).
inline constexpr uint64_t kFeatureIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureEventIdx = 1ull << 29;
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;

// Split virtqueue layout (2.6).
inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;
inline constexpr uint16_t kDescIndirect = 4;
inline constexpr uint16_t kAvailNoInterrupt = 1;
inline constexpr uint32_t kDescriptorSize = 16;
inline constexpr uint32_t kUsedElementSize = 8;
// The largest queue and indirect table accepted (QEMU's VIRTQUEUE_MAX_SIZE).
inline constexpr uint16_t kMaxQueueSize = 1024;

// ISR status bits (4.1.4.5).
inline constexpr uint8_t kIsrQueue = 1;
inline constexpr uint8_t kIsrConfig = 2;

inline constexpr uint16_t kNoVector = 0xFFFF;

// virtio_pci_cap.cfg_type (4.1.4).
inline constexpr uint8_t kCapCommonCfg = 1;
inline constexpr uint8_t kCapNotifyCfg = 2;
inline constexpr uint8_t kCapIsrCfg = 3;
inline constexpr uint8_t kCapDeviceCfg = 4;
inline constexpr uint8_t kCapPciCfg = 5;

// struct virtio_pci_common_cfg (4.1.4.3).
namespace common {
inline constexpr uint32_t kDeviceFeatureSelect = 0x00;
inline constexpr uint32_t kDeviceFeature = 0x04;
inline constexpr uint32_t kDriverFeatureSelect = 0x08;
inline constexpr uint32_t kDriverFeature = 0x0C;
inline constexpr uint32_t kConfigMsixVector = 0x10;
inline constexpr uint32_t kNumQueues = 0x12;
inline constexpr uint32_t kDeviceStatus = 0x14;
inline constexpr uint32_t kConfigGeneration = 0x15;
inline constexpr uint32_t kQueueSelect = 0x16;
inline constexpr uint32_t kQueueSize = 0x18;
inline constexpr uint32_t kQueueMsixVector = 0x1A;
inline constexpr uint32_t kQueueEnable = 0x1C;
inline constexpr uint32_t kQueueNotifyOff = 0x1E;
inline constexpr uint32_t kQueueDesc = 0x20;
inline constexpr uint32_t kQueueDriver = 0x28;
inline constexpr uint32_t kQueueDevice = 0x30;
inline constexpr uint32_t kSize = 0x38;
}  // namespace common

// Where the structures sit in the one memory BAR: QEMU's layout (BAR 4, 16 KiB, 4 KiB per region,
// notify_off_multiplier 4 and queue_notify_off = queue index).
namespace layout {
inline constexpr int kBar = 4;
inline constexpr uint32_t kBarSize = 0x4000;
inline constexpr uint32_t kRegionSize = 0x1000;
inline constexpr uint32_t kCommon = 0x0000;
inline constexpr uint32_t kIsr = 0x1000;
inline constexpr uint32_t kDevice = 0x2000;
inline constexpr uint32_t kNotify = 0x3000;
inline constexpr uint32_t kNotifyMultiplier = 4;
}  // namespace layout

}  // namespace hvlab::devices::virtio
