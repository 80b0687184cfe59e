// Disassembly around RIP in the CPU's current mode (16/32/64-bit), read at CS.base + RIP through
// the guest's page tables. Clicking a line toggles a RIP breakpoint there.
#include <algorithm>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/guest_memory_reader.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr uint64_t kBytesBefore = 48;
constexpr uint64_t kBytesAfter = 160;
constexpr size_t kLinesBefore = 6;
constexpr size_t kLinesAfter = 18;

void toggleRipBreakpoint(VmSlot& vm, uint64_t rip) {
    hv::Breakpoints b = vm.breakpoints();
    const auto it = std::find(b.rips.begin(), b.rips.end(), rip);
    if (it == b.rips.end())
        b.rips.push_back(rip);
    else
        b.rips.erase(it);
    vm.setBreakpoints(std::move(b));
}

}  // namespace

void drawDisassemblyPanel(VmSlot& vm, const Disassembler& disassembler) {
    const cpu::CpuState& cpu = vm.snapshot().cpu;
    const unsigned bits = codeBits(cpu.mode());
    const uint64_t linear = codeLinearAddress(cpu);
    const uint64_t before = std::min(kBytesBefore, std::min(linear, cpu.rip));
    const GuestBytes code = readGuestLinear(*vm.session(), cpu, linear - before, before + kBytesAfter);

    // Only the bytes up to the first unreadable one are code we can show.
    const size_t readable =
        static_cast<size_t>(std::find(code.valid.begin(), code.valid.end(), false) - code.valid.begin());
    ImGui::TextColored(colour::kDim, "%u-bit code at linear %llx%s", bits, static_cast<unsigned long long>(linear),
                       cpu.pagingEnabled() ? " (paged)" : "");
    if (readable <= before) {
        ImGui::TextColored(colour::kError, "no memory at linear %llx", static_cast<unsigned long long>(linear));
        return;
    }

    VmViewState& view = vm.view;
    const std::vector<uint8_t> bytes(code.bytes.begin(), code.bytes.begin() + static_cast<std::ptrdiff_t>(readable));
    if (view.disasmRip != cpu.rip || view.disasmBits != bits || view.disasmBytes != bytes) {
        view.disasmRip = cpu.rip;
        view.disasmBits = bits;
        view.disasmBytes = bytes;
        view.disasmLines = disassembler.around(bytes, cpu.rip - before, cpu.rip, bits, kLinesBefore, kLinesAfter);
    }

    const std::vector<uint64_t>& breakRips = vm.breakpoints().rips;
    if (!ImGui::BeginTable("disasm", 4, ImGuiTableFlags_SizingFixedFit)) return;
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, 24);
    ImGui::TableSetupColumn("rip");
    ImGui::TableSetupColumn("bytes");
    ImGui::TableSetupColumn("instruction", ImGuiTableColumnFlags_WidthStretch);
    for (const DisassembledLine& line : view.disasmLines) {
        ImGui::TableNextRow();
        const bool current = line.address == cpu.rip;
        const bool breakHere = std::find(breakRips.begin(), breakRips.end(), line.address) != breakRips.end();
        if (current) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, IM_COL32(70, 70, 20, 255));
        ImGui::TableNextColumn();
        ImGui::PushID(static_cast<int>(line.address));
        if (ImGui::Selectable(breakHere ? "●" : current ? "=>" : "  ", false, ImGuiSelectableFlags_SpanAllColumns))
            toggleRipBreakpoint(vm, line.address);
        ImGui::PopID();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("click: toggle a breakpoint at rip %llx", static_cast<unsigned long long>(line.address));
        ImGui::TableNextColumn();
        ImGui::TextColored(breakHere ? colour::kError : colour::kAccent, bits == 64 ? "%016llx" : "%08llx",
                           static_cast<unsigned long long>(line.address));
        ImGui::TableNextColumn();
        ImGui::TextColored(colour::kDim, "%s", line.bytes.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(current ? colour::kBright : ImGui::GetStyleColorVec4(ImGuiCol_Text), "%s", line.text.c_str());
    }
    ImGui::EndTable();
}

}  // namespace hvlab::frontend::gui
