// Breakpoints on RIP, ports, MMIO ranges and exit reasons, and "run until" one of them (a
// condition that holds for one run only).
#include <algorithm>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/exit_reason_names.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr const char* kKinds[] = {"RIP", "port", "MMIO range", "exit reason"};

// The condition the editor describes; nullopt (with a message drawn) when a value is malformed.
std::optional<hv::Breakpoints> editedCondition(VmViewState& view) {
    hv::Breakpoints b;
    uint64_t value = 0, last = 0;
    const auto parse = [](const std::string& text, uint64_t& out) {
        try {
            size_t used = 0;
            out = std::stoull(text, &used, 16);
            return used == text.size();
        } catch (const std::exception&) {
            return false;
        }
    };
    switch (view.breakKind) {
        case 0:
            if (!parse(view.breakValue, value)) return std::nullopt;
            b.rips.push_back(value);
            break;
        case 1:
            if (!parse(view.breakValue, value) || value > 0xffff) return std::nullopt;
            b.ports.push_back(static_cast<uint16_t>(value));
            break;
        case 2:
            if (!parse(view.breakValue, value)) return std::nullopt;
            if (view.breakValueLast.empty()) last = value;
            else if (!parse(view.breakValueLast, last) || last < value) return std::nullopt;
            b.mmioRanges.emplace_back(value, last);
            break;
        default: b.exitReasons[static_cast<size_t>(view.breakReason)] = true; break;
    }
    return b;
}

void drawEditor(VmSlot& vm) {
    VmViewState& view = vm.view;
    ImGui::SetNextItemWidth(120);
    ImGui::Combo("##kind", &view.breakKind, kKinds, IM_ARRAYSIZE(kKinds));
    ImGui::SameLine();
    if (view.breakKind == 3) {
        ImGui::SetNextItemWidth(170);
        if (ImGui::BeginCombo("##reason", exitReasonIdentifier(static_cast<cpu::ExitReason>(view.breakReason)))) {
            for (size_t k = 1; k < kExitReasonCount; ++k)
                if (ImGui::Selectable(exitReasonIdentifier(static_cast<cpu::ExitReason>(k)), view.breakReason == static_cast<int>(k)))
                    view.breakReason = static_cast<int>(k);
            ImGui::EndCombo();
        }
    } else {
        uint64_t ignored = 0;
        inputHexAddress(view.breakKind == 2 ? "first##bp" : "hex##bp", view.breakValue, ignored, 130);
        if (view.breakKind == 2) {
            ImGui::SameLine();
            inputHexAddress("last##bp", view.breakValueLast, ignored, 130);
        }
    }
    const std::optional<hv::Breakpoints> condition = editedCondition(view);
    ImGui::BeginDisabled(!condition || !vm.hasSession());
    if (ImGui::Button("add breakpoint") && condition) vm.setBreakpoints(mergeBreakpoints(vm.breakpoints(), *condition));
    ImGui::SameLine();
    if (ImGui::Button("run until") && condition) vm.runUntil(*condition);
    ImGui::EndDisabled();
    if (vm.runUntilPending()) {
        ImGui::SameLine();
        ImGui::TextColored(colour::kWarn, "running until it matches...");
    }
}

// One removable line per breakpoint; returns the breakpoints without the one removed.
void drawList(VmSlot& vm) {
    hv::Breakpoints b = vm.breakpoints();
    bool changed = false;
    int id = 0;
    const auto row = [&](const std::string& text) {
        ImGui::PushID(id++);
        const bool remove = ImGui::SmallButton("x");
        ImGui::PopID();
        ImGui::SameLine();
        ImGui::TextUnformatted(text.c_str());
        return remove;
    };
    for (auto it = b.rips.begin(); it != b.rips.end();) {
        if (row(fmt::format("RIP {:x}", *it))) it = b.rips.erase(it), changed = true;
        else ++it;
    }
    for (auto it = b.ports.begin(); it != b.ports.end();) {
        if (row(fmt::format("port {:x} (any IN or OUT)", *it))) it = b.ports.erase(it), changed = true;
        else ++it;
    }
    for (auto it = b.mmioRanges.begin(); it != b.mmioRanges.end();) {
        if (row(fmt::format("MMIO {:x}-{:x}", it->first, it->second))) it = b.mmioRanges.erase(it), changed = true;
        else ++it;
    }
    ImGui::TextColored(colour::kDim, "pause after exits of these reasons:");
    if (ImGui::BeginTable("reasons", 3, ImGuiTableFlags_SizingStretchSame)) {
        for (size_t k = 1; k < kExitReasonCount; ++k) {
            ImGui::TableNextColumn();
            bool on = b.exitReasons[k];
            if (ImGui::Checkbox(exitReasonIdentifier(static_cast<cpu::ExitReason>(k)), &on)) {
                b.exitReasons[k] = on;
                changed = true;
            }
        }
        ImGui::EndTable();
    }
    if (changed) vm.setBreakpoints(std::move(b));
}

}  // namespace

void drawBreakpointsPanel(VmSlot& vm) {
    ImGui::TextColored(colour::kAccent, "new condition");
    drawEditor(vm);
    ImGui::Separator();
    ImGui::TextColored(colour::kAccent, "breakpoints");
    if (vm.breakpoints().empty()) {
        ImGui::SameLine();
        ImGui::TextColored(colour::kDim, "(none)");
    }
    if (ImGui::SmallButton("clear all")) vm.setBreakpoints({});
    drawList(vm);
    ImGui::Separator();
    ImGui::TextWrapped("RIP breakpoints stop before the instruction runs; port, MMIO and exit-reason ones after the VMM "
                       "handled the exit, so the exit log and the device panels show its effect. Clicking a line of "
                       "the disassembly toggles a RIP breakpoint.");
}

}  // namespace hvlab::frontend::gui
