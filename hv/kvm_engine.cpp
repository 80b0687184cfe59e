#include "hv/kvm_engine.hpp"

#include "cpu/hypercall_abi.hpp"
#include "cpu/paging_controls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hvlab::hv {

namespace {

constexpr int kKickSignal = SIGUSR1;

// The vCPU thread's kvm_run, so the kick signal's handler can set immediate_exit.
thread_local kvm_run* tlsRun = nullptr;

void kickHandler(int) {
    if (tlsRun) tlsRun->immediate_exit = 1;
}

void installKickHandler() {
    static const bool installed = [] {
        struct sigaction sa{};
        sa.sa_handler = kickHandler;
        sigemptyset(&sa.sa_mask);
        // SA_RESTART: a write() or wait on the vCPU thread that the kick interrupts carries on.
        // KVM_RUN still returns EINTR: KVM ends it with -EINTR, which is never restarted.
        sa.sa_flags = SA_RESTART;
        sigaction(kKickSignal, &sa, nullptr);
        return true;
    }();
    (void)installed;
}

std::string errnoText() { return std::strerror(errno); }

// Segment conversion: the VMX access-rights layout of cpu::Segment to kvm_segment and back.
kvm_segment toKvm(const cpu::Segment& s) {
    kvm_segment k{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = s.attributes & 0xf;
    k.s = (s.attributes >> 4) & 1;
    k.dpl = (s.attributes >> 5) & 3;
    k.present = (s.attributes >> 7) & 1;
    k.avl = (s.attributes >> 12) & 1;
    k.l = (s.attributes >> 13) & 1;
    k.db = (s.attributes >> 14) & 1;
    k.g = (s.attributes >> 15) & 1;
    k.unusable = !k.present;
    return k;
}

cpu::Segment fromKvm(const kvm_segment& k) {
    cpu::Segment s;
    s.base = k.base;
    s.limit = k.limit;
    s.selector = k.selector;
    s.attributes = static_cast<uint16_t>((k.type & 0xf) | (k.s << 4) | (k.dpl << 5) | ((k.present && !k.unusable) << 7) |
                                         (k.avl << 12) | (k.l << 13) | (k.db << 14) | (k.g << 15));
    return s;
}

// Linux's uapi headers declare variable-length lists with __DECLARE_FLEX_ARRAY, which in C++
// gains an empty struct and shifts the array by 4 bytes. This mirrors the kernel's real layout
// of kvm_cpuid2 and kvm_msrs: a count, 4 bytes of padding, then the entries.
template <typename Entry, size_t Capacity>
struct KvmList {
    uint32_t count = 0;
    uint32_t padding = 0;
    Entry entries[Capacity] = {};
};
using CpuidList = KvmList<kvm_cpuid_entry2, 256>;
using MsrList = KvmList<kvm_msr_entry, 16>;
using IrqRoutingList = KvmList<kvm_irq_routing_entry, 64>;  // kvm_irq_routing: nr, flags, entries
static_assert(offsetof(CpuidList, entries) == 8);
static_assert(offsetof(MsrList, entries) == 8);
static_assert(offsetof(IrqRoutingList, entries) == 8);

// The ioctl numbers encode sizeof the C header (8 bytes), which C++ gets wrong for the same
// reason, so they are computed from the real header size here.
struct KvmListHeader {
    uint32_t count;
    uint32_t padding;
};
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, KvmListHeader);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, KvmListHeader);
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, KvmListHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, KvmListHeader);
constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, KvmListHeader);

void addMsr(MsrList& list, uint32_t index, uint64_t data = 0) {
    kvm_msr_entry& e = list.entries[list.count++];
    e.index = index;
    e.data = data;
}

}  // namespace

bool KvmEngine::available(std::string* why, const char* devicePath) {
    const int fd = open(devicePath, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (why) *why = fmt::format("cannot open {}: {}", devicePath, errnoText());
        return false;
    }
    const int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (version != KVM_API_VERSION) {
        if (why) *why = fmt::format("{} speaks KVM API {}, hvlab needs {}", devicePath, version, KVM_API_VERSION);
        return false;
    }
    return true;
}

