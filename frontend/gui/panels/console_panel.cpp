// The serial console (COM1 output so far) and an input line that sends to the guest's COM1.
#include <imgui.h>
#include <imgui_stdlib.h>

#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

void drawConsolePanel(VmSlot& vm) {
    VmViewState& view = vm.view;
    const float inputHeight = ImGui::GetFrameHeightWithSpacing() + 4;
    ImGui::BeginChild("console", ImVec2(0, -inputHeight), true, ImGuiWindowFlags_HorizontalScrollbar);
    const std::string& text = vm.console();
    ImGui::TextUnformatted(text.data(), text.data() + text.size());
    if (view.consoleAutoScroll && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 4 * ImGui::GetTextLineHeight())
        ImGui::SetScrollY(1e9f);
    ImGui::EndChild();

    ImGui::SetNextItemWidth(-170);
    bool send = ImGui::InputText("##serial", &view.serialInput, ImGuiInputTextFlags_EnterReturnsTrue);
    if (send) ImGui::SetKeyboardFocusHere(-1);  // keep typing in the line
    ImGui::SameLine();
    send = ImGui::Button("send") || send;
    ImGui::SameLine();
    ImGui::Checkbox("follow", &view.consoleAutoScroll);
    if (send) {
        vm.sendSerial(view.serialInput + "\n");
        view.serialInput.clear();
    }
}

}  // namespace hvlab::frontend::gui
