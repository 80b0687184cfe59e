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
    kFeaturePvMmu = 1u << 3,    // a deprivileged (ring 1) kernel: MMU, traps, SYSCALL bounce
};

enum Call : uint32_t {
    kConsoleWrite = 1,  // (address, length): bytes at a guest-physical address to the console
    kConsoleRead = 2,   // (address, capacity): console input into guest memory; returns the count
    kTimeNow = 3,       // (): nanoseconds of VM time since power-on
    kTimerSet = 4,      // (deadline): one-shot at absolute VM time (ns); 0 cancels; fires event 0
    kEventInit = 5,     // (page, vector): the shared event page (guest-physical) and upcall vector
    kEventRaise = 6,    // (port): marks an event pending (a guest can test its handler with it)
    kEventBindIrq = 7,  // (irq, port): device interrupt line irq (0-23) raises `port` (2-63), not the PIC
    kBlock = 8,         // (): clear upcall_mask; sleep until an upcall is owed (Xen SCHEDOP_block)

    // PV MMU and the deprivileged kernel (kFeaturePvMmu; docs/hypercalls.md "The PV MMU").
    kMmuUpdate = 16,     // (list, count): {u64 entry_gpa, u64 value} x count, validated; returns count
    kMmuPin = 17,        // (level 1-4, table_gpa): validate the page as a level-N table and pin it
    kMmuUnpin = 18,      // (table_gpa): drop the pin; its references go when nothing else holds it
    kMmuSetCr3 = 19,     // (l4_gpa): switch to a pinned L4 (flushes the TLB)
    kMmuInvlpg = 20,     // (linear): flush one translation; ~0 flushes all
    kSetTrapTable = 21,  // (list, count): {u8 vector, u8 dpl (1|3), u8[6] 0, u64 handler} x count
    kStackSwitch = 22,   // (rsp): the ring-1 stack for the next ring 3 -> 1 transition (TSS.RSP1)
    kSetSyscallEntry = 23, // (rip): where SYSCALL from ring 3 lands, at ring 1; 0: SYSCALL is #UD (EFER.SCE off)
    kReadCr2 = 24,       // (): the linear address of the last page fault
    kSyscallBounce = 0x7f00, // hvlab's own ring-0 SYSCALL stub only; from anywhere else -ENOSYS
};

// Event ports.
enum EventPort : uint32_t {
    kEventTimer = 0,         // the TIMER_SET deadline passed
    kEventConsoleInput = 1,  // console input waits to be read
    kEventFirstFree = 2,     // 2-63: for EVENT_BIND_IRQ
    kEventPorts = 64,
};

// Errors, as negated Linux errno values in RAX.
enum Error : int64_t {
    kErrorNoSys = -38,   // unknown call or a feature this VM does not offer
    kErrorInvalid = -22, // an argument out of range
    kErrorFault = -14,   // a guest address that does not translate or is not RAM
    kErrorPerm = -1,     // EPERM: a PV MMU request that would break the isolation rules
    kErrorBusy = -16,    // EBUSY: a page in use in a way the request needs it not to be
};

// The shared event page (little endian, at the guest-physical page given to EVENT_INIT).
struct SharedEventPage {
    static constexpr uint32_t kPending = 0;        // u64: bit n = port n pending (VMM sets, guest clears)
    static constexpr uint32_t kMask = 8;           // u64: bit n = port n masked (guest-owned)
    static constexpr uint32_t kUpcallPending = 16; // u8: 1 = an unmasked port became pending (guest clears)
    static constexpr uint32_t kUpcallMask = 17;    // u8: 1 = no upcalls now (the guest's virtual IF)
    static constexpr uint32_t kTimeNs = 24;        // u64: VM time when the VMM last raised an event (any port)
};

// The PV MMU's fixed machine layout (docs/hypercalls.md "The PV MMU"): the GDT hvlab owns, and
// the hypervisor hole, mapped read-only at the top of every PV address space (L4 slot 511).
namespace pv {
constexpr uint16_t kHypervisorCode = 0x08;  // 64-bit, DPL 0: hvlab's SYSCALL stub (STAR)
constexpr uint16_t kHypervisorData = 0x10;
constexpr uint16_t kUserCode32 = 0x1b;      // DPL 3 (unused; the slot SYSRET's layout wants)
constexpr uint16_t kUserData = 0x23;        // DPL 3
constexpr uint16_t kUserCode = 0x2b;        // 64-bit, DPL 3
constexpr uint16_t kTss = 0x30;
constexpr uint16_t kKernelCode = 0x41;      // 64-bit, DPL 1: the guest kernel
constexpr uint16_t kKernelData = 0x49;      // DPL 1
constexpr uint64_t kHoleBase = 0xffffff8000000000ull;  // L4 slot 511, 512 GiB
constexpr unsigned kHoleL4Slot = 511;
constexpr unsigned kGuestL4Slots = 256;     // a guest L4 may use slots 0-255 only
constexpr uint32_t kNoteType = 1;           // ELF note "hvlab", type 1: u64 PV entry (linear)
constexpr uint32_t kStartInfoPtOffset = 56; // after Xen's hvm_start_info: u64 L4, u64 first free
// The TSS's I/O bitmap opens these ports to ring 1: the hypercall port (kPort, 4 bytes), PCI
// configuration (0xcf8-0xcff) and isa-debug-exit (0xf4); every other port raises #GP.
}  // namespace pv

// The PVH start-info (Xen's `struct hvm_start_info`, version 1) and its memory map entries.
namespace pvh {
constexpr uint32_t kStartMagic = 0x336ec578;
constexpr uint32_t kXenElfNotePhys32Entry = 18;  // ELF note "Xen", type 18: u32 entry (physical)
constexpr uint32_t kMemmapRam = 1, kMemmapReserved = 2;
}  // namespace pvh

}  // namespace hvlab::cpu::hypercall
