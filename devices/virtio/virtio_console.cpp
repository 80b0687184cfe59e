#include "devices/virtio/virtio_console.hpp"

#include <vector>

#include <spdlog/spdlog.h>

namespace hvlab::devices::virtio {

using namespace console;

VirtioConsole::VirtioConsole(GuestMemory& memory, OutputSink output)
    : VirtioPciDevice(DeviceType::Console, 0x07, 0x80, memory, 2, kQueueSize, kConfigSize),  // class: other communication
      output_(std::move(output)) {}

void VirtioConsole::queueNotified(uint16_t index) {
    if (index == kTransmitQueue) transmit();
    else pollInput();
}

void VirtioConsole::transmit() {
    DescriptorChain chain;
    std::vector<uint8_t> bytes;
    while (running() && queue(kTransmitQueue).pop(memory(), chain)) {
        // One port buffer is at most a few pages; a chain claiming more is read in pieces.
        ChainReader in(memory(), chain);
        while (in.remaining() > 0) {
            bytes.resize(static_cast<size_t>(std::min<uint64_t>(in.remaining(), 4096)));
            in.read(bytes.data(), bytes.size());
            if (output_)
                for (uint8_t b : bytes) output_(b);
        }
        queue(kTransmitQueue).pushUsed(memory(), chain.head, 0);
    }
    signalUsed(kTransmitQueue);
}

void VirtioConsole::queueInput(std::string_view bytes) {
    std::lock_guard lock(inputMutex_);
    for (char c : bytes) {
        if (input_.size() >= kMaxPendingInput) break;
        input_.push_back(static_cast<uint8_t>(c));
    }
}

void VirtioConsole::pollInput() {
    if (!running()) return;
    std::lock_guard lock(inputMutex_);
    if (input_.empty()) return;
    try {
        DescriptorChain chain;
        while (!input_.empty() && queue(kReceiveQueue).pop(memory(), chain)) {
            const auto n = static_cast<size_t>(std::min<uint64_t>(chain.writableBytes, input_.size()));
            std::vector<uint8_t> piece(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
            ChainWriter(memory(), chain).write(piece.data(), n);
            input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
            queue(kReceiveQueue).pushUsed(memory(), chain.head, static_cast<uint32_t>(n));
        }
        signalUsed(kReceiveQueue);
    } catch (const VirtioError& e) {
        deviceError(fmt::format("receive queue: {}", e.what()));
    }
}

bool VirtioConsole::listening() {
    if (!running()) return false;
    try {
        return queue(kReceiveQueue).hasAvailable(memory());
    } catch (const VirtioError&) {
        return false;
    }
}

}  // namespace hvlab::devices::virtio
