// hvlab's hypercall ABI (docs/hypercalls.md), shared by both engines and the VMM.
//
// Detection: CPUID 0x40000000 returns the signature "hvlabhvlabhv" in EBX, ECX, EDX and the
// highest hypervisor leaf in EAX; CPUID 0x40000001 returns EAX = ABI version, EBX = offered
// features (Feature bits), ECX = the hypercall port.
// Call: `out dx, eax` with DX = the hypercall port and EAX = the call number; arguments in RBX,
// RCX, RSI (EBX, ECX, ESI in 32-bit code); the result comes back in RAX (>= 0, or a negated
// errno value); every other register is preserved. A port write exits to the VMM on every
// engine (VMCALL would not: KVM answers it in the kernel), so the same guest code works on both.
#pragma once

#include <cstdint>

namespace hvlab::cpu::hypercall {

constexpr uint16_t kPort = 0x0b00;
constexpr uint32_t kAbiVersion = 1;
constexpr uint32_t kFeatureLeaf = 0x40000001;

enum Feature : uint32_t {
    kFeatureConsole = 1u << 0,  // CONSOLE_WRITE / CONSOLE_READ
    kFeatureClock = 1u << 1,    // TIME_NOW / TIMER_SET (the timer needs kFeatureEvents to be heard)
    kFeatureEvents = 1u << 2,   // EVENT_INIT: the shared event page and the upcall vector
};

enum Call : uint32_t {
    kConsoleWrite = 1,  // (address, length): bytes at a guest-physical address to the console
    kConsoleRead = 2,   // (address, capacity): console input into guest memory; returns the count
    kTimeNow = 3,       // (): nanoseconds of VM time since power-on
    kTimerSet = 4,      // (deadline): one-shot at absolute VM time (ns); 0 cancels; fires event 0
    kEventInit = 5,     // (page, vector): the shared event page (guest-physical) and upcall vector
    kEventRaise = 6,    // (port): marks an event pending (a guest can test its handler with it)
};

// Event ports.
enum EventPort : uint32_t {
    kEventTimer = 0,         // the TIMER_SET deadline passed
    kEventConsoleInput = 1,  // console input waits to be read
    kEventPorts = 64,
};

// Errors, as negated Linux errno values in RAX.
enum Error : int64_t {
    kErrorNoSys = -38,   // unknown call or a feature this VM does not offer
    kErrorInvalid = -22, // an argument out of range
    kErrorFault = -14,   // a guest address that does not translate or is not RAM
};

// The shared event page (little endian, at the guest-physical page given to EVENT_INIT).
struct SharedEventPage {
    static constexpr uint32_t kPending = 0;        // u64: bit n = port n pending (VMM sets, guest clears)
    static constexpr uint32_t kMask = 8;           // u64: bit n = port n masked (guest-owned)
    static constexpr uint32_t kUpcallPending = 16; // u8: 1 = an unmasked port became pending (guest clears)
    static constexpr uint32_t kUpcallMask = 17;    // u8: 1 = no upcalls now (the guest's virtual IF)
    static constexpr uint32_t kTimeNs = 24;        // u64: VM time when the VMM last raised an event (any port)
};

}  // namespace hvlab::cpu::hypercall
