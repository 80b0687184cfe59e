#include "frontend/gui/gui_command.hpp"

#include "hv/presets.hpp"

#include <fmt/format.h>
#include <fstream>
#include <map>
#include <optional>
#include <spdlog/spdlog.h>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include "frontend/gui/debugger_loop.hpp"
#include "frontend/gui/gui_script.hpp"
#include "frontend/vm_config_builder.hpp"

namespace hvlab::frontend {

namespace {

// How much nicer than the UI thread the VM threads are (nice values add up to 19).
constexpr int kVmNiceness = 5;

void fail(const std::string& message) { fmt::print(stderr, "hvlab: error: {}\n", message); }

std::vector<std::string> splitList(const std::string& list) {
    std::vector<std::string> items;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) items.push_back(item);
    return items;
}

// "interp", "kvm", and for a second VM of the same engine "interp-2".
// A --side-by-side entry that names a preset (not an engine), or nullptr.
const hv::Preset* columnPreset(const std::string& entry) {
    if (entry == "interp" || entry == "kvm") return nullptr;
    return hv::findPreset(entry == "kvm-preset" ? "kvm" : entry);
}

std::vector<std::string> labelsFor(const std::vector<std::string>& engines, const RunOptions& run) {
    std::vector<std::string> labels;
    std::map<std::string, unsigned> seen;
    for (const std::string& column : engines) {
        const std::string engine = !column.empty() ? column : !run.preset.empty() ? run.preset
                                                            : run.engine.empty() ? "interp" : run.engine;
        const unsigned n = ++seen[engine];
        labels.push_back(n == 1 ? engine : fmt::format("{}-{}", engine, n));
    }
    return labels;
}

}  // namespace

void addGuiOptions(CLI::App& gui, GuiOptions& o) {
    addRunOptions(gui, o.run);
    gui.add_option("--side-by-side", o.sideBySide,
                    "One VM per listed engine or preset from the same options, side by side, e.g. interp,kvm or "
                    "emulated,hvm-pv-drivers,kvm (docs/presets.md)");
    gui.add_flag("--start-paused", o.startPaused, "Build the VMs paused at their first instruction (as QEMU's -S)");
    gui.add_option("--script", o.script, "Run the UI actions and checks of this file, then close (docs/gui.md); "
                                          "exits non-zero when an expectation fails");
    gui.add_option("--screenshot-dir", o.screenshotDir, "Where the script's screenshots go")->capture_default_str();
    gui.add_option("--bench-frames", o.benchFrames, "Draw this many frames without vsync while the VMs run, "
                                                     "then print the frame rate");
    gui.add_option("--width", o.width, "Window width")->check(CLI::Range(640, 8192))->capture_default_str();
    gui.add_option("--height", o.height, "Window height")->check(CLI::Range(400, 8192))->capture_default_str();
}

