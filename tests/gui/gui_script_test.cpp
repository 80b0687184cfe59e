#include <catch2/catch.hpp>
#include <sstream>

#include "frontend/gui/gui_script.hpp"

using namespace hvlab::frontend::gui;

namespace {
std::vector<ScriptLine> parse(const std::string& text) {
    std::istringstream in(text);
    return parseScript(in, "t.gui");
}
}  // namespace

TEST_CASE("scripts are lines of a command and its words; comments and blanks are skipped", "[gui][script]") {
    const auto lines = parse("# a test\n\n  press interp step-exit  \nwait-frames 3\nquit\n");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].number == 3);
    CHECK(lines[0].command == "press");
    CHECK(lines[0].args == std::vector<std::string>{"interp", "step-exit"});
    CHECK(lines[1].args == std::vector<std::string>{"3"});
    CHECK(lines[2].command == "quit");
    CHECK(lines[2].args.empty());
}

TEST_CASE("the last word of expect and serial is the rest of the line", "[gui][script]") {
    const auto lines = parse("expect interp console-contains hvlab  firstboot done\nserial 1 help me\\n\n"
                             "expect kvm has-session\n");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].args == std::vector<std::string>{"interp", "console-contains", "hvlab  firstboot done"});
    CHECK(lines[1].args == std::vector<std::string>{"1", "help me\\n"});
    CHECK(lines[2].args == std::vector<std::string>{"kvm", "has-session"});
}

TEST_CASE("unknown commands and wrong argument counts are refused with file and line", "[gui][script]") {
    CHECK_THROWS_WITH(parse("wait-frames 1\nfly away\n"), "t.gui:2: unknown command 'fly'");
    CHECK_THROWS_WITH(parse("press interp\n"), "t.gui:1: 'press' takes 2 arguments, not 1");
    CHECK_THROWS_WITH(parse("quit now\n"), "t.gui:1: 'quit' takes 0 arguments, not 1");
    CHECK_THROWS_WITH(parse("run-until interp\n"), "t.gui:1: 'run-until' takes 3 to 4 arguments, not 1");
}

TEST_CASE("script numbers are decimal or hexadecimal", "[gui][script]") {
    CHECK(parseScriptNumber("42") == 42);
    CHECK(parseScriptNumber("0x3f8") == 0x3f8);
    CHECK_THROWS_AS(parseScriptNumber("3f8"), std::invalid_argument);
    CHECK_THROWS_AS(parseScriptNumber("-1"), std::invalid_argument);
    CHECK_THROWS_AS(parseScriptNumber(""), std::invalid_argument);
}
