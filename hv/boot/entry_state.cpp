#include "hv/boot/entry_state.hpp"

namespace hvlab::hv::boot {

namespace {

uint64_t descriptorFor(const FlatGdt& gdt, uint16_t selector) { return gdt.entries[selector >> 3]; }

cpu::CpuState flatState(const FlatGdt& gdt, uint64_t entry) {
    cpu::CpuState s = cpu::CpuState::atReset();
    s.gdtr = {gdt.base, static_cast<uint16_t>(gdt.entries.size() * 8 - 1)};
    s.idtr = {0, 0};
    const cpu::Segment data = cpu::segmentFromDescriptor(gdt.dataSelector, descriptorFor(gdt, gdt.dataSelector));
    for (cpu::Segment& sg : s.seg) sg = data;
    s.seg[cpu::CS] = cpu::segmentFromDescriptor(gdt.codeSelector, descriptorFor(gdt, gdt.codeSelector));
    s.cr0 = cpu::cr0::PE | cpu::cr0::ET;
    s.setRflags(cpu::rflag::RESERVED1);
    s.rip = entry;
    return s;
}

}  // namespace

void writeGdt(BootMemory& memory, const FlatGdt& gdt) {
    for (size_t i = 0; i < gdt.entries.size(); ++i) memory.write64(gdt.base + 8 * i, gdt.entries[i]);
}

cpu::CpuState protectedModeState(const FlatGdt& gdt, uint32_t entry) { return flatState(gdt, entry); }

uint64_t buildIdentityMap(BootMemory& memory, uint64_t pml4) {
    constexpr uint64_t kPresentWritable = 0x3, kLargePage = 0x80;
    constexpr uint64_t k2MiB = 2ull << 20, k1GiB = 1ull << 30;
    memory.fill(pml4, 0, kIdentityMapTableBytes);
    const uint64_t pdpt = pml4 + kPageSize;
    const uint64_t firstPd = pdpt + kPageSize;
    memory.write64(pml4, pdpt | kPresentWritable);
    for (uint64_t gib = 0; gib < kIdentityMapBytes / k1GiB; ++gib) {
        const uint64_t pd = firstPd + gib * kPageSize;
        memory.write64(pdpt + 8 * gib, pd | kPresentWritable);
        for (uint64_t i = 0; i < 512; ++i)
            memory.write64(pd + 8 * i, (gib * k1GiB + i * k2MiB) | kPresentWritable | kLargePage);
    }
    return pml4;
}

cpu::CpuState longModeState(const FlatGdt& gdt, uint64_t cr3, uint64_t entry) {
    cpu::CpuState s = flatState(gdt, entry);
    s.cr0 |= cpu::cr0::PG;
    s.cr3 = cr3;
    s.cr4 = cpu::cr4::PAE;
    s.efer = cpu::efer::LME | cpu::efer::LMA;
    return s;
}

}  // namespace hvlab::hv::boot
