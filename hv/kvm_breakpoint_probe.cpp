#include "hv/kvm_breakpoint_probe.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

namespace hvlab::hv {

namespace {

constexpr uint64_t kMemorySize = 0x2000;
constexpr uint16_t kCode = 0x1000;  // INT3, HLT

// File descriptors and mappings of the scratch VM, released whatever happens.
struct ScratchVm {
    int kvm = -1, vm = -1, vcpu = -1;
    void* memory = MAP_FAILED;
    kvm_run* run = nullptr;
    size_t runSize = 0;
    ~ScratchVm() {
        if (run) munmap(run, runSize);
        if (memory != MAP_FAILED) munmap(memory, kMemorySize);
        for (int fd : {vcpu, vm, kvm})
            if (fd >= 0) close(fd);
    }
};

BreakpointProbe fail(const char* what) { return {false, fmt::format("{} failed: {}", what, std::strerror(errno))}; }

BreakpointProbe probe(const char* devicePath) {
    ScratchVm s;
    if ((s.kvm = open(devicePath, O_RDWR | O_CLOEXEC)) < 0) return fail("open");
    if ((s.vm = ioctl(s.kvm, KVM_CREATE_VM, 0)) < 0) return fail("KVM_CREATE_VM");
    if (ioctl(s.kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0) ioctl(s.vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    s.memory = mmap(nullptr, kMemorySize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s.memory == MAP_FAILED) return fail("mmap");
    auto* bytes = static_cast<uint8_t*>(s.memory);
    bytes[kCode] = 0xcc;      // INT3
    bytes[kCode + 1] = 0xf4;  // HLT
    // Real-mode IVT entry 3 (#BP) -> 0000:HLT, so an INT3 the guest takes itself ends in HLT.
    const uint16_t vector3[2] = {kCode + 1, 0};
    std::memcpy(bytes + 3 * 4, vector3, sizeof vector3);
    kvm_userspace_memory_region region{};
    region.memory_size = kMemorySize;
    region.userspace_addr = reinterpret_cast<uint64_t>(s.memory);
    if (ioctl(s.vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");
    if ((s.vcpu = ioctl(s.vm, KVM_CREATE_VCPU, 0)) < 0) return fail("KVM_CREATE_VCPU");
    const int runSize = ioctl(s.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (runSize <= 0) return fail("KVM_GET_VCPU_MMAP_SIZE");
    s.runSize = static_cast<size_t>(runSize);
    void* run = mmap(nullptr, s.runSize, PROT_READ | PROT_WRITE, MAP_SHARED, s.vcpu, 0);
    if (run == MAP_FAILED) return fail("mmap kvm_run");
    s.run = static_cast<kvm_run*>(run);

    kvm_sregs sregs{};
    if (ioctl(s.vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(s.vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = kCode;
    regs.rflags = 0x2;
    regs.rsp = 0x800;
    if (ioctl(s.vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");
    kvm_guest_debug debug{};
    debug.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    if (ioctl(s.vcpu, KVM_SET_GUEST_DEBUG, &debug) < 0) return fail("KVM_SET_GUEST_DEBUG");

    // Real mode without an irqchip: the only ways out are the #BP exit, HLT or a failure.
    if (ioctl(s.vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
    const uint32_t reason = s.run->exit_reason;
    if (reason == KVM_EXIT_DEBUG && s.run->debug.arch.exception == 3)
        return {true, fmt::format("INT3 at {:#x} exited to userspace", s.run->debug.arch.pc)};
    if (reason == KVM_EXIT_HLT) return {false, "the scratch guest took its own INT3 (#BP through its IVT, then HLT)"};
    return {false, fmt::format("unexpected KVM exit reason {}", reason)};
}

}  // namespace

const BreakpointProbe& probeKvmSoftwareBreakpoints(const char* devicePath) {
    static const BreakpointProbe result = probe(devicePath);
    return result;
}

}  // namespace hvlab::hv
