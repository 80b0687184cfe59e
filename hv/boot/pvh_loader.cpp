#include "hv/boot/pvh_loader.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cpu/hypercall_abi.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/entry_state.hpp"

namespace hvlab::hv::boot {

using namespace pvh;

namespace {

constexpr uint64_t k4GiB = 1ull << 32;
constexpr std::string_view kXenNoteName = "Xen";

// Offsets of the pieces of the start-info area, in the order they are laid out.
struct AreaLayout {
    uint64_t gdt = 0, memmap = 0, modlist = 0, cmdline = 0, moduleCmdlines = 0, end = 0;
};

AreaLayout layoutArea(size_t memmapEntries, std::string_view cmdline, std::span<const MultibootModule> modules) {
    AreaLayout l;
    l.gdt = alignUp(kStartInfoSize, 8);
    l.memmap = l.gdt + 3 * 8;
    l.modlist = l.memmap + memmapEntries * kMemmapEntrySize;
    l.cmdline = l.modlist + modules.size() * kModlistEntrySize;
    l.moduleCmdlines = l.cmdline + cmdline.size() + 1;
    uint64_t end = l.moduleCmdlines;
    for (const MultibootModule& m : modules) end += m.string.size() + 1;
    l.end = end;
    return l;
}

void writeString(BootMemory& memory, uint64_t gpa, std::string_view s) {
    memory.write(gpa, {reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    memory.fill(gpa + s.size(), 0, 1);
}

uint32_t memmapType(uint32_t e820) {
    return e820 == e820_type::kUsable ? cpu::hypercall::pvh::kMemmapRam : cpu::hypercall::pvh::kMemmapReserved;
}

}  // namespace

bool hasPvhEntryNote(std::span<const uint8_t> image) {
    if (!hasElfMagic(image)) return false;
    try {
        return parseElfKernel("kernel", image).findNote(kXenNoteName, cpu::hypercall::pvh::kXenElfNotePhys32Entry) !=
               nullptr;
    } catch (const BootImageError&) {
        return false;
    }
}

PvhLoader::PvhLoader(std::string name, std::span<const uint8_t> image)
    : name_(std::move(name)), image_(image), elf_(parseElfKernel(name_, image)) {
    const ElfNote* note = elf_.findNote(kXenNoteName, cpu::hypercall::pvh::kXenElfNotePhys32Entry);
    if (!note)
        throw BootImageError(fmt::format("{}: no PVH entry: the ELF has no \"Xen\" note of type {} "
                                         "(XEN_ELFNOTE_PHYS32_ENTRY) in a PT_NOTE segment",
                                         name_, cpu::hypercall::pvh::kXenElfNotePhys32Entry));
    // Xen's note is a 32-bit address; some kernels store it as a 64-bit word (QEMU reads both).
    if (note->desc.size() != 4 && note->desc.size() != 8)
        throw BootImageError(fmt::format("{}: the XEN_ELFNOTE_PHYS32_ENTRY note at offset {:#x} has {} bytes of "
                                         "descriptor, not 4 (or 8)",
                                         name_, note->descOffset, note->desc.size()));
    uint64_t entry = 0;
    for (size_t i = 0; i < note->desc.size(); ++i) entry |= uint64_t{note->desc[i]} << (8 * i);
    if (entry >= k4GiB)
        throw BootImageError(fmt::format("{}: the PVH entry point {:#x} is not a 32-bit physical address", name_,
                                         entry));
    const bool inSegment = std::any_of(elf_.loads.begin(), elf_.loads.end(), [&](const ElfLoadSegment& s) {
        return entry - s.physicalAddress < s.fileSize;
    });
    if (!inSegment)
        throw BootImageError(fmt::format("{}: the PVH entry point {:#x} lies in no loaded segment's file bytes "
                                         "(p_paddr ranges)",
                                         name_, entry));
    entry_ = static_cast<uint32_t>(entry);
}

PvhBoot PvhLoader::load(mmu::PhysicalMap& physical, std::span<const E820Entry> map, std::string_view cmdline,
                        std::span<const MultibootModule> modules) const {
    BootMemory memory(physical, map, name_);
    PvhBoot boot;
    boot.elf64 = elf_.is64;

    // Plan and claim everything first: nothing is written unless it all fits.
    uint64_t lowest = UINT64_MAX, highest = 0;
    for (const ElfLoadSegment& s : elf_.loads) {
        if (s.physicalAddress + s.memorySize > k4GiB)
            throw BootImageError(fmt::format("{}: ELF segment {} [{:#x}, {:#x}) lies above 4 GiB: a PVH kernel starts "
                                             "with paging off and must be loaded below it",
                                             name_, s.index, s.physicalAddress, s.physicalAddress + s.memorySize));
        memory.claim(s.physicalAddress, s.memorySize, fmt::format("ELF segment {}", s.index));
        lowest = std::min(lowest, s.physicalAddress);
        highest = std::max(highest, s.physicalAddress + s.memorySize);
    }
    const AreaLayout layout = layoutArea(map.size(), cmdline, modules);
    const uint64_t areaBytes = alignUp(layout.end, kPageSize);
    std::optional<uint64_t> area = memory.findHighest(pc_layout::kEbdaStart, areaBytes, kPageSize);
    if (!area) area = memory.findLowest(alignUp(highest, kPageSize), areaBytes, kPageSize);
    if (!area || *area + areaBytes > k4GiB)
        throw BootImageError(fmt::format("{}: no room for the PVH start-info area ({} bytes) in usable RAM below "
                                         "4 GiB",
                                         name_, areaBytes));
    memory.claim(*area, areaBytes, "PVH start-info area");
    const std::vector<uint64_t> moduleAt =
        placeModules(memory, name_, modules, alignUp(std::max(highest, *area + areaBytes), kPageSize));

    // The kernel: file bytes, then zeroed BSS.
    for (const ElfLoadSegment& s : elf_.loads) {
        memory.write(s.physicalAddress, image_.subspan(s.fileOffset, s.fileSize));
        memory.fill(s.physicalAddress + s.fileSize, 0, s.memorySize - s.fileSize);
    }

    // The start-info area.
    const uint64_t base = *area;
    memory.fill(base, 0, areaBytes);
    memory.write32(base + start_info::kMagic, cpu::hypercall::pvh::kStartMagic);
    memory.write32(base + start_info::kVersion, kVersion);
    memory.write32(base + start_info::kFlags, 0);
    memory.write32(base + start_info::kNrModules, static_cast<uint32_t>(modules.size()));
    memory.write64(base + start_info::kModlistPaddr, modules.empty() ? 0 : base + layout.modlist);
    memory.write64(base + start_info::kCmdlinePaddr, base + layout.cmdline);
    memory.write64(base + start_info::kRsdpPaddr, 0);  // no ACPI tables without firmware
    memory.write64(base + start_info::kMemmapPaddr, base + layout.memmap);
    memory.write32(base + start_info::kMemmapEntries, static_cast<uint32_t>(map.size()));

    static constexpr std::array<uint64_t, 3> kGdt{0, descriptor::kCode32, descriptor::kData};
    const FlatGdt gdt{base + layout.gdt, kGdt, kCodeSelector, kDataSelector};
    writeGdt(memory, gdt);

    for (size_t i = 0; i < map.size(); ++i) {
        const uint64_t e = base + layout.memmap + i * kMemmapEntrySize;
        memory.write64(e, map[i].base);
        memory.write64(e + 8, map[i].size);
        memory.write32(e + 16, memmapType(map[i].type));
    }
    writeString(memory, base + layout.cmdline, cmdline);

    uint64_t stringAt = layout.moduleCmdlines;
    for (size_t i = 0; i < modules.size(); ++i) {
        const uint64_t e = base + layout.modlist + i * kModlistEntrySize;
        memory.write64(e, moduleAt[i]);
        memory.write64(e + 8, modules[i].bytes.size());
        memory.write64(e + 16, base + stringAt);
        writeString(memory, base + stringAt, modules[i].string);
        stringAt += modules[i].string.size() + 1;
        memory.write(moduleAt[i], modules[i].bytes);
        boot.modules.push_back({moduleAt[i], modules[i].bytes.size(), modules[i].string});
    }

    // Xen's PVH entry: flat CS/DS/ES/SS (FS/GS too), PE on, PG off, IF=0, EBX = start-info.
    boot.entry = protectedModeState(gdt, entry_);
    boot.entry.gpr[cpu::RBX] = base;
    boot.entryPoint = entry_;
    boot.startInfo = base;
    boot.startInfoAreaEnd = base + areaBytes;
    boot.kernelStart = lowest;
    boot.kernelEnd = highest;
    boot.layout = memory.claims();
    spdlog::debug("{}: PVH entry {:#x}, start-info at {:#x}, {} module(s)", name_, entry_, base, modules.size());
    return boot;
}

}  // namespace hvlab::hv::boot
