#include "devices/virtio/virtio_net.hpp"

#include <array>
#include <vector>

#include <spdlog/spdlog.h>

namespace hvlab::devices::virtio {

using namespace net;

VirtioNet::VirtioNet(GuestMemory& memory, const MacAddress& mac)
    : VirtioPciDevice(DeviceType::Net, 0x02, 0x00, memory, 2, kQueueSize, kConfigSize), mac_(mac) {
    std::copy(mac_.begin(), mac_.end(), deviceConfig_.begin() + kConfigMac);
    deviceConfig_[kConfigMaxPairs] = 1;
    setLinkStatus();
}

VirtioNet::~VirtioNet() = default;

void VirtioNet::attach(VirtualSwitch::Port* port) {
    const bool wasUp = linkUp();
    port_ = port;
    setLinkStatus();
    if (wasUp != linkUp()) signalConfigChanged();
}

void VirtioNet::setLinkStatus() { deviceConfig_[kConfigStatus] = linkUp() ? kStatusLinkUp : 0; }

void VirtioNet::queueNotified(uint16_t index) {
    if (index == kTransmitQueue) transmit();
    else pollReceive();
}

void VirtioNet::transmit() {
    DescriptorChain chain;
    std::vector<uint8_t> packet;
    while (running() && queue(kTransmitQueue).pop(memory(), chain)) {
        const uint64_t length = chain.readableBytes;
        if (length < kHeaderSize + VirtualSwitch::kMinFrameSize || length > kHeaderSize + kMaxFrame) {
            ++counters_.txDropped;
            spdlog::debug("virtio-net: dropped a {}-byte transmit chain", length);
        } else {
            packet.resize(length);
            ChainReader(memory(), chain).read(packet.data(), length);
            const std::span<const uint8_t> frame(packet.data() + kHeaderSize, length - kHeaderSize);
            if (port_) port_->send(frame);
            ++counters_.txFrames;
            counters_.txBytes += frame.size();
        }
        queue(kTransmitQueue).pushUsed(memory(), chain.head, 0);
    }
    signalUsed(kTransmitQueue);
}

void VirtioNet::pollReceive() {
    if (!port_ || receiving_ || !running()) return;
    receiving_ = true;
    try {
        port_->drain([this](std::span<const uint8_t> frame) { return receiveFrame(frame); });
    } catch (const VirtioError& e) {
        deviceError(fmt::format("receive queue: {}", e.what()));
    }
    receiving_ = false;
    if (running()) signalUsed(kReceiveQueue);
}

bool VirtioNet::receiveFrame(std::span<const uint8_t> frame) {
    if (!running()) return false;
    DescriptorChain chain;
    if (!queue(kReceiveQueue).pop(memory(), chain)) return false;
    if (chain.writableBytes < kHeaderSize + frame.size()) {
        ++counters_.rxDropped;
        spdlog::debug("virtio-net: a {}-byte frame does not fit a {}-byte receive chain", frame.size(),
                      chain.writableBytes);
        queue(kReceiveQueue).pushUsed(memory(), chain.head, 0);
        return true;
    }
    std::array<uint8_t, kHeaderSize> header{};
    header[10] = 1;  // num_buffers
    ChainWriter out(memory(), chain);
    out.write(header.data(), header.size());
    out.write(frame.data(), frame.size());
    queue(kReceiveQueue).pushUsed(memory(), chain.head, static_cast<uint32_t>(out.written()));
    ++counters_.rxFrames;
    counters_.rxBytes += frame.size();
    return true;
}

}  // namespace hvlab::devices::virtio
