// `hvlab gui`: the ImGui debugger. Takes the options of `run`, plus the VMs to show side by
// side, a script for headless runs, and a frame-rate benchmark. It is its own program,
// hvlab-gui, which `hvlab gui` starts (gui_launcher.hpp), so `hvlab run` never maps SDL and the
// libraries behind it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "frontend/run_command.hpp"

namespace hvlab::frontend {

struct GuiOptions {
    RunOptions run;
    std::string sideBySide;      // "interp,kvm": one VM per engine; empty: one VM with --engine
    bool startPaused = false;    // VMs wait for Run (or the script) before their first instruction
    std::string script;          // a script file (docs/gui.md); the window closes when it ends
    std::string screenshotDir = ".";
    unsigned benchFrames = 0;
    int width = 1600, height = 900;
};

// Adds the debugger's options (and those of `run`) to hvlab-gui's command line.
void addGuiOptions(CLI::App& app, GuiOptions& options);
int guiCommand(const GuiOptions& options);

}  // namespace hvlab::frontend
