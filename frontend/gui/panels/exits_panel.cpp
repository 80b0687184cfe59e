// The exit log (time, reason, RIP, detail, handling cost) with a filter by reason, the selected
// exit's full record, a histogram of exits by reason and a plot of exits per second.
#include <algorithm>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/exit_reason_names.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

void drawFilter(VmViewState& view) {
    const char* current = view.exitFilter < 0 ? "all reasons" : exitReasonIdentifier(static_cast<cpu::ExitReason>(view.exitFilter));
    ImGui::SetNextItemWidth(170);
    if (!ImGui::BeginCombo("filter", current)) return;
    if (ImGui::Selectable("all reasons", view.exitFilter < 0)) view.exitFilter = -1;
    for (size_t k = 1; k < kExitReasonCount; ++k)
        if (ImGui::Selectable(exitReasonIdentifier(static_cast<cpu::ExitReason>(k)), view.exitFilter == static_cast<int>(k)))
            view.exitFilter = static_cast<int>(k);
    ImGui::EndCombo();
}

void drawLog(VmSlot& vm, float height) {
    VmViewState& view = vm.view;
    const auto& records = vm.exitLog().records();
    std::vector<const hv::ExitRecord*> shown;
    shown.reserve(records.size());
    for (const hv::ExitRecord& r : records)
        if (view.exitFilter < 0 || static_cast<int>(r.exit.reason) == view.exitFilter) shown.push_back(&r);

    const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_BordersOuter;
    if (!ImGui::BeginTable("exitlog", 6, flags, ImVec2(0, height))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"#", "time ms", "reason", "rip", "detail", "cost"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    const uint64_t selected = view.selectedExit ? view.selectedExit : (shown.empty() ? 0 : shown.back()->sequence);
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(shown.size()));
    while (clipper.Step()) {
        for (int k = clipper.DisplayStart; k < clipper.DisplayEnd; ++k) {
            const hv::ExitRecord& r = *shown[static_cast<size_t>(k)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const std::string id = fmt::format("{}", r.sequence);
            if (ImGui::Selectable(id.c_str(), r.sequence == selected, ImGuiSelectableFlags_SpanAllColumns))
                view.selectedExit = r.sequence == view.selectedExit ? 0 : r.sequence;  // again: follow the newest
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", r.timeNs / 1e6);
            ImGui::TableNextColumn();
            ImGui::TextColored(r.exit.inEngine ? colour::kDim : colour::kAccent, "%s", exitReasonIdentifier(r.exit.reason));
            ImGui::TableNextColumn();
            ImGui::Text("%llx", static_cast<unsigned long long>(r.exit.rip));
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cpu::describeExit(r.exit).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.exit.inEngine ? "in engine" : formatDuration(r.costNs).c_str());
        }
    }
    // Following the newest exit keeps the log at its bottom; scrolling up holds the newest shown.
    if (view.selectedExit == 0 && ImGui::IsWindowHovered() && ImGui::GetIO().MouseWheel > 0 && selected)
        view.selectedExit = selected;
    if (view.selectedExit == 0) ImGui::SetScrollY(1e9f);
    ImGui::EndTable();
}

// Every field of the record, as the engine reported it.
void drawRecord(const hv::ExitRecord& r) {
    const cpu::VmExit& e = r.exit;
    ImGui::TextColored(colour::kBright, "exit #%llu: %s (%s)%s", static_cast<unsigned long long>(r.sequence),
                       exitReasonIdentifier(e.reason), cpu::exitReasonName(e.reason),
                       e.inEngine ? ", handled in the engine" : "");
    ImGui::Text("at %.6f ms, vCPU %u, rip %llx, handling %s", r.timeNs / 1e6, r.vcpu, static_cast<unsigned long long>(e.rip),
                e.inEngine ? "in the engine" : formatDuration(r.costNs).c_str());
    std::string fields;
    switch (e.reason) {
        case cpu::ExitReason::PortIo:
            fields = fmt::format("port {:#x}, {} byte{}, {}, value {:#x}", e.io.port, e.io.size, e.io.size == 1 ? "" : "s",
                                 e.io.write ? "write (OUT)" : "read (IN)", e.io.value);
            break;
        case cpu::ExitReason::Mmio:
            fields = fmt::format("gpa {:#x}, {} bytes, {}, value {:#x}", e.mmio.gpa, e.mmio.size,
                                 e.mmio.write ? "write" : "read", e.mmio.value);
            break;
        case cpu::ExitReason::Cpuid:
            fields = fmt::format("leaf {:#x}.{:#x} -> eax {:08x} ebx {:08x} ecx {:08x} edx {:08x}", e.cpuid.leaf,
                                 e.cpuid.subleaf, e.cpuid.eax, e.cpuid.ebx, e.cpuid.ecx, e.cpuid.edx);
            break;
        case cpu::ExitReason::MsrRead:
        case cpu::ExitReason::MsrWrite: fields = fmt::format("MSR {:#x}, value {:#x}", e.msr.index, e.msr.value); break;
        case cpu::ExitReason::CrAccess:
            fields = fmt::format("CR{} {}, value {:#x}", e.cr.cr, e.cr.write ? "write" : "read", e.cr.value);
            break;
        case cpu::ExitReason::UnimplementedInsn: {
            fields = "bytes";
            for (unsigned k = 0; k < e.insn.length && k < e.insn.bytes.size(); ++k) fields += fmt::format(" {:02x}", e.insn.bytes[k]);
            break;
        }
        case cpu::ExitReason::EntryFailure:
        case cpu::ExitReason::InternalError: fields = fmt::format("code {:#x}", e.failure.code); break;
        default: fields = cpu::describeExit(e); break;
    }
    ImGui::TextWrapped("%s", fields.c_str());
}

