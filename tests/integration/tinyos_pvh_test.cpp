// tinyos through PVH (boot P): `hvlab run --preset pvh --engine interp --kernel tinyos-kernel.elf`
// loads the same kernel the disk image carries, with no BIOS and no legacy devices. tinyos finds
// the start-info, no PIC and hvlab's events, and takes every P path: PV console and timer, the
// virtio disk's interrupt line as an event, `block` to idle.
#include <catch2/catch.hpp>

#include <string>

#include "tests/support/process.hpp"

using hvlab::test::ConsoleStep;
using hvlab::test::runConversation;

namespace {

const std::string kHvlab = HVLAB_BINARY;
const std::string kFirmware = HVLAB_FIRMWARE_DIR;

}  // namespace

TEST_CASE("tinyos boots through PVH on the interpreter and runs its shell", "[integration][tinyos][pvh]") {
    const std::vector<ConsoleStep> script = {
        {"tinyos> ", "pv\n"},
        {"tinyos> ", "bench disk\n"},
        {"tinyos> ", "poweroff\n"},
    };
    const auto r = runConversation({kHvlab, "run", "--preset", "pvh", "--engine", "interp", "--kernel",
                                    kFirmware + "/tinyos-kernel.elf", "--append", "from the test", "--disk",
                                    kFirmware + "/tinyos.img", "--snapshot"},
                                   script, 120);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.err.find("PVH ELF64 kernel") != std::string::npos);  // the loader's summary
    // The start-info reached the kernel: its command line and the memory map.
    CHECK(r.out.find("booted through PVH: hvm_start_info at 9e000, 0 module(s), command line \"from the test\"") !=
          std::string::npos);
    CHECK(r.out.find("0000000000100000 - 0000000007ffffff  usable") != std::string::npos);
    CHECK(r.out.find("no 8259 PIC") != std::string::npos);
    CHECK(r.out.find("tinyos shell") != std::string::npos);
    // `pv`: every path P, the virtio disk's line 10 as event port 12.
    CHECK(r.out.find("paths: boot pvh, console pv (input pv), timer pv, interrupts pv-events, idle block") !=
          std::string::npos);
    CHECK(r.out.find("no PIC; interrupt lines as events: 10->port 12") != std::string::npos);
    CHECK(r.out.find("disk virtio-blk: read 1024 sectors") != std::string::npos);
    CHECK(r.out.find("disk: using virtio-blk") != std::string::npos);
    // Idle is `block`: the summary shows hypercalls and no HLT exit.
    CHECK(r.err.find("  hypercall ") != std::string::npos);
    CHECK(r.err.find("  hlt ") == std::string::npos);
    CHECK(r.status == 1);  // poweroff writes 0 to isa-debug-exit
}

TEST_CASE("the same tinyos kernel still boots from its disk through the BIOS", "[integration][tinyos][pvh]") {
    const std::vector<ConsoleStep> script = {{"tinyos> ", "pv\n"}, {"tinyos> ", "poweroff\n"}};
    const auto r = runConversation({kHvlab, "run", "--engine", "interp", "--pv", "all", "--disk",
                                    kFirmware + "/tinyos.img", "--snapshot"},
                                   script, 120);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    CHECK(r.out.find("booted from drive 80") != std::string::npos);
    CHECK(r.out.find("paths: boot bios, console pv (input pv), timer pv, interrupts pv-events, idle hlt") !=
          std::string::npos);
    CHECK(r.out.find("PIC lines unmasked:") != std::string::npos);
    CHECK(r.status == 1);
}
