#include "hv/boot/elf64.hpp"

#include <fmt/format.h>

#include "hv/boot/elf32.hpp"
#include "hv/boot/image_reader.hpp"

namespace hvlab::hv::boot {

namespace {
// e_ident and header values (System V gABI, x86-64 psABI).
constexpr unsigned kEiClass = 4, kEiData = 5;
constexpr uint8_t kElfClass64 = 2, kElfData2Lsb = 1;
constexpr uint16_t kEtExec = 2, kEmX8664 = 62;
constexpr uint32_t kPtLoad = 1, kPtNote = 4;
constexpr uint16_t kElf64HeaderSize = 64, kElf64PhdrSize = 56;

uint64_t align4(uint64_t v) { return (v + 3) & ~3ull; }

// The notes of one PT_NOTE segment: namesz, descsz, type, then name and desc, each padded to 4.
void readNotes(const ImageReader& file, uint64_t offset, uint64_t size, unsigned index, std::vector<Elf64Note>& out) {
    file.require(offset, size, fmt::format("the notes of ELF segment {}", index));
    uint64_t at = offset;
    const uint64_t end = offset + size;
    while (at + 12 <= end) {
        const uint32_t nameSize = file.u32(at, "n_namesz");
        const uint32_t descSize = file.u32(at + 4, "n_descsz");
        Elf64Note note;
        note.type = file.u32(at + 8, "n_type");
        const uint64_t nameAt = at + 12;
        const uint64_t descAt = nameAt + align4(nameSize);
        if (descAt + align4(descSize) > end)
            throw BootImageError(fmt::format("{}: an ELF note at offset {:#x} runs past its PT_NOTE segment {}",
                                             file.name(), at, index));
        const auto name = file.slice(nameAt, nameSize, "n_name");
        note.name.assign(name.begin(), name.end());
        if (!note.name.empty() && note.name.back() == '\0') note.name.pop_back();
        const auto desc = file.slice(descAt, descSize, "n_desc");
        note.desc.assign(desc.begin(), desc.end());
        out.push_back(std::move(note));
        at = descAt + align4(descSize);
    }
}
}  // namespace

const Elf64Note* Elf64Image::findNote(std::string_view name, uint32_t type) const {
    for (const Elf64Note& n : notes)
        if (n.name == name && n.type == type) return &n;
    return nullptr;
}

bool isElf64(std::span<const uint8_t> bytes) { return hasElfMagic(bytes) && bytes.size() > kEiClass && bytes[kEiClass] == kElfClass64; }

Elf64Image parseElf64(const std::string& name, std::span<const uint8_t> bytes) {
    if (!hasElfMagic(bytes))
        throw BootImageError(fmt::format("{}: not an ELF file (no \\x7fELF magic at offset 0)", name));
    ImageReader file(name, bytes);
    file.require(0, kElf64HeaderSize, "the ELF64 file header");
    if (file.u8(kEiClass, "e_ident[EI_CLASS]") != kElfClass64)
        throw BootImageError(fmt::format("{}: not a 64-bit ELF (EI_CLASS is not ELFCLASS64)", name));
    if (file.u8(kEiData, "e_ident[EI_DATA]") != kElfData2Lsb)
        throw BootImageError(fmt::format("{}: a big-endian ELF: x86 kernels are little-endian (ELFDATA2LSB)", name));
    const uint16_t type = file.u16(16, "e_type");
    const uint16_t machine = file.u16(18, "e_machine");
    if (machine != kEmX8664)
        throw BootImageError(fmt::format("{}: ELF e_machine is {} (at offset 0x12), not EM_X86_64 (62)", name, machine));
    if (type != kEtExec)
        throw BootImageError(fmt::format("{}: ELF e_type is {} (at offset 0x10), not ET_EXEC (2): not an executable",
                                         name, type));
    Elf64Image image;
    image.entry = file.u64(24, "e_entry");
    const uint64_t phoff = file.u64(32, "e_phoff");
    const uint16_t phentsize = file.u16(54, "e_phentsize");
    const uint16_t phnum = file.u16(56, "e_phnum");
    if (phnum == 0) throw BootImageError(fmt::format("{}: the ELF has no program headers (e_phnum 0)", name));
    if (phentsize < kElf64PhdrSize)
        throw BootImageError(fmt::format("{}: ELF e_phentsize {} is smaller than an Elf64_Phdr ({} bytes)", name,
                                         phentsize, kElf64PhdrSize));
    file.require(phoff, uint64_t{phnum} * phentsize, "the ELF program header table");
    for (unsigned i = 0; i < phnum; ++i) {
        const uint64_t at = phoff + uint64_t{i} * phentsize;
        const uint32_t ptype = file.u32(at, "p_type");
        if (ptype == kPtNote) {
            readNotes(file, file.u64(at + 8, "p_offset"), file.u64(at + 32, "p_filesz"), i, image.notes);
            continue;
        }
        if (ptype != kPtLoad) continue;
        Elf64Segment s;
        s.index = i;
        s.fileOffset = file.u64(at + 8, "p_offset");
        s.virtualAddress = file.u64(at + 16, "p_vaddr");
        s.physicalAddress = file.u64(at + 24, "p_paddr");
        s.fileSize = file.u64(at + 32, "p_filesz");
        s.memorySize = file.u64(at + 40, "p_memsz");
        if (s.fileSize > s.memorySize)
            throw BootImageError(fmt::format("{}: ELF program header {} has p_filesz {:#x} > p_memsz {:#x}", name, i,
                                             s.fileSize, s.memorySize));
        file.require(s.fileOffset, s.fileSize, fmt::format("the contents of ELF segment {}", i));
        if (s.physicalAddress + s.memorySize < s.physicalAddress)
            throw BootImageError(fmt::format("{}: ELF segment {} wraps around the address space", name, i));
        if (s.memorySize > 0) image.loads.push_back(s);
    }
    if (image.loads.empty()) throw BootImageError(fmt::format("{}: the ELF has no non-empty PT_LOAD segment", name));
    return image;
}

}  // namespace hvlab::hv::boot
