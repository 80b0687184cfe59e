#include "frontend/gui/sdl_imgui_window.hpp"

#include <SDL.h>
#include <filesystem>
#include <fmt/format.h>
#include <imgui.h>
#include <imgui_impl_sdl.h>
#include <imgui_impl_sdlrenderer.h>

namespace hvlab::frontend::gui {

namespace {

// A monospaced font with the glyphs the CGA text screen needs (code page 437: box drawing,
// blocks, Latin-1); ImGui's built-in font when the file is missing.
constexpr const char* kFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
constexpr float kFontPixels = 14.0f;

void loadFonts() {
    ImGuiIO& io = ImGui::GetIO();
    if (!std::filesystem::exists(kFontPath)) {
        io.Fonts->AddFontDefault();
        return;
    }
    static const ImWchar kRanges[] = {
        0x0020, 0x00ff,  // Basic Latin, Latin-1
        0x0192, 0x0192,  // ƒ
        0x0393, 0x03c9,  // the Greek letters of CP437
        0x2022, 0x2022,  0x203c, 0x203c, 0x207f, 0x207f, 0x20a7, 0x20a7,
        0x2190, 0x21a8,  // arrows
        0x2219, 0x2265,  // math
        0x2302, 0x2321,  0x2500, 0x25ff,  // box drawing, blocks, shapes
        0x263a, 0x266b,  // smileys, suits, notes
        0,
    };
    io.Fonts->AddFontFromFileTTF(kFontPath, kFontPixels, nullptr, kRanges);
}

}  // namespace

SdlImGuiWindow::SdlImGuiWindow(const WindowOptions& options) : vsync_(options.vsync) {
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0)
        throw WindowError(fmt::format("cannot initialise SDL video: {}", SDL_GetError()));
    // Without a display SDL falls back to drivers that show nothing; only take them when asked
    // for by name (SDL_VIDEODRIVER=offscreen).
    const std::string driver = SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "";
    if ((driver == "offscreen" || driver == "dummy") && !SDL_getenv("SDL_VIDEODRIVER")) {
        SDL_Quit();
        throw WindowError("no display to open a window on (SDL found only its offscreen driver)");
    }
    window_ = SDL_CreateWindow(options.title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, options.width,
                               options.height, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!window_) {
        const std::string error = SDL_GetError();
        SDL_Quit();
        throw WindowError(fmt::format("cannot create a {}x{} window: {}", options.width, options.height, error));
    }
    Uint32 flags = SDL_RENDERER_ACCELERATED;
    if (options.vsync) flags |= SDL_RENDERER_PRESENTVSYNC;
    renderer_ = SDL_CreateRenderer(window_, -1, flags);
    if (!renderer_) renderer_ = SDL_CreateRenderer(window_, -1, SDL_RENDERER_SOFTWARE);
    if (!renderer_) {
        const std::string error = SDL_GetError();
        SDL_DestroyWindow(window_);
        SDL_Quit();
        throw WindowError(fmt::format("cannot create an SDL renderer: {}", error));
    }

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // fixed layout: nothing to remember between runs
    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 0;
    style.FrameRounding = 2;
    style.CellPadding = ImVec2(4, 1);
    loadFonts();
    ImGui_ImplSDL2_InitForSDLRenderer(window_);
    ImGui_ImplSDLRenderer_Init(renderer_);
}

SdlImGuiWindow::~SdlImGuiWindow() {
    ImGui_ImplSDLRenderer_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    SDL_DestroyRenderer(renderer_);
    SDL_DestroyWindow(window_);
    SDL_Quit();
}

bool SdlImGuiWindow::pollEvents() {
    SDL_Event event;
    while (SDL_PollEvent(&event)) {
        ImGui_ImplSDL2_ProcessEvent(&event);
        if (event.type == SDL_QUIT) quit_ = true;
        if (event.type == SDL_WINDOWEVENT && event.window.event == SDL_WINDOWEVENT_CLOSE &&
            event.window.windowID == SDL_GetWindowID(window_))
            quit_ = true;
    }
    return !quit_;
}

void SdlImGuiWindow::beginFrame() {
    ImGui_ImplSDLRenderer_NewFrame();
    ImGui_ImplSDL2_NewFrame();
    ImGui::NewFrame();
}

void SdlImGuiWindow::render() {
    ImGui::Render();
    SDL_SetRenderDrawColor(renderer_, 24, 24, 28, 255);
    SDL_RenderClear(renderer_);
    ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
}

std::vector<uint8_t> SdlImGuiWindow::readPixels(int& width, int& height) const {
    if (SDL_GetRendererOutputSize(renderer_, &width, &height) != 0)
        throw WindowError(fmt::format("cannot read the renderer's size: {}", SDL_GetError()));
    std::vector<uint8_t> pixels(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
    if (SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_ABGR8888, pixels.data(), width * 4) != 0)
        throw WindowError(fmt::format("cannot read the window's pixels: {}", SDL_GetError()));
    return pixels;  // ABGR8888 on a little-endian host is R, G, B, A in memory
}

void SdlImGuiWindow::present() { SDL_RenderPresent(renderer_); }

std::string SdlImGuiWindow::rendererName() const {
    SDL_RendererInfo info{};
    return SDL_GetRendererInfo(renderer_, &info) == 0 && info.name ? info.name : "?";
}

}  // namespace hvlab::frontend::gui
