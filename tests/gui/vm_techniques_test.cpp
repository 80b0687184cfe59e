#include <catch2/catch.hpp>

#include "frontend/gui/vm_techniques.hpp"
#include "hv/vm.hpp"

using namespace hvlab;
using namespace hvlab::frontend::gui;

namespace {
Technique of(const VmModeFacts& facts, Concern concern) { return techniquesOf(facts)[static_cast<size_t>(concern)]; }
}  // namespace

TEST_CASE("each VM's technique per concern follows its configuration", "[gui][taxonomy]") {
    hv::VmConfig config;
    const VmModeFacts interp{hv::modesOf(config)};
    CHECK(of(interp, Concern::Privileged) == Technique::VS);
    CHECK(of(interp, Concern::Boot) == Technique::VS);
    CHECK(of(interp, Concern::Interrupts) == Technique::VS);
    CHECK(of(interp, Concern::DiskNet) == Technique::VS);

    config.engine = hv::EngineKind::Kvm;
    const VmModeFacts kvm{hv::modesOf(config)};
    CHECK(of(kvm, Concern::Privileged) == Technique::VH);
    CHECK(of(kvm, Concern::Interrupts) == Technique::VS);

    config.kernelIrqchip = true;
    CHECK(of(VmModeFacts{hv::modesOf(config)}, Concern::Interrupts) == Technique::VH);

    hv::VmConfig pvh;
    pvh.disks.push_back({"disk.img"});
    pvh.directBoot = hv::boot::DirectBootRequest{"kernel", "", ""};
    hv::applyModes(hv::findPreset("pvh")->modes, pvh);
    const VmModeFacts facts{hv::modesOf(pvh)};
    CHECK(of(facts, Concern::Privileged) == Technique::VH);
    CHECK(of(facts, Concern::Boot) == Technique::P);
    CHECK(of(facts, Concern::Interrupts) == Technique::P);
    CHECK(of(facts, Concern::DiskNet) == Technique::P);
}

TEST_CASE("the spectrum table has the brief's cells", "[gui][taxonomy]") {
    CHECK(std::string(spectrumCell(Concern::Privileged, Technique::VH)) == "KVM, nested paging (EPT/NPT)");
    CHECK(std::string(spectrumCell(Concern::DiskNet, Technique::P)) == "virtio-blk, virtio-net");
    CHECK(std::string(spectrumCell(Concern::Boot, Technique::VH)) == "n/a");
    CHECK(std::string(spectrumCell(Concern::Other, Technique::VS)).empty());
}
