// What the whole debugger window shows: the VMs (one column each) and the window-wide view.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/gui/vm_slot.hpp"

namespace hvlab::frontend::gui {

enum class MainView : uint8_t { Machines, Taxonomy };
const char* mainViewName(MainView view);
std::optional<MainView> parseMainView(const std::string& name);  // case-insensitive

struct FrameStats {
    double framesPerSecond = 0;
    double frameMs = 0;
};

struct DebuggerModel {
    std::vector<std::unique_ptr<VmSlot>> vms;
    MainView view = MainView::Machines;
    std::optional<MainView> requestedView;
    FrameStats frame;
    std::string rendererName;

    // A VM by label ("interp"), by name ("vm2") or by 1-based number ("2"); nullptr if none.
    VmSlot* find(const std::string& reference);
};

}  // namespace hvlab::frontend::gui
