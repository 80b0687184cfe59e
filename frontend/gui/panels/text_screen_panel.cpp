// The 80x25 VGA text screen (0xB8000) with the 16 CGA colours, scaled to the column's width.
#include <array>
#include <imgui.h>

#include "frontend/gui/cp437.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr unsigned kColumns = 80, kRows = 25;

// The CGA palette as VGA's default DAC programs it (colour 6 is brown, not dark yellow).
constexpr std::array<ImU32, 16> kCga = {
    IM_COL32(0x00, 0x00, 0x00, 255), IM_COL32(0x00, 0x00, 0xAA, 255), IM_COL32(0x00, 0xAA, 0x00, 255),
    IM_COL32(0x00, 0xAA, 0xAA, 255), IM_COL32(0xAA, 0x00, 0x00, 255), IM_COL32(0xAA, 0x00, 0xAA, 255),
    IM_COL32(0xAA, 0x55, 0x00, 255), IM_COL32(0xAA, 0xAA, 0xAA, 255), IM_COL32(0x55, 0x55, 0x55, 255),
    IM_COL32(0x55, 0x55, 0xFF, 255), IM_COL32(0x55, 0xFF, 0x55, 255), IM_COL32(0x55, 0xFF, 0xFF, 255),
    IM_COL32(0xFF, 0x55, 0x55, 255), IM_COL32(0xFF, 0x55, 0xFF, 255), IM_COL32(0xFF, 0xFF, 0x55, 255),
    IM_COL32(0xFF, 0xFF, 0xFF, 255),
};

// UTF-8 of a code point below 0x10000 (all of code page 437), NUL-terminated.
std::array<char, 4> utf8(char32_t c) {
    if (c < 0x80) return {static_cast<char>(c), 0, 0, 0};
    if (c < 0x800) return {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F)), 0, 0};
    return {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
            static_cast<char>(0x80 | (c & 0x3F)), 0};
}

const std::array<std::array<char, 4>, 256>& glyphs() {
    static const auto table = [] {
        std::array<std::array<char, 4>, 256> t{};
        for (unsigned b = 0; b < 256; ++b) t[b] = utf8(cp437ToUnicode(static_cast<uint8_t>(b)));
        return t;
    }();
    return table;
}

void drawTextScreen(const hv::TextScreen& screen) {
    ImFont* font = ImGui::GetFont();
    const float baseSize = ImGui::GetFontSize();
    const float baseWidth = font->CalcTextSizeA(baseSize, FLT_MAX, 0, "M").x;
    const float available = ImGui::GetContentRegionAvail().x;
    const float scale = std::min(1.0f, available / (baseWidth * kColumns));
    const float size = baseSize * scale;
    const float cellW = baseWidth * scale;
    const float cellH = size;

    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->AddRectFilled(origin, ImVec2(origin.x + cellW * kColumns, origin.y + cellH * kRows), kCga[0]);
    const auto& glyph = glyphs();
    for (unsigned row = 0; row < kRows; ++row) {
        const float y = origin.y + cellH * static_cast<float>(row);
        // Backgrounds in runs of one colour, then the characters.
        unsigned runStart = 0;
        for (unsigned col = 1; col <= kColumns; ++col) {
            const unsigned bgStart = (screen.cells[row * kColumns + runStart] >> 12) & 7;
            if (col < kColumns && ((screen.cells[row * kColumns + col] >> 12) & 7) == bgStart) continue;
            if (bgStart != 0)
                draw->AddRectFilled(ImVec2(origin.x + cellW * static_cast<float>(runStart), y),
                                    ImVec2(origin.x + cellW * static_cast<float>(col), y + cellH), kCga[bgStart]);
            runStart = col;
        }
        for (unsigned col = 0; col < kColumns; ++col) {
            const uint16_t cell = screen.cells[row * kColumns + col];
            const uint8_t ch = cell & 0xff;
            if (ch == 0 || ch == ' ' || ch == 0xff) continue;
            draw->AddText(font, size, ImVec2(origin.x + cellW * static_cast<float>(col), y), kCga[(cell >> 8) & 0xf],
                          glyph[ch].data());
        }
    }
    if (screen.cursorVisible && screen.cursor < kColumns * kRows && static_cast<int>(ImGui::GetTime() * 2) % 2 == 0) {
        const float x = origin.x + cellW * static_cast<float>(screen.cursor % kColumns);
        const float y = origin.y + cellH * static_cast<float>(screen.cursor / kColumns + 1);
        draw->AddRectFilled(ImVec2(x, y - 2), ImVec2(x + cellW, y), kCga[7]);
    }
    ImGui::Dummy(ImVec2(cellW * kColumns, cellH * kRows));
}

}  // namespace

void drawTextScreenPanel(const hv::TextScreen& screen) {
    drawTextScreen(screen);
    ImGui::TextColored(colour::kDim, "VGA text at 0xB8000, cursor row %u column %u%s", screen.cursor / kColumns,
                       screen.cursor % kColumns, screen.cursorVisible ? "" : " (hidden)");
}

}  // namespace hvlab::frontend::gui
