// The virtualization spectrum of the brief: a VM's mode is a choice of VS (emulated in software),
// P (paravirtualized) or VH (virtualized in hardware) per concern, and the named presets are the
// rows of the brief's table. A choice becomes a VmConfig (engine, firmware or direct boot,
// irqchip and PV interfaces, device models); combinations that cannot work are refused with the
// reason.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "hv/engine.hpp"

namespace hvlab::hv {

struct VmConfig;

enum class Way : uint8_t { VS, P, VH };
const char* wayName(Way way);                    // "VS", "P", "VH"
std::optional<Way> wayFromName(std::string_view);  // vs/p/vh, any case

// The four concerns of the taxonomy.
struct Modes {
    Way privileged = Way::VS;  // privileged instructions and page tables
    Way boot = Way::VS;        // motherboard and legacy boot
    Way interrupts = Way::VS;  // interrupts and timers
    Way devices = Way::VS;     // disk and network
    bool operator==(const Modes&) const = default;
};

struct Preset {
    const char* name;
    const char* likeWhat;  // the real-world setup it stands for
    Modes modes;
};

// The brief's seven presets, in its order.
const std::array<Preset, 7>& presets();
const Preset* findPreset(std::string_view name);

// The variant that runs without KVM: every VH becomes VS.
Modes interpreterVariant(Modes modes);

// Why `modes` cannot be built (nullopt: it can). `haveKernel`: a kernel for direct boot was given.
std::optional<std::string> whyInvalid(const Modes& modes, bool haveKernel);

// The engine privileged VH or VS/P runs on.
EngineKind applyModesEngine(const Modes& modes);

// Sets the engine, irqchip, PV interfaces, boot path and device models of `config` (whose disks,
// NIC and direct-boot request come from the user) for `modes`; `modes` must be valid.
void applyModes(const Modes& modes, VmConfig& config);

// The modes a configuration amounts to (for the taxonomy panel and reports).
Modes modesOf(const VmConfig& config);

}  // namespace hvlab::hv
