// The Xen spectrum (four concerns x VS/P/VH) with each VM's choice per concern, and what each
// concern cost each VM: exits and time in the VMM's handlers, attributed by exit_attribution.
#include <array>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

const std::array<ImVec4, 4> kVmColours = {
    ImVec4(0.45f, 0.75f, 1.00f, 1.0f), ImVec4(1.00f, 0.70f, 0.35f, 1.0f),
    ImVec4(0.55f, 0.90f, 0.50f, 1.0f), ImVec4(0.95f, 0.55f, 0.85f, 1.0f)};

ImVec4 vmColour(size_t index) { return kVmColours[index % kVmColours.size()]; }

void drawSpectrum(DebuggerModel& model) {
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("spectrum", 4, flags)) return;
    ImGui::TableSetupColumn("concern", ImGuiTableColumnFlags_WidthStretch, 0.7f);
    ImGui::TableSetupColumn("VS: emulated in software", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("P: paravirtualized", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("VH: virtualized in hardware", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableHeadersRow();
    for (size_t c = 0; c < kSpectrumConcerns; ++c) {
        const auto concern = static_cast<Concern>(c);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(colour::kBright, "%s", concernName(concern));
        for (size_t t = 0; t < kTechniqueCount; ++t) {
            const auto technique = static_cast<Technique>(t);
            ImGui::TableNextColumn();
            bool chosen = false;
            for (size_t v = 0; v < model.vms.size(); ++v)
                if (techniquesOf(model.vms[v]->facts())[c] == technique) chosen = true;
            if (chosen) ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, IM_COL32(50, 70, 110, 255));
            ImGui::PushStyleColor(ImGuiCol_Text, chosen ? colour::kBright : colour::kDim);
            ImGui::TextWrapped("%s", spectrumCell(concern, technique));
            ImGui::PopStyleColor();
            bool first = true;
            for (size_t v = 0; v < model.vms.size(); ++v) {
                if (techniquesOf(model.vms[v]->facts())[c] != technique) continue;
                if (!first) ImGui::SameLine();
                first = false;
                ImGui::TextColored(vmColour(v), "[%s]", model.vms[v]->label().c_str());
            }
        }
    }
    ImGui::EndTable();
}

void drawCosts(DebuggerModel& model) {
    const int columns = 1 + static_cast<int>(model.vms.size());
    if (!ImGui::BeginTable("costs", columns, ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame))
        return;
    ImGui::TableSetupColumn("concern");
    for (const auto& vm : model.vms) ImGui::TableSetupColumn(vm->label().c_str());
    ImGui::TableHeadersRow();
    std::vector<ConcernCosts> costs;
    for (const auto& vm : model.vms) costs.push_back(vm->hasSession() ? vm->concernCosts() : ConcernCosts{});
    for (size_t c = 0; c < kConcernCount; ++c) {
        const auto concern = static_cast<Concern>(c);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(concernName(concern));
        for (size_t v = 0; v < model.vms.size(); ++v) {
            VmSlot& vm = *model.vms[v];
            ImGui::TableNextColumn();
            if (!vm.hasSession()) {
                ImGui::TextColored(colour::kDim, "not running");
                continue;
            }
            const ConcernCost& cost = costs[v][c];
            const std::string technique =
                c < kSpectrumConcerns ? fmt::format("{}: ", techniqueName(techniquesOf(vm.facts())[c])) : "";
            const std::string inEngine =
                cost.inEngine ? fmt::format(" ({} in the engine)", formatCount(static_cast<double>(cost.inEngine))) : "";
            ImGui::TextColored(cost.exits ? colour::kBright : colour::kDim, "%s%s exits%s, %s in handlers",
                               technique.c_str(), formatCount(static_cast<double>(cost.exits)).c_str(), inEngine.c_str(),
                               formatDuration(cost.handlerNs).c_str());
        }
    }
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextColored(colour::kDim, "all exits");
    for (size_t v = 0; v < model.vms.size(); ++v) {
        ImGui::TableNextColumn();
        if (!model.vms[v]->hasSession()) continue;
        uint64_t exits = 0, ns = 0;
        for (const ConcernCost& c : costs[v]) {
            exits += c.exits;
            ns += c.handlerNs;
        }
        ImGui::TextColored(colour::kDim, "%s exits, %s in handlers", formatCount(static_cast<double>(exits)).c_str(),
                           formatDuration(ns).c_str());
    }
    ImGui::EndTable();
}

}  // namespace

void drawTaxonomyView(DebuggerModel& model) {
    ImGui::TextWrapped("The Xen virtualization spectrum: each concern of a machine is done in software (VS), "
                       "paravirtualized (P) or in hardware (VH). Highlighted cells are the choices of the VMs shown.");
    drawSpectrum(model);
    ImGui::Spacing();
    ImGui::TextColored(colour::kAccent, "measured cost per concern");
    ImGui::TextWrapped("Exits are attributed by reason and by the device at the port or MMIO address: PIC, PIT, RTC, "
                       "LAPIC, IOAPIC, interrupt windows and HLT -> interrupts and timers; IDE, bus-master DMA and "
                       "e1000 -> disk and network; CR, MSR, INVLPG, CPUID -> privileged; PCI configuration, fw_cfg, "
                       "POST, A20, i8042, VGA -> motherboard; the rest (COM1, debug exit, ...) -> other.");
    drawCosts(model);
}

}  // namespace hvlab::frontend::gui
