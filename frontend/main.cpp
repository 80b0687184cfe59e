// hvlab: an educational x86 emulator and hypervisor. `hvlab run` boots a guest headless,
// `hvlab gui` opens the debugger.
#include <CLI/CLI.hpp>
#include <string_view>
#include <spdlog/spdlog.h>

#include "frontend/gui_launcher.hpp"
#include "frontend/run_command.hpp"
#include "frontend/spectrum/spectrum_command.hpp"
#include "hv/vm.hpp"

int main(int argc, char** argv) {
    // The debugger is its own program; its options are listed by `hvlab gui --help`.
    if (argc > 1 && std::string_view(argv[1]) == "gui") return hvlab::frontend::execGui(argc, argv, 2);
    hvlab::hv::Vm::markProcessStart();
    spdlog::set_pattern("hvlab: %l: %v");

    CLI::App app{"hvlab: boot small x86 guests on an interpreter or on KVM, and watch their VM exits"};
    app.set_version_flag("--version", "hvlab 0.1.0");
    app.require_subcommand(0, 1);
    hvlab::frontend::RunOptions runOptions;
    CLI::App* run = hvlab::frontend::addRunCommand(app, runOptions);
    hvlab::frontend::SpectrumCommandOptions spectrumOptions;
    CLI::App* spectrum = hvlab::frontend::addSpectrumCommand(app, spectrumOptions);
    app.add_subcommand("gui", "The debugger: an SDL2 + Dear ImGui window with one column per VM; takes the "
                              "options of run (hvlab gui --help)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : hvlab::hv::exit_status::kUsage;
    }
    // `hvlab` alone runs the bundled guest on the interpreter.
    if (run->parsed() || app.get_subcommands().empty()) return hvlab::frontend::runCommand(runOptions);
    if (spectrum->parsed()) return hvlab::frontend::spectrumCommand(spectrumOptions);
    return 0;
}
