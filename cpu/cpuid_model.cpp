#include "cpu/cpuid_model.hpp"

#include <cstring>

namespace hvlab::cpu {

namespace {

// Packs 12 characters into EBX, EDX, ECX order (as leaf 0 does) or EBX, ECX, EDX (leaf 0x40000000).
uint32_t chars4(const char* s) {
    uint32_t v;
    std::memcpy(&v, s, 4);
    return v;
}

void addBrandString(std::vector<CpuidLeaf>& leaves, const char* brand) {
    char buf[48] = {};
    std::strncpy(buf, brand, sizeof buf - 1);
    for (uint32_t k = 0; k < 3; ++k) {
        const char* p = buf + 16 * k;
        leaves.push_back({0x80000002u + k, 0, false, chars4(p), chars4(p + 4), chars4(p + 8), chars4(p + 12)});
    }
}

}  // namespace

CpuidModel CpuidModel::hvlabDefault() {
    using namespace cpuid_bits;
    CpuidModel m;
    auto& l = m.leaves_;
    const char* vendor = "GenuineIntel";
    // Leaf 0: highest basic leaf, vendor in EBX, EDX, ECX.
    l.push_back({0, 0, false, 1, chars4(vendor), chars4(vendor + 8), chars4(vendor + 4)});
    // Leaf 1: family 6 model 15 stepping 1; one logical CPU, 64-byte CLFLUSH lines.
    l.push_back({1, 0, false, 0x000006f1, 0x00010800, ECX_CX16 | ECX_HYPERVISOR,
                 EDX_PSE | EDX_TSC | EDX_MSR | EDX_PAE | EDX_CX8 | EDX_APIC | EDX_SEP | EDX_PGE | EDX_CMOV});
    // Hypervisor leaves: the signature names hvlab.
    const char* hv = kHypervisorSignature;
    l.push_back({0x40000000, 0, false, 0x40000001, chars4(hv), chars4(hv + 4), chars4(hv + 8)});
    l.push_back({0x40000001, 0, false, 0, 0, 0, 0});
    // Extended leaves: long mode and NX, the brand string, 40-bit physical / 48-bit linear.
    l.push_back({0x80000000, 0, false, 0x80000008, 0, 0, 0});
    l.push_back({0x80000001, 0, false, 0, 0, EXT_ECX_LAHF_LM,
                 EXT_EDX_SYSCALL | EXT_EDX_NX | EXT_EDX_RDTSCP | EXT_EDX_LM});
    addBrandString(l, "hvlab virtual CPU");
    l.push_back({0x80000008, 0, false, 0x00003028, 0, 0, 0});
    return m;
}

void CpuidModel::setLeaf(const CpuidLeaf& leaf) {
    for (CpuidLeaf& l : leaves_)
        if (l.function == leaf.function && l.index == leaf.index) {
            l = leaf;
            return;
        }
    leaves_.push_back(leaf);
}

const CpuidLeaf* CpuidModel::find(uint32_t function, uint32_t index) const {
    for (const CpuidLeaf& leaf : leaves_)
        if (leaf.function == function && (!leaf.indexed || leaf.index == index)) return &leaf;
    return nullptr;
}

CpuidResult CpuidModel::query(uint32_t function, uint32_t index) const {
    const CpuidLeaf* leaf = find(function, index);
    if (!leaf) {
        // Intel: a function above the range returns the data of the highest basic leaf.
        const CpuidLeaf* basic = find(0, 0);
        const CpuidLeaf* ext = find(0x80000000, 0);
        const CpuidLeaf* hv = find(0x40000000, 0);
        const bool inBasic = basic && function <= basic->eax;
        const bool inExt = ext && function >= 0x80000000 && function <= ext->eax;
        const bool inHv = hv && function >= 0x40000000 && function <= hv->eax;
        if (!inBasic && !inExt && !inHv && basic) leaf = find(basic->eax, index);
    }
    if (!leaf) return {};
    return {leaf->eax, leaf->ebx, leaf->ecx, leaf->edx};
}

void CpuidModel::addHardwareFloatingPoint() {
    using namespace cpuid_bits;
    for (CpuidLeaf& leaf : leaves_)
        if (leaf.function == 1) leaf.edx |= EDX_FPU | EDX_MMX | EDX_FXSR | EDX_SSE | EDX_SSE2;
}

void CpuidModel::restrictFeatures(const std::vector<CpuidLeaf>& supported) {
    auto host = [&](uint32_t function) -> const CpuidLeaf* {
        for (const CpuidLeaf& s : supported)
            if (s.function == function) return &s;
        return nullptr;
    };
    for (CpuidLeaf& leaf : leaves_) {
        if (leaf.function != 1 && leaf.function != 0x80000001) continue;
        const CpuidLeaf* h = host(leaf.function);
        if (!h) continue;
        const uint32_t keepEcx = leaf.function == 1 ? cpuid_bits::ECX_HYPERVISOR : 0;
        leaf.ecx &= h->ecx | keepEcx;
        leaf.edx &= h->edx;
    }
}

uint32_t CpuidModel::signature() const { return query(1, 0).eax; }

uint64_t CpuidModel::allowedCr4() const {
    using namespace cpuid_bits;
    constexpr uint64_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3, PSE = 1u << 4, PAE = 1u << 5,
                       MCE = 1u << 6, PGE = 1u << 7, PCE = 1u << 8;
    const uint32_t edx = query(1, 0).edx;
    uint64_t allowed = PCE;  // RDPMC at CPL > 0: always allowed
    if (edx & EDX_VME) allowed |= VME | PVI;
    if (edx & EDX_TSC) allowed |= TSD;
    if (edx & EDX_DE) allowed |= DE;
    if (edx & EDX_PSE) allowed |= PSE;
    if (edx & EDX_PAE) allowed |= PAE;
    if (edx & (1u << 7)) allowed |= MCE;  // MCE
    if (edx & EDX_PGE) allowed |= PGE;
    if (edx & (1u << 24)) allowed |= 1u << 9;   // FXSR -> OSFXSR
    if (edx & (1u << 25)) allowed |= 1u << 10;  // SSE -> OSXMMEXCPT
    return allowed;
}

}  // namespace hvlab::cpu
