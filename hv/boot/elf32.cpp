#include "hv/boot/elf32.hpp"

#include <cstring>

#include <fmt/format.h>

#include "hv/boot/image_reader.hpp"

namespace hvlab::hv::boot {

namespace {
// e_ident and header values (System V gABI).
constexpr unsigned kEiClass = 4, kEiData = 5;
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2, kElfData2Lsb = 1;
constexpr uint16_t kEtExec = 2, kEmI386 = 3;
constexpr uint32_t kPtLoad = 1;
constexpr uint16_t kElf32HeaderSize = 52, kElf32PhdrSize = 32;
}  // namespace

bool hasElfMagic(std::span<const uint8_t> bytes) {
    return bytes.size() >= 4 && std::memcmp(bytes.data(), "\x7f" "ELF", 4) == 0;
}

Elf32Image parseElf32(const std::string& name, std::span<const uint8_t> bytes) {
    if (!hasElfMagic(bytes))
        throw BootImageError(fmt::format("{}: not an ELF file (no \\x7fELF magic at offset 0)", name));
    ImageReader file(name, bytes);
    file.require(0, kElf32HeaderSize, "the ELF32 file header");
    const uint8_t elfClass = file.u8(kEiClass, "e_ident[EI_CLASS]");
    if (elfClass == kElfClass64)
        throw BootImageError(fmt::format("{}: a 64-bit ELF (ELFCLASS64): multiboot loads 32-bit i386 ELF kernels only",
                                         name));
    if (elfClass != kElfClass32)
        throw BootImageError(fmt::format("{}: ELF class {} at offset 4 is not ELFCLASS32", name, elfClass));
    if (file.u8(kEiData, "e_ident[EI_DATA]") != kElfData2Lsb)
        throw BootImageError(fmt::format("{}: a big-endian ELF: x86 kernels are little-endian (ELFDATA2LSB)", name));
    const uint16_t type = file.u16(16, "e_type");
    const uint16_t machine = file.u16(18, "e_machine");
    if (machine != kEmI386)
        throw BootImageError(fmt::format("{}: ELF e_machine is {} (at offset 0x12), not EM_386 (3): not an x86 kernel",
                                         name, machine));
    if (type != kEtExec)
        throw BootImageError(fmt::format("{}: ELF e_type is {} (at offset 0x10), not ET_EXEC (2): not an executable",
                                         name, type));

    Elf32Image image;
    image.entry = file.u32(24, "e_entry");
    const uint32_t phoff = file.u32(28, "e_phoff");
    const uint16_t phentsize = file.u16(42, "e_phentsize");
    const uint16_t phnum = file.u16(44, "e_phnum");
    if (phnum == 0) throw BootImageError(fmt::format("{}: the ELF has no program headers (e_phnum 0)", name));
    if (phentsize < kElf32PhdrSize)
        throw BootImageError(fmt::format("{}: ELF e_phentsize {} is smaller than an Elf32_Phdr ({} bytes)", name,
                                         phentsize, kElf32PhdrSize));
    file.require(phoff, uint64_t{phnum} * phentsize, "the ELF program header table");

    for (unsigned i = 0; i < phnum; ++i) {
        const uint64_t at = phoff + uint64_t{i} * phentsize;
        if (file.u32(at, "p_type") != kPtLoad) continue;
        Elf32Segment s;
        s.index = i;
        s.fileOffset = file.u32(at + 4, "p_offset");
        s.virtualAddress = file.u32(at + 8, "p_vaddr");
        s.physicalAddress = file.u32(at + 12, "p_paddr");
        s.fileSize = file.u32(at + 16, "p_filesz");
        s.memorySize = file.u32(at + 20, "p_memsz");
        if (s.fileSize > s.memorySize)
            throw BootImageError(fmt::format("{}: ELF program header {} has p_filesz {:#x} > p_memsz {:#x}", name, i,
                                             s.fileSize, s.memorySize));
        file.require(s.fileOffset, s.fileSize, fmt::format("the contents of ELF segment {}", i));
        if (uint64_t{s.physicalAddress} + s.memorySize > (1ull << 32))
            throw BootImageError(fmt::format("{}: ELF segment {} [{:#x}, +{:#x}) extends past 4 GiB", name, i,
                                             s.physicalAddress, s.memorySize));
        if (s.memorySize > 0) image.loads.push_back(s);
    }
    if (image.loads.empty()) throw BootImageError(fmt::format("{}: the ELF has no non-empty PT_LOAD segment", name));
    return image;
}

}  // namespace hvlab::hv::boot
