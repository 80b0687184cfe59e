#include "hv/paravirt/paravirt_platform.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

namespace hvlab::hv {

using namespace cpu::hypercall;

namespace {
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxConsoleChunk = 4096;  // per call, as Xen's console_io caps it too
constexpr uint64_t kFirstUsableVector = 32;  // 0-31 are exceptions
}  // namespace

ParavirtPlatform::ParavirtPlatform(uint32_t features, mmu::PhysicalMap& memory, std::function<void(uint8_t)> consoleOut,
                                   IrqDiverter divertIrq, std::function<uint64_t()> now)
    : features_(features),
      memory_(memory),
      consoleOut_(std::move(consoleOut)),
      divertIrq_(std::move(divertIrq)),
      now_(std::move(now)) {}

int64_t ParavirtPlatform::call(const cpu::HypercallDetail& c, uint64_t nowNs) {
    ++calls_;
    switch (c.number) {
        case kConsoleWrite: return offers(kFeatureConsole) ? consoleWrite(c.args[0], c.args[1]) : kErrorNoSys;
        case kConsoleRead: return offers(kFeatureConsole) ? consoleRead(c.args[0], c.args[1]) : kErrorNoSys;
        case kTimeNow: return offers(kFeatureClock) ? static_cast<int64_t>(nowNs) : kErrorNoSys;
        case kTimerSet:
            if (!offers(kFeatureClock)) return kErrorNoSys;
            timerDeadline_ = c.args[0] == 0 ? devices::kNoDeadline : c.args[0];
            if (timerDeadline_ <= nowNs) advanceTo(nowNs);  // already due: fires now
            return 0;
        case kEventInit: return offers(kFeatureEvents) ? eventInit(c.args[0], c.args[1]) : kErrorNoSys;
        case kEventRaise:
            if (!offers(kFeatureEvents)) return kErrorNoSys;
            if (c.args[0] >= kEventPorts) return kErrorInvalid;
            raise(static_cast<uint32_t>(c.args[0]), nowNs);
            return 0;
        case kEventBindIrq: return offers(kFeatureEvents) ? eventBindIrq(c.args[0], c.args[1]) : kErrorNoSys;
        case kBlock: return offers(kFeatureEvents) ? block() : kErrorNoSys;
        default: return kErrorNoSys;
    }
}

int64_t ParavirtPlatform::consoleWrite(uint64_t address, uint64_t length) {
    if (length > kMaxConsoleChunk) return kErrorInvalid;
    std::vector<uint8_t> bytes(length);
    if (length && (address + length < address || !memory_.read(address, bytes.data(), length))) return kErrorFault;
    for (uint8_t b : bytes)
        if (consoleOut_) consoleOut_(b);
    return static_cast<int64_t>(length);
}

int64_t ParavirtPlatform::consoleRead(uint64_t address, uint64_t capacity) {
    if (capacity && !mayWrite(address, std::min(capacity, kMaxConsoleChunk))) return kErrorPerm;
    const uint64_t count = std::min<uint64_t>({capacity, consoleInput_.size(), kMaxConsoleChunk});
    std::vector<uint8_t> bytes(consoleInput_.begin(), consoleInput_.begin() + static_cast<std::ptrdiff_t>(count));
    if (count && (address + count < address || !memory_.write(address, bytes.data(), count))) return kErrorFault;
    consoleInput_.erase(consoleInput_.begin(), consoleInput_.begin() + static_cast<std::ptrdiff_t>(count));
    return static_cast<int64_t>(count);
}

int64_t ParavirtPlatform::eventInit(uint64_t page, uint64_t vector) {
    if (page % kPageSize || vector < kFirstUsableVector || vector > 255) return kErrorInvalid;
    const mmu::Region* region = memory_.find(page);
    if (!region || region->kind != mmu::RegionKind::Ram || page + kPageSize > region->end()) return kErrorFault;
    if (!mayWrite(page, kPageSize)) return kErrorPerm;
    sharedPage_ = page;
    vector_ = static_cast<uint8_t>(vector);
    upcallOwed_ = false;
    return 0;
}

int64_t ParavirtPlatform::eventBindIrq(uint64_t irq, uint64_t port) {
    constexpr uint64_t kIrqLines = 24;  // the I/O APIC's pins; the PIC's 16 are the first of them
    if (irq >= kIrqLines || port < kEventFirstFree || port >= kEventPorts) return kErrorInvalid;
    const auto eventPort = static_cast<uint32_t>(port);
    const bool bound = divertIrq_ && divertIrq_(static_cast<unsigned>(irq), [this, eventPort] {
                           raise(eventPort, now_ ? now_() : 0);
                       });
    if (!bound) return kErrorInvalid;  // no such line on this board
    spdlog::debug("event_bind_irq: interrupt line {} raises event port {}", irq, port);
    return 0;
}

// Xen's SCHEDOP_block: events on (upcall_mask cleared), then sleep until an upcall is owed. An
// event that came while upcalls were masked left upcall_pending set: that upcall is owed now.
int64_t ParavirtPlatform::block() {
    const uint8_t zero = 0;
    writeShared(SharedEventPage::kUpcallMask, &zero, 1);
    const uint64_t flags = readShared(SharedEventPage::kUpcallPending).value_or(0);
    if ((flags & 0xff) != 0 && !upcallOwed_) {
        upcallOwed_ = true;
        ++upcalls_;
    }
    blockRequested_ = true;
    return 0;
}

void ParavirtPlatform::consoleInput(uint8_t byte, uint64_t nowNs) {
    consoleInput_.push_back(byte);
    if (offers(kFeatureEvents)) raise(kEventConsoleInput, nowNs);
}

std::optional<uint64_t> ParavirtPlatform::readShared(uint32_t offset) const {
    uint64_t value = 0;
    if (!sharedPage_ || !memory_.read(*sharedPage_ + offset, &value, sizeof value)) return std::nullopt;
    return value;
}

void ParavirtPlatform::writeShared(uint32_t offset, const void* data, uint64_t size) {
    // The page may have become one the platform must not write (a page table) since EVENT_INIT.
    if (sharedPage_ && mayWrite(*sharedPage_ + offset, size)) memory_.write(*sharedPage_ + offset, data, size);
}

void ParavirtPlatform::raise(uint32_t port, uint64_t nowNs) {
    if (!sharedPage_ || port >= kEventPorts) return;  // nobody listens yet
    const uint64_t bit = 1ull << port;
    const uint64_t pending = readShared(SharedEventPage::kPending).value_or(0) | bit;
    writeShared(SharedEventPage::kPending, &pending, sizeof pending);
    writeShared(SharedEventPage::kTimeNs, &nowNs, sizeof nowNs);
    if (readShared(SharedEventPage::kMask).value_or(0) & bit) return;  // masked: stays pending
    const uint64_t flags = readShared(SharedEventPage::kUpcallPending).value_or(0);
    const bool alreadyPending = (flags & 0xff) != 0;
    const bool upcallsMasked = ((flags >> 8) & 0xff) != 0;
    if (alreadyPending) return;  // the guest's handler has not run yet: it will see this bit too
    const uint8_t one = 1;
    writeShared(SharedEventPage::kUpcallPending, &one, 1);
    if (!upcallsMasked) {
        upcallOwed_ = true;
        ++upcalls_;
    }
}

void ParavirtPlatform::maskUpcalls() {
    const uint8_t one = 1;
    writeShared(SharedEventPage::kUpcallMask, &one, 1);
}

void ParavirtPlatform::advanceTo(uint64_t nowNs) {
    if (timerDeadline_ == devices::kNoDeadline || nowNs < timerDeadline_) return;
    timerDeadline_ = devices::kNoDeadline;
    raise(kEventTimer, nowNs);
}

}  // namespace hvlab::hv
