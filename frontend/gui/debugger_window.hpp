// The debugger's one full-window ImGui window: a status line, then the Machines view (one
// column per VM) or the Taxonomy view.
#pragma once

#include "frontend/gui/debugger_model.hpp"
#include "frontend/gui/disassembler.hpp"

namespace hvlab::frontend::gui {

void drawDebuggerWindow(DebuggerModel& model, const Disassembler& disassembler);

}  // namespace hvlab::frontend::gui
