// The CPUID model: one description of the virtual CPU, answered by the interpreter and
// loaded into KVM with KVM_SET_CPUID2, so a guest sees the same CPU on both engines.
// It advertises only what hvlab implements.
#pragma once

#include <cstdint>
#include <vector>

namespace hvlab::cpu {

struct CpuidLeaf {
    uint32_t function = 0;
    uint32_t index = 0;
    bool indexed = false;  // the answer depends on ECX
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

struct CpuidResult {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// Feature bits by name (leaf 1 EDX/ECX, leaf 0x80000001 EDX).
namespace cpuid_bits {
constexpr uint32_t EDX_FPU = 1u << 0, EDX_VME = 1u << 1, EDX_DE = 1u << 2, EDX_PSE = 1u << 3, EDX_TSC = 1u << 4,
                   EDX_MSR = 1u << 5, EDX_PAE = 1u << 6, EDX_CX8 = 1u << 8, EDX_APIC = 1u << 9, EDX_SEP = 1u << 11,
                   EDX_PGE = 1u << 13, EDX_CMOV = 1u << 15, EDX_MMX = 1u << 23, EDX_FXSR = 1u << 24,
                   EDX_SSE = 1u << 25, EDX_SSE2 = 1u << 26;
constexpr uint32_t ECX_CX16 = 1u << 13, ECX_HYPERVISOR = 1u << 31;
constexpr uint32_t EXT_EDX_SYSCALL = 1u << 11, EXT_EDX_NX = 1u << 20, EXT_EDX_RDTSCP = 1u << 27, EXT_EDX_LM = 1u << 29;
constexpr uint32_t EXT_ECX_LAHF_LM = 1u << 0;
}  // namespace cpuid_bits

class CpuidModel {
public:
    // The CPU hvlab's interpreter implements today.
    static CpuidModel hvlabDefault();

    // Answers like hardware: a leaf above the maximum returns the highest basic leaf's data.
    CpuidResult query(uint32_t function, uint32_t index) const;
    const std::vector<CpuidLeaf>& leaves() const { return leaves_; }

    // The x86-64 baseline's floating point and vector units (x87 FPU, MMX, FXSAVE, SSE, SSE2), which
    // every 64-bit OS (Linux among them) requires. For engines that run guest code on the host CPU
    // (KVM); the interpreter does not implement them and never reports them.
    void addHardwareFloatingPoint();

    // Keeps only the feature bits a host (KVM_GET_SUPPORTED_CPUID) can provide.
    void restrictFeatures(const std::vector<CpuidLeaf>& supported);

    // Replaces (or adds) a leaf, for the VMM's own leaves (the hypercall features at 0x40000001).
    void setLeaf(const CpuidLeaf& leaf);

    // The processor signature (CPUID.1:EAX), also the value of EDX after RESET.
    uint32_t signature() const;
    bool hasEdx1(uint32_t bit) const { return query(1, 0).edx & bit; }
    bool hasExtEdx(uint32_t bit) const { return query(0x80000001, 0).edx & bit; }
    bool hasExtEcx(uint32_t bit) const { return query(0x80000001, 0).ecx & bit; }
    // The CR4 bits a guest may set on this CPU (the rest are reserved: #GP), as KVM derives them.
    uint64_t allowedCr4() const;

    static constexpr const char* kHypervisorSignature = "hvlabhvlabhv";

private:
    const CpuidLeaf* find(uint32_t function, uint32_t index) const;
    std::vector<CpuidLeaf> leaves_;
};

}  // namespace hvlab::cpu