int guiCommand(const GuiOptions& o) {
    if (o.run.vms > 1) {
        fail("--vms is not supported by gui yet; use --side-by-side interp,interp,... to show several VMs");
        return hv::exit_status::kUsage;
    }
    // Each column: an engine (interp, kvm) or a preset name; the default is the options' own choice.
    // "interp" and "kvm" are engines (the kvm preset is "kvm-preset" here); "" is the options as given.
    std::vector<std::string> engines = o.sideBySide.empty() ? std::vector<std::string>{""} : splitList(o.sideBySide);
    if (engines.empty() || engines.size() > 4) {
        fail(fmt::format("--side-by-side '{}': list 1 to 4 engines (interp, kvm) or presets", o.sideBySide));
        return hv::exit_status::kUsage;
    }

    std::unique_ptr<gui::ScriptRunner> script;
    if (!o.script.empty()) {
        std::ifstream in(o.script);
        if (!in) {
            fail(fmt::format("cannot open the script '{}'", o.script));
            return hv::exit_status::kUsage;
        }
        try {
            script = std::make_unique<gui::ScriptRunner>(gui::parseScript(in, o.script), o.script, o.screenshotDir);
        } catch (const gui::ScriptError& e) {
            fail(e.what());
            return hv::exit_status::kUsage;
        }
    }

    VmSetup setup;
    gui::DebuggerModel model;
    try {
        // The irqchip check is per VM below: with --side-by-side interp,kvm only the interp column refuses it.
        RunOptions shared = o.run;
        shared.irqchip = "emulated";
        setup = buildVmSetup(shared, 1);
        setup.config.kernelIrqchip = o.run.irqchip == "kernel";
        setup.config.kvmDevice = o.run.kvmDevice.c_str();  // not the copy's, which goes at the end of this block
        // A person watches: idle guests wait in host time (and leave the CPU to the window).
        if (o.run.idle.empty()) setup.config.idleAtHostRate = true;
        if (engines.size() > 1)
            for (hv::DiskConfig& d : setup.config.disks) d.snapshot = true;  // the VMs share the files
        for (const std::string& engine : engines)
            if (!columnPreset(engine)) engineFromName(engine);
    } catch (const UsageError& e) {
        fail(e.what());
        return hv::exit_status::kUsage;
    }
    if (o.run.traceExits)
        setup.config.onExit = [](const hv::ExitRecord& r) {
            fmt::print(stderr, "exit {:>6} {:>10.3f} ms  {:<14} rip={:#010x}  {}  ({} ns)\n", r.sequence, r.timeNs / 1e6,
                       cpu::exitReasonName(r.exit.reason), r.exit.rip, cpu::describeExit(r.exit), r.costNs);
        };

    // The VMs are built on a helper thread at a lower priority: their threads inherit it, so
    // guests running flat out never starve the window (and the renderer's threads).
    const std::vector<std::string> labels = labelsFor(engines, o.run);
    std::thread builder([&] {
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kVmNiceness);
        for (size_t k = 0; k < engines.size(); ++k) {
            hv::VmConfig config = configForVm(setup, static_cast<unsigned>(k));
            std::string presetError;
            std::optional<hv::Modes> refusedModes;  // a preset that cannot be built: what it asked for
            if (const hv::Preset* preset = columnPreset(engines[k])) {
                // --engine interp: the preset's variant without KVM (every VH as VS).
                const hv::Modes modes = o.run.engine == "interp" ? hv::interpreterVariant(preset->modes) : preset->modes;
                if (const auto why = hv::whyInvalid(modes, config.directBoot.has_value()))
                {
                    presetError = fmt::format("preset {}: {}", preset->name, *why);
                    refusedModes = modes;
                }
                else
                    hv::applyModes(modes, config);
            } else if (!engines[k].empty()) {
                config.engine = engineFromName(engines[k]);
            }
            // Booting a kernel after the hvlab BIOS's POST is still the VS column (firmware, emulated
            // chipset); only a kernel entered with no firmware at all is the P way of booting.
            const gui::VmModeFacts facts{refusedModes.value_or(hv::modesOf(config))};
            try {
                if (!presetError.empty()) throw UsageError(presetError);
                checkEngineChoice(config);
            } catch (const UsageError& e) {
                model.vms.push_back(std::make_unique<gui::VmSlot>(labels[k], facts, e.what()));
                continue;
            }
            model.vms.push_back(std::make_unique<gui::VmSlot>(labels[k], std::move(config), facts, !o.startPaused));
        }
    });
    builder.join();

    if (o.benchFrames) spdlog::set_level(spdlog::level::warn);  // a line per guest restart would swamp the figures
    gui::LoopOptions loop;
    loop.window.width = o.width;
    loop.window.height = o.height;
    loop.script = std::move(script);
    loop.benchFrames = o.benchFrames;
    loop.timeoutSeconds = o.run.timeoutSeconds;
    const int status = gui::runDebuggerLoop(model, std::move(loop));
    model.vms.clear();  // the VMs go before the network they may be plugged into
    return status;
}

}  // namespace hvlab::frontend
