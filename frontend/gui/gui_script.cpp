#include "frontend/gui/gui_script.hpp"

#include <array>
#include <fmt/format.h>
#include <sstream>

namespace hvlab::frontend::gui {

namespace {

struct CommandShape {
    const char* name;
    size_t minArgs, maxArgs;
    bool freeTextLast;  // the last argument is the rest of the line, spaces included
};

constexpr std::array<CommandShape, 22> kCommands = {{
    {"wait-frames", 1, 1, false},
    {"wait-seconds", 1, 1, false},
    {"timeout", 1, 1, false},
    {"wait-until-exits", 2, 2, false},
    {"wait-until-state", 2, 2, false},
    {"press", 2, 2, false},
    {"break-port", 2, 2, false},
    {"break-rip", 2, 2, false},
    {"break-exit", 2, 2, false},
    {"break-mmio", 3, 3, false},
    {"clear-breaks", 1, 1, false},
    {"run-until", 3, 4, false},
    {"select-tab", 2, 2, false},
    {"select-view", 1, 1, false},
    {"filter-exits", 2, 2, false},
    {"select-exit", 2, 2, false},
    {"memory", 3, 3, false},
    {"walk", 2, 2, false},
    {"serial", 2, 2, true},
    {"screenshot", 1, 1, false},
    {"expect", 2, 3, true},
    {"quit", 0, 0, false},
}};

const CommandShape* findShape(const std::string& name) {
    for (const CommandShape& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

std::string trimmed(const std::string& s) {
    const size_t first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// Splits `line` into words; with `freeTextLast`, word number `maxWords` is the rest of the line.
std::vector<std::string> splitWords(const std::string& line, size_t maxWords, bool freeTextLast) {
    std::vector<std::string> words;
    size_t at = 0;
    while (at < line.size()) {
        at = line.find_first_not_of(" \t", at);
        if (at == std::string::npos) break;
        if (freeTextLast && words.size() + 1 == maxWords) {
            words.push_back(trimmed(line.substr(at)));
            break;
        }
        const size_t end = line.find_first_of(" \t", at);
        words.push_back(line.substr(at, end == std::string::npos ? end : end - at));
        at = end;
    }
    return words;
}

}  // namespace

std::string ScriptLine::text() const {
    std::string t = command;
    for (const std::string& a : args) t += " " + a;
    return t;
}

uint64_t parseScriptNumber(const std::string& word) {
    size_t used = 0;
    uint64_t value = 0;
    try {
        value = std::stoull(word, &used, 0);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != word.size() || word[0] == '-')
        throw std::invalid_argument(fmt::format("'{}' is not a number (decimal or 0x hexadecimal)", word));
    return value;
}

std::vector<ScriptLine> parseScript(std::istream& in, const std::string& name) {
    std::vector<ScriptLine> lines;
    std::string raw;
    unsigned number = 0;
    while (std::getline(in, raw)) {
        ++number;
        std::string line = trimmed(raw);
        if (line.empty() || line[0] == '#') continue;
        const size_t space = line.find_first_of(" \t");
        const std::string command = line.substr(0, space);
        const CommandShape* shape = findShape(command);
        if (!shape) throw ScriptError(fmt::format("{}:{}: unknown command '{}'", name, number, command));
        const std::string rest = space == std::string::npos ? "" : trimmed(line.substr(space));
        // "expect VM what [value...]": the free text starts at the third word.
        std::vector<std::string> args = splitWords(rest, shape->maxArgs, shape->freeTextLast);
        if (args.size() < shape->minArgs || args.size() > shape->maxArgs)
            throw ScriptError(fmt::format("{}:{}: '{}' takes {} argument{}, not {}", name, number, command,
                                          shape->minArgs == shape->maxArgs
                                              ? fmt::format("{}", shape->minArgs)
                                              : fmt::format("{} to {}", shape->minArgs, shape->maxArgs),
                                          shape->maxArgs == 1 ? "" : "s", args.size()));
        lines.push_back(ScriptLine{number, command, std::move(args)});
    }
    return lines;
}

}  // namespace hvlab::frontend::gui
