#include "frontend/gui/png_file.hpp"

#include <fmt/format.h>
#include <stb_image_write.h>
#include <stdexcept>

namespace hvlab::frontend::gui {

void writePng(const std::string& path, int width, int height, const std::vector<uint8_t>& rgba) {
    if (rgba.size() < static_cast<size_t>(width) * static_cast<size_t>(height) * 4)
        throw std::runtime_error(fmt::format("{}: {}x{} image with only {} bytes", path, width, height, rgba.size()));
    if (!stbi_write_png(path.c_str(), width, height, 4, rgba.data(), width * 4))
        throw std::runtime_error(fmt::format("cannot write the PNG file '{}'", path));
}

}  // namespace hvlab::frontend::gui
