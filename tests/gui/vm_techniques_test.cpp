#include <catch2/catch.hpp>

#include "frontend/gui/vm_techniques.hpp"

using namespace hvlab;
using namespace hvlab::frontend::gui;

namespace {
Technique of(const VmModeFacts& facts, Concern concern) { return techniquesOf(facts)[static_cast<size_t>(concern)]; }
}  // namespace

TEST_CASE("each VM's technique per concern follows its engine and options", "[gui][taxonomy]") {
    const VmModeFacts interp{hv::EngineKind::Interpreter, false, false};
    CHECK(of(interp, Concern::Privileged) == Technique::VS);
    CHECK(of(interp, Concern::Boot) == Technique::VS);
    CHECK(of(interp, Concern::Interrupts) == Technique::VS);
    CHECK(of(interp, Concern::DiskNet) == Technique::VS);

    const VmModeFacts kvm{hv::EngineKind::Kvm, false, false};
    CHECK(of(kvm, Concern::Privileged) == Technique::VH);
    CHECK(of(kvm, Concern::Interrupts) == Technique::VS);

    const VmModeFacts kvmKernelIrqchip{hv::EngineKind::Kvm, false, true};
    CHECK(of(kvmKernelIrqchip, Concern::Interrupts) == Technique::VH);

    const VmModeFacts directBoot{hv::EngineKind::Interpreter, true, false};
    CHECK(of(directBoot, Concern::Boot) == Technique::P);
}

TEST_CASE("the spectrum table has the brief's cells", "[gui][taxonomy]") {
    CHECK(std::string(spectrumCell(Concern::Privileged, Technique::VH)) == "KVM, nested paging (EPT/NPT)");
    CHECK(std::string(spectrumCell(Concern::DiskNet, Technique::P)) == "virtio-blk, virtio-net");
    CHECK(std::string(spectrumCell(Concern::Boot, Technique::VH)) == "n/a");
    CHECK(std::string(spectrumCell(Concern::Other, Technique::VS)).empty());
}
