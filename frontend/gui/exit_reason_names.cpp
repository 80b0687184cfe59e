#include "frontend/gui/exit_reason_names.hpp"

#include <array>
#include <strings.h>

namespace hvlab::frontend::gui {

namespace {

constexpr std::array<const char*, kExitReasonCount> kIdentifiers = {
    "None",     "PortIo",          "Mmio",  "Hlt",      "Cpuid",     "MsrRead",
    "MsrWrite", "CrAccess",        "Invlpg", "InterruptWindow", "Debug", "Shutdown",
    "Hypercall", "UnimplementedInsn", "EntryFailure", "InternalError", "Kicked",
};

bool equalsIgnoringCase(std::string_view a, const char* b) {
    const std::string_view bv(b);
    return a.size() == bv.size() && strncasecmp(a.data(), b, a.size()) == 0;
}

}  // namespace

const char* exitReasonIdentifier(cpu::ExitReason reason) {
    const auto index = static_cast<size_t>(reason);
    return index < kIdentifiers.size() ? kIdentifiers[index] : "?";
}

std::optional<cpu::ExitReason> parseExitReason(std::string_view text) {
    for (size_t k = 0; k < kExitReasonCount; ++k) {
        const auto reason = static_cast<cpu::ExitReason>(k);
        if (equalsIgnoringCase(text, kIdentifiers[k]) || equalsIgnoringCase(text, cpu::exitReasonName(reason)))
            return reason;
    }
    return std::nullopt;
}

}  // namespace hvlab::frontend::gui
