#include "frontend/gui/script_expectations.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <strings.h>

#include "frontend/gui/exit_reason_names.hpp"
#include "frontend/gui/gui_script.hpp"

namespace hvlab::frontend::gui {

namespace {

const hv::ExitRecord* newestExit(const VmSlot& vm) {
    const auto& records = vm.exitLog().records();
    return records.empty() ? nullptr : &records.back();
}

std::string describeNewestExit(const VmSlot& vm) {
    const hv::ExitRecord* r = newestExit(vm);
    if (!r) return "no exit yet";
    return fmt::format("newest exit #{} is {} at rip {:#x}: {}", r->sequence, exitReasonIdentifier(r->exit.reason),
                       r->exit.rip, cpu::describeExit(r->exit));
}

// The end of a long text (a console) for a failure message: its last `count` lines.
std::string lastLines(const std::string& text, size_t count) {
    size_t at = text.size();
    for (size_t n = 0; n <= count && at > 0; ++n) {
        const size_t newline = text.rfind('\n', at - 1);
        if (newline == std::string::npos) return text;
        at = newline;
    }
    return text.substr(at);
}

Expectation containsCheck(std::function<std::string(VmSlot&)> source, std::string needle, std::string what) {
    return Expectation{
        [source, needle](VmSlot& vm) { return source(vm).find(needle) != std::string::npos; },
        [source, what](VmSlot& vm) { return fmt::format("{}: \"{}\"", what, lastLines(source(vm), 4)); },
    };
}

}  // namespace

std::string screenText(const hv::TextScreen& screen) {
    std::string text;
    text.reserve(81 * 25);
    for (unsigned row = 0; row < 25; ++row) {
        for (unsigned col = 0; col < 80; ++col) {
            const char c = static_cast<char>(screen.cells[row * 80 + col] & 0xff);
            text.push_back(c ? c : ' ');
        }
        text.push_back('\n');
    }
    return text;
}

Expectation makeExpectation(const std::string& check, const std::string& value) {
    const auto needValue = [&] {
        if (value.empty()) throw std::invalid_argument(fmt::format("'expect ... {}' needs a value", check));
    };
    if (check == "state") {
        needValue();
        return {[value](VmSlot& vm) { return vm.hasSession() && value == hv::sessionStateName(vm.snapshot().state); },
                [](VmSlot& vm) {
                    if (!vm.hasSession()) return fmt::format("the VM has no session ({})", vm.error());
                    return fmt::format("state is {} ({})", hv::sessionStateName(vm.snapshot().state), vm.snapshot().why);
                }};
    }
    if (check == "exit-reason") {
        needValue();
        const auto reason = parseExitReason(value);
        if (!reason) throw std::invalid_argument(fmt::format("unknown exit reason '{}'", value));
        return {[r = *reason](VmSlot& vm) { return newestExit(vm) && newestExit(vm)->exit.reason == r; },
                [](VmSlot& vm) { return describeNewestExit(vm); }};
    }
    if (check == "exit-port") {
        needValue();
        const uint64_t port = parseScriptNumber(value);
        return {[port](VmSlot& vm) {
                    const hv::ExitRecord* r = newestExit(vm);
                    return r && r->exit.reason == cpu::ExitReason::PortIo && r->exit.io.port == port;
                },
                [](VmSlot& vm) { return describeNewestExit(vm); }};
    }
    if (check == "rip") {
        needValue();
        const uint64_t rip = parseScriptNumber(value);
        return {[rip](VmSlot& vm) { return vm.snapshot().cpu.rip == rip; },
                [](VmSlot& vm) { return fmt::format("rip is {:#x}", vm.snapshot().cpu.rip); }};
    }
    if (check == "mode") {
        needValue();
        return {[value](VmSlot& vm) { return strcasecmp(value.c_str(), cpu::cpuModeName(vm.snapshot().cpu.mode())) == 0; },
                [](VmSlot& vm) { return fmt::format("mode is {}", cpu::cpuModeName(vm.snapshot().cpu.mode())); }};
    }
    if (check == "exits-at-least") {
        needValue();
        const uint64_t count = parseScriptNumber(value);
        return {[count](VmSlot& vm) { return vm.snapshot().exitsRecorded >= count; },
                [](VmSlot& vm) { return fmt::format("{} exits recorded", vm.snapshot().exitsRecorded); }};
    }
    if (check == "console-contains") {
        needValue();
        return containsCheck(
            [](VmSlot& vm) {
                vm.refreshConsole();
                return vm.console();
            },
            value, "the console ends with");
    }
    if (check == "screen-contains") {
        needValue();
        return containsCheck([](VmSlot& vm) { return screenText(vm.snapshot().screen); }, value, "the screen ends with");
    }
    if (check == "why-contains") {
        needValue();
        return containsCheck([](VmSlot& vm) { return vm.snapshot().why; }, value, "the state line says");
    }
    if (check == "error-contains") {
        needValue();
        return containsCheck([](VmSlot& vm) { return vm.error(); }, value, "the VM's error is");
    }
    if (check == "has-session") {
        return {[](VmSlot& vm) { return vm.hasSession(); },
                [](VmSlot& vm) { return fmt::format("no session: {}", vm.error()); }};
    }
    throw std::invalid_argument(fmt::format(
        "unknown check '{}' (state, exit-reason, exit-port, rip, mode, exits-at-least, console-contains, "
        "screen-contains, why-contains, error-contains, has-session)",
        check));
}

}  // namespace hvlab::frontend::gui
