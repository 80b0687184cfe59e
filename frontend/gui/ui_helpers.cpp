#include "frontend/gui/ui_helpers.hpp"

#include <charconv>
#include <fmt/format.h>
#include <imgui_stdlib.h>

namespace hvlab::frontend::gui {

void drawBitNames(uint64_t value, std::span<const NamedBit> bits) {
    bool first = true;
    for (const NamedBit& bit : bits) {
        if (!first) ImGui::SameLine(0, 6);
        first = false;
        ImGui::TextColored((value & bit.mask) ? colour::kBright : colour::kDim, "%s", bit.name);
    }
}

bool inputHexAddress(const char* label, std::string& text, uint64_t& value, float width) {
    ImGui::SetNextItemWidth(width);
    if (!ImGui::InputText(label, &text, ImGuiInputTextFlags_CharsHexadecimal | ImGuiInputTextFlags_CharsNoBlank))
        return false;
    uint64_t parsed = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    if (text.starts_with("0x") || text.starts_with("0X")) begin += 2;
    const auto result = std::from_chars(begin, end, parsed, 16);
    if (result.ec != std::errc{} || result.ptr != end) return false;
    value = parsed;
    return true;
}

ImVec4 stateColour(hv::SessionState state) {
    switch (state) {
        case hv::SessionState::Running: return colour::kGood;
        case hv::SessionState::Paused: return colour::kWarn;
        case hv::SessionState::Stopped: return colour::kError;
    }
    return colour::kDim;
}

std::string formatDuration(uint64_t ns) {
    if (ns < 10'000) return fmt::format("{} ns", ns);
    if (ns < 10'000'000) return fmt::format("{:.1f} us", ns / 1e3);
    if (ns < 10'000'000'000) return fmt::format("{:.2f} ms", ns / 1e6);
    return fmt::format("{:.2f} s", ns / 1e9);
}

std::string formatCount(double value) {
    if (value < 1e4) return fmt::format("{:.0f}", value);
    if (value < 1e6) return fmt::format("{:.1f}k", value / 1e3);
    return fmt::format("{:.2f}M", value / 1e6);
}

void tableRow(const char* label, const std::string& value) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextColored(colour::kDim, "%s", label);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(value.c_str());
}

}  // namespace hvlab::frontend::gui
