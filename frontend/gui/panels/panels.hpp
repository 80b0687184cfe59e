// The panels of a VM's column, one function each (one file each), and the window-wide views.
// Each draws into the current ImGui window from what the VmSlot fetched this frame.
#pragma once

#include "frontend/gui/debugger_model.hpp"
#include "frontend/gui/disassembler.hpp"
#include "frontend/gui/vm_slot.hpp"

namespace hvlab::frontend::gui {

void drawRegistersPanel(const hv::SessionSnapshot& snapshot);
void drawDisassemblyPanel(VmSlot& vm, const Disassembler& disassembler);
void drawMemoryPanel(VmSlot& vm);
void drawPageWalkPanel(VmSlot& vm);
void drawExitsPanel(VmSlot& vm);
void drawDevicesPanel(const hv::SessionSnapshot& snapshot);
void drawConsolePanel(VmSlot& vm);
void drawTextScreenPanel(const hv::TextScreen& screen);
void drawBreakpointsPanel(VmSlot& vm);
// The header and buttons of a column, and its tabs.
void drawVmColumn(VmSlot& vm, const Disassembler& disassembler);
// The spectrum table with each VM's choices and the measured cost per concern.
void drawTaxonomyView(DebuggerModel& model);

}  // namespace hvlab::frontend::gui
