// An in-process Ethernet switch joining the NICs of several VMs, like a learning bridge.
//
// - Learning: the source MAC of every unicast-sourced frame is remembered with its port; a frame
//   to a known unicast MAC goes to that port only, one to an unknown, broadcast or multicast MAC
//   is flooded to every other port. A frame is never sent back out of the port it came in on.
//   Entries never age; a MAC that moves is re-learned, a port's entries go when it disconnects,
//   and the table holds at most kMacTableCapacity entries (further MACs are flooded to, unlearned).
// - Delivery happens on the receiving VM's own thread: send() only appends the frame to each
//   receiving port's bounded queue (the oldest frame is dropped and counted when it is full) and
//   calls that port's wake callback, so its VMM can kick the vCPU; the VMM then has its NIC drain
//   the queue (E1000::pollReceive()). The queue stands in for the NIC's receive FIFO.
// - An optional PcapCapture records every frame that enters the switch.
//
// Thread-safety: connect/disconnect/send/drain may run on any threads at once. A Port stays
// valid until disconnect(); the switch must outlive its ports. A wake callback runs on the
// sender's thread with no switch lock held, only its own port's wake lock; it must be quick and
// must not block. disconnect() waits for a wake of that port in progress, and none runs after it
// returns, so the owner may free what the callback uses as soon as it has disconnected.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace hvlab::devices {

class PcapCapture;

using MacAddress = std::array<uint8_t, 6>;

class VirtualSwitch {
public:
    static constexpr size_t kDefaultQueueCapacity = 256;
    static constexpr size_t kMacTableCapacity = 1024;
    static constexpr size_t kMinFrameSize = 14;     // destination, source, EtherType
    static constexpr size_t kMaxFrameSize = 65535;

    using WakeFn = std::function<void()>;
    // Returns true if it took the frame; false leaves it at the head of the queue and stops the drain.
    using DeliverFn = std::function<bool(std::span<const uint8_t>)>;

    struct PortCounters {
        uint64_t framesIn = 0;      // frames this port sent into the switch
        uint64_t bytesIn = 0;
        uint64_t malformedIn = 0;   // frames refused for their size
        uint64_t framesOut = 0;     // frames queued for this port
        uint64_t bytesOut = 0;
        uint64_t queueDrops = 0;    // frames lost because this port's queue was full
    };

    class Port {
    public:
        const std::string& name() const { return name_; }
        // Sends a frame (without FCS) into the switch. Any thread.
        void send(std::span<const uint8_t> frame);
        // Hands queued frames to `deliver` in arrival order, on the caller's thread (the receiving
        // VM's). Returns how many it took.
        size_t drain(const DeliverFn& deliver);
        size_t pending() const;
        PortCounters counters() const;

    private:
        friend class VirtualSwitch;
        Port(VirtualSwitch& owner, std::string name, WakeFn wake, size_t capacity);
        void enqueue(std::span<const uint8_t> frame);
        void wake();        // calls wake_ unless the port is disconnected
        void unplug();      // no wake from now on; waits for one in progress

        VirtualSwitch& owner_;
        const std::string name_;
        const WakeFn wake_;
        const size_t capacity_;
        mutable std::mutex mutex_;
        std::deque<std::vector<uint8_t>> queue_;
        std::mutex wakeMutex_;  // guards plugged_ and serialises wake_ with unplug()
        bool plugged_ = true;
        std::atomic<uint64_t> framesIn_{0}, bytesIn_{0}, malformedIn_{0}, framesOut_{0}, bytesOut_{0},
            queueDrops_{0};
    };

    explicit VirtualSwitch(PcapCapture* capture = nullptr, size_t queueCapacity = kDefaultQueueCapacity);
    ~VirtualSwitch();
    VirtualSwitch(const VirtualSwitch&) = delete;
    VirtualSwitch& operator=(const VirtualSwitch&) = delete;

    // A new port named `name` (for logs and the UI). `wake` may be empty.
    Port* connect(std::string name, WakeFn wake = {});
    // Removes the port; frames queued for it are discarded. The pointer is invalid afterwards.
    void disconnect(Port* port);

    // The port a MAC was learned on, if any (for tests and the UI).
    std::optional<std::string> portOf(const MacAddress& mac) const;
    size_t portCount() const;
    size_t learnedAddresses() const;
    uint64_t floodedFrames() const { return flooded_; }
    // Frames every port together has sent into the switch (malformed ones not counted).
    uint64_t framesIn() const { return framesIn_; }

private:
    void forward(Port& from, std::span<const uint8_t> frame);

    PcapCapture* const capture_;
    const size_t queueCapacity_;
    mutable std::mutex mutex_;  // guards ports_ and macTable_
    std::vector<std::shared_ptr<Port>> ports_;
    std::unordered_map<uint64_t, std::shared_ptr<Port>> macTable_;
    std::atomic<uint64_t> flooded_{0};
    std::atomic<uint64_t> framesIn_{0};
};

}  // namespace hvlab::devices
