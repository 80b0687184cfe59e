// virtio-net (device type 1, virtio 1.1 section 5.1) on the virtio-pci transport: one receive
// queue (0) and one transmit queue (1) of 256 entries, plugged into a VirtualSwitch port like the
// e1000 (so the switch's pcap capture sees its frames too).
//
// Offered: VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS (VIRTIO_NET_S_LINK_UP while attached to a
// port; a change raises a configuration interrupt). No offloads: the driver sends and receives
// complete frames behind the 12-byte struct virtio_net_hdr of VERSION_1 (flags and GSO type 0,
// num_buffers 1 on receive). No control queue, no multiqueue, no mergeable receive buffers:
// a received frame must fit one chain, else the chain comes back with length 0 and the frame is
// dropped (counted). A transmitted frame shorter than the header plus an Ethernet header, or
// longer than 64 KiB, is dropped (counted).
//
// Threading: as the e1000: everything runs on the VM's thread; frames from other VMs wait in the
// port's queue until pollReceive().
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "devices/virtio/virtio_pci_device.hpp"
#include "devices/virtual_switch.hpp"

namespace hvlab::devices::virtio {

namespace net {
inline constexpr uint64_t kFeatureMac = 1ull << 5;
inline constexpr uint64_t kFeatureStatus = 1ull << 16;
inline constexpr uint16_t kStatusLinkUp = 1;
inline constexpr uint32_t kHeaderSize = 12;  // struct virtio_net_hdr with num_buffers
inline constexpr uint16_t kQueueSize = 256;
inline constexpr uint16_t kReceiveQueue = 0;
inline constexpr uint16_t kTransmitQueue = 1;
inline constexpr uint32_t kConfigMac = 0;
inline constexpr uint32_t kConfigStatus = 6;
inline constexpr uint32_t kConfigMaxPairs = 8;
inline constexpr size_t kConfigSize = 12;  // mac, status, max_virtqueue_pairs, mtu
inline constexpr size_t kMaxFrame = 65535;
}  // namespace net

struct VirtioNetCounters {
    uint64_t txFrames = 0, txBytes = 0, txDropped = 0;
    uint64_t rxFrames = 0, rxBytes = 0, rxDropped = 0;
};

class VirtioNet final : public VirtioPciDevice {
public:
    VirtioNet(GuestMemory& memory, const MacAddress& mac);
    ~VirtioNet() override;
    std::string name() const override { return "virtio-net"; }

    // Plugs the cable into a switch port (nullptr unplugs it): link status follows.
    void attach(VirtualSwitch::Port* port);
    // Moves frames waiting in the port's queue into the receive queue while it has buffers.
    void pollReceive();
    // Receives one frame; false if it must wait for a receive buffer.
    bool receiveFrame(std::span<const uint8_t> frame);

    bool linkUp() const { return port_ != nullptr; }
    const MacAddress& mac() const { return mac_; }
    const VirtioNetCounters& counters() const { return counters_; }

protected:
    uint64_t deviceFeatures() const override { return net::kFeatureMac | net::kFeatureStatus; }
    void queueNotified(uint16_t index) override;

private:
    void transmit();
    void setLinkStatus();

    const MacAddress mac_;
    VirtualSwitch::Port* port_ = nullptr;
    bool receiving_ = false;  // guards pollReceive() against re-entry
    VirtioNetCounters counters_;
};

}  // namespace hvlab::devices::virtio
