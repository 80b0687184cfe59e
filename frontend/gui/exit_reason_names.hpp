// Exit reasons by name for the debugger: the C++ identifier ("PortIo") the script language and
// the breakpoint editor use, besides cpu::exitReasonName's short name ("io").
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "cpu/vm_exit.hpp"

namespace hvlab::frontend::gui {

constexpr size_t kExitReasonCount = static_cast<size_t>(cpu::ExitReason::Count);

const char* exitReasonIdentifier(cpu::ExitReason reason);
// Either name, case-insensitive; nullopt for anything else.
std::optional<cpu::ExitReason> parseExitReason(std::string_view text);

}  // namespace hvlab::frontend::gui
