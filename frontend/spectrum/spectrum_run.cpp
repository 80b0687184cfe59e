#include "frontend/spectrum/spectrum_run.hpp"

#include <array>
#include <memory>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "frontend/console_transcript.hpp"
#include "frontend/run_command.hpp"
#include "frontend/vm_config_builder.hpp"
#include "hv/vm.hpp"

namespace hvlab::frontend {

namespace {

const std::array<Workload, 6> kWorkloads{{
    {"disk", "bench disk", {"disk PIO:", "disk DMA:", "disk virtio-blk:"}},
    {"net", "bench net 10.0.0.3", {"net ICMP echo:", "net ARP request:"}},
    {"timer", "bench timer", {"timer: "}},
    {"pagefault", "bench pagefault", {"pagefault:"}},
    {"syscall", "bench syscall", {"syscall:"}},
    {"cpu", "bench cpu", {"cpu:"}},
}};

constexpr const char* kPrompt = "tinyos> ";

// A VM on its own thread, stopped and joined however the row ends.
struct RunningVm {
    ConsoleTranscript console;
    std::unique_ptr<hv::Vm> vm;
    std::thread thread;
    ~RunningVm() {
        if (!thread.joinable()) return;
        vm->stop(hv::exit_status::kInterrupted, "hvlab spectrum: the workload is over");
        thread.join();
    }
};

std::vector<std::string> figureLines(const std::string& output, const Workload& workload) {
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        for (const std::string& prefix : workload.figurePrefixes)
            if (line.rfind(prefix, 0) == 0) lines.push_back(line);
    }
    return lines;
}

hv::ExitCounters difference(const hv::ExitCounters& after, const hv::ExitCounters& before) {
    hv::ExitCounters d;
    for (size_t k = 0; k < d.byVmm.size(); ++k) {
        d.byVmm[k] = after.byVmm[k] - before.byVmm[k];
        d.inEngine[k] = after.inEngine[k] - before.inEngine[k];
        d.costNs[k] = after.costNs[k] - before.costNs[k];
    }
    return d;
}

}  // namespace

const Workload* findWorkload(const std::string& name) {
    for (const Workload& w : kWorkloads)
        if (w.name == name) return &w;
    return nullptr;
}

std::vector<std::string> workloadNames() {
    std::vector<std::string> names;
    for (const Workload& w : kWorkloads) names.push_back(w.name);
    return names;
}

SpectrumRow runSpectrumRow(const hv::Preset& preset, const Workload& workload, const SpectrumOptions& options,
                           bool useKvm) {
    SpectrumRow row;
    row.preset = &preset;
    row.modes = useKvm ? preset.modes : hv::interpreterVariant(preset.modes);
    row.interpreterVariant = !(row.modes == preset.modes);
    row.engine = hv::applyModesEngine(row.modes) == hv::EngineKind::Kvm ? "kvm" : "interp";
    const bool directBoot = row.modes.boot == hv::Way::P;
    if (const auto why = hv::whyInvalid(row.modes, !options.kernel.empty())) {
        row.skipped = *why;
        return row;
    }

    const bool net = workload.name == "net";
    const unsigned vmCount = net ? 2 : 1;  // `bench net` pings a second VM
    RunOptions o;
    o.disks = {options.disk};
    if (directBoot) o.kernel = options.kernel;  // PVH: no BIOS, the kernel entered directly
    o.snapshot = true;
    o.nic = net ? "e1000" : "";
    // Latencies between VMs need idle time to pass at host speed; the rest is quicker without.
    o.idle = net ? "realtime" : "fast";
    VmSetup setup;  // its switch outlives the VMs
    std::vector<std::unique_ptr<RunningVm>> vms;
    try {
        setup = buildVmSetup(o, vmCount);
        hv::applyModes(row.modes, setup.config);
        for (unsigned k = 0; k < vmCount; ++k) {
            auto running = std::make_unique<RunningVm>();
            hv::VmConfig config = configForVm(setup, k);
            ConsoleTranscript* console = &running->console;
            config.serialOut = [console](uint8_t byte) { console->append(byte); };
            running->vm = std::make_unique<hv::Vm>(std::move(config));
            vms.push_back(std::move(running));
        }
        for (auto& r : vms) r->thread = std::thread([vm = r->vm.get()] { vm->run(); });
        const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
        for (auto& r : vms)
            if (!r->console.waitFor(kPrompt, 1, timeout)) {
                row.skipped = fmt::format("no tinyos shell prompt within {} s", options.timeout.count());
                return row;
            }
        hv::Vm& vm = *vms[0]->vm;
        const hv::ExitCounters before = vm.exits().counters();
        const auto began = std::chrono::steady_clock::now();
        vm.queueSerialInput(workload.command + "\n");
        if (!vms[0]->console.waitFor(kPrompt, 2, timeout)) {
            row.skipped = fmt::format("'{}' did not finish within {} s", workload.command, options.timeout.count());
            return row;
        }
        row.runSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        row.exits = difference(vm.exits().counters(), before);
        uint64_t handlerNs = 0;
        for (uint64_t ns : row.exits.costNs) handlerNs += ns;
        row.handlerSeconds = static_cast<double>(handlerNs) / 1e9;
        row.figures = figureLines(vms[0]->console.text(), workload);
        if (row.figures.empty()) row.skipped = fmt::format("'{}' printed no figure", workload.command);
        for (auto& r : vms) r->vm->queueSerialInput("poweroff\n");
    } catch (const std::exception& e) {
        row.skipped = e.what();
    }
    return row;
}

}  // namespace hvlab::frontend
