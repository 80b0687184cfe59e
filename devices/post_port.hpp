// The POST code port at 0x80: firmware writes progress codes there (a POST card shows them).
//
// Modelled: every write is counted; the last value and the last 64 codes are kept for the CLI
// and the GUI. Reads return the last value written, as many chipsets do (0 before any write).
// Wider writes keep the low byte. Linux also writes this port as an I/O delay, so counts can be
// large and the history shows those writes too.
//
// Threading: the guest thread writes; the snapshot accessors may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "devices/bus.hpp"

namespace hvlab::devices {

class PostPort final : public PortDevice {
public:
    static constexpr uint16_t kPort = 0x80;
    static constexpr size_t kHistorySize = 64;

    PostPort() = default;

    void attachTo(IoBus& io) { io.attach(kPort, 1, this); }
    // Called on the guest thread with every code written (after it is recorded).
    void onCode(std::function<void(uint8_t code)> listener) { listener_ = std::move(listener); }

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "post-port"; }

    uint64_t writeCount() const;
    uint8_t lastCode() const;
    // Up to the last 64 codes, oldest first.
    std::vector<uint8_t> history() const;

private:
    mutable std::mutex mutex_;
    uint64_t writes_ = 0;
    uint8_t last_ = 0;
    std::array<uint8_t, kHistorySize> ring_{};
    std::function<void(uint8_t)> listener_;
};

}  // namespace hvlab::devices
