// hvlab-gui: the debugger's program. `hvlab gui ARGS` runs `hvlab-gui ARGS` (gui_launcher.hpp).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "frontend/gui/gui_command.hpp"
#include "hv/vm.hpp"

int main(int argc, char** argv) {
    hvlab::hv::Vm::markProcessStart();
    spdlog::set_pattern("hvlab: %l: %v");

    CLI::App app{"hvlab gui: the debugger, an SDL2 + Dear ImGui window with one column per VM (registers, "
                 "disassembly, memory, page walks, exits, devices, console, text screen) and the "
                 "virtualization taxonomy; see docs/gui.md",
                 "hvlab gui"};
    hvlab::frontend::GuiOptions options;
    hvlab::frontend::addGuiOptions(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : hvlab::hv::exit_status::kUsage;
    }
    return hvlab::frontend::guiCommand(options);
}
