#include "frontend/vm_config_builder.hpp"

#include "cpu/hypercall_abi.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "firmware/embed/bundled_guest.hpp"
#include "frontend/size_option.hpp"
#include "hv/presets.hpp"

namespace hvlab::frontend {

namespace {

// --disk FILE[,readonly][,snapshot][,virtio] -> a DiskConfig.
hv::DiskConfig parseDisk(const std::string& spec, bool snapshotAll) {
    hv::DiskConfig d;
    d.snapshot = snapshotAll;
    size_t comma = spec.find(',');
    d.path = spec.substr(0, comma);
    while (comma != std::string::npos) {
        const size_t next = spec.find(',', comma + 1);
        const std::string flag = spec.substr(comma + 1, next == std::string::npos ? next : next - comma - 1);
        if (flag == "readonly" || flag == "ro") d.readOnly = true;
        else if (flag == "snapshot") d.snapshot = true;
        else if (flag == "virtio") d.virtio = true;
        else throw UsageError(fmt::format("--disk '{}': unknown flag '{}' (readonly, snapshot, virtio)", spec, flag));
        comma = next;
    }
    if (d.path.empty()) throw UsageError(fmt::format("--disk '{}': no file name", spec));
    return d;
}

// No --bios: the hvlab BIOS when there is something to boot (a disk, a kernel), else the bundled guest.
hv::FirmwareImage chooseFirmware(const RunOptions& o) {
    hv::FirmwareImage firmware;
    if (o.image.empty() && (!o.disks.empty() || !o.kernel.empty())) {  // (virtio disks too: the BIOS sets up PCI)
        firmware.name = firmware::bundledBiosName();
        firmware.embedded = firmware::bundledBios();
    } else if (o.image.empty()) {
        firmware.name = firmware::bundledGuestName();
        firmware.embedded = firmware::bundledGuest();
    } else {
        try {
            firmware = hv::loadFirmwareFile(o.image);
        } catch (const hv::ImageError& e) {
            throw UsageError(e.what());
        }
    }
    return firmware;
}

}  // namespace

hv::EngineKind engineFromName(const std::string& name) {
    if (name == "interp" || name.empty()) return hv::EngineKind::Interpreter;
    if (name == "kvm") return hv::EngineKind::Kvm;
    throw UsageError(fmt::format("unknown engine '{}' (interp, kvm)", name));
}

void checkEngineChoice(const hv::VmConfig& config) {
    if (config.kernelIrqchip && config.engine != hv::EngineKind::Kvm)
        throw UsageError("--irqchip kernel needs --engine kvm: the in-kernel irqchip is KVM's (the interpreter "
                         "always uses hvlab's emulated PIC, PIT and APICs)");
    if (config.kernelIrqchip && (config.paravirt & cpu::hypercall::kFeatureEvents))
        throw UsageError("--pv events and --irqchip kernel exclude each other: PV events are P interrupts, whose "
                         "upcall the VMM injects; KVM's in-kernel irqchip (VH interrupts) owns injection");
}

uint32_t parseParavirt(const std::string& list) {
    using namespace cpu::hypercall;
    uint32_t features = 0;
    std::string rest = list;
    while (!rest.empty()) {
        const size_t comma = rest.find(',');
        const std::string name = rest.substr(0, comma);
        rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
        if (name == "console") features |= kFeatureConsole;
        else if (name == "clock") features |= kFeatureClock;
        else if (name == "events") features |= kFeatureEvents;
        else if (name == "all") features |= kFeatureConsole | kFeatureClock | kFeatureEvents;
        else if (name != "none" && !name.empty())
            throw UsageError(fmt::format("--pv: unknown interface '{}' (console, clock, events, all, none)", name));
    }
    return features;
}

void applyModeChoice(const RunOptions& o, hv::VmConfig& config) {
    const std::pair<const std::string*, hv::Way hv::Modes::*> overrides[] = {
        {&o.privileged, &hv::Modes::privileged},
        {&o.boot, &hv::Modes::boot},
        {&o.interrupts, &hv::Modes::interrupts},
        {&o.devices, &hv::Modes::devices},
    };
    const bool anyOverride = std::any_of(std::begin(overrides), std::end(overrides),
                                         [](const auto& entry) { return !entry.first->empty(); });
    if (o.preset.empty() && !anyOverride) return;
    hv::Modes modes = hv::modesOf(config);
    std::string label = "the modes";
    if (!o.preset.empty()) {
        const hv::Preset* preset = hv::findPreset(o.preset);
        if (!preset) {
            std::string names;
            for (const hv::Preset& p : hv::presets()) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
            throw UsageError(fmt::format("unknown preset '{}' ({})", o.preset, names));
        }
        modes = preset->modes;
        label = fmt::format("--preset {}", o.preset);
        if (o.engine == "interp") {
            modes = hv::interpreterVariant(modes);
            label += " --engine interp";
        }
    }
    for (const auto& [text, concern] : overrides)
        if (!text->empty()) modes.*concern = *hv::wayFromName(*text);
    if (const auto why = hv::whyInvalid(modes, config.directBoot.has_value()))
        throw UsageError(fmt::format("{} cannot be built: {}", label, *why));
    if (!o.engine.empty() && hv::applyModesEngine(modes) != engineFromName(o.engine))
        throw UsageError(fmt::format("--engine {} contradicts privileged {} of {}", o.engine,
                                     hv::wayName(modes.privileged), label));
    hv::applyModes(modes, config);
    const auto virtioDisks = std::count_if(config.disks.begin(), config.disks.end(), [](const hv::DiskConfig& d) { return d.virtio; });
    if (virtioDisks > 4) throw UsageError(fmt::format("{}: {} virtio disks; hvlab has 4 virtio-blk slots", label, virtioDisks));
}

VmSetup buildVmSetup(const RunOptions& o, unsigned vmCount) {
    const bool modeChoice = !o.preset.empty() || !o.privileged.empty() || !o.boot.empty() || !o.interrupts.empty() ||
                            !o.devices.empty();
    if (modeChoice && (o.irqchip == "kernel" || !o.pv.empty()))
        throw UsageError("--irqchip and --pv choose the interrupts too: with --preset or a per-concern override use "
                         "--interrupts vs|p|vh instead");
    const auto memory = parseMemorySize(o.memory);
    if (!memory) throw UsageError(fmt::format("--mem '{}' is not a size like 64M or 1G", o.memory));

    VmSetup setup;
    hv::VmConfig& config = setup.config;
    config.engine = engineFromName(o.engine);
    config.memoryBytes = *memory;
    config.kvmDevice = o.kvmDevice.c_str();
    config.noReboot = o.noReboot;
    config.kernelIrqchip = o.irqchip == "kernel";
    config.paravirt = parseParavirt(o.pv);
    checkEngineChoice(config);

    for (const std::string& spec : o.disks) config.disks.push_back(parseDisk(spec, o.snapshot));
    const auto virtioDisks = std::count_if(config.disks.begin(), config.disks.end(), [](const hv::DiskConfig& d) { return d.virtio; });
    const auto ideDisks = static_cast<long>(config.disks.size()) - virtioDisks;
    if (ideDisks > 4) throw UsageError(fmt::format("{} IDE disks given; the IDE controller takes 4", ideDisks));
    if (virtioDisks > 4) throw UsageError(fmt::format("{} virtio disks given; hvlab has 4 virtio-blk slots", virtioDisks));
    config.virtioConsole = o.virtioConsole;

    // The network: one in-process switch for every NIC of this process, and an optional capture.
    config.nicModel = o.nic == "virtio" ? hv::NicModel::Virtio : hv::NicModel::E1000;
    if (!o.nic.empty() || !o.pcap.empty() || vmCount > 1) {
        try {
            if (!o.pcap.empty()) setup.capture = std::make_unique<devices::PcapCapture>(o.pcap);
        } catch (const std::exception& e) {
            throw UsageError(e.what());
        }
        setup.network = std::make_unique<devices::VirtualSwitch>(setup.capture.get());
        config.network = setup.network.get();
    }
    config.idleAtHostRate = o.idle.empty() ? config.network != nullptr : o.idle == "realtime";
    if (vmCount > 1)
        for (hv::DiskConfig& d : config.disks) d.snapshot = true;  // the VMs share the files: never write them

    config.firmware = chooseFirmware(o);
    if (!o.kernel.empty()) {
        setup.directBoot = hv::boot::DirectBootRequest{o.kernel, o.initrd, o.append};
        config.directBoot = setup.directBoot;
        config.directBootAfterPost = o.image.empty();  // the hvlab BIOS: its POST first, then the kernel
    }
    applyModeChoice(o, config);
    return setup;
}

hv::VmConfig configForVm(const VmSetup& setup, unsigned index) {
    hv::VmConfig c = setup.config;
    c.name = fmt::format("vm{}", index + 1);
    c.mac[5] = static_cast<uint8_t>(2 + index);  // 52:54:00:12:34:02, :03, ... (QEMU's default first)
    return c;
}

}  // namespace hvlab::frontend
