// QEMU's isa-debug-exit: a guest writes a value to one port to stop the VM with an exit status.
// Test firmware uses it to report pass/fail without a shutdown path.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "devices/bus.hpp"

namespace hvlab::devices {

class DebugExit final : public PortDevice {
public:
    using StopRequest = std::function<void(uint32_t guestValue)>;
    static constexpr uint16_t kDefaultPort = 0xF4;

    // `onStop` (may be empty) is called on every write with the written value; the VMM should
    // stop the VM and exit with exitStatusFor(guestValue).
    DebugExit(uint16_t port, StopRequest onStop);

    // Reads return all-ones for the access width, like QEMU.
    uint32_t ioRead(uint16_t port, unsigned size) override;
    // The whole value of the access width counts (as in QEMU): a 2-byte write of 0x1234 is 0x1234.
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override;  // "isa-debug-exit@0xf4"

    // QEMU's convention: the process exits with (value << 1) | 1, so a guest can never fake a
    // clean exit 0. A process status only has 8 bits, so this keeps the low 8 bits, as exit()
    // would: 0 -> 1, 1 -> 3, 0x7F -> 0xFF, 0x80 -> 1.
    static int exitStatusFor(uint32_t value);

    uint16_t port() const { return port_; }
    // The value of the most recent write, if the guest has asked to stop.
    std::optional<uint32_t> stopValue() const { return stopValue_; }

private:
    const uint16_t port_;
    const StopRequest onStop_;
    std::optional<uint32_t> stopValue_;
};

}  // namespace hvlab::devices
