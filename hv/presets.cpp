#include "hv/presets.hpp"

#include <algorithm>
#include <cctype>

#include "cpu/hypercall_abi.hpp"
#include "hv/vm.hpp"

namespace hvlab::hv {

namespace {

constexpr uint32_t kPvInterrupts =
    cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock | cpu::hypercall::kFeatureEvents;

constexpr std::array<Preset, 7> kPresets{{
    {"emulated", "Bochs, QEMU-TCG", {Way::VS, Way::VS, Way::VS, Way::VS}},
    {"hvm", "Xen HVM, QEMU+KVM with emulated devices", {Way::VH, Way::VS, Way::VS, Way::VS}},
    {"hvm-pv-drivers", "Xen HVM with PV drivers", {Way::VH, Way::VS, Way::VS, Way::P}},
    {"kvm", "QEMU+KVM with virtio and the in-kernel irqchip", {Way::VH, Way::VS, Way::VH, Way::P}},
    {"pvhvm", "Xen PVHVM", {Way::VH, Way::VS, Way::P, Way::P}},
    {"pvh", "Xen PVH, Firecracker", {Way::VH, Way::P, Way::P, Way::P}},
    {"pv", "Xen PV", {Way::P, Way::P, Way::P, Way::P}},
}};

}  // namespace

const char* wayName(Way way) {
    switch (way) {
        case Way::VS: return "VS";
        case Way::P: return "P";
        case Way::VH: return "VH";
    }
    return "?";
}

std::optional<Way> wayFromName(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "vs") return Way::VS;
    if (lower == "p") return Way::P;
    if (lower == "vh") return Way::VH;
    return std::nullopt;
}

const std::array<Preset, 7>& presets() { return kPresets; }

const Preset* findPreset(std::string_view name) {
    for (const Preset& p : kPresets)
        if (name == p.name) return &p;
    return nullptr;
}

Modes interpreterVariant(Modes m) {
    for (Way* w : {&m.privileged, &m.boot, &m.interrupts, &m.devices})
        if (*w == Way::VH) *w = Way::VS;
    return m;
}

std::optional<std::string> whyInvalid(const Modes& m, bool haveKernel) {
    if (m.boot == Way::VH)
        return "boot VH does not exist: hardware virtualization has no way to boot a machine (VS: the BIOS, P: "
               "direct boot into the kernel)";
    if (m.devices == Way::VH)
        return "disk and network VH does not exist here (VS: IDE and e1000, P: virtio)";
    if (m.interrupts == Way::VH && m.privileged != Way::VH)
        return "interrupts VH (KVM's in-kernel irqchip and PIT) needs privileged VH (KVM)";
    if (m.privileged == Way::P) {
        // A ring-1 kernel cannot run firmware, program the PIC and PIT, or drive IDE and the e1000
        // (their ports are closed to it): everything around it must be paravirtual too.
        if (m.boot != Way::P)
            return "privileged P needs boot P: a deprivileged kernel cannot run the BIOS (real mode, ring 0); hvlab "
                   "enters it directly";
        if (m.interrupts != Way::P)
            return "privileged P needs interrupts P: a ring-1 kernel cannot program the PIC and PIT or mask "
                   "interrupts; it uses the PV timer, event channel and upcall mask";
        if (m.devices != Way::P)
            return "privileged P needs disk and network P: the IDE and e1000 ports are closed to a ring-1 kernel; "
                   "it drives virtio";
        if (!haveKernel)
            return "privileged P boots a PV kernel (an ELF64 with the \"hvlab\" note): give one with --kernel";
    }
    if (m.boot == Way::P && !haveKernel)
        return "boot P enters a kernel directly with a boot-info struct and no BIOS: give one with --kernel "
               "(a PVH ELF kernel such as tinyos-kernel.elf, a Linux bzImage or a multiboot kernel)";
    return std::nullopt;
}

EngineKind applyModesEngine(const Modes& m) { return m.privileged == Way::VH ? EngineKind::Kvm : EngineKind::Interpreter; }

void applyModes(const Modes& m, VmConfig& config) {
    config.engine = applyModesEngine(m);
    config.kernelIrqchip = m.interrupts == Way::VH;
    config.pvMmu = m.privileged == Way::P;
    config.paravirt = m.interrupts == Way::P ? kPvInterrupts : 0;
    // Boot VS: the firmware, then (with --kernel) the kernel after its POST; P: no firmware runs.
    config.directBootAfterPost = m.boot == Way::VS;
    const bool paravirtDevices = m.devices == Way::P;
    config.nicModel = paravirtDevices ? NicModel::Virtio : NicModel::E1000;
    if (paravirtDevices) {
        // The BIOS boots only from IDE: with boot VS the first disk stays there and is also seen
        // as a virtio disk through a copy-on-write overlay (the guest's I/O goes through virtio;
        // the file is never written twice). The other disks move to virtio.
        std::vector<DiskConfig> disks;
        for (size_t k = 0; k < config.disks.size(); ++k) {
            DiskConfig d = config.disks[k];
            if (k == 0 && m.boot == Way::VS && !config.directBoot && !d.virtio) {
                disks.push_back(d);
                d.snapshot = true;
            }
            d.virtio = true;
            disks.push_back(d);
        }
        config.disks = std::move(disks);
    } else {
        for (DiskConfig& d : config.disks) d.virtio = false;
    }
}

Modes modesOf(const VmConfig& config) {
    Modes m;
    m.privileged = config.pvMmu ? Way::P : config.engine == EngineKind::Kvm ? Way::VH : Way::VS;
    m.boot = config.directBoot && !config.directBootAfterPost ? Way::P : Way::VS;
    if (config.kernelIrqchip)
        m.interrupts = Way::VH;
    else if (config.paravirt & cpu::hypercall::kFeatureEvents)
        m.interrupts = Way::P;
    const bool virtioDisk = std::any_of(config.disks.begin(), config.disks.end(), [](const DiskConfig& d) { return d.virtio; });
    m.devices = virtioDisk || (config.network && config.nicModel == NicModel::Virtio) ? Way::P : Way::VS;
    return m;
}

}  // namespace hvlab::hv
