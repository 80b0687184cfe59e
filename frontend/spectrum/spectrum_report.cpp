#include "frontend/spectrum/spectrum_report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cpu/vm_exit.hpp"

namespace hvlab::frontend {

namespace {

constexpr size_t kReasons = static_cast<size_t>(cpu::ExitReason::Count);

uint64_t total(const std::array<uint64_t, kReasons>& counts) {
    uint64_t n = 0;
    for (uint64_t c : counts) n += c;
    return n;
}

// Exits (VMM and in-engine) that a privileged instruction caused.
uint64_t privilegedInstructionExits(const hv::ExitCounters& exits) {
    uint64_t n = 0;
    for (size_t k = 0; k < kReasons; ++k)
        if (cpu::isPrivilegedInstructionExit(static_cast<cpu::ExitReason>(k))) n += exits.byVmm[k] + exits.inEngine[k];
    return n;
}

std::string withCommas(uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string text;
    for (size_t k = 0; k < digits.size(); ++k) {
        if (k > 0 && (digits.size() - k) % 3 == 0) text += ',';
        text += digits[k];
    }
    return text;
}

// "io 273,570, hlt 301" for the non-zero counts.
std::string byReason(const std::array<uint64_t, kReasons>& counts) {
    std::string text;
    for (size_t k = 0; k < kReasons; ++k)
        if (counts[k])
            text += fmt::format("{}{} {}", text.empty() ? "" : ", ", cpu::exitReasonName(static_cast<cpu::ExitReason>(k)),
                                withCommas(counts[k]));
    return text.empty() ? "none" : text;
}

std::string modesText(const SpectrumRow& row) {
    return fmt::format("privileged {}, boot {}, interrupts {}, disk/net {}", hv::wayName(row.modes.privileged),
                       hv::wayName(row.modes.boot), hv::wayName(row.modes.interrupts), hv::wayName(row.modes.devices));
}

double exitsPerUnit(const SpectrumRow& row) {
    return row.units ? static_cast<double>(total(row.exits.byVmm)) / static_cast<double>(row.units) : 0.0;
}

// The "exits/frame" column for a workload with a unit of work (at least 12 wide).
std::string perUnitLabel(const SpectrumReport& report) { return fmt::format("exits/{}", report.unit); }

std::string perUnitHeader(const SpectrumReport& report) {
    if (report.unit.empty()) return "";
    return fmt::format(" {:>{}}", perUnitLabel(report), std::max<size_t>(12, perUnitLabel(report).size()));
}

std::string perUnitCell(const SpectrumReport& report, const SpectrumRow& row) {
    if (report.unit.empty()) return "";
    return fmt::format(" {:>{}}", row.units ? fmt::format("{:.3f}", exitsPerUnit(row)) : "-",
                       std::max<size_t>(12, perUnitLabel(report).size()));
}

const SpectrumRow* baseline(const SpectrumReport& report) {
    for (const SpectrumRow& row : report.rows)
        if (row.skipped.empty()) return &row;  // the first that ran (emulated, normally)
    return nullptr;
}

}  // namespace

void printSpectrumText(std::FILE* out, const SpectrumReport& report) {
    fmt::print(out, "hvlab spectrum: {}, workload {} ('{}' at the tinyos shell)\n", report.guest, report.workload,
               report.command);
    if (!report.kvmNote.empty())
        fmt::print(out, "  {}: presets that need KVM ran as their variants without it (every VH as VS, marked *)\n",
                   report.kvmNote);
    for (const SpectrumRow& row : report.rows) {
        fmt::print(out, "\n{} ({}): {}{}\n", row.preset->name, row.preset->likeWhat, modesText(row),
                   row.interpreterVariant ? " [variant without KVM]" : "");
        if (!row.skipped.empty()) {
            fmt::print(out, "  not run: {}\n", row.skipped);
            continue;
        }
        for (size_t k = 0; k < row.figures.size(); ++k)
            fmt::print(out, "  {:<8}{}\n", k == 0 ? "figure:" : "", row.figures[k]);
        fmt::print(out, "  exits:  {} handled by the VMM ({}); {} inside the engine\n", withCommas(total(row.exits.byVmm)),
                   byReason(row.exits.byVmm), withCommas(total(row.exits.inEngine)));
        if (row.units)
            fmt::print(out, "  per {}: {:.3f} VMM exits ({} {}s)\n", report.unit, exitsPerUnit(row), withCommas(row.units),
                       report.unit);
        if (row.switchFrames) fmt::print(out, "  switch: {} frames entered the virtual switch\n", withCommas(row.switchFrames));
        fmt::print(out, "  time:   {:.3f} s, of which {:.3f} s in exit handlers and {:.3f} s in the guest and engine\n",
                   row.runSeconds, row.handlerSeconds, row.runSeconds - row.handlerSeconds);
    }

    const SpectrumRow* base = baseline(report);
    fmt::print(out, "\n{:<15} {:<4} {:<4} {:<4} {:<4} {:<7} {:>12}{} {:>9} {:>10} {:>10} {:>8}\n", "preset", "priv",
               "boot", "irq", "dev", "engine", "VMM exits", perUnitHeader(report), "vs first", "priv insns", "handlers s",
               "run s");
    for (const SpectrumRow& row : report.rows) {
        const auto way = [&](hv::Way w, hv::Way asked) {
            return fmt::format("{}{}", hv::wayName(w), w != asked ? "*" : "");
        };
        fmt::print(out, "{:<15} {:<4} {:<4} {:<4} {:<4} ", row.preset->name, way(row.modes.privileged, row.preset->modes.privileged),
                   way(row.modes.boot, row.preset->modes.boot), way(row.modes.interrupts, row.preset->modes.interrupts),
                   way(row.modes.devices, row.preset->modes.devices));
        if (!row.skipped.empty()) {
            fmt::print(out, "not run\n");
            continue;
        }
        const uint64_t exits = total(row.exits.byVmm);
        const uint64_t baseExits = base ? total(base->exits.byVmm) : 0;
        fmt::print(out, "{:<7} {:>12}{} {:>9} {:>10} {:>10.3f} {:>8.3f}\n", row.engine, withCommas(exits),
                   perUnitCell(report, row),
                   baseExits ? fmt::format("{:.3f}", static_cast<double>(exits) / static_cast<double>(baseExits)) : "-",
                   withCommas(privilegedInstructionExits(row.exits)), row.handlerSeconds, row.runSeconds);
    }
}

void printSpectrumJson(std::FILE* out, const SpectrumReport& report) {
    nlohmann::json rows = nlohmann::json::array();
    for (const SpectrumRow& row : report.rows) {
        nlohmann::json exits = nlohmann::json::object(), inEngine = nlohmann::json::object();
        for (size_t k = 0; k < kReasons; ++k) {
            const char* name = cpu::exitReasonName(static_cast<cpu::ExitReason>(k));
            if (row.exits.byVmm[k]) exits[name] = row.exits.byVmm[k];
            if (row.exits.inEngine[k]) inEngine[name] = row.exits.inEngine[k];
        }
        rows.push_back({
            {"preset", row.preset->name},
            {"modes",
             {{"privileged", hv::wayName(row.modes.privileged)},
              {"boot", hv::wayName(row.modes.boot)},
              {"interrupts", hv::wayName(row.modes.interrupts)},
              {"devices", hv::wayName(row.modes.devices)}}},
            {"variant_without_kvm", row.interpreterVariant},
            {"engine", row.engine},
            {"ran", row.skipped.empty()},
            {"not_run_because", row.skipped},
            {"figures", row.figures},
            {"vmm_exits", total(row.exits.byVmm)},
            {"vmm_exits_by_reason", exits},
            {"privileged_instruction_exits", privilegedInstructionExits(row.exits)},
            {"engine_exits_by_reason", inEngine},
            {"run_seconds", row.runSeconds},
            {"handler_seconds", row.handlerSeconds},
            {"units", row.units},
            {"exits_per_unit", exitsPerUnit(row)},
            {"switch_frames", row.switchFrames},
        });
    }
    const nlohmann::json doc = {{"guest", report.guest},     {"workload", report.workload},
                                {"command", report.command}, {"unit", report.unit},
                                {"kvm_note", report.kvmNote}, {"presets", rows}};
    fmt::print(out, "{}\n", doc.dump(2));
}

void printSpectrumCsv(std::FILE* out, const SpectrumReport& report) {
    // RFC 4180 quoting for the free-text fields.
    const auto quoted = [](const std::string& s) {
        std::string q = "\"";
        for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    };
    fmt::print(out, "preset,privileged,boot,interrupts,devices,engine,ran,vmm_exits");
    for (size_t k = 0; k < kReasons; ++k) fmt::print(out, ",{}", cpu::exitReasonName(static_cast<cpu::ExitReason>(k)));
    fmt::print(out, ",run_seconds,handler_seconds,units,exits_per_unit,switch_frames,figure\n");
    for (const SpectrumRow& row : report.rows) {
        fmt::print(out, "{},{},{},{},{},{},{},{}", row.preset->name, hv::wayName(row.modes.privileged),
                   hv::wayName(row.modes.boot), hv::wayName(row.modes.interrupts), hv::wayName(row.modes.devices),
                   row.engine, row.skipped.empty() ? 1 : 0, total(row.exits.byVmm));
        for (size_t k = 0; k < kReasons; ++k) fmt::print(out, ",{}", row.exits.byVmm[k]);
        fmt::print(out, ",{:.6f},{:.6f},{},{:.3f},{},{}\n", row.runSeconds, row.handlerSeconds, row.units,
                   exitsPerUnit(row), row.switchFrames,
                   quoted(row.skipped.empty() ? (row.figures.empty() ? "" : row.figures.front()) : row.skipped));
    }
}

}  // namespace hvlab::frontend
