// The debugger's script language: one action per line, for headless tests and demos.
// Parsing only; script_runner carries the lines out against the UI. See docs/gui.md.
#pragma once

#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hvlab::frontend::gui {

struct ScriptLine {
    unsigned number = 0;            // 1-based line in the file
    std::string command;            // "press"
    std::vector<std::string> args;  // the words after it; a free-text last argument is one word
    std::string text() const;       // the line as written (for messages)
};

// A malformed script; what() is "FILE:LINE: message".
class ScriptError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses a script: '#' starts a comment, blank lines are skipped, unknown commands and wrong
// argument counts are refused. `name` is the file name used in messages.
std::vector<ScriptLine> parseScript(std::istream& in, const std::string& name);

// Numbers in scripts: decimal or 0x hexadecimal. Throws std::invalid_argument with a message.
uint64_t parseScriptNumber(const std::string& word);

}  // namespace hvlab::frontend::gui