void drawHistogram(const hv::ExitCounters& counters) {
    uint64_t peak = 1;
    for (size_t k = 0; k < kExitReasonCount; ++k) peak = std::max(peak, counters.byVmm[k] + counters.inEngine[k]);
    if (!ImGui::BeginTable("histogram", 4, ImGuiTableFlags_SizingFixedFit)) return;
    ImGui::TableSetupColumn("reason");
    ImGui::TableSetupColumn("exits");
    ImGui::TableSetupColumn("avg in VMM");
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (size_t k = 0; k < kExitReasonCount; ++k) {
        const uint64_t count = counters.byVmm[k] + counters.inEngine[k];
        if (count == 0) continue;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(colour::kAccent, "%s", exitReasonIdentifier(static_cast<cpu::ExitReason>(k)));
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(count));
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(counters.byVmm[k] ? formatDuration(counters.costNs[k] / counters.byVmm[k]).c_str() : "-");
        ImGui::TableNextColumn();
        ImGui::ProgressBar(static_cast<float>(count) / static_cast<float>(peak), ImVec2(-1, 0),
                           counters.inEngine[k] ? fmt::format("{} in engine", counters.inEngine[k]).c_str() : "");
    }
    ImGui::EndTable();
}

}  // namespace

void drawExitsPanel(VmSlot& vm) {
    VmViewState& view = vm.view;
    const hv::SessionSnapshot& s = vm.snapshot();
    drawFilter(view);
    ImGui::SameLine();
    ImGui::TextColored(colour::kDim, "%llu exits, %s kept%s", static_cast<unsigned long long>(s.exitsRecorded),
                       formatCount(static_cast<double>(vm.exitLog().records().size())).c_str(),
                       vm.exitLog().missed() ? fmt::format(" ({} went by between two frames)",
                                                           formatCount(static_cast<double>(vm.exitLog().missed())))
                                                   .c_str()
                                             : "");
    ImGui::SameLine();
    if (ImGui::SmallButton("newest")) view.selectedExit = 0;

    const float available = ImGui::GetContentRegionAvail().y;
    drawLog(vm, std::max(140.0f, available * 0.42f));

    const auto& records = vm.exitLog().records();
    const hv::ExitRecord* selected = nullptr;
    if (view.selectedExit) {
        selected = vm.exitLog().find(view.selectedExit);
    } else {
        for (auto it = records.rbegin(); it != records.rend() && !selected; ++it)
            if (view.exitFilter < 0 || static_cast<int>(it->exit.reason) == view.exitFilter) selected = &*it;
    }
    if (selected) drawRecord(*selected);
    else ImGui::TextColored(colour::kDim, "no exit selected");

    ImGui::Separator();
    const ExitRateHistory& rate = vm.exitRate();
    const std::string overlay = fmt::format("exits/s: {} (peak {})", formatCount(rate.latest()), formatCount(rate.peak()));
    ImGui::PlotLines("##rate", rate.values(), rate.count(), rate.offset(), overlay.c_str(), 0.0f,
                     std::max(10.0f, rate.peak() * 1.1f), ImVec2(ImGui::GetContentRegionAvail().x, 70));
    drawHistogram(s.counters);
}

}  // namespace hvlab::frontend::gui
