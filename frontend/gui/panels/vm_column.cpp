// One VM's column: who it is and what it does now, the run controls, and its tabs.
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

void drawHeader(VmSlot& vm) {
    const hv::SessionSnapshot& s = vm.snapshot();
    ImGui::TextColored(colour::kBright, "%s", vm.label().c_str());
    ImGui::SameLine();
    ImGui::TextColored(colour::kDim, "%s", vm.session()->engineDescription().c_str());
    ImGui::SameLine();
    ImGui::TextColored(stateColour(s.state), "[%s]", hv::sessionStateName(s.state));
    ImGui::TextWrapped("%s", s.why.c_str());
    ImGui::TextColored(colour::kDim, "rip %llx | %s instr | %s exits (%s/s) | guest %s | host %.1f s",
                       static_cast<unsigned long long>(s.cpu.rip), formatCount(static_cast<double>(s.instructions)).c_str(),
                       formatCount(static_cast<double>(s.exitsRecorded)).c_str(), formatCount(vm.exitRate().latest()).c_str(),
                       formatDuration(s.guestNs).c_str(), s.hostSeconds);
}

void drawControls(VmSlot& vm) {
    const hv::SessionState state = vm.snapshot().state;
    const bool running = state == hv::SessionState::Running;
    ImGui::BeginDisabled(state == hv::SessionState::Stopped);
    if (running ? ImGui::Button("Pause") : ImGui::Button("Run")) running ? vm.pause() : vm.resume();
    ImGui::SameLine();
    ImGui::BeginDisabled(running);
    if (ImGui::Button("Step")) vm.stepInstruction();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("one guest instruction");
    ImGui::SameLine();
    if (ImGui::Button("Step exit")) vm.stepExit();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("run to the next exit the VMM handles");
    ImGui::EndDisabled();
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Reset")) vm.reset();
    if (!vm.breakpoints().empty()) {
        ImGui::SameLine();
        ImGui::TextColored(colour::kError, "breakpoints: %zu rip, %zu port, %zu mmio", vm.breakpoints().rips.size(),
                           vm.breakpoints().ports.size(), vm.breakpoints().mmioRanges.size());
    }
}

void drawTab(VmSlot& vm, VmTab tab, const Disassembler& disassembler) {
    switch (tab) {
        case VmTab::Cpu:
            drawRegistersPanel(vm.snapshot());
            ImGui::Separator();
            drawDisassemblyPanel(vm, disassembler);
            break;
        case VmTab::Memory:
            drawPageWalkPanel(vm);
            ImGui::Separator();
            drawMemoryPanel(vm);
            break;
        case VmTab::Exits: drawExitsPanel(vm); break;
        case VmTab::Devices: drawDevicesPanel(vm.snapshot()); break;
        case VmTab::Console: drawConsolePanel(vm); break;
        case VmTab::Screen: drawTextScreenPanel(vm.snapshot().screen); break;
        case VmTab::Breakpoints: drawBreakpointsPanel(vm); break;
    }
}

}  // namespace

void drawVmColumn(VmSlot& vm, const Disassembler& disassembler) {
    ImGui::PushID(&vm);
    if (!vm.hasSession()) {
        ImGui::TextColored(colour::kBright, "%s", vm.label().c_str());
        ImGui::SameLine();
        ImGui::TextColored(colour::kError, "[not running]");
        ImGui::PushStyleColor(ImGuiCol_Text, colour::kError);
        ImGui::TextWrapped("%s", vm.error().c_str());
        ImGui::PopStyleColor();
        ImGui::TextWrapped("This VM could not be built; the other columns are not affected.");
        ImGui::PopID();
        return;
    }
    drawHeader(vm);
    drawControls(vm);
    VmViewState& view = vm.view;
    if (ImGui::BeginTabBar("tabs")) {
        for (size_t k = 0; k < kVmTabCount; ++k) {
            const auto tab = static_cast<VmTab>(k);
            const ImGuiTabItemFlags flags = view.requestedTab == tab ? ImGuiTabItemFlags_SetSelected : 0;
            if (!ImGui::BeginTabItem(vmTabName(tab), nullptr, flags)) continue;
            view.shownTab = tab;
            ImGui::BeginChild("content", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
            drawTab(vm, tab, disassembler);
            ImGui::EndChild();
            ImGui::EndTabItem();
        }
        view.requestedTab.reset();
        ImGui::EndTabBar();
    }
    ImGui::PopID();
}

}  // namespace hvlab::frontend::gui
