// One row of `hvlab spectrum`: the bundled tinyos (or a given disk) booted under one preset, one
// workload typed at its shell, and what it cost: the exits of the workload by reason, the time
// spent in exit handlers, and the figure the workload printed itself.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hv/exit_ring.hpp"
#include "hv/presets.hpp"

namespace hvlab::frontend {

struct Workload {
    std::string name;     // disk, net, timer, pagefault, syscall, cpu
    std::string command;  // what is typed at the tinyos shell
    std::vector<std::string> figurePrefixes;  // the lines of its output that carry its figures
};

// The workloads tinyos's `bench` offers; nullptr for an unknown name.
const Workload* findWorkload(const std::string& name);
std::vector<std::string> workloadNames();

struct SpectrumRow {
    const hv::Preset* preset = nullptr;
    hv::Modes modes;            // as run (the variant without KVM where that was needed)
    bool interpreterVariant = false;
    std::string engine;         // "interp" or "kvm"
    std::string skipped;        // why it did not run (empty: it ran)
    std::vector<std::string> figures;  // the workload's own output lines
    hv::ExitCounters exits;     // of the workload only (counters after minus before)
    double runSeconds = 0;      // wall time of the workload
    double handlerSeconds = 0;  // of which in the VMM's exit handlers
};

struct SpectrumOptions {
    std::string disk;           // tinyos image
    std::string kernel;         // tinyos's kernel ELF for boot P (PVH); empty: those rows are refused
    bool forceInterpreter = false;
    std::chrono::seconds timeout{180};
};

// Boots `disk` under `preset` (the variant without KVM if `useKvm` is false; with boot P, `kernel`
// through PVH with `disk` as its virtio disk), runs `workload` and fills a row. Never throws for a guest problem: the row says what went wrong.
SpectrumRow runSpectrumRow(const hv::Preset& preset, const Workload& workload, const SpectrumOptions& options,
                           bool useKvm);

}  // namespace hvlab::frontend
