// The CPU side of an interrupt controller: the INTR pin and the interrupt-acknowledge cycle.
// The VMM asks the controller whether INTR is up; when the guest can take an interrupt
// (IF=1, no STI/MOV SS shadow) it runs acknowledge() and delivers the vector it returns.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

namespace hvlab::devices {

class InterruptSource {
public:
    virtual ~InterruptSource() = default;
    // Whether the INTR output is asserted now.
    virtual bool intrAsserted() const = 0;
    // The INTA cycle: returns the vector to deliver (a spurious vector if the request went away,
    // as the 8259A does), or nullopt if nothing is pending at all.
    virtual std::optional<uint8_t> acknowledge() = 0;
};

// Called by a controller when its INTR output may have risen, so the VMM can kick a running
// vCPU (a device raised a line from another thread, or a timer fired).
using IntrChangedCallback = std::function<void()>;

}  // namespace hvlab::devices
