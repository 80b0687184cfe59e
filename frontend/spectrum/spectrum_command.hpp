// `hvlab spectrum`: the same guest and workload under every preset of the virtualization
// spectrum, one after another, with a table of what each cost (docs/spectrum.md).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hvlab::frontend {

struct SpectrumCommandOptions {
    std::string guest;                        // a tinyos disk image; default: the one built with hvlab
    std::string kernel;                       // tinyos's PVH kernel ELF for the boot P rows; default: bundled
    std::vector<std::string> workloads{"disk", "net"};
    std::vector<std::string> presets;         // default: all seven
    std::string engine;                       // "interp": every preset as its variant without KVM
    bool json = false;
    bool csv = false;
    unsigned timeoutSeconds = 180;            // per boot and per workload
};

CLI::App* addSpectrumCommand(CLI::App& app, SpectrumCommandOptions& options);
int spectrumCommand(const SpectrumCommandOptions& options);

}  // namespace hvlab::frontend
