// Which technique of the spectrum a VM uses for each concern, from how it was configured.
#pragma once

#include "hv/presets.hpp"

#include <array>

#include "frontend/gui/concern.hpp"
#include "hv/engine.hpp"

namespace hvlab::frontend::gui {

struct VmModeFacts {
    hv::Modes modes;  // the way each concern is done (hv::modesOf the VM's configuration)
};

// Indexed by Concern (the four of the spectrum).
std::array<Technique, kSpectrumConcerns> techniquesOf(const VmModeFacts& facts);

}  // namespace hvlab::frontend::gui
