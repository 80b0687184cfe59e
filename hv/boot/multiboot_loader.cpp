#include "hv/boot/multiboot_loader.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/entry_state.hpp"

namespace hvlab::hv::boot {

using namespace multiboot;

// What goes where: file bytes copied to guest memory, then zeroed BSS.
struct MultibootLoader::KernelPlan {
    struct Copy {
        uint64_t gpa = 0;
        uint64_t fileOffset = 0;
        uint64_t fileSize = 0;
        uint64_t zeroSize = 0;
    };
    std::vector<Copy> copies;
    uint32_t entry = 0;
    uint64_t lowest = UINT64_MAX, highest = 0;
};

namespace {

constexpr uint64_t k4GiB = 1ull << 32;

// Sizes of the pieces of the info area, in the order they are laid out.
struct InfoLayout {
    uint64_t info = 0, gdt = 0, mmap = 0, modList = 0, cmdline = 0, loaderName = 0, modStrings = 0, end = 0;
};

InfoLayout layoutInfo(size_t mmapEntries, std::string_view cmdline, std::span<const MultibootModule> modules) {
    InfoLayout l;
    l.info = 0;
    l.gdt = alignUp(info_offset::kSize, 8);
    l.mmap = l.gdt + 3 * 8;
    l.modList = l.mmap + mmapEntries * kMmapEntrySize;
    l.cmdline = l.modList + modules.size() * kModuleEntrySize;
    l.loaderName = l.cmdline + cmdline.size() + 1;
    l.modStrings = l.loaderName + kBootLoaderName.size() + 1;
    uint64_t end = l.modStrings;
    for (const MultibootModule& m : modules) end += m.string.size() + 1;
    l.end = end;
    return l;
}

std::span<const uint8_t> bytesOf(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void writeString(BootMemory& memory, uint64_t gpa, std::string_view s) {
    memory.write(gpa, bytesOf(s));
    memory.fill(gpa + s.size(), 0, 1);
}

// mem_lower: KiB of usable RAM from 0; mem_upper: KiB of usable RAM from 1 MiB to the first hole.
uint32_t usableKiBAt(std::span<const E820Entry> map, uint64_t base) {
    for (const E820Entry& e : map)
        if (e.type == e820_type::kUsable && e.base == base)
            return static_cast<uint32_t>(std::min<uint64_t>(e.size / 1024, UINT32_MAX));
    return 0;
}

}  // namespace

std::vector<uint64_t> placeModules(BootMemory& memory, const std::string& imageName,
                                   std::span<const MultibootModule> modules, uint64_t from) {
    std::vector<uint64_t> placed;
    uint64_t next = from;
    for (size_t i = 0; i < modules.size(); ++i) {
        const uint64_t bytes = modules[i].bytes.size();
        const std::optional<uint64_t> at = memory.findLowest(next, bytes, kPageSize);
        if (!at || *at + bytes > k4GiB)
            throw BootImageError(fmt::format("{}: module {} ('{}', {} bytes) does not fit in usable guest RAM below "
                                             "4 GiB",
                                             imageName, i, modules[i].string, bytes));
        memory.claim(*at, bytes, fmt::format("module {} ('{}')", i, modules[i].string));
        placed.push_back(*at);
        next = alignUp(*at + bytes, kPageSize);
    }
    return placed;
}

MultibootLoader::MultibootLoader(std::string name, std::span<const uint8_t> image)
    : name_(std::move(name)), image_(image), header_(parseHeader(name_, image)) {
    if (header_.flags & header_flag::kVideoMode)
        spdlog::info("{}: the multiboot header asks for a video mode; hvlab provides no video information "
                     "(info flags 11 and 12 stay clear)",
                     name_);
    if (!usesAoutKludge()) {
        if (!hasElfMagic(image_))
            throw BootImageError(fmt::format("{}: the multiboot header (offset {:#x}) does not set flags bit 16 (a.out "
                                             "kludge), so the kernel must be an ELF file, and it is not",
                                             name_, header_.offset));
        constexpr unsigned kEiClass = 4;
        constexpr uint8_t kElfClass64 = 2;
        if (image_.size() > kEiClass && image_[kEiClass] == kElfClass64)
            throw BootImageError(fmt::format(
                "{}: a 64-bit ELF (ELFCLASS64): multiboot loads 32-bit i386 ELF kernels only", name_));
        elf_ = parseElfKernel(name_, image_);
        for (const ElfLoadSegment& s : elf_.loads)
            if (s.physicalAddress + s.memorySize > (1ull << 32))
                throw BootImageError(fmt::format("{}: ELF segment {} [{:#x}, +{:#x}) extends past 4 GiB", name_,
                                                 s.index, s.physicalAddress, s.memorySize));
    }
}

MultibootLoader::KernelPlan MultibootLoader::planElf(BootMemory& memory) const {
    KernelPlan plan;
    for (const ElfLoadSegment& s : elf_.loads) {
        memory.claim(s.physicalAddress, s.memorySize, fmt::format("ELF segment {}", s.index));
        plan.copies.push_back({s.physicalAddress, s.fileOffset, s.fileSize, s.memorySize - s.fileSize});
        plan.lowest = std::min<uint64_t>(plan.lowest, s.physicalAddress);
        plan.highest = std::max<uint64_t>(plan.highest, s.physicalAddress + s.memorySize);
    }
    // e_entry is a virtual address: translate it through the segment that holds it, as GRUB does
    // for kernels linked higher-half with physical load addresses.
    for (const ElfLoadSegment& s : elf_.loads)
        if (elf_.entry - s.virtualAddress < s.memorySize) {
            plan.entry = static_cast<uint32_t>(s.physicalAddress + (elf_.entry - s.virtualAddress));  // < 4 GiB, checked
            return plan;
        }
    for (const ElfLoadSegment& s : elf_.loads)
        if (elf_.entry - s.physicalAddress < s.memorySize) {
            plan.entry = static_cast<uint32_t>(elf_.entry);
            return plan;
        }
    throw BootImageError(fmt::format("{}: the ELF entry point {:#x} lies in no loadable segment", name_, elf_.entry));
}

MultibootLoader::KernelPlan MultibootLoader::planAout(BootMemory& memory) const {
    const AoutKludge& k = *header_.aout;
    const uint64_t size = image_.size();
    if (k.headerAddr < k.loadAddr)
        throw BootImageError(fmt::format("{}: multiboot header_addr {:#x} is below load_addr {:#x}", name_,
                                         k.headerAddr, k.loadAddr));
    const uint64_t headerToText = k.headerAddr - k.loadAddr;
    if (headerToText > header_.offset)
        throw BootImageError(fmt::format("{}: multiboot load_addr {:#x} would start {:#x} bytes before the header, "
                                         "but the header is at file offset {:#x}",
                                         name_, k.loadAddr, headerToText, header_.offset));
    const uint64_t textOffset = header_.offset - headerToText;
    const uint64_t loadEnd = k.loadEndAddr ? k.loadEndAddr : k.loadAddr + (size - textOffset);
    if (loadEnd <= k.headerAddr)
        throw BootImageError(fmt::format("{}: multiboot load_end_addr {:#x} is not above header_addr {:#x}", name_,
                                         loadEnd, k.headerAddr));
    const uint64_t loadSize = loadEnd - k.loadAddr;
    if (textOffset + loadSize > size)
        throw BootImageError(fmt::format("{}: truncated: multiboot load_end_addr {:#x} needs {:#x} bytes from file "
                                         "offset {:#x}, the file has {:#x}",
                                         name_, loadEnd, loadSize, textOffset, size - textOffset));
    const uint64_t bssEnd = k.bssEndAddr ? k.bssEndAddr : loadEnd;
    if (bssEnd < loadEnd)
        throw BootImageError(fmt::format("{}: multiboot bss_end_addr {:#x} is below load_end_addr {:#x}", name_,
                                         bssEnd, loadEnd));
    if (k.entryAddr < k.loadAddr || k.entryAddr >= loadEnd)
        throw BootImageError(fmt::format("{}: multiboot entry_addr {:#x} lies outside the loaded image [{:#x}, {:#x})",
                                         name_, k.entryAddr, k.loadAddr, loadEnd));
    memory.claim(k.loadAddr, bssEnd - k.loadAddr, "a.out kernel image");
    KernelPlan plan;
    plan.copies.push_back({k.loadAddr, textOffset, loadSize, bssEnd - loadEnd});
    plan.entry = k.entryAddr;
    plan.lowest = k.loadAddr;
    plan.highest = bssEnd;
    return plan;
}

MultibootBoot MultibootLoader::load(mmu::PhysicalMap& physical, std::span<const E820Entry> map,
                                    std::string_view cmdline, std::span<const MultibootModule> modules) const {
    BootMemory memory(physical, map, name_);

    // Plan and claim everything first: nothing is written unless it all fits.
    const KernelPlan kernel = usesAoutKludge() ? planAout(memory) : planElf(memory);
    const InfoLayout layout = layoutInfo(map.size(), cmdline, modules);
    const uint64_t infoBytes = alignUp(layout.end, kPageSize);
    const std::optional<uint64_t> info = memory.findLowest(alignUp(kernel.highest, kPageSize), infoBytes, kPageSize);
    if (!info || *info + infoBytes > k4GiB)
        throw BootImageError(fmt::format("{}: no room for the multiboot info area ({} bytes) in usable RAM above the "
                                         "kernel (which ends at {:#x})",
                                         name_, infoBytes, kernel.highest));
    memory.claim(*info, infoBytes, "multiboot info area");
    const std::vector<uint64_t> moduleAt = placeModules(memory, name_, modules, *info + infoBytes);

    // The kernel: file bytes, then zeroed BSS.
    for (const KernelPlan::Copy& c : kernel.copies) {
        memory.write(c.gpa, image_.subspan(c.fileOffset, c.fileSize));
        memory.fill(c.gpa + c.fileSize, 0, c.zeroSize);
    }

    // The info area.
    const uint64_t base = *info;
    memory.fill(base, 0, infoBytes);
    const auto at = [&](uint64_t offset) { return static_cast<uint32_t>(base + offset); };
    const uint32_t flags = info_flag::kMemory | info_flag::kCmdline | info_flag::kModules | info_flag::kMemoryMap |
                     info_flag::kBootLoaderName;
    memory.write32(base + info_offset::kMemLower, std::min<uint32_t>(usableKiBAt(map, 0), 640));
    memory.write32(base + info_offset::kMemUpper, usableKiBAt(map, pc_layout::kHighMemoryStart));
    memory.write32(base + info_offset::kCmdline, at(layout.cmdline));
    memory.write32(base + info_offset::kModsCount, static_cast<uint32_t>(modules.size()));
    memory.write32(base + info_offset::kModsAddr, at(layout.modList));
    memory.write32(base + info_offset::kMmapLength, static_cast<uint32_t>(map.size() * kMmapEntrySize));
    memory.write32(base + info_offset::kMmapAddr, at(layout.mmap));
    memory.write32(base + info_offset::kBootLoaderName, at(layout.loaderName));
    memory.write32(base + info_offset::kFlags, flags);

    static constexpr std::array<uint64_t, 3> kGdt{0, descriptor::kCode32, descriptor::kData};
    const FlatGdt gdt{base + layout.gdt, kGdt, kCodeSelector, kDataSelector};
    writeGdt(memory, gdt);

    for (size_t i = 0; i < map.size(); ++i) {
        const uint64_t e = base + layout.mmap + i * kMmapEntrySize;
        memory.write32(e, kMmapEntrySize - 4);  // `size` does not count itself
        memory.write64(e + 4, map[i].base);
        memory.write64(e + 12, map[i].size);
        memory.write32(e + 20, map[i].type);
    }
    writeString(memory, base + layout.cmdline, cmdline);
    writeString(memory, base + layout.loaderName, kBootLoaderName);

    MultibootBoot boot;
    uint64_t stringAt = layout.modStrings;
    for (size_t i = 0; i < modules.size(); ++i) {
        const uint64_t e = base + layout.modList + i * kModuleEntrySize;
        const uint32_t start = static_cast<uint32_t>(moduleAt[i]);
        const uint32_t end = static_cast<uint32_t>(moduleAt[i] + modules[i].bytes.size());
        memory.write32(e, start);
        memory.write32(e + 4, end);
        memory.write32(e + 8, at(stringAt));
        writeString(memory, base + stringAt, modules[i].string);
        stringAt += modules[i].string.size() + 1;
        memory.write(start, modules[i].bytes);
        boot.modules.push_back({start, end, modules[i].string});
    }

    // Machine state (3.2): EAX magic, EBX info, flat CS/DS/ES/FS/GS/SS, PE on, PG off, IF=0.
    boot.entry = protectedModeState(gdt, kernel.entry);
    boot.entry.gpr[cpu::RAX] = kBootloaderMagic;
    boot.entry.gpr[cpu::RBX] = base;
    boot.entryPoint = kernel.entry;
    boot.infoAddress = static_cast<uint32_t>(base);
    boot.kernelStart = static_cast<uint32_t>(kernel.lowest);
    boot.kernelEnd = static_cast<uint32_t>(kernel.highest);
    boot.layout = memory.claims();
    spdlog::debug("{}: multiboot entry {:#x}, info at {:#x}, {} module(s)", name_, kernel.entry, base, modules.size());
    return boot;
}

}  // namespace hvlab::hv::boot
