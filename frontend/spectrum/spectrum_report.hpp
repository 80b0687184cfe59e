// How `hvlab spectrum` prints its rows: a block per preset and a summary table (text), or one
// record per preset (JSON, CSV) for plots.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "frontend/spectrum/spectrum_run.hpp"

namespace hvlab::frontend {

struct SpectrumReport {
    std::string guest;     // what was booted
    std::string workload;  // its name
    std::string command;   // what was typed
    std::string unit;      // the workload's unit of work ("frame"), empty if it has none
    std::string kvmNote;   // why the presets ran as their variants without KVM (empty: KVM was used)
    std::vector<SpectrumRow> rows;
};

void printSpectrumText(std::FILE* out, const SpectrumReport& report);
void printSpectrumJson(std::FILE* out, const SpectrumReport& report);
void printSpectrumCsv(std::FILE* out, const SpectrumReport& report);

}  // namespace hvlab::frontend
