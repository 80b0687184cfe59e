// The part of ELF32 a multiboot loader needs: the file header and the PT_LOAD program headers
// of an i386 executable (System V ABI, Intel386 supplement). Sections and symbols are ignored.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hvlab::hv::boot {

struct Elf32Segment {
    unsigned index = 0;  // program header index, for messages
    uint32_t fileOffset = 0;
    uint32_t fileSize = 0;
    uint32_t memorySize = 0;  // fileSize..memorySize is BSS, zeroed on load
    uint32_t virtualAddress = 0;
    uint32_t physicalAddress = 0;  // where a loader without paging puts it
};

struct Elf32Image {
    uint32_t entry = 0;  // e_entry (a virtual address)
    std::vector<Elf32Segment> loads;
};

// True if the file starts with the ELF magic.
bool hasElfMagic(std::span<const uint8_t> bytes);

// Parses an ELF32 little-endian i386 executable; throws BootImageError saying what is wrong
// (not ELF, 64-bit, wrong machine, not an executable, headers or segments past the end of
// the file, p_filesz > p_memsz, no loadable segment).
Elf32Image parseElf32(const std::string& name, std::span<const uint8_t> bytes);

}  // namespace hvlab::hv::boot
