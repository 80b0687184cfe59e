// The debugger's window: SDL2 window and renderer, a Dear ImGui context with the SDL2 and
// SDL_Renderer backends, and the frame cycle (events, new frame, render, present).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

struct SDL_Window;
struct SDL_Renderer;
struct ImFont;

namespace hvlab::frontend::gui {

struct WindowOptions {
    std::string title = "hvlab debugger";
    int width = 1600, height = 900;
    bool vsync = true;
};

// Thrown when SDL cannot open a display or create the window/renderer.
class WindowError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class SdlImGuiWindow {
public:
    explicit SdlImGuiWindow(const WindowOptions& options);
    ~SdlImGuiWindow();
    SdlImGuiWindow(const SdlImGuiWindow&) = delete;
    SdlImGuiWindow& operator=(const SdlImGuiWindow&) = delete;

    // Handles pending events; returns false once the user closed the window.
    bool pollEvents();
    void beginFrame();
    // Renders the ImGui frame into the back buffer (not yet shown).
    void render();
    // The rendered back buffer as RGBA rows, top to bottom (call between render() and present()).
    std::vector<uint8_t> readPixels(int& width, int& height) const;
    void present();

    // The renderer SDL chose ("opengl", "software", ...).
    std::string rendererName() const;
    bool vsync() const { return vsync_; }

private:
    SDL_Window* window_ = nullptr;
    SDL_Renderer* renderer_ = nullptr;
    bool vsync_ = true;
    bool quit_ = false;
};

}  // namespace hvlab::frontend::gui
