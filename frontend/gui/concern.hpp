// The brief's Xen "virtualization spectrum": four concerns of a machine, each done in software
// (VS), paravirtualized (P) or in hardware (VH).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hvlab::frontend::gui {

enum class Concern : uint8_t {
    Privileged,  // privileged instructions, page tables
    Boot,        // motherboard, legacy boot
    Interrupts,  // interrupts, timers
    DiskNet,     // disk, network
    Other,       // exits that belong to none of the four (serial console, debug, kicks, ...)
};
constexpr size_t kSpectrumConcerns = 4;  // the table's rows: Other is not one of them
constexpr size_t kConcernCount = 5;

enum class Technique : uint8_t { VS, P, VH };
constexpr size_t kTechniqueCount = 3;

const char* concernName(Concern concern);
const char* techniqueName(Technique technique);
// What the brief's table says a technique is for a concern ("emulated 8259 PIC, ..."); "n/a" where none.
const char* spectrumCell(Concern concern, Technique technique);

}  // namespace hvlab::frontend::gui
