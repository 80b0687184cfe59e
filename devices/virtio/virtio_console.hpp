// virtio-console (device type 3, virtio 1.1 section 5.3) on the virtio-pci transport: a single
// port, no VIRTIO_CONSOLE_F_MULTIPORT / SIZE / EMERG_WRITE, so queue 0 is port 0's receiveq and
// queue 1 its transmitq (Linux: /dev/hvc0). Transmitted bytes go to an output callback, as the
// UART's; host input is queued from any thread and copied into receive buffers on the VM's thread
// by pollInput(), as the UART does.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

#include "devices/virtio/virtio_pci_device.hpp"

namespace hvlab::devices::virtio {

namespace console {
inline constexpr uint16_t kQueueSize = 128;
inline constexpr uint16_t kReceiveQueue = 0;
inline constexpr uint16_t kTransmitQueue = 1;
inline constexpr size_t kConfigSize = 12;  // cols, rows, max_nr_ports, emerg_wr
inline constexpr size_t kMaxPendingInput = 64 * 1024;  // host input beyond this is dropped
}  // namespace console

class VirtioConsole final : public VirtioPciDevice {
public:
    using OutputSink = std::function<void(uint8_t)>;
    VirtioConsole(GuestMemory& memory, OutputSink output);
    std::string name() const override { return "virtio-console"; }

    // Host input (any thread).
    void queueInput(std::string_view bytes);
    // Copies queued input into the receive queue's buffers (the VM's thread).
    void pollInput();
    // Whether the driver has receive buffers waiting for host input.
    bool listening();

protected:
    uint64_t deviceFeatures() const override { return 0; }
    void queueNotified(uint16_t index) override;

private:
    void transmit();

    OutputSink output_;
    std::mutex inputMutex_;
    std::deque<uint8_t> input_;
};

}  // namespace hvlab::devices::virtio
