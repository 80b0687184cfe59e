// A hex view of guest memory by guest-virtual (linear) or guest-physical address.
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/guest_memory_reader.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr size_t kViewBytes = 4096;

void jumpTo(VmViewState& view, uint64_t address) {
    view.memoryAddress = address;
    view.memoryAddressText = fmt::format("{:x}", address);
}

}  // namespace

void drawMemoryPanel(VmSlot& vm) {
    VmViewState& view = vm.view;
    const cpu::CpuState& cpu = vm.snapshot().cpu;
    inputHexAddress("address##mem", view.memoryAddressText, view.memoryAddress, 150);
    ImGui::SameLine();
    if (ImGui::RadioButton("virtual", !view.memoryPhysical)) view.memoryPhysical = false;
    ImGui::SameLine();
    if (ImGui::RadioButton("physical", view.memoryPhysical)) view.memoryPhysical = true;
    if (ImGui::SmallButton("-4K")) jumpTo(view, view.memoryAddress >= kViewBytes ? view.memoryAddress - kViewBytes : 0);
    ImGui::SameLine();
    if (ImGui::SmallButton("+4K")) jumpTo(view, view.memoryAddress + kViewBytes);
    ImGui::SameLine();
    if (ImGui::SmallButton("code")) {
        view.memoryPhysical = false;
        jumpTo(view, codeLinearAddress(cpu) & ~0xfull);
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("stack")) {
        view.memoryPhysical = false;
        const uint64_t sp = cpu.mode() == cpu::CpuMode::Long64 ? cpu.gpr[cpu::RSP]
                                                                : (cpu.seg[cpu::SS].base + cpu.gpr[cpu::RSP]) & 0xffffffff;
        jumpTo(view, sp & ~0xfull);
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("text screen")) {
        view.memoryPhysical = true;
        jumpTo(view, 0xb8000);
    }
    if (!view.memoryPhysical && cpu.pagingEnabled()) {
        const mmu::WalkResult w = vm.session()->translate(view.memoryAddress);
        if (w.ok)
            ImGui::TextColored(colour::kDim, "linear %llx -> physical %llx", static_cast<unsigned long long>(view.memoryAddress),
                               static_cast<unsigned long long>(w.physical));
        else
            ImGui::TextColored(colour::kError, "linear %llx is not mapped (#PF error %x)",
                               static_cast<unsigned long long>(view.memoryAddress), w.errorCode);
    }

    // Rows of 16 bytes where the column is wide enough, else 8.
    const float charWidth = ImGui::CalcTextSize("0").x;
    const size_t perRow = ImGui::GetContentRegionAvail().x > charWidth * 84 ? 16 : 8;
    const size_t rows = kViewBytes / perRow;
    const bool wideAddresses = view.memoryAddress + kViewBytes > 0xffffffffull;
    ImGui::BeginChild("hex", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(rows));
    while (clipper.Step()) {
        const uint64_t first = view.memoryAddress + static_cast<uint64_t>(clipper.DisplayStart) * perRow;
        const size_t length = static_cast<size_t>(clipper.DisplayEnd - clipper.DisplayStart) * perRow;
        const GuestBytes data = view.memoryPhysical ? readGuestPhysical(*vm.session(), first, length)
                                                    : readGuestLinear(*vm.session(), cpu, first, length);
        for (size_t row = 0; row * perRow < length; ++row) {
            std::string line = wideAddresses ? fmt::format("{:016x} ", first + row * perRow)
                                             : fmt::format("{:08x} ", first + row * perRow);
            std::string ascii;
            for (size_t k = row * perRow; k < (row + 1) * perRow; ++k) {
                if (!data.valid[k]) {
                    line += " ??";
                    ascii.push_back(' ');
                    continue;
                }
                fmt::format_to(std::back_inserter(line), " {:02x}", data.bytes[k]);
                ascii.push_back(data.bytes[k] >= 0x20 && data.bytes[k] < 0x7f ? static_cast<char>(data.bytes[k]) : '.');
            }
            ImGui::TextUnformatted(line.c_str());
            ImGui::SameLine(0, charWidth * 2);
            ImGui::TextColored(colour::kDim, "%s", ascii.c_str());
        }
    }
    ImGui::EndChild();
}

}  // namespace hvlab::frontend::gui
