// The VMM side of hvlab's hypercall ABI (cpu/hypercall_abi.hpp, docs/hypercalls.md): the PV
// console, the PV clock and one-shot timer, and the event channel (a shared page of pending and
// mask bits plus an upcall vector, device interrupt lines bound to ports, and `block`). One per VM, rebuilt on reset like the devices. Buffer
// arguments are guest-physical and must lie in RAM; nothing a guest passes can make it touch
// memory outside RAM or fail the VMM.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include "cpu/hypercall_abi.hpp"
#include "cpu/vm_exit.hpp"
#include "devices/clock.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {

class ParavirtPlatform final : public devices::TimedDevice {
public:
    // Diverts device interrupt line `irq` so that each rising edge calls `onEdge` instead of
    // reaching the interrupt controllers; false if the board has no such line.
    using IrqDiverter = std::function<bool(unsigned irq, std::function<void()> onEdge)>;

    // `features`: the cpu::hypercall::Feature bits this VM offers (CPUID 0x40000001 EBX).
    // `divertIrq` serves EVENT_BIND_IRQ (none: the call fails with -EINVAL); `now` is VM time
    // for events raised by an interrupt line.
    ParavirtPlatform(uint32_t features, mmu::PhysicalMap& memory, std::function<void(uint8_t)> consoleOut,
                     IrqDiverter divertIrq = {}, std::function<uint64_t()> now = {});

    // BLOCK was called (and returned 0): the VMM idles the vCPU as on HLT until an upcall is owed.
    // The flag clears when read.
    bool takeBlockRequest() { return std::exchange(blockRequested_, false); }

    uint32_t features() const { return features_; }
    // Runs one hypercall at VM time `nowNs`; returns the value for RAX.
    int64_t call(const cpu::HypercallDetail& call, uint64_t nowNs);

    // Whether host input would wake the guest (the PV console with an event page).
    bool waitsForInput() const { return offers(cpu::hypercall::kFeatureConsole) && sharedPage_.has_value(); }
    // Console input for CONSOLE_READ (raises event 1).
    void consoleInput(uint8_t byte, uint64_t nowNs);

    // Marks `port` pending; the upcall is owed when the port is unmasked and upcalls are on.
    void raise(uint32_t port, uint64_t nowNs);
    // An upcall waits to be injected (the VMM injects `upcallVector()` when the guest can take
    // an interrupt, then calls upcallDelivered()).
    bool upcallOwed() const { return upcallOwed_; }
    uint8_t upcallVector() const { return vector_; }
    void upcallDelivered() { upcallOwed_ = false; }
    // Sets upcall_mask in the event page: a PV kernel's virtual IF goes off as the upcall is
    // injected, since it cannot clear the real one (privileged P).
    void maskUpcalls();
    // Which guest-physical ranges the platform may write (CONSOLE_READ buffers, the event page);
    // unset: all RAM. Privileged P keeps it off hvlab's pages and the guest's page tables.
    void setWriteGuard(std::function<bool(uint64_t gpa, uint64_t len)> guard) { writeGuard_ = std::move(guard); }

    void advanceTo(uint64_t nowNs) override;
    uint64_t nextDeadlineNs() const override { return timerDeadline_; }

    // Counters for the taxonomy panel and the spectrum report.
    uint64_t callCount() const { return calls_; }
    uint64_t upcallCount() const { return upcalls_; }

private:
    int64_t consoleWrite(uint64_t address, uint64_t length);
    int64_t consoleRead(uint64_t address, uint64_t capacity);
    int64_t eventInit(uint64_t page, uint64_t vector);
    int64_t eventBindIrq(uint64_t irq, uint64_t port);
    int64_t block();
    bool offers(uint32_t feature) const { return (features_ & feature) != 0; }
    std::optional<uint64_t> readShared(uint32_t offset) const;
    void writeShared(uint32_t offset, const void* data, uint64_t size);

    uint32_t features_;
    mmu::PhysicalMap& memory_;
    std::function<void(uint8_t)> consoleOut_;
    std::function<bool(uint64_t gpa, uint64_t len)> writeGuard_;
    bool mayWrite(uint64_t gpa, uint64_t len) const { return !writeGuard_ || writeGuard_(gpa, len); }
    IrqDiverter divertIrq_;
    std::function<uint64_t()> now_;
    bool blockRequested_ = false;
    std::deque<uint8_t> consoleInput_;
    uint64_t timerDeadline_ = devices::kNoDeadline;
    std::optional<uint64_t> sharedPage_;  // guest-physical, after EVENT_INIT
    uint8_t vector_ = 0;
    bool upcallOwed_ = false;
    uint64_t calls_ = 0;
    uint64_t upcalls_ = 0;
};

}  // namespace hvlab::hv
