// The virtio devices on the PC board, seen by the hvlab BIOS: each in its fixed slot, its 64-bit
// BAR placed below 4 GiB and its INTA# given the IRQ of its PIRQ (the swizzle QEMU wires).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "tests/support/process.hpp"

using hvlab::test::runProcess;

TEST_CASE("virtio-net, virtio-console and virtio-blk get their slots and BIOS-assigned IRQs",
          "[integration][virtio]") {
    char name[] = "/tmp/hvlab-virtio-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 1 << 20) == 0);
    ::close(fd);
    const auto r = runProcess({HVLAB_BINARY, "run", "--disk", std::string(name) + ",virtio,readonly", "--disk",
                               std::string(name) + ",virtio,snapshot", "--nic=virtio", "--virtio-console"},
                              60);
    std::remove(name);
    INFO(r.out << r.err);
    // The BIOS finds no bootable (IDE) disk and halts: a clean end.
    CHECK(r.status == 0);
    CHECK(r.out.find("PCI 00:04.0 1AF4:1041 class 020000 mem E0000000 IRQ 11") != std::string::npos);
    CHECK(r.out.find("PCI 00:05.0 1AF4:1043 class 078000 mem E0004000 IRQ 10") != std::string::npos);
    CHECK(r.out.find("PCI 00:06.0 1AF4:1042 class 010000 mem E0008000 IRQ 10") != std::string::npos);
    CHECK(r.out.find("PCI 00:07.0 1AF4:1042 class 010000 mem E000C000 IRQ 11") != std::string::npos);
    CHECK(r.out.find("PCI 00:03.0") == std::string::npos);  // no e1000
}
