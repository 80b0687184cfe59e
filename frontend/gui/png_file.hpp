// Writes an RGBA image to a PNG file (stb_image_write from Debian's libstb).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hvlab::frontend::gui {

// Throws std::runtime_error when the file cannot be written.
void writePng(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba);

}  // namespace hvlab::frontend::gui
