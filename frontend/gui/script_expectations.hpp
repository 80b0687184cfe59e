// The checks `expect VM CHECK [VALUE]` can make, each reading what the VM's column shows.
#pragma once

#include <functional>
#include <string>

#include "frontend/gui/vm_slot.hpp"

namespace hvlab::frontend::gui {

struct Expectation {
    std::function<bool(VmSlot&)> holds;
    std::function<std::string(VmSlot&)> actual;  // what was seen, for the failure message
};

// Throws std::invalid_argument for an unknown check or a malformed value.
Expectation makeExpectation(const std::string& check, const std::string& value);

// The text screen as 25 lines of 80 characters (code page 437 bytes as they are).
std::string screenText(const hv::TextScreen& screen);

}  // namespace hvlab::frontend::gui
