#include "frontend/gui/vm_slot.hpp"

#include <array>
#include <strings.h>

#include "hv/kvm_engine.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr std::array<const char*, kVmTabCount> kTabNames = {"CPU",     "Memory", "Exits",      "Devices",
                                                             "Console", "Screen", "Breakpoints"};
constexpr size_t kExitsPerFetch = 8192;

}  // namespace

const char* vmTabName(VmTab tab) { return kTabNames[static_cast<size_t>(tab)]; }

std::optional<VmTab> parseVmTab(const std::string& name) {
    for (size_t k = 0; k < kTabNames.size(); ++k)
        if (strcasecmp(name.c_str(), kTabNames[k]) == 0) return static_cast<VmTab>(k);
    return std::nullopt;
}

VmSlot::VmSlot(std::string label, hv::VmConfig config, VmModeFacts facts, bool startRunning)
    : label_(std::move(label)), facts_(facts) {
    config.onExit = [this, trace = std::move(config.onExit)](const hv::ExitRecord& r) {
        meter_.record(r.exit, r.costNs);
        if (trace) trace(r);
    };
    try {
        session_ = std::make_unique<hv::VmSession>(label_, std::move(config), startRunning);
    } catch (const hv::KvmUnavailable& e) {
        error_ = std::string("KVM is not usable here: ") + e.what() +
                 " (--engine interp runs the interpreter, and presets as their variants without KVM)";
    } catch (const std::exception& e) {
        error_ = e.what();
    }
    if (session_) snapshot_ = session_->snapshot();
}

VmSlot::VmSlot(std::string label, VmModeFacts facts, std::string error)
    : label_(std::move(label)), facts_(facts), error_(std::move(error)) {}

VmSlot::~VmSlot() = default;

void VmSlot::refresh(double nowSeconds, bool withConsole) {
    if (!session_) return;
    snapshot_ = session_->snapshot();
    if (snapshot_.exitsRecorded < exitLog_.lastSequence()) exitLog_.clear();  // the VM's log started again
    if (snapshot_.exitsRecorded > exitLog_.lastSequence())
        exitLog_.append(session_->exitsAfter(exitLog_.lastSequence(), kExitsPerFetch));
    exitRate_.observe(nowSeconds, snapshot_.counters.total());
    if (withConsole) refreshConsole();

    // A run-until is over once the VM left the run it started: drop its extra conditions.
    if (restoreBreakpoints_ && snapshot_.state != hv::SessionState::Running &&
        (snapshot_.generation >= runUntilGeneration_ + 2 ||
         (snapshot_.state == hv::SessionState::Stopped && snapshot_.generation > runUntilGeneration_))) {
        breakpoints_ = std::move(*restoreBreakpoints_);
        restoreBreakpoints_.reset();
        session_->setBreakpoints(breakpoints_);
    }
}

void VmSlot::refreshConsole() {
    if (session_) console_ = session_->console();
}

void VmSlot::resume() {
    if (session_) session_->resume();
}
void VmSlot::pause() {
    if (session_) session_->pause();
}
void VmSlot::reset() {
    if (session_) session_->reset();
}
void VmSlot::stepInstruction() {
    if (session_) session_->stepInstruction();
}
void VmSlot::stepExit() {
    if (session_) session_->stepExit();
}
void VmSlot::sendSerial(std::string_view bytes) {
    if (session_) session_->sendSerial(bytes);
}

void VmSlot::setBreakpoints(hv::Breakpoints breakpoints) {
    breakpoints_ = std::move(breakpoints);
    if (restoreBreakpoints_) restoreBreakpoints_ = breakpoints_;
    if (session_) session_->setBreakpoints(breakpoints_);
}

void VmSlot::runUntil(const hv::Breakpoints& stop) {
    if (!session_) return;
    if (!restoreBreakpoints_) restoreBreakpoints_ = breakpoints_;
    runUntilGeneration_ = snapshot_.generation;
    session_->setBreakpoints(mergeBreakpoints(*restoreBreakpoints_, stop));
    session_->resume();
}

hv::Breakpoints mergeBreakpoints(hv::Breakpoints base, const hv::Breakpoints& extra) {
    base.rips.insert(base.rips.end(), extra.rips.begin(), extra.rips.end());
    base.ports.insert(base.ports.end(), extra.ports.begin(), extra.ports.end());
    base.mmioRanges.insert(base.mmioRanges.end(), extra.mmioRanges.begin(), extra.mmioRanges.end());
    for (size_t k = 0; k < base.exitReasons.size(); ++k) base.exitReasons[k] = base.exitReasons[k] || extra.exitReasons[k];
    return base;
}

}  // namespace hvlab::frontend::gui
