// The part of ELF64 the PV loader needs: the file header, the PT_LOAD program headers of an
// x86-64 executable and the notes of its PT_NOTE segments (System V gABI). Sections and symbols
// are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hvlab::hv::boot {

struct Elf64Segment {
    unsigned index = 0;  // program header index, for messages
    uint64_t fileOffset = 0;
    uint64_t fileSize = 0;
    uint64_t memorySize = 0;  // fileSize..memorySize is BSS, zeroed on load
    uint64_t virtualAddress = 0;
    uint64_t physicalAddress = 0;
};

struct Elf64Note {
    std::string name;  // without the terminating NUL
    uint32_t type = 0;
    std::vector<uint8_t> desc;
};

struct Elf64Image {
    uint64_t entry = 0;  // e_entry
    std::vector<Elf64Segment> loads;
    std::vector<Elf64Note> notes;

    const Elf64Note* findNote(std::string_view name, uint32_t type) const;
};

// True for an ELF file of class ELFCLASS64.
bool isElf64(std::span<const uint8_t> bytes);

// Parses an ELF64 little-endian x86-64 executable; throws BootImageError saying what is wrong
// (not ELF, 32-bit, wrong machine, not an executable, headers, segments or notes past the end of
// the file, p_filesz > p_memsz, no loadable segment).
Elf64Image parseElf64(const std::string& name, std::span<const uint8_t> bytes);

}  // namespace hvlab::hv::boot
