#include "frontend/gui/vm_techniques.hpp"

namespace hvlab::frontend::gui {

namespace {
Technique techniqueOf(hv::Way way) {
    switch (way) {
        case hv::Way::VS: return Technique::VS;
        case hv::Way::P: return Technique::P;
        case hv::Way::VH: return Technique::VH;
    }
    return Technique::VS;
}
}  // namespace

std::array<Technique, kSpectrumConcerns> techniquesOf(const VmModeFacts& facts) {
    std::array<Technique, kSpectrumConcerns> t{};
    t[static_cast<size_t>(Concern::Privileged)] = techniqueOf(facts.modes.privileged);
    t[static_cast<size_t>(Concern::Boot)] = techniqueOf(facts.modes.boot);
    t[static_cast<size_t>(Concern::Interrupts)] = techniqueOf(facts.modes.interrupts);
    t[static_cast<size_t>(Concern::DiskNet)] = techniqueOf(facts.modes.devices);
    return t;
}

}  // namespace hvlab::frontend::gui
