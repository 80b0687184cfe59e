// IBM code page 437, the VGA text mode character set, to Unicode (for drawing the text screen).
#pragma once

#include <cstdint>

namespace hvlab::frontend::gui {

char32_t cp437ToUnicode(uint8_t byte);

}  // namespace hvlab::frontend::gui
