#include "hv/boot/elf_kernel.hpp"

#include <cstring>

#include <fmt/format.h>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/image_reader.hpp"

namespace hvlab::hv::boot {

namespace {

// e_ident and header values (System V gABI).
constexpr unsigned kEiClass = 4, kEiData = 5;
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2, kElfData2Lsb = 1;
constexpr uint16_t kEtExec = 2, kEmI386 = 3, kEmX86_64 = 62;
constexpr uint32_t kPtLoad = 1, kPtNote = 4;

// Where the fields of the two classes are.
struct Layout {
    uint64_t headerSize, phoff, phentsize, phnum, phdrSize;
    // Program header fields.
    uint64_t pOffset, pVaddr, pPaddr, pFilesz, pMemsz, pAlign;
};
constexpr Layout kElf32{52, 28, 42, 44, 32, 4, 8, 12, 16, 20, 28};
constexpr Layout kElf64{64, 32, 54, 56, 56, 8, 16, 24, 32, 40, 48};

uint64_t word(const ImageReader& file, bool is64, uint64_t offset, std::string_view field) {
    return is64 ? file.u64(offset, field) : file.u32(offset, field);
}

// The notes of one PT_NOTE segment: {namesz, descsz, type, name, desc}, name and desc padded to
// the segment's alignment (4, or 8 for some 64-bit notes).
void parseNotes(const std::string& name, const ImageReader& file, unsigned index, uint64_t offset, uint64_t size,
                uint64_t align, std::vector<ElfNote>& out) {
    file.require(offset, size, fmt::format("the contents of ELF note segment {}", index));
    const uint64_t pad = align == 8 ? 8 : 4;
    const auto padded = [pad](uint64_t n) { return (n + pad - 1) & ~(pad - 1); };
    uint64_t at = offset;
    const uint64_t end = offset + size;
    while (end - at >= 12) {
        const uint32_t nameSize = file.u32(at, "n_namesz");
        const uint32_t descSize = file.u32(at + 4, "n_descsz");
        ElfNote note;
        note.type = file.u32(at + 8, "n_type");
        const uint64_t nameAt = at + 12;
        const uint64_t descAt = nameAt + padded(nameSize);
        const uint64_t next = descAt + padded(descSize);
        if (next > end || next < at)
            throw BootImageError(fmt::format("{}: the ELF note at offset {:#x} (name {} bytes, descriptor {} bytes) "
                                             "runs past the end of its note segment {} (which ends at {:#x})",
                                             name, at, nameSize, descSize, index, end));
        const std::span<const uint8_t> nameBytes = file.slice(nameAt, nameSize, "n_name");
        note.name.assign(nameBytes.begin(), nameBytes.end());
        if (!note.name.empty() && note.name.back() == '\0') note.name.pop_back();
        const std::span<const uint8_t> desc = file.slice(descAt, descSize, "n_desc");
        note.desc.assign(desc.begin(), desc.end());
        note.descOffset = descAt;
        out.push_back(std::move(note));
        at = next;
    }
}

}  // namespace

const ElfNote* ElfKernel::findNote(std::string_view name, uint32_t type) const {
    for (const ElfNote& n : notes)
        if (n.name == name && n.type == type) return &n;
    return nullptr;
}

bool hasElfMagic(std::span<const uint8_t> bytes) {
    return bytes.size() >= 4 && std::memcmp(bytes.data(), "\x7f" "ELF", 4) == 0;
}

ElfKernel parseElfKernel(const std::string& name, std::span<const uint8_t> bytes) {
    if (!hasElfMagic(bytes))
        throw BootImageError(fmt::format("{}: not an ELF file (no \\x7fELF magic at offset 0)", name));
    ImageReader file(name, bytes);
    const uint8_t elfClass = file.u8(kEiClass, "e_ident[EI_CLASS]");
    if (elfClass != kElfClass32 && elfClass != kElfClass64)
        throw BootImageError(fmt::format("{}: ELF class {} at offset 4 is neither ELFCLASS32 nor ELFCLASS64", name,
                                         elfClass));
    const bool is64 = elfClass == kElfClass64;
    const Layout& l = is64 ? kElf64 : kElf32;
    file.require(0, l.headerSize, is64 ? "the ELF64 file header" : "the ELF32 file header");
    if (file.u8(kEiData, "e_ident[EI_DATA]") != kElfData2Lsb)
        throw BootImageError(fmt::format("{}: a big-endian ELF: x86 kernels are little-endian (ELFDATA2LSB)", name));
    const uint16_t machine = file.u16(18, "e_machine");
    const uint16_t wanted = is64 ? kEmX86_64 : kEmI386;
    if (machine != wanted)
        throw BootImageError(fmt::format("{}: ELF e_machine is {} (at offset 0x12), not {}: not an x86 kernel", name,
                                         machine, is64 ? "EM_X86_64 (62) for ELFCLASS64" : "EM_386 (3) for ELFCLASS32"));
    const uint16_t type = file.u16(16, "e_type");
    if (type != kEtExec)
        throw BootImageError(fmt::format("{}: ELF e_type is {} (at offset 0x10), not ET_EXEC (2): not an executable",
                                         name, type));

    ElfKernel kernel;
    kernel.is64 = is64;
    kernel.entry = word(file, is64, 24, "e_entry");
    const uint64_t phoff = word(file, is64, l.phoff, "e_phoff");
    const uint16_t phentsize = file.u16(l.phentsize, "e_phentsize");
    const uint16_t phnum = file.u16(l.phnum, "e_phnum");
    if (phnum == 0) throw BootImageError(fmt::format("{}: the ELF has no program headers (e_phnum 0)", name));
    if (phentsize < l.phdrSize)
        throw BootImageError(fmt::format("{}: ELF e_phentsize {} is smaller than a program header ({} bytes)", name,
                                         phentsize, l.phdrSize));
    file.require(phoff, uint64_t{phnum} * phentsize, "the ELF program header table");

    for (unsigned i = 0; i < phnum; ++i) {
        const uint64_t at = phoff + uint64_t{i} * phentsize;
        const uint32_t ptype = file.u32(at, "p_type");
        const uint64_t offset = word(file, is64, at + l.pOffset, "p_offset");
        const uint64_t fileSize = word(file, is64, at + l.pFilesz, "p_filesz");
        if (ptype == kPtNote) {
            parseNotes(name, file, i, offset, fileSize, word(file, is64, at + l.pAlign, "p_align"), kernel.notes);
            continue;
        }
        if (ptype != kPtLoad) continue;
        ElfLoadSegment s;
        s.index = i;
        s.fileOffset = offset;
        s.fileSize = fileSize;
        s.virtualAddress = word(file, is64, at + l.pVaddr, "p_vaddr");
        s.physicalAddress = word(file, is64, at + l.pPaddr, "p_paddr");
        s.memorySize = word(file, is64, at + l.pMemsz, "p_memsz");
        if (s.fileSize > s.memorySize)
            throw BootImageError(fmt::format("{}: ELF program header {} has p_filesz {:#x} > p_memsz {:#x}", name, i,
                                             s.fileSize, s.memorySize));
        file.require(s.fileOffset, s.fileSize, fmt::format("the contents of ELF segment {}", i));
        if (s.physicalAddress + s.memorySize < s.physicalAddress)
            throw BootImageError(fmt::format("{}: ELF segment {} at {:#x} ({:#x} bytes) wraps around the address space",
                                             name, i, s.physicalAddress, s.memorySize));
        if (s.memorySize > 0) kernel.loads.push_back(s);
    }
    if (kernel.loads.empty()) throw BootImageError(fmt::format("{}: the ELF has no non-empty PT_LOAD segment", name));
    return kernel;
}

}  // namespace hvlab::hv::boot
