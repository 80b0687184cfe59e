// The spectrum's presets: the brief's table, what each becomes, and what is refused.
#include <catch2/catch.hpp>

#include "cpu/hypercall_abi.hpp"
#include "hv/presets.hpp"
#include "hv/vm.hpp"

using namespace hvlab;
using hv::Way;

TEST_CASE("presets: the brief's seven rows", "[hv][presets]") {
    const auto& all = hv::presets();
    REQUIRE(all.size() == 7);
    const std::pair<const char*, hv::Modes> table[] = {
        {"emulated", {Way::VS, Way::VS, Way::VS, Way::VS}},   {"hvm", {Way::VH, Way::VS, Way::VS, Way::VS}},
        {"hvm-pv-drivers", {Way::VH, Way::VS, Way::VS, Way::P}}, {"kvm", {Way::VH, Way::VS, Way::VH, Way::P}},
        {"pvhvm", {Way::VH, Way::VS, Way::P, Way::P}},        {"pvh", {Way::VH, Way::P, Way::P, Way::P}},
        {"pv", {Way::P, Way::P, Way::P, Way::P}},
    };
    for (size_t k = 0; k < 7; ++k) {
        INFO(table[k].first);
        CHECK(std::string(all[k].name) == table[k].first);
        CHECK(all[k].modes == table[k].second);
        CHECK(hv::findPreset(table[k].first) == &all[k]);
    }
    CHECK(hv::findPreset("xen") == nullptr);
}

TEST_CASE("presets: the variant without KVM turns every VH into VS", "[hv][presets]") {
    CHECK(hv::interpreterVariant(hv::findPreset("kvm")->modes) == hv::Modes{Way::VS, Way::VS, Way::VS, Way::P});
    CHECK(hv::interpreterVariant(hv::findPreset("pvh")->modes) == hv::Modes{Way::VS, Way::P, Way::P, Way::P});
}

TEST_CASE("presets: impossible combinations are refused with the reason", "[hv][presets]") {
    CHECK(hv::whyInvalid({Way::VS, Way::VH, Way::VS, Way::VS}, false)->find("boot VH does not exist") == 0);
    CHECK(hv::whyInvalid({Way::VS, Way::VS, Way::VS, Way::VH}, false)->find("disk and network VH") == 0);
    CHECK(hv::whyInvalid({Way::VS, Way::VS, Way::VH, Way::VS}, false)->find("interrupts VH") == 0);
    CHECK_FALSE(hv::whyInvalid(hv::findPreset("pv")->modes, true));
    CHECK(hv::whyInvalid(hv::findPreset("pv")->modes, false)->find("--kernel") != std::string::npos);
    // A ring-1 kernel needs everything around it paravirtual.
    CHECK(hv::whyInvalid({Way::P, Way::VS, Way::P, Way::P}, true)->find("needs boot P") != std::string::npos);
    CHECK(hv::whyInvalid({Way::P, Way::P, Way::VS, Way::P}, true)->find("needs interrupts P") != std::string::npos);
    CHECK(hv::whyInvalid({Way::P, Way::P, Way::P, Way::VS}, true)->find("needs disk and network P") !=
          std::string::npos);
    CHECK(hv::whyInvalid(hv::findPreset("pvh")->modes, false)->find("--kernel") != std::string::npos);
    CHECK_FALSE(hv::whyInvalid(hv::findPreset("pvh")->modes, true));
    for (const char* name : {"emulated", "hvm", "hvm-pv-drivers", "kvm", "pvhvm"})
        CHECK_FALSE(hv::whyInvalid(hv::findPreset(name)->modes, false));
}

TEST_CASE("presets: what each concern becomes in the VM configuration", "[hv][presets]") {
    hv::VmConfig config;
    config.disks.push_back({"tinyos.img"});
    config.disks.push_back({"data.img"});
    hv::applyModes(hv::findPreset("pvhvm")->modes, config);
    CHECK(config.engine == hv::EngineKind::Kvm);
    CHECK_FALSE(config.kernelIrqchip);
    CHECK(config.paravirt == (cpu::hypercall::kFeatureConsole | cpu::hypercall::kFeatureClock |
                              cpu::hypercall::kFeatureEvents));
    CHECK(config.nicModel == hv::NicModel::Virtio);
    // The BIOS boots the first disk from IDE; the guest also sees it (copy-on-write) on virtio.
    REQUIRE(config.disks.size() == 3);
    CHECK_FALSE(config.disks[0].virtio);
    CHECK(config.disks[1].virtio);
    CHECK(config.disks[1].snapshot);
    CHECK(config.disks[1].path == "tinyos.img");
    CHECK(config.disks[2].virtio);
    CHECK(config.disks[2].path == "data.img");
    CHECK(hv::modesOf(config) == hv::findPreset("pvhvm")->modes);

    hv::VmConfig kvm;
    hv::applyModes(hv::findPreset("kvm")->modes, kvm);
    CHECK(kvm.kernelIrqchip);
    CHECK(kvm.paravirt == 0);

    hv::VmConfig emulated;
    emulated.disks.push_back({"tinyos.img", false, false, true});
    hv::applyModes(hv::findPreset("emulated")->modes, emulated);
    CHECK(emulated.engine == hv::EngineKind::Interpreter);
    CHECK_FALSE(emulated.disks[0].virtio);
    CHECK(hv::modesOf(emulated) == hv::Modes{});

    hv::VmConfig pv;
    pv.directBoot = hv::boot::DirectBootRequest{"pv-kernel.elf", "", ""};
    pv.disks.push_back({"data.img"});  // modesOf sees disk/net P in a virtio disk
    hv::applyModes(hv::findPreset("pv")->modes, pv);
    CHECK(pv.pvMmu);
    CHECK(pv.engine == hv::EngineKind::Interpreter);
    CHECK_FALSE(pv.directBootAfterPost);
    CHECK(hv::modesOf(pv) == hv::findPreset("pv")->modes);
}

TEST_CASE("presets: pvh and its variant without KVM build a VM without firmware or legacy devices",
          "[hv][presets][pvh]") {
    for (const hv::Modes& modes : {hv::findPreset("pvh")->modes, hv::interpreterVariant(hv::findPreset("pvh")->modes)}) {
        hv::VmConfig config;
        config.disks.push_back({"tinyos.img"});
        config.directBoot = hv::boot::DirectBootRequest{"tinyos-kernel.elf", "", ""};
        hv::applyModes(modes, config);
        CHECK(config.engine == (modes.privileged == Way::VH ? hv::EngineKind::Kvm : hv::EngineKind::Interpreter));
        CHECK_FALSE(config.kernelIrqchip);
        CHECK(config.bootsWithoutFirmware());
        CHECK(config.legacyFree());
        REQUIRE(config.disks.size() == 1);  // no IDE copy for a BIOS: only the virtio disk
        CHECK(config.disks[0].virtio);
        CHECK(hv::modesOf(config) == modes);
    }
    // Boot P with emulated interrupts keeps the PIC, PIT and the rest (only the BIOS goes).
    hv::VmConfig config;
    config.directBoot = hv::boot::DirectBootRequest{"kernel", "", ""};
    hv::applyModes({Way::VS, Way::P, Way::VS, Way::VS}, config);
    CHECK(config.bootsWithoutFirmware());
    CHECK_FALSE(config.legacyFree());
}
