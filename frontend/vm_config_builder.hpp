// One place that turns the `run` options (shared by `hvlab run` and `hvlab gui`) into the
// configuration of a VM: engine, memory, firmware, disks, network, direct boot.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "devices/pcap_capture.hpp"
#include "devices/virtual_switch.hpp"
#include "frontend/run_command.hpp"
#include "hv/boot/direct_boot.hpp"
#include "hv/vm.hpp"

namespace hvlab::frontend {

// A bad option or input file; `what()` is the one-line message, the process exits with kUsage.
class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What every VM built from one set of options shares. The capture outlives the switch, the
// switch outlives every VM (destroy the VMs first).
struct VmSetup {
    hv::VmConfig config;  // without serialOut/onExit: the caller decides where output goes
    std::optional<hv::boot::DirectBootRequest> directBoot;  // --kernel: load it into each VM
    std::unique_ptr<devices::PcapCapture> capture;
    std::unique_ptr<devices::VirtualSwitch> network;
};

hv::EngineKind engineFromName(const std::string& name);  // "interp" or "kvm"; throws UsageError

// Builds the shared configuration for `vmCount` VMs (several VMs get a network and snapshot
// disks). Throws UsageError with the message `hvlab run` prints.
VmSetup buildVmSetup(const RunOptions& options, unsigned vmCount);

// Throws UsageError when the engine cannot run this configuration (the in-kernel irqchip
// without KVM).
// "console,clock,events" / "all" / "none" -> cpu::hypercall::Feature bits (UsageError if unknown).
uint32_t parseParavirt(const std::string& list);
// --preset, --engine interp (the preset's variant without KVM) and the per-concern overrides.
void applyModeChoice(const RunOptions& o, hv::VmConfig& config);
void checkEngineChoice(const hv::VmConfig& config);

// The configuration of VM `index` (0-based) of a setup: its name ("vm1") and its NIC's MAC.
hv::VmConfig configForVm(const VmSetup& setup, unsigned index);

}  // namespace hvlab::frontend
