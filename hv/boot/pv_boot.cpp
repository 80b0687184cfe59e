#include "hv/boot/pv_boot.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "cpu/hypercall_abi.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/boot_memory.hpp"
#include "hv/paravirt/pv_machine.hpp"

namespace hvlab::hv::boot {

namespace {

namespace si = pv_start_info;
namespace hc = cpu::hypercall;

constexpr uint64_t kP = 1, kRW = 2, kUser = 4;
constexpr uint64_t k2MiB = 2ull << 20, k1GiB = 1ull << 30;

uint64_t readNoteEntry(const std::string& name, const ElfNote& note) {
    if (note.desc.size() != 8)
        throw BootImageError(fmt::format("{}: the \"hvlab\" note of type {} has {} bytes, not the 8 of a u64 entry "
                                         "address",
                                         name, note.type, note.desc.size()));
    uint64_t v = 0;
    for (size_t k = 0; k < 8; ++k) v |= uint64_t{note.desc[k]} << (8 * k);
    return v;
}

}  // namespace

bool isPvKernel(std::span<const uint8_t> image) {
    try {
        const ElfKernel elf = parseElfKernel("kernel", image);
        return elf.is64 && elf.findNote("hvlab", hc::pv::kNoteType) != nullptr;
    } catch (const BootImageError&) {
        return false;
    }
}

std::vector<E820Entry> pvMemoryMap(uint64_t memoryBytes, uint64_t reservedBase, uint64_t reservedSize) {
    const uint64_t reservedEnd = reservedBase + reservedSize;
    std::vector<E820Entry> map;
    for (const E820Entry& e : pcMemoryMap(memoryBytes)) {
        if (e.type != e820_type::kUsable || e.end() <= reservedBase || e.base >= reservedEnd) {
            map.push_back(e);
            continue;
        }
        if (e.base < reservedBase) map.push_back({e.base, reservedBase - e.base, e820_type::kUsable});
        const uint64_t from = std::max(e.base, reservedBase), to = std::min(e.end(), reservedEnd);
        map.push_back({from, to - from, e820_type::kReserved});
        if (e.end() > reservedEnd) map.push_back({reservedEnd, e.end() - reservedEnd, e820_type::kUsable});
    }
    return map;
}

PvLoader::PvLoader(std::string name, std::span<const uint8_t> image)
    : name_(std::move(name)), image_(image), elf_(parseElfKernel(name_, image)) {
    if (!elf_.is64)
        throw BootImageError(fmt::format("{}: a 32-bit ELF: a PV kernel runs in long mode (ELFCLASS64, x86-64)", name_));
    const ElfNote* note = elf_.findNote("hvlab", hc::pv::kNoteType);
    if (!note)
        throw BootImageError(fmt::format("{}: no \"hvlab\" ELF note of type {} (the PV entry point): not a PV kernel",
                                         name_, hc::pv::kNoteType));
    entry_ = readNoteEntry(name_, *note);
}

PvBoot PvLoader::load(PvMachine& machine, mmu::PhysicalMap& memory, uint64_t memoryBytes, const std::string& cmdline,
                      const std::vector<MultibootModule>& modules) const {
    const std::vector<E820Entry> map = pvMemoryMap(memoryBytes, machine.reservedBase(), machine.reservedSize());
    BootMemory mem(memory, map, name_);
    PvBoot boot;
    boot.entryPoint = entry_;
    boot.kernelStart = ~0ull;
    for (const ElfLoadSegment& s : elf_.loads) {
        mem.claim(s.physicalAddress, s.memorySize, fmt::format("ELF segment {}", s.index));
        boot.kernelStart = std::min(boot.kernelStart, s.physicalAddress);
        boot.kernelEnd = std::max(boot.kernelEnd, s.physicalAddress + s.memorySize);
    }
    const bool entryLoaded = std::any_of(elf_.loads.begin(), elf_.loads.end(), [&](const ElfLoadSegment& s) {
        return entry_ >= s.physicalAddress && entry_ - s.physicalAddress < s.memorySize;
    });
    if (!entryLoaded)
        throw BootImageError(fmt::format("{}: the PV entry point {:#x} (\"hvlab\" note) is not inside a PT_LOAD "
                                         "segment (the kernel runs on an identity map of its physical addresses)",
                                         name_, entry_));

    // The start-info block: header, memory map, module list, then the strings.
    const uint64_t moduleListOffset = alignUp(si::kMemmapOffset + map.size() * pvh::kMemmapEntrySize, 8);
    uint64_t stringsSize = cmdline.size() + 1;
    for (const MultibootModule& m : modules) stringsSize += m.string.size() + 1;
    const uint64_t stringsOffset = moduleListOffset + modules.size() * pvh::kModlistEntrySize;
    const uint64_t infoSize = stringsOffset + stringsSize;

    uint64_t at = alignUp(boot.kernelEnd, kPageSize);
    boot.startInfo = at;
    mem.claim(at, alignUp(infoSize, kPageSize), "PV start-info");
    at += alignUp(infoSize, kPageSize);
    std::vector<uint64_t> moduleAt;
    for (size_t k = 0; k < modules.size(); ++k) {
        moduleAt.push_back(at);
        mem.claim(at, modules[k].bytes.size(), fmt::format("module {}", k));
        at = alignUp(at + modules[k].bytes.size(), kPageSize);
    }

    // The identity map: every page of guest RAM but hvlab's, in 4 KiB pages.
    std::set<uint64_t> l1Chunks, l2Chunks;  // 2 MiB and 1 GiB chunks that hold mapped pages
    auto mapped = [&](uint64_t page) {
        const mmu::Region* r = memory.find(page);
        return r && r->kind == mmu::RegionKind::Ram && page + kPageSize <= r->end() &&
               !machine.mmu().ownedByHvlab(page);
    };
    uint64_t ramEnd = 0;
    for (const mmu::Region& r : memory.regions()) {
        if (r.kind != mmu::RegionKind::Ram) continue;
        ramEnd = std::max(ramEnd, r.end());
        for (uint64_t chunk = alignDown(r.base, k2MiB); chunk < r.end(); chunk += k2MiB) l1Chunks.insert(chunk);
    }
    for (uint64_t chunk : l1Chunks) l2Chunks.insert(alignDown(chunk, k1GiB));
    if (ramEnd > (512ull << 30)) throw BootImageError(fmt::format("{}: more RAM than one L3 maps", name_));
    const uint64_t tables = 2 + l2Chunks.size() + l1Chunks.size();
    boot.l4 = at;
    boot.pageTablePages = static_cast<unsigned>(tables);
    mem.claim(at, tables * kPageSize, "PV page tables");
    at += tables * kPageSize;
    mem.claim(at, si::kBootStackBytes, "PV boot stack");
    boot.stackTop = boot.firstFree = at + si::kBootStackBytes;
    boot.modules = static_cast<unsigned>(modules.size());

    // Everything is claimed: write.
    for (const ElfLoadSegment& s : elf_.loads) {
        mem.write(s.physicalAddress, image_.subspan(s.fileOffset, s.fileSize));
        mem.fill(s.physicalAddress + s.fileSize, 0, s.memorySize - s.fileSize);
    }
    for (size_t k = 0; k < modules.size(); ++k) mem.write(moduleAt[k], modules[k].bytes);

    mem.fill(boot.startInfo, 0, alignUp(infoSize, kPageSize));
    const uint64_t info = boot.startInfo;
    mem.write32(info + pvh::start_info::kMagic, hc::pvh::kStartMagic);
    mem.write32(info + pvh::start_info::kVersion, 1);
    mem.write32(info + pvh::start_info::kNrModules, static_cast<uint32_t>(modules.size()));
    mem.write64(info + pvh::start_info::kModlistPaddr, modules.empty() ? 0 : info + moduleListOffset);
    mem.write64(info + pvh::start_info::kMemmapPaddr, info + si::kMemmapOffset);
    mem.write32(info + pvh::start_info::kMemmapEntries, static_cast<uint32_t>(map.size()));
    mem.write64(info + si::kL4, boot.l4);
    mem.write64(info + si::kFirstFree, boot.firstFree);
    for (size_t k = 0; k < map.size(); ++k) {
        const uint64_t e = info + si::kMemmapOffset + k * pvh::kMemmapEntrySize;
        mem.write64(e, map[k].base);
        mem.write64(e + 8, map[k].size);
        mem.write32(e + 16, map[k].type == e820_type::kUsable ? hc::pvh::kMemmapRam : hc::pvh::kMemmapReserved);
    }
    uint64_t str = info + stringsOffset;
    auto writeString = [&](const std::string& s) {
        const uint64_t where = str;
        mem.write(str, std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
        str += s.size() + 1;  // the NUL is there: the block was zeroed
        return where;
    };
    mem.write64(info + pvh::start_info::kCmdlinePaddr, writeString(cmdline));
    for (size_t k = 0; k < modules.size(); ++k) {
        const uint64_t e = info + moduleListOffset + k * pvh::kModlistEntrySize;
        mem.write64(e, moduleAt[k]);
        mem.write64(e + 8, modules[k].bytes.size());
        mem.write64(e + 16, writeString(modules[k].string));
    }

    // The page tables: L4, L3, the L2s, the L1s. Upper levels allow user access, so the kernel
    // can make a leaf a user page with one update; the leaves are supervisor pages.
    mem.fill(boot.l4, 0, tables * kPageSize);
    const uint64_t l3 = boot.l4 + kPageSize;
    std::map<uint64_t, uint64_t> l2At, l1At;
    uint64_t next = l3 + kPageSize;
    for (uint64_t c : l2Chunks) l2At[c] = std::exchange(next, next + kPageSize);
    for (uint64_t c : l1Chunks) l1At[c] = std::exchange(next, next + kPageSize);
    const uint64_t tablesEnd = next;
    mem.write64(boot.l4, l3 | kP | kRW | kUser);
    for (const auto& [gib, l2] : l2At) mem.write64(l3 + 8 * (gib / k1GiB), l2 | kP | kRW | kUser);
    for (const auto& [chunk, l1] : l1At) {
        const uint64_t l2 = l2At.at(alignDown(chunk, k1GiB));
        mem.write64(l2 + 8 * ((chunk % k1GiB) / k2MiB), l1 | kP | kRW | kUser);
        std::array<uint64_t, 512> entries{};
        for (unsigned i = 0; i < 512; ++i) {
            const uint64_t page = chunk + i * kPageSize;
            if (!mapped(page)) continue;
            const bool pageTable = page >= boot.l4 && page < tablesEnd;
            entries[i] = page | kP | (pageTable ? 0 : kRW);
        }
        mem.write(l1, std::span(reinterpret_cast<const uint8_t*>(entries.data()), sizeof entries));
    }
    if (const int64_t r = machine.mmu().pin(4, boot.l4); r < 0)
        throw BootImageError(fmt::format("{}: hvlab's own boot page tables at {:#x} failed validation ({})", name_,
                                         boot.l4, r));
    machine.mmu().setCr3(boot.l4);
    boot.entry = machine.entryState(boot.l4, entry_, boot.stackTop, boot.startInfo);
    return boot;
}

}  // namespace hvlab::hv::boot
