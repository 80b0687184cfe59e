// Which technique of the spectrum a VM uses for each concern, from how it was configured.
#pragma once

#include <array>

#include "frontend/gui/concern.hpp"
#include "hv/engine.hpp"

namespace hvlab::frontend::gui {

struct VmModeFacts {
    hv::EngineKind engine = hv::EngineKind::Interpreter;
    bool directBoot = false;     // --kernel: no BIOS
    bool kernelIrqchip = false;  // --irqchip kernel
};

// Indexed by Concern (the four of the spectrum).
std::array<Technique, kSpectrumConcerns> techniquesOf(const VmModeFacts& facts);

}  // namespace hvlab::frontend::gui
