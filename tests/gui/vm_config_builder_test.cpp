#include <catch2/catch.hpp>

#include "cpu/hypercall_abi.hpp"
#include "frontend/vm_config_builder.hpp"
#include "hv/presets.hpp"

using namespace hvlab;
using namespace hvlab::frontend;

TEST_CASE("run options become a VM configuration", "[frontend][config]") {
    RunOptions o;
    o.memory = "64M";
    o.noReboot = true;
    VmSetup setup = buildVmSetup(o, 1);
    CHECK(setup.config.engine == hv::EngineKind::Interpreter);
    CHECK(setup.config.memoryBytes == (64ull << 20));
    CHECK(setup.config.noReboot);
    CHECK(setup.config.firmware.name == "firstboot");  // no image, no disk: the bundled guest
    CHECK(!setup.network);
    CHECK(!setup.directBoot);

    o.disks = {"disk.img,ro"};
    setup = buildVmSetup(o, 2);
    CHECK(setup.config.firmware.name == "bios");  // a disk: the hvlab BIOS boots it
    REQUIRE(setup.config.disks.size() == 1);
    CHECK(setup.config.disks[0].readOnly);
    CHECK(setup.config.disks[0].snapshot);  // two VMs share the file
    CHECK(setup.network);                   // and a switch

    const hv::VmConfig second = configForVm(setup, 1);
    CHECK(second.name == "vm2");
    CHECK(second.mac[5] == 3);
}

TEST_CASE("bad run options are refused with hvlab run's messages", "[frontend][config]") {
    RunOptions o;
    o.memory = "lots";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), "--mem 'lots' is not a size like 64M or 1G");
    o = {};
    o.irqchip = "kernel";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("--irqchip kernel needs --engine kvm"));
    o = {};
    o.disks = {"a", "b", "c", "d", "e"};
    CHECK_THROWS_WITH(buildVmSetup(o, 1), "5 IDE disks given; the IDE controller takes 4");
    o = {};
    o.disks = {"a,virtio", "b,virtio", "c,virtio", "d,virtio", "e,virtio"};
    CHECK_THROWS_WITH(buildVmSetup(o, 1), "5 virtio disks given; hvlab has 4 virtio-blk slots");
    o = {};
    o.disks = {"a,fast"};
    CHECK_THROWS_WITH(buildVmSetup(o, 1), "--disk 'a,fast': unknown flag 'fast' (readonly, snapshot, virtio)");
    o = {};
    o.image = "/nonexistent/rom.bin";
    CHECK_THROWS_AS(buildVmSetup(o, 1), UsageError);
    CHECK_THROWS_AS(engineFromName("qemu"), UsageError);
}

TEST_CASE("virtio disks, NIC and console options", "[frontend][config]") {
    RunOptions o;
    o.disks = {"ide.img", "vda.img,virtio,readonly", "vdb.img,snapshot,virtio"};
    o.nic = "virtio";
    o.virtioConsole = true;
    VmSetup setup = buildVmSetup(o, 1);
    REQUIRE(setup.config.disks.size() == 3);
    CHECK_FALSE(setup.config.disks[0].virtio);
    CHECK(setup.config.disks[1].virtio);
    CHECK(setup.config.disks[1].readOnly);
    CHECK(setup.config.disks[2].virtio);
    CHECK(setup.config.disks[2].snapshot);
    CHECK(setup.config.nicModel == hv::NicModel::Virtio);
    CHECK(setup.network);
    CHECK(setup.config.virtioConsole);
    o = {};
    o.nic = "e1000";
    setup = buildVmSetup(o, 1);
    CHECK(setup.config.nicModel == hv::NicModel::E1000);
    CHECK(setup.network);
}

TEST_CASE("--pv lists the paravirtual interfaces offered", "[frontend][config]") {
    using namespace hvlab::cpu::hypercall;
    RunOptions o;
    CHECK(buildVmSetup(o, 1).config.paravirt == 0);
    o.pv = "console,clock";
    CHECK(buildVmSetup(o, 1).config.paravirt == (kFeatureConsole | kFeatureClock));
    o.pv = "all";
    CHECK(buildVmSetup(o, 1).config.paravirt == (kFeatureConsole | kFeatureClock | kFeatureEvents));
    o.pv = "console,disk";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("unknown interface 'disk'"));
    o.pv = "events";
    o.engine = "kvm";
    o.irqchip = "kernel";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("exclude each other"));
}

TEST_CASE("--idle: realtime by default with a network, fast otherwise", "[frontend][config]") {
    RunOptions o;
    CHECK_FALSE(buildVmSetup(o, 1).config.idleAtHostRate);
    CHECK(buildVmSetup(o, 2).config.idleAtHostRate);
    o.nic = "e1000";
    CHECK(buildVmSetup(o, 1).config.idleAtHostRate);
    o.idle = "fast";
    CHECK_FALSE(buildVmSetup(o, 1).config.idleAtHostRate);
    o = {};
    o.idle = "realtime";
    CHECK(buildVmSetup(o, 1).config.idleAtHostRate);
}

TEST_CASE("--preset, its interpreter variant and per-concern overrides", "[frontend][config]") {
    RunOptions o;
    o.disks = {"tinyos.img"};
    o.preset = "kvm";
    hv::VmConfig c = buildVmSetup(o, 1).config;
    CHECK(c.engine == hv::EngineKind::Kvm);
    CHECK(c.kernelIrqchip);
    o.engine = "interp";
    c = buildVmSetup(o, 1).config;
    CHECK(c.engine == hv::EngineKind::Interpreter);
    CHECK_FALSE(c.kernelIrqchip);
    CHECK(hv::modesOf(c) == hv::Modes{hv::Way::VS, hv::Way::VS, hv::Way::VS, hv::Way::P});
    o.interrupts = "p";
    CHECK(buildVmSetup(o, 1).config.paravirt != 0);

    o = {};
    o.preset = "hvm";
    o.engine = "kvm";
    o.interrupts = "vh";
    CHECK(buildVmSetup(o, 1).config.kernelIrqchip);
    o.privileged = "vs";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("interrupts VH (KVM's in-kernel irqchip and PIT) needs"));

    o = {};
    o.preset = "pvh";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("--preset pvh cannot be built: boot P"));
    o.preset = "emulated";
    o.engine = "kvm";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("--engine kvm contradicts privileged VS"));
    o = {};
    o.preset = "xen";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("unknown preset 'xen' (emulated, hvm,"));
    o.preset = "pvhvm";
    o.irqchip = "kernel";
    CHECK_THROWS_WITH(buildVmSetup(o, 1), Catch::Contains("use --interrupts"));
}
