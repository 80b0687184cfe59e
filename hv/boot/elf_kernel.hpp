// The part of an x86 ELF kernel (32-bit i386 or 64-bit x86-64) a loader that puts segments at
// their physical addresses needs: the PT_LOAD program headers and the notes of the PT_NOTE
// segments (System V gABI, "Program Header" and "Note Section"). Sections and symbols are
// ignored. The PVH loader finds Xen's entry note here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hvlab::hv::boot {

struct ElfLoadSegment {
    unsigned index = 0;  // program header index, for messages
    uint64_t fileOffset = 0;
    uint64_t fileSize = 0;
    uint64_t memorySize = 0;  // fileSize..memorySize is BSS, zeroed on load
    uint64_t virtualAddress = 0;
    uint64_t physicalAddress = 0;
};

struct ElfNote {
    std::string name;  // without the terminating NUL ("Xen", "GNU", "hvlab")
    uint32_t type = 0;
    uint64_t descOffset = 0;  // file offset of the descriptor
    std::vector<uint8_t> desc;
};

struct ElfKernel {
    bool is64 = false;  // ELFCLASS64 (x86-64) or ELFCLASS32 (i386)
    uint64_t entry = 0;  // e_entry (a virtual address)
    std::vector<ElfLoadSegment> loads;
    std::vector<ElfNote> notes;

    // The first note with this owner and type, if any.
    const ElfNote* findNote(std::string_view name, uint32_t type) const;
};

// True if the file starts with the ELF magic.
bool hasElfMagic(std::span<const uint8_t> bytes);

// Parses a little-endian x86 ELF executable of either class; throws BootImageError naming what is
// wrong (not ELF, wrong machine for its class, not ET_EXEC, headers, segments or notes past the
// end of the file, p_filesz > p_memsz, no loadable segment).
ElfKernel parseElfKernel(const std::string& name, std::span<const uint8_t> bytes);

}  // namespace hvlab::hv::boot
