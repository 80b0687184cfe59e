#include "frontend/spectrum/spectrum_command.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "frontend/spectrum/spectrum_report.hpp"
#include "frontend/spectrum/spectrum_run.hpp"
#include "hv/kvm_engine.hpp"
#include "hv/vm.hpp"

namespace hvlab::frontend {

namespace {

// A file of the bundled firmware (tinyos.img, tinyos-kernel.elf) next to this hvlab: the build
// tree keeps them in firmware/ beside frontend/.
std::string bundledFile(const std::string& name) {
    std::error_code error;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        const auto candidate = exe.parent_path().parent_path() / "firmware" / name;
        if (std::filesystem::exists(candidate)) return candidate.string();
    }
    return std::string(HVLAB_FIRMWARE_DIR) + "/" + name;
}

}  // namespace

CLI::App* addSpectrumCommand(CLI::App& app, SpectrumCommandOptions& o) {
    std::string names;
    for (const hv::Preset& p : hv::presets()) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
    CLI::App* spectrum = app.add_subcommand(
        "spectrum", "Run a tinyos workload under every preset of the virtualization spectrum and compare the exits "
                    "and time each costs");
    spectrum->add_option("--guest", o.guest, "The tinyos disk image (default: the one built with this hvlab)");
    spectrum->add_option("--kernel", o.kernel,
                         "The tinyos kernel ELF the boot P rows (pvh) boot directly through PVH (default: "
                         "tinyos-kernel.elf built with this hvlab)");
    spectrum->add_option("--workload", o.workloads, "Workloads, comma-separated: disk, net, timer, pagefault, syscall, cpu")
        ->delimiter(',')
        ->capture_default_str();
    spectrum->add_option("--presets", o.presets, fmt::format("Presets to run, comma-separated (default: all: {})", names))
        ->delimiter(',');
    spectrum->add_option("--engine", o.engine, "interp: run every preset as its variant without KVM (VH as VS)")
        ->check(CLI::IsMember({"interp"}));
    spectrum->add_flag("--json", o.json, "Print JSON instead of tables");
    spectrum->add_flag("--csv", o.csv, "Print CSV instead of tables");
    spectrum->add_option("--timeout", o.timeoutSeconds, "Seconds allowed for each boot and each workload")
        ->capture_default_str();
    return spectrum;
}

int spectrumCommand(const SpectrumCommandOptions& o) {
    if (o.json && o.csv) {
        fmt::print(stderr, "hvlab: error: --json and --csv exclude each other\n");
        return hv::exit_status::kUsage;
    }
    SpectrumOptions options;
    options.disk = o.guest.empty() ? bundledFile("tinyos.img") : o.guest;
    options.kernel = o.kernel.empty() ? bundledFile("tinyos-kernel.elf") : o.kernel;
    if (!std::filesystem::exists(options.kernel)) {
        if (!o.kernel.empty()) {
            fmt::print(stderr, "hvlab: error: no kernel '{}'\n", options.kernel);
            return hv::exit_status::kUsage;
        }
        options.kernel.clear();  // the boot P rows say why they cannot run
    }
    options.timeout = std::chrono::seconds(o.timeoutSeconds);
    if (!std::filesystem::exists(options.disk)) {
        fmt::print(stderr, "hvlab: error: no guest image '{}' (build the firmware, or give --guest)\n", options.disk);
        return hv::exit_status::kUsage;
    }
    std::vector<const hv::Preset*> presets;
    for (const std::string& name : o.presets) {
        const hv::Preset* p = hv::findPreset(name);
        if (!p) {
            fmt::print(stderr, "hvlab: error: unknown preset '{}'\n", name);
            return hv::exit_status::kUsage;
        }
        presets.push_back(p);
    }
    if (presets.empty())
        for (const hv::Preset& p : hv::presets()) presets.push_back(&p);
    std::vector<const Workload*> workloads;
    for (const std::string& name : o.workloads) {
        const Workload* w = findWorkload(name);
        if (!w) {
            fmt::print(stderr, "hvlab: error: unknown workload '{}' (disk, net, timer, pagefault, syscall, cpu)\n", name);
            return hv::exit_status::kUsage;
        }
        workloads.push_back(w);
    }

    std::string why;
    const bool useKvm = o.engine != "interp" && hv::KvmEngine::available(&why);
    int status = hv::exit_status::kOk;
    for (const Workload* workload : workloads) {
        SpectrumReport report;
        report.guest = std::filesystem::path(options.disk).filename().string();
        report.workload = workload->name;
        report.command = workload->command;
        if (!useKvm) report.kvmNote = o.engine == "interp" ? "--engine interp" : fmt::format("no KVM here ({})", why);
        for (const hv::Preset* preset : presets) {
            if (!o.json && !o.csv) fmt::print(stderr, "hvlab spectrum: {} under {}...\n", workload->name, preset->name);
            report.rows.push_back(runSpectrumRow(*preset, *workload, options, useKvm));
        }
        if (o.json)
            printSpectrumJson(stdout, report);
        else if (o.csv)
            printSpectrumCsv(stdout, report);
        else
            printSpectrumText(stdout, report);
        std::fflush(stdout);
    }
    return status;
}

}  // namespace hvlab::frontend