KvmEngine::KvmEngine(mmu::PhysicalMap& memory, cpu::CpuidModel& cpuid, const char* devicePath,
                     bool inKernelIrqchip)
    : breakpoints_(memory) {
    const auto start = std::chrono::steady_clock::now();
    kvmFd_ = open(devicePath, O_RDWR | O_CLOEXEC);
    if (kvmFd_ < 0) throw KvmUnavailable(fmt::format("cannot open {}: {}", devicePath, errnoText()));
    const int version = ioctl(kvmFd_, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        throw KvmUnavailable(fmt::format("{} speaks KVM API {}, hvlab needs {}", devicePath, version, KVM_API_VERSION));
    vmFd_ = ioctl(kvmFd_, KVM_CREATE_VM, 0);
    if (vmFd_ < 0) throw KvmUnavailable(fmt::format("KVM_CREATE_VM failed: {}", errnoText()));

    // Intel VT-x needs a TSS and an identity-map page for real mode; harmless elsewhere.
    // They sit just below the firmware ROM at the top of the 4 GiB space.
    if (ioctl(kvmFd_, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0) {
        ioctl(vmFd_, KVM_SET_TSS_ADDR, 0xfffbd000ul);
        uint64_t identity = 0xfffbc000ull;
        ioctl(vmFd_, KVM_SET_IDENTITY_MAP_ADDR, &identity);
    }
    readonlyMem_ = ioctl(kvmFd_, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    syncRegs_ = ioctl(kvmFd_, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) > 0;
    if (inKernelIrqchip) {
        // Before the vCPU exists: its local APIC is created with it.
        if (ioctl(vmFd_, KVM_CREATE_IRQCHIP, 0) < 0)
            throw KvmUnavailable(fmt::format("KVM_CREATE_IRQCHIP failed: {}", errnoText()));
        routeIsaInterrupts();
        kvm_pit_config pit{};
        pit.flags = KVM_PIT_SPEAKER_DUMMY;  // port 0x61 answered in the kernel too
        if (ioctl(vmFd_, KVM_CREATE_PIT2, &pit) < 0)
            throw KvmUnavailable(fmt::format("KVM_CREATE_PIT2 failed: {}", errnoText()));
        irqchip_ = true;
    }
    vcpuFd_ = ioctl(vmFd_, KVM_CREATE_VCPU, 0);
    if (vcpuFd_ < 0) throw KvmUnavailable(fmt::format("KVM_CREATE_VCPU failed: {}", errnoText()));
    setupCpuid(cpuid);
    setupMemory(memory);
    const int mmapSize = ioctl(kvmFd_, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmapSize <= 0) throw KvmUnavailable("KVM_GET_VCPU_MMAP_SIZE failed");
    runSize_ = static_cast<size_t>(mmapSize);
    void* p = mmap(nullptr, runSize_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpuFd_, 0);
    if (p == MAP_FAILED) throw KvmUnavailable(fmt::format("cannot map kvm_run: {}", errnoText()));
    run_ = static_cast<kvm_run*>(p);
    installKickHandler();
    setupSeconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

KvmEngine::~KvmEngine() {
    if (tlsRun == run_) tlsRun = nullptr;
    if (run_) munmap(run_, runSize_);
    if (vcpuFd_ >= 0) close(vcpuFd_);
    if (vmFd_ >= 0) close(vmFd_);
    if (kvmFd_ >= 0) close(kvmFd_);
}

std::string KvmEngine::description() const {
    return fmt::format("KVM (API {}{})", KVM_API_VERSION, syncRegs_ ? ", sync regs" : "");
}

int KvmEngine::vmIoctl(unsigned long request, void* arg, const char* what) const {
    const int r = ioctl(vmFd_, request, arg);
    if (r < 0) throw std::runtime_error(fmt::format("{} failed: {}", what, errnoText()));
    return r;
}

int KvmEngine::vcpuIoctl(unsigned long request, void* arg, const char* what) const {
    const int r = ioctl(vcpuFd_, request, arg);
    if (r < 0) throw std::runtime_error(fmt::format("{} failed: {}", what, errnoText()));
    return r;
}

void KvmEngine::setupMemory(const mmu::PhysicalMap& memory) {
    uint32_t slot = 0;
    for (const mmu::Region& r : memory.regions()) {
        if (r.kind == mmu::RegionKind::Mmio) continue;  // MMIO stays unmapped: accesses exit
        kvm_userspace_memory_region region{};
        region.slot = slot++;
        region.flags = (r.kind == mmu::RegionKind::Rom && readonlyMem_) ? KVM_MEM_READONLY : 0;
        region.guest_phys_addr = r.base;
        region.memory_size = r.size;
        region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
        if (ioctl(vmFd_, KVM_SET_USER_MEMORY_REGION, &region) < 0)
            throw KvmUnavailable(fmt::format("KVM_SET_USER_MEMORY_REGION for '{}' [{:#x}, {:#x}) failed: {}", r.name,
                                             r.base, r.end(), errnoText()));
    }
}

void KvmEngine::setupCpuid(cpu::CpuidModel& cpuid) {
    // What the host can virtualise, to keep the model honest on this host.
    auto supported = std::make_unique<CpuidList>();
    supported->count = 256;
    if (ioctl(kvmFd_, kGetSupportedCpuid, supported.get()) == 0) {
        std::vector<cpu::CpuidLeaf> host;
        for (uint32_t k = 0; k < supported->count; ++k) {
            const kvm_cpuid_entry2& e = supported->entries[k];
            host.push_back({e.function, e.index, (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0, e.eax, e.ebx,
                            e.ecx, e.edx});
        }
        cpuid.restrictFeatures(host);
    }
    const auto& leaves = cpuid.leaves();
    auto set = std::make_unique<CpuidList>();
    set->count = static_cast<uint32_t>(std::min<size_t>(leaves.size(), 256));
    for (size_t k = 0; k < set->count; ++k) {
        kvm_cpuid_entry2& e = set->entries[k];
        e.function = leaves[k].function;
        e.index = leaves[k].index;
        e.flags = leaves[k].indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
        e.eax = leaves[k].eax;
        e.ebx = leaves[k].ebx;
        e.ecx = leaves[k].ecx;
        e.edx = leaves[k].edx;
    }
    vcpuIoctl(kSetCpuid2, set.get(), "KVM_SET_CPUID2");
}

void KvmEngine::loadState(const cpu::CpuState& s) {
    run_->kvm_dirty_regs = 0;  // the state loaded here wins over registers queued in kvm_run
    kvm_regs regs{};
    regs.rax = s.gpr[cpu::RAX];
    regs.rcx = s.gpr[cpu::RCX];
    regs.rdx = s.gpr[cpu::RDX];
    regs.rbx = s.gpr[cpu::RBX];
    regs.rsp = s.gpr[cpu::RSP];
    regs.rbp = s.gpr[cpu::RBP];
    regs.rsi = s.gpr[cpu::RSI];
    regs.rdi = s.gpr[cpu::RDI];
    regs.r8 = s.gpr[cpu::R8];
    regs.r9 = s.gpr[cpu::R9];
    regs.r10 = s.gpr[cpu::R10];
    regs.r11 = s.gpr[cpu::R11];
    regs.r12 = s.gpr[cpu::R12];
    regs.r13 = s.gpr[cpu::R13];
    regs.r14 = s.gpr[cpu::R14];
    regs.r15 = s.gpr[cpu::R15];
    regs.rip = s.rip;
    regs.rflags = s.rflags();
    vcpuIoctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");

    kvm_sregs sregs{};
    vcpuIoctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    sregs.es = toKvm(s.seg[cpu::ES]);
    sregs.cs = toKvm(s.seg[cpu::CS]);
    sregs.ss = toKvm(s.seg[cpu::SS]);
    sregs.ds = toKvm(s.seg[cpu::DS]);
    sregs.fs = toKvm(s.seg[cpu::FS]);
    sregs.gs = toKvm(s.seg[cpu::GS]);
    sregs.ldt = toKvm(s.ldtr);
    sregs.tr = toKvm(s.tr);
    sregs.gdt.base = s.gdtr.base;
    sregs.gdt.limit = s.gdtr.limit;
    sregs.idt.base = s.idtr.base;
    sregs.idt.limit = s.idtr.limit;
    sregs.cr0 = s.cr0;
    sregs.cr2 = s.cr2;
    sregs.cr3 = s.cr3;
    sregs.cr4 = s.cr4;
    sregs.cr8 = s.cr8;
    sregs.efer = s.efer;
    sregs.apic_base = s.msrs.apicBase;
    std::memset(sregs.interrupt_bitmap, 0, sizeof sregs.interrupt_bitmap);
    vcpuIoctl(KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");

    MsrList msrs;
    const std::pair<uint32_t, uint64_t> values[] = {
        {cpu::msr::SYSENTER_CS, s.msrs.sysenterCs}, {cpu::msr::SYSENTER_ESP, s.msrs.sysenterEsp},
        {cpu::msr::SYSENTER_EIP, s.msrs.sysenterEip}, {cpu::msr::STAR, s.msrs.star},
        {cpu::msr::LSTAR, s.msrs.lstar}, {cpu::msr::CSTAR, s.msrs.cstar},
        {cpu::msr::SFMASK, s.msrs.sfmask}, {cpu::msr::KERNEL_GS_BASE, s.msrs.kernelGsBase},
        {cpu::msr::PAT, s.msrs.pat},
    };
    for (const auto& [index, value] : values) addMsr(msrs, index, value);
    // KVM_SET_MSRS returns how many it set; an MSR this host lacks is simply skipped.
    ioctl(vcpuFd_, kSetMsrs, &msrs);

    // A CpuState is the whole state: no event KVM was about to deliver survives it (an interrupt
    // injected for the old state would land in the new one), and the interrupt shadow is its own.
    kvm_vcpu_events events{};
    if (ioctl(vcpuFd_, KVM_GET_VCPU_EVENTS, &events) == 0) {
        events.exception.injected = 0;
        events.exception.pending = 0;
        events.interrupt.injected = 0;
        events.nmi.injected = 0;
        events.interrupt.shadow = s.interruptShadow ? KVM_X86_SHADOW_INT_MOV_SS : 0;
        events.flags = KVM_VCPUEVENT_VALID_SHADOW;
        ioctl(vcpuFd_, KVM_SET_VCPU_EVENTS, &events);
    }
    // What run() and the interrupt checks read from the last exit now describes the new state.
    const bool interruptible = (s.rflags() & cpu::rflag::IF) && !s.interruptShadow;
    run_->if_flag = (s.rflags() & cpu::rflag::IF) ? 1 : 0;
    run_->ready_for_interrupt_injection = interruptible ? 1 : 0;
    if (syncRegs_) run_->s.regs.regs = regs;
    lastRip_ = s.rip;
    pendingIo_ = {};
    exitNeedsEntry_ = false;
    injectionPending_ = false;
}

void KvmEngine::finishPendingExit() {
    if (!exitNeedsEntry_ || stringIoInProgress()) return;
    pendingIo_ = {};
    exitNeedsEntry_ = false;
    run_->immediate_exit = 1;
    if (syncRegs_) run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
    ioctl(vcpuFd_, KVM_RUN, 0);  // returns EINTR at once, with the exit completed
    run_->immediate_exit = 0;
}

void KvmEngine::saveState(cpu::CpuState& s) {
    finishPendingExit();
    kvm_regs regs{};
    vcpuIoctl(KVM_GET_REGS, &regs, "KVM_GET_REGS");
    s.gpr = {regs.rax, regs.rcx, regs.rdx, regs.rbx, regs.rsp, regs.rbp, regs.rsi, regs.rdi,
             regs.r8,  regs.r9,  regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15};
    s.rip = regs.rip;
    s.setRflags(regs.rflags);

    kvm_sregs sregs{};
    vcpuIoctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    s.seg[cpu::ES] = fromKvm(sregs.es);
    s.seg[cpu::CS] = fromKvm(sregs.cs);
    s.seg[cpu::SS] = fromKvm(sregs.ss);
    s.seg[cpu::DS] = fromKvm(sregs.ds);
    s.seg[cpu::FS] = fromKvm(sregs.fs);
    s.seg[cpu::GS] = fromKvm(sregs.gs);
    s.ldtr = fromKvm(sregs.ldt);
    s.tr = fromKvm(sregs.tr);
    s.gdtr = {sregs.gdt.base, sregs.gdt.limit};
    s.idtr = {sregs.idt.base, sregs.idt.limit};
    s.cr0 = sregs.cr0;
    s.cr2 = sregs.cr2;
    s.cr3 = sregs.cr3;
    s.cr4 = sregs.cr4;
    s.cr8 = sregs.cr8;
    s.efer = sregs.efer;
    s.msrs.apicBase = sregs.apic_base;

    MsrList msrs;
    const uint32_t indices[] = {cpu::msr::SYSENTER_CS, cpu::msr::SYSENTER_ESP, cpu::msr::SYSENTER_EIP,
                                cpu::msr::STAR, cpu::msr::LSTAR, cpu::msr::CSTAR, cpu::msr::SFMASK,
                                cpu::msr::KERNEL_GS_BASE, cpu::msr::PAT};
    for (uint32_t index : indices) addMsr(msrs, index);
    const int got = ioctl(vcpuFd_, kGetMsrs, &msrs);
    for (int k = 0; k < got; ++k) {
        const kvm_msr_entry& e = msrs.entries[k];
        switch (e.index) {
            case cpu::msr::SYSENTER_CS: s.msrs.sysenterCs = e.data; break;
            case cpu::msr::SYSENTER_ESP: s.msrs.sysenterEsp = e.data; break;
            case cpu::msr::SYSENTER_EIP: s.msrs.sysenterEip = e.data; break;
            case cpu::msr::STAR: s.msrs.star = e.data; break;
            case cpu::msr::LSTAR: s.msrs.lstar = e.data; break;
            case cpu::msr::CSTAR: s.msrs.cstar = e.data; break;
            case cpu::msr::SFMASK: s.msrs.sfmask = e.data; break;
            case cpu::msr::KERNEL_GS_BASE: s.msrs.kernelGsBase = e.data; break;
            case cpu::msr::PAT: s.msrs.pat = e.data; break;
            default: break;
        }
    }
}

cpu::VmExit KvmEngine::nextStringIoElement() {
    // Hands out element `index` of a KVM string I/O exit as a single-element exit.
    cpu::VmExit e;
    e.reason = cpu::ExitReason::PortIo;
    e.rip = lastRip_;
    const auto& io = run_->io;
    const uint8_t* data = reinterpret_cast<const uint8_t*>(run_) + io.data_offset + pendingIo_.index * io.size;
    uint32_t value = 0;
    if (io.direction == KVM_EXIT_IO_OUT) std::memcpy(&value, data, io.size);
    e.io = {io.port, io.size, io.direction == KVM_EXIT_IO_OUT, value};
    return e;
}

cpu::VmExit KvmEngine::run() {
    if (!vcpuThreadKnown_) {
        vcpuThread_ = pthread_self();
        vcpuThreadKnown_ = true;
        tlsRun = run_;
    }
    if (pendingIo_.active) {
        if (++pendingIo_.index < pendingIo_.count) return nextStringIoElement();
        pendingIo_ = {};
    }
    if (syncRegs_) run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
    exitNeedsEntry_ = false;
    const int r = enterGuest();
    if (r == 0) injectionPending_ = false;  // the guest was entered: the injected vector went in
    if (r < 0) {
        cpu::VmExit e;
        if (errno == EINTR || errno == EAGAIN) {
            run_->immediate_exit = 0;
            e.reason = cpu::ExitReason::Kicked;
            e.rip = lastRip_;
            return e;
        }
        e.reason = cpu::ExitReason::InternalError;
        e.failure.code = static_cast<uint64_t>(errno);
        return e;
    }
    return translateExit();
}

// KVM's default routing sends GSI n to 8259 input n and IOAPIC pin n. A PC wires ISA IRQ 0 (the
// PIT) to IOAPIC pin 2 instead, and the MP and ACPI tables the BIOS builds say so (an interrupt
// source override), so GSI 0 goes to 8259 input 0 and IOAPIC pin 2; GSI 2 is the 8259 cascade
// and reaches neither.
void KvmEngine::routeIsaInterrupts() {
    constexpr unsigned kIoApicPins = 24;
    auto routing = std::make_unique<IrqRoutingList>();
    auto add = [&](unsigned gsi, unsigned chip, unsigned pin) {
        kvm_irq_routing_entry& e = routing->entries[routing->count++];
        e.gsi = gsi;
        e.type = KVM_IRQ_ROUTING_IRQCHIP;
        e.u.irqchip.irqchip = chip;
        e.u.irqchip.pin = pin;
    };
    for (unsigned irq = 0; irq < 16; ++irq) {
        if (irq == 2) continue;
        add(irq, irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, irq % 8);
    }
    for (unsigned pin = 0; pin < kIoApicPins; ++pin) {
        if (pin == 2) continue;
        add(pin == 0 ? 0 : pin, KVM_IRQCHIP_IOAPIC, pin == 0 ? 2 : pin);
    }
    if (ioctl(vmFd_, kSetGsiRouting, routing.get()) < 0)
        throw KvmUnavailable(fmt::format("KVM_SET_GSI_ROUTING failed: {}", errnoText()));
}

size_t KvmEngine::setBreakpoints(const std::vector<uint64_t>& rips) {
    std::vector<uint64_t> linear;
    if (!rips.empty()) {
        kvm_sregs sregs{};
        vcpuIoctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
        for (uint64_t rip : rips) linear.push_back(sregs.cs.base + rip);
    }
    breakpoints_.set(std::move(linear));
    setGuestDebug(0);
    return rips.size();
}

void KvmEngine::setGuestDebug(uint32_t extraControl) {
    kvm_guest_debug debug{};
    if (!breakpoints_.empty()) debug.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP | extraControl;
    vcpuIoctl(KVM_SET_GUEST_DEBUG, &debug, "KVM_SET_GUEST_DEBUG");
}

// KVM_RUN, with the breakpoints' INT3 bytes in guest memory only while it runs. A #BP that is
// not one of them (the guest's own INT3) goes back into the guest.
int KvmEngine::enterGuest() {
    if (breakpoints_.empty()) return ioctl(vcpuFd_, KVM_RUN, 0);
    for (;;) {
        kvm_sregs sregs{};
        vcpuIoctl(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
        cpu::CpuState paging;
        paging.cr0 = sregs.cr0;
        paging.cr3 = sregs.cr3;
        paging.cr4 = sregs.cr4;
        paging.efer = sregs.efer;
        breakpoints_.insert(cpu::pagingControlsOf(paging));
        const int r = ioctl(vcpuFd_, KVM_RUN, 0);
        const int savedErrno = errno;
        breakpoints_.remove();
        errno = savedErrno;
        const bool guestInt3 = r == 0 && run_->exit_reason == KVM_EXIT_DEBUG && run_->debug.arch.exception == 3 &&
                               !breakpoints_.contains(run_->debug.arch.pc);
        if (!guestInt3) return r;
        setGuestDebug(KVM_GUESTDBG_INJECT_BP);
        setGuestDebug(0);
    }
}

cpu::VmExit KvmEngine::translateExit() {
    if (syncRegs_) lastRip_ = run_->s.regs.regs.rip;
    cpu::VmExit e;
    e.rip = lastRip_;
    switch (run_->exit_reason) {
        case KVM_EXIT_IO:
            exitNeedsEntry_ = true;
            if (run_->io.direction == KVM_EXIT_IO_OUT && run_->io.port == cpu::hypercall::kPort &&
                run_->io.size == 4 && run_->io.count == 1)
                return hypercallExit(e);
            pendingIo_ = {true, 0, run_->io.count};
            return nextStringIoElement();
        case KVM_EXIT_MMIO: {
            exitNeedsEntry_ = true;
            e.reason = cpu::ExitReason::Mmio;
            uint64_t value = 0;
            if (run_->mmio.is_write) std::memcpy(&value, run_->mmio.data, std::min<uint32_t>(run_->mmio.len, 8));
            e.mmio = {run_->mmio.phys_addr, static_cast<uint8_t>(run_->mmio.len), run_->mmio.is_write != 0, value};
            return e;
        }
        case KVM_EXIT_HLT: e.reason = cpu::ExitReason::Hlt; return e;
        case KVM_EXIT_SHUTDOWN: e.reason = cpu::ExitReason::Shutdown; return e;
        case KVM_EXIT_DEBUG: e.reason = cpu::ExitReason::Debug; return e;
        case KVM_EXIT_IRQ_WINDOW_OPEN: e.reason = cpu::ExitReason::InterruptWindow; return e;
        case KVM_EXIT_INTR: e.reason = cpu::ExitReason::Kicked; return e;
        case KVM_EXIT_FAIL_ENTRY:
            e.reason = cpu::ExitReason::EntryFailure;
            e.failure.code = run_->fail_entry.hardware_entry_failure_reason;
            return e;
        case KVM_EXIT_INTERNAL_ERROR:
            e.reason = cpu::ExitReason::InternalError;
            e.failure.code = run_->internal.suberror;
            return e;
        default:
            e.reason = cpu::ExitReason::InternalError;
            e.failure.code = 0x10000u + run_->exit_reason;  // an exit reason hvlab does not expect
            return e;
    }
}

// The OUT completes on the next KVM_RUN (RIP moves past it then); the arguments come from the
// registers KVM synced into kvm_run at the exit, or from KVM_GET_REGS.
cpu::VmExit KvmEngine::hypercallExit(cpu::VmExit& e) {
    uint32_t number = 0;
    std::memcpy(&number, reinterpret_cast<const uint8_t*>(run_) + run_->io.data_offset, sizeof number);
    kvm_regs fetched{};
    const kvm_regs* regs = &run_->s.regs.regs;
    if (!syncRegs_) {
        vcpuIoctl(KVM_GET_REGS, &fetched, "KVM_GET_REGS");
        regs = &fetched;
    }
    e.reason = cpu::ExitReason::Hypercall;
    e.hypercall = {number, {regs->rbx, regs->rcx, regs->rsi}, 0};
    return e;
}

void KvmEngine::setHypercallResult(int64_t result) {
    if (syncRegs_) {
        // Loaded into the vCPU by the next KVM_RUN, before it completes the OUT.
        run_->s.regs.regs.rax = static_cast<uint64_t>(result);
        run_->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        return;
    }
    kvm_regs regs{};
    vcpuIoctl(KVM_GET_REGS, &regs, "KVM_GET_REGS");
    regs.rax = static_cast<uint64_t>(result);
    vcpuIoctl(KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

void KvmEngine::complete(const cpu::VmExit& handled) {
    if (handled.reason == cpu::ExitReason::PortIo && !handled.io.write && pendingIo_.active &&
        run_->exit_reason == KVM_EXIT_IO) {
        uint8_t* data = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset + pendingIo_.index * run_->io.size;
        std::memcpy(data, &handled.io.value, run_->io.size);
    }
    if (handled.reason == cpu::ExitReason::Mmio && !handled.mmio.write && run_->exit_reason == KVM_EXIT_MMIO)
        std::memcpy(run_->mmio.data, &handled.mmio.value, std::min<uint32_t>(run_->mmio.len, 8));
    if (handled.reason == cpu::ExitReason::Hypercall) setHypercallResult(handled.hypercall.result);
}

void KvmEngine::kick() {
    // immediate_exit covers the window before KVM_RUN is entered; the signal covers KVM_RUN.
    if (run_) run_->immediate_exit = 1;
    if (vcpuThreadKnown_) pthread_kill(vcpuThread_, kKickSignal);
}

bool KvmEngine::interruptsEnabled() {
    if (syncRegs_) return run_->s.regs.regs.rflags & cpu::rflag::IF;
    kvm_regs regs{};
    if (ioctl(vcpuFd_, KVM_GET_REGS, &regs) < 0) return false;
    return regs.rflags & cpu::rflag::IF;
}

// With the userspace interrupt controller, KVM reports after every exit whether an
// interrupt can be injected (IF = 1, no shadow, no event being delivered).
bool KvmEngine::canInjectInterrupt() {
    return run_ && run_->ready_for_interrupt_injection && run_->if_flag;
}

void KvmEngine::injectInterrupt(uint8_t vector) {
    injectionPending_ = true;  // delivered at the next entry
    kvm_interrupt irq{};
    irq.irq = vector;
    if (ioctl(vcpuFd_, KVM_INTERRUPT, &irq) < 0)
        spdlog::warn("KVM_INTERRUPT (vector {:#x}) failed: {}", vector, std::strerror(errno));
}

void KvmEngine::setIrqLine(unsigned gsi, bool level) {
    kvm_irq_level line{};
    line.irq = gsi;
    line.level = level ? 1 : 0;
    if (ioctl(vmFd_, KVM_IRQ_LINE, &line) < 0)
        spdlog::warn("KVM_IRQ_LINE (GSI {}, level {}) failed: {}", gsi, level, std::strerror(errno));
}

std::string KvmEngine::kernelPicSummary() {
    if (!irqchip_) return {};
    std::string text;
    for (uint32_t chip : {KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE}) {
        kvm_irqchip state{};
        state.chip_id = chip;
        if (ioctl(vmFd_, KVM_GET_IRQCHIP, &state) < 0) return fmt::format("KVM_GET_IRQCHIP failed: {}", errnoText());
        const kvm_pic_state& pic = state.chip.pic;
        text += fmt::format("{}{} irr {:#04x} imr {:#04x} isr {:#04x} elcr {:#04x}", text.empty() ? "" : ", ",
                            chip == KVM_IRQCHIP_PIC_MASTER ? "master" : "slave", pic.irr, pic.imr, pic.isr, pic.elcr);
    }
    return text;
}

void KvmEngine::requestInterruptWindow(bool on) {
    if (run_) run_->request_interrupt_window = on ? 1 : 0;
}

}  // namespace hvlab::hv
