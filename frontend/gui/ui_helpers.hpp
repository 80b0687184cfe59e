// Small drawing helpers shared by the panels: colours, named bit fields, hex address inputs.
#pragma once

#include <cstdint>
#include <imgui.h>
#include <span>
#include <string>

#include "hv/vm_session.hpp"

namespace hvlab::frontend::gui {

namespace colour {
inline const ImVec4 kDim{0.50f, 0.50f, 0.55f, 1.0f};
inline const ImVec4 kBright{0.95f, 0.95f, 0.80f, 1.0f};
inline const ImVec4 kAccent{0.45f, 0.75f, 1.00f, 1.0f};
inline const ImVec4 kGood{0.45f, 0.85f, 0.45f, 1.0f};
inline const ImVec4 kWarn{1.00f, 0.75f, 0.30f, 1.0f};
inline const ImVec4 kError{1.00f, 0.40f, 0.40f, 1.0f};
}  // namespace colour

struct NamedBit {
    uint64_t mask;
    const char* name;
};

// "CF ZF IF ...": set bits bright, clear ones dim, on the current line.
void drawBitNames(uint64_t value, std::span<const NamedBit> bits);

// A hexadecimal address field; updates `value` when the text parses. True when it changed.
bool inputHexAddress(const char* label, std::string& text, uint64_t& value, float width);

ImVec4 stateColour(hv::SessionState state);

// "1.23 ms", "850 ns", "2.1 s".
std::string formatDuration(uint64_t ns);
// "12.3k", "4.56M".
std::string formatCount(double value);

// A label/value row in a two-column table.
void tableRow(const char* label, const std::string& value);

}  // namespace hvlab::frontend::gui
