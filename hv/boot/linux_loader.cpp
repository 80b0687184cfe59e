#include "hv/boot/linux_loader.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/entry_state.hpp"

namespace hvlab::hv::boot {

using namespace linux_boot;
namespace layout = linux_layout;

namespace {

constexpr uint64_t k1MiB = 1ull << 20;
constexpr uint64_t k4GiB = 1ull << 32;

std::string mib(uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

LinuxLoader::LinuxLoader(std::string name, std::span<const uint8_t> image)
    : name_(std::move(name)), image_(image), header_(parseSetupHeader(name_, image)) {}

// Claims the kernel's range and returns its load address (boot.rst, "Loading the rest of the
// kernel" and the pref_address / init_size / kernel_alignment field descriptions).
uint64_t LinuxLoader::placeKernel(BootMemory& memory) const {
    const uint64_t fileBytes = protectedModeKernel().size();
    // init_size: the memory the kernel needs from its start before it reads the memory map.
    // Protocols before 2.10 do not say; the file's size is the best lower bound then.
    const uint64_t needed = std::max<uint64_t>(header_.initSize, fileBytes);
    const uint64_t align = header_.kernelAlignment;
    if (header_.relocatable) {
        uint64_t at = 0;
        if (header_.prefAddress % align == 0 && memory.isFree(header_.prefAddress, needed)) {
            at = header_.prefAddress;
        } else if (auto lowest = memory.findLowest(k1MiB, needed, align); lowest && *lowest + needed <= k4GiB) {
            at = *lowest;
        } else {
            throw BootImageError(fmt::format("{}: the kernel does not fit in guest RAM: it needs {} (init_size) at a "
                                             "{:#x}-aligned address above 1 MiB; memory map: {}",
                                             name_, mib(needed), align, describe(memory.map())));
        }
        memory.claim(at, needed, "kernel (init_size)");
        return at;
    }
    // Not relocatable: loaded at 1 MiB, it moves itself to pref_address and runs there.
    const uint64_t at = k1MiB;
    const uint64_t start = std::min(at, header_.prefAddress);
    const uint64_t end = std::max(at + fileBytes, header_.prefAddress + header_.initSize);
    if (!memory.isFree(start, end - start))
        throw BootImageError(fmt::format("{}: the kernel does not fit in guest RAM: a non-relocatable kernel needs "
                                         "[{:#x}, {:#x}) ({}); memory map: {}",
                                         name_, start, end, mib(end - start), describe(memory.map())));
    memory.claim(start, end - start, "kernel (not relocatable)");
    return at;
}

LinuxBoot LinuxLoader::load(mmu::PhysicalMap& physical, std::span<const E820Entry> map, std::string_view cmdline,
                            std::span<const uint8_t> initrd, LinuxEntryMode mode) const {
    if (mode == LinuxEntryMode::Bits64 && !header_.has64BitEntry())
        throw BootImageError(fmt::format("{}: the 64-bit entry was asked for, but the kernel (protocol {}, xloadflags "
                                         "{:#x}) has no XLF_KERNEL_64",
                                         name_, header_.versionText(), header_.xloadflags));
    if (cmdline.size() > header_.cmdlineSize)
        throw BootImageError(fmt::format("{}: the command line is {} bytes, longer than the kernel's cmdline_size ({})",
                                         name_, cmdline.size(), header_.cmdlineSize));
    if (cmdline.find('\0') != std::string_view::npos)
        throw BootImageError(fmt::format("{}: the command line contains a NUL byte", name_));

    LinuxBoot boot;
    boot.longMode = mode == LinuxEntryMode::Bits64 || (mode == LinuxEntryMode::Auto && header_.has64BitEntry());

    // Plan and claim everything first: nothing is written unless it all fits.
    BootMemory memory(physical, map, name_);
    static constexpr std::array<uint64_t, 4> kGdt64{0, 0, descriptor::kCode64, descriptor::kData};
    static constexpr std::array<uint64_t, 4> kGdt32{0, 0, descriptor::kCode32, descriptor::kData};
    const std::span<const uint64_t> entries = boot.longMode ? std::span<const uint64_t>(kGdt64) : kGdt32;
    const FlatGdt gdt{layout::kGdt, entries, layout::kBootCs, layout::kBootDs};
    memory.claim(gdt.base, gdt.entries.size() * 8, "GDT");
    memory.claim(layout::kBootParams, kBootParamsSize, "boot_params");
    memory.claim(layout::kStack, layout::kStackTop - layout::kStack, "boot stack");
    if (boot.longMode) memory.claim(layout::kPageTables, kIdentityMapTableBytes, "page tables");
    memory.claim(layout::kCmdline, cmdline.size() + 1, "command line");
    boot.loadAddress = placeKernel(memory);
    if (!initrd.empty()) {
        // initrd_addr_max is the highest address the initrd's last byte may have.
        const uint64_t limit = std::min<uint64_t>(uint64_t{header_.initrdAddrMax} + 1, k4GiB);
        const std::optional<uint64_t> at = memory.findHighest(limit, initrd.size(), kPageSize);
        if (!at)
            throw BootImageError(fmt::format("{}: the initrd ({}) is too big: it does not fit in free guest RAM below "
                                             "{:#x} (initrd_addr_max {:#x}) beside the kernel; memory map: {}",
                                             name_, mib(initrd.size()), limit, header_.initrdAddrMax,
                                             describe(map)));
        memory.claim(*at, initrd.size(), "initrd");
        boot.initrdAddress = *at;
        boot.initrdSize = initrd.size();
    }

    // Write.
    memory.write(boot.loadAddress, protectedModeKernel());
    if (!initrd.empty()) memory.write(boot.initrdAddress, initrd);
    memory.write(layout::kCmdline, {reinterpret_cast<const uint8_t*>(cmdline.data()), cmdline.size()});
    memory.fill(layout::kCmdline + cmdline.size(), 0, 1);
    writeGdt(memory, gdt);
    memory.fill(layout::kStack, 0, layout::kStackTop - layout::kStack);
    writeBootParams(memory, map, boot);

    if (boot.longMode) {
        const uint64_t cr3 = buildIdentityMap(memory, layout::kPageTables);
        boot.entryPoint = boot.loadAddress + layout::kEntry64Offset;
        boot.entry = longModeState(gdt, cr3, boot.entryPoint);
        boot.entry.gpr[cpu::RSI] = layout::kBootParams;
    } else {
        boot.entryPoint = boot.loadAddress;
        boot.entry = protectedModeState(gdt, static_cast<uint32_t>(boot.entryPoint));
        boot.entry.gpr[cpu::RSI] = layout::kBootParams;  // EBP, EDI and EBX stay 0, as boot.rst asks
    }
    boot.entry.gpr[cpu::RSP] = layout::kStackTop;
    boot.layout = memory.claims();
    spdlog::debug("{}: Linux {} entry at {:#x}, kernel at {:#x}, initrd {:#x}+{:#x}", name_,
                  boot.longMode ? "64-bit" : "32-bit", boot.entryPoint, boot.loadAddress, boot.initrdAddress,
                  boot.initrdSize);
    return boot;
}

void LinuxLoader::writeBootParams(BootMemory& memory, std::span<const E820Entry> map, const LinuxBoot& boot) const {
    const uint64_t bp = layout::kBootParams;
    memory.fill(bp, 0, kBootParamsSize);
    // The setup header as the kernel ships it, then the fields a loader must fill in.
    const uint64_t headerEnd = std::min<uint64_t>({header_.headerEnd, offset::kSetupHeaderLimit, image_.size()});
    memory.write(bp + offset::kSetupHeader, image_.subspan(offset::kSetupHeader, headerEnd - offset::kSetupHeader));
    memory.write16(bp + offset::kVidMode, 0xffff);  // "normal" video mode
    memory.fill(bp + offset::kTypeOfLoader, kLoaderTypeUndefined, 1);
    const uint8_t loadflags =
        static_cast<uint8_t>((header_.loadflags | loadflag::kCanUseHeap) & ~loadflag::kKeepSegments);
    memory.fill(bp + offset::kLoadflags, loadflags, 1);
    memory.write16(bp + offset::kHeapEndPtr, layout::kHeapEndPtr);
    memory.write32(bp + offset::kCode32Start, static_cast<uint32_t>(boot.loadAddress));
    memory.write32(bp + offset::kCmdLinePtr, static_cast<uint32_t>(boot.cmdline));
    memory.write32(bp + offset::kExtCmdLinePtr, static_cast<uint32_t>(boot.cmdline >> 32));
    memory.write32(bp + offset::kRamdiskImage, static_cast<uint32_t>(boot.initrdAddress));
    memory.write32(bp + offset::kRamdiskSize, static_cast<uint32_t>(boot.initrdSize));
    memory.write32(bp + offset::kExtRamdiskImage, static_cast<uint32_t>(boot.initrdAddress >> 32));
    memory.write32(bp + offset::kExtRamdiskSize, static_cast<uint32_t>(boot.initrdSize >> 32));

    const size_t entries = std::min<size_t>(map.size(), kE820TableEntries);
    if (entries < map.size())
        spdlog::warn("{}: the memory map has {} entries, boot_params holds {}: the rest are dropped", name_,
                     map.size(), kE820TableEntries);
    memory.fill(bp + offset::kE820Entries, static_cast<uint8_t>(entries), 1);
    for (size_t i = 0; i < entries; ++i) {
        const uint64_t e = bp + offset::kE820Table + i * kE820EntrySize;
        memory.write64(e, map[i].base);
        memory.write64(e + 8, map[i].size);
        memory.write32(e + 16, map[i].type);
    }
}

}  // namespace hvlab::hv::boot
