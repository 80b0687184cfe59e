// Does this KVM report a guest's INT3 to userspace when asked to (KVM_GUESTDBG_USE_SW_BP)? Real
// VT-x/SVM hosts do; QEMU's TCG emulation of SVM (the nested KVM these CI machines have) delivers
// the INT3 to the guest instead, so an INT3 patched in for a breakpoint would crash the guest.
// The probe runs three real-mode instructions in a scratch VM and says which happened.
#pragma once

#include <string>

namespace hvlab::hv {

struct BreakpointProbe {
    bool works = false;
    std::string detail;  // what the scratch VM did, for the log
};

// Runs once per process (the answer is cached); never throws.
const BreakpointProbe& probeKvmSoftwareBreakpoints(const char* devicePath);

}  // namespace hvlab::hv
