#include "frontend/gui/debugger_window.hpp"

#include <imgui.h>

#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

void drawMachines(DebuggerModel& model, const Disassembler& disassembler) {
    const int columns = static_cast<int>(model.vms.size());
    const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchSame;
    if (!ImGui::BeginTable("machines", columns, flags, ImGui::GetContentRegionAvail())) return;
    for (auto& vm : model.vms) {
        ImGui::TableNextColumn();
        ImGui::PushID(vm.get());
        ImGui::BeginChild("column", ImVec2(0, ImGui::GetContentRegionAvail().y), false);
        drawVmColumn(*vm, disassembler);
        ImGui::EndChild();
        ImGui::PopID();
    }
    ImGui::EndTable();
}

}  // namespace

void drawDebuggerWindow(DebuggerModel& model, const Disassembler& disassembler) {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                   ImGuiWindowFlags_NoBackground;  // the renderer's clear colour is the background
    ImGui::Begin("hvlab", nullptr, flags);

    ImGui::TextColored(colour::kBright, "hvlab debugger");
    ImGui::SameLine();
    ImGui::TextColored(colour::kDim, "%zu VM%s | %.0f frames/s (%.2f ms) | renderer %s", model.vms.size(),
                       model.vms.size() == 1 ? "" : "s", model.frame.framesPerSecond, model.frame.frameMs,
                       model.rendererName.c_str());

    if (ImGui::BeginTabBar("views")) {
        for (MainView view : {MainView::Machines, MainView::Taxonomy}) {
            const ImGuiTabItemFlags tabFlags = model.requestedView == view ? ImGuiTabItemFlags_SetSelected : 0;
            if (!ImGui::BeginTabItem(mainViewName(view), nullptr, tabFlags)) continue;
            model.view = view;
            if (view == MainView::Machines) drawMachines(model, disassembler);
            else drawTaxonomyView(model);
            ImGui::EndTabItem();
        }
        model.requestedView.reset();
        ImGui::EndTabBar();
    }
    ImGui::End();
}

}  // namespace hvlab::frontend::gui
