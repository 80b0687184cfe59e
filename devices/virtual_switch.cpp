#include "devices/virtual_switch.hpp"

#include <algorithm>

#include "devices/pcap_capture.hpp"

namespace hvlab::devices {

namespace {

uint64_t macKey(std::span<const uint8_t> bytes) {
    uint64_t key = 0;
    for (size_t i = 0; i < 6; ++i) key = key << 8 | bytes[i];
    return key;
}

bool isGroupAddress(std::span<const uint8_t> mac) { return mac[0] & 1; }  // multicast or broadcast

}  // namespace

// ---- Port -----------------------------------------------------------------------------------

VirtualSwitch::Port::Port(VirtualSwitch& owner, std::string name, WakeFn wake, size_t capacity)
    : owner_(owner), name_(std::move(name)), wake_(std::move(wake)), capacity_(capacity) {}

void VirtualSwitch::Port::send(std::span<const uint8_t> frame) { owner_.forward(*this, frame); }

void VirtualSwitch::Port::enqueue(std::span<const uint8_t> frame) {
    {
        std::lock_guard lock(mutex_);
        while (queue_.size() >= capacity_) {
            queue_.pop_front();  // the oldest frame is lost, as a full receive FIFO would lose it
            ++queueDrops_;
        }
        queue_.emplace_back(frame.begin(), frame.end());
    }
    ++framesOut_;
    bytesOut_ += frame.size();
}

void VirtualSwitch::Port::wake() {
    std::lock_guard lock(wakeMutex_);
    if (plugged_ && wake_) wake_();
}

void VirtualSwitch::Port::unplug() {
    std::lock_guard lock(wakeMutex_);
    plugged_ = false;
}

size_t VirtualSwitch::Port::drain(const DeliverFn& deliver) {
    size_t taken = 0;
    for (;;) {
        std::vector<uint8_t> frame;
        {
            std::lock_guard lock(mutex_);
            if (queue_.empty()) break;
            frame = std::move(queue_.front());
            queue_.pop_front();
        }
        // Deliver without the lock, so senders on other threads never wait for guest DMA.
        if (!deliver(frame)) {
            std::lock_guard lock(mutex_);
            queue_.push_front(std::move(frame));
            break;
        }
        ++taken;
    }
    return taken;
}

size_t VirtualSwitch::Port::pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

VirtualSwitch::PortCounters VirtualSwitch::Port::counters() const {
    return {framesIn_.load(), bytesIn_.load(), malformedIn_.load(), framesOut_.load(), bytesOut_.load(),
            queueDrops_.load()};
}

// ---- switch ---------------------------------------------------------------------------------

VirtualSwitch::VirtualSwitch(PcapCapture* capture, size_t queueCapacity)
    : capture_(capture), queueCapacity_(std::max<size_t>(queueCapacity, 1)) {}

VirtualSwitch::~VirtualSwitch() = default;

VirtualSwitch::Port* VirtualSwitch::connect(std::string name, WakeFn wake) {
    std::shared_ptr<Port> port(new Port(*this, std::move(name), std::move(wake), queueCapacity_));
    std::lock_guard lock(mutex_);
    ports_.push_back(port);
    return port.get();
}

void VirtualSwitch::disconnect(Port* port) {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(ports_.begin(), ports_.end(), [&](const auto& p) { return p.get() == port; });
    if (it == ports_.end()) return;
    // A sender may still hold the port (forward() works on its own list of targets): from here on
    // it queues into a port nobody drains, but never calls into the owner, which may go away now.
    (*it)->unplug();
    std::erase_if(macTable_, [&](const auto& entry) { return entry.second.get() == port; });
    std::erase_if(ports_, [&](const auto& p) { return p.get() == port; });
}

void VirtualSwitch::forward(Port& from, std::span<const uint8_t> frame) {
    if (frame.size() < kMinFrameSize || frame.size() > kMaxFrameSize) {
        ++from.malformedIn_;
        return;
    }
    ++from.framesIn_;
    from.bytesIn_ += frame.size();
    ++framesIn_;
    if (capture_) capture_->write(frame);

    const auto destination = frame.first(6);
    const auto source = frame.subspan(6, 6);
    std::vector<std::shared_ptr<Port>> targets;
    {
        std::lock_guard lock(mutex_);
        auto self = std::find_if(ports_.begin(), ports_.end(), [&](const auto& p) { return p.get() == &from; });
        if (self == ports_.end()) return;  // disconnected meanwhile
        if (!isGroupAddress(source)) {
            auto learned = macTable_.find(macKey(source));
            if (learned != macTable_.end()) learned->second = *self;  // a MAC that moved
            else if (macTable_.size() < kMacTableCapacity) macTable_.emplace(macKey(source), *self);
        }
        auto known = isGroupAddress(destination) ? macTable_.end() : macTable_.find(macKey(destination));
        if (known != macTable_.end()) {
            if (known->second.get() != &from) targets.push_back(known->second);
        } else {
            ++flooded_;
            for (const auto& p : ports_)
                if (p.get() != &from) targets.push_back(p);
        }
    }
    for (const auto& target : targets) target->enqueue(frame);
    for (const auto& target : targets) target->wake();
}

std::optional<std::string> VirtualSwitch::portOf(const MacAddress& mac) const {
    std::lock_guard lock(mutex_);
    auto it = macTable_.find(macKey(mac));
    if (it == macTable_.end()) return std::nullopt;
    return it->second->name();
}

size_t VirtualSwitch::portCount() const {
    std::lock_guard lock(mutex_);
    return ports_.size();
}

size_t VirtualSwitch::learnedAddresses() const {
    std::lock_guard lock(mutex_);
    return macTable_.size();
}

}  // namespace hvlab::devices
