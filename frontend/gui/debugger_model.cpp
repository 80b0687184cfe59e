#include "frontend/gui/debugger_model.hpp"

#include <charconv>
#include <strings.h>

namespace hvlab::frontend::gui {

const char* mainViewName(MainView view) { return view == MainView::Machines ? "Machines" : "Taxonomy"; }

std::optional<MainView> parseMainView(const std::string& name) {
    for (MainView v : {MainView::Machines, MainView::Taxonomy})
        if (strcasecmp(name.c_str(), mainViewName(v)) == 0) return v;
    return std::nullopt;
}

VmSlot* DebuggerModel::find(const std::string& reference) {
    for (auto& vm : vms)
        if (vm->label() == reference) return vm.get();
    std::string_view digits = reference;
    if (digits.starts_with("vm")) digits.remove_prefix(2);
    size_t number = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec == std::errc{} && end == digits.data() + digits.size() && number >= 1 && number <= vms.size())
        return vms[number - 1].get();
    return nullptr;
}

}  // namespace hvlab::frontend::gui
