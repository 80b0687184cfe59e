// Integration tests: boot real guests with the hvlab program and check what they print,
// how they end, and that the interpreter and KVM agree.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <sys/stat.h>

#include "tests/support/process.hpp"

using hvlab::test::runProcess;

namespace {

const std::string kHvlab = HVLAB_BINARY;
const std::string kFirmware = HVLAB_FIRMWARE_DIR;

std::string image(const char* name) { return kFirmware + "/" + name + ".bin"; }

bool kvmAvailable() {
    struct stat st{};
    return stat("/dev/kvm", &st) == 0;
}

// Reasons listed under "exits handled by the VMM:" in the run summary.
std::set<std::string> vmmExitReasons(const std::string& summary) {
    std::set<std::string> reasons;
    std::istringstream in(summary);
    std::string line;
    bool inTable = false;
    while (std::getline(in, line)) {
        if (line.rfind("exits handled by the VMM:", 0) == 0) {
            inTable = true;
            continue;
        }
        if (inTable && line.rfind("  ", 0) == 0) {
            std::istringstream fields(line);
            std::string reason;
            fields >> reason;
            reasons.insert(reason);
        } else {
            inTable = false;
        }
    }
    return reasons;
}

const char* kExpectedBanner =
    "hvlab firstboot\r\n"
    "16-bit real mode: CS=F000, running from the ROM alias at 0xF0000\r\n";

}  // namespace

TEST_CASE("the bundled guest boots through real, protected and long mode on the interpreter", "[integration]") {
    const auto r = runProcess({kHvlab, "run", "--engine", "interp"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.rfind(kExpectedBanner, 0) == 0);
    CHECK(r.out.find("32-bit protected mode") != std::string::npos);
    CHECK(r.out.find("64-bit long mode with 4-level paging") != std::string::npos);
    CHECK(r.out.find("cpuid vendor: GenuineIntel") != std::string::npos);
    CHECK(r.out.find("cpuid hypervisor: hvlabhvlabhv") != std::string::npos);
    CHECK(r.out.find("self-checks passed") != std::string::npos);
    CHECK(r.err.find("guest halted with interrupts disabled") != std::string::npos);
    const auto reasons = vmmExitReasons(r.err);
    CHECK(reasons == std::set<std::string>{"io", "hlt"});
    CHECK(r.err.find("cpuid") != std::string::npos);  // in-engine exits are reported too
}

TEST_CASE("an interpreter run is deterministic", "[integration]") {
    const auto a = runProcess({kHvlab, "run", "--trace-exits", "-q"});
    const auto b = runProcess({kHvlab, "run", "--trace-exits", "-q"});
    REQUIRE(a.status == 0);
    CHECK(a.out == b.out);
    // Same exit sequence (reason, rip, detail), ignoring timestamps and costs.
    auto strip = [](const std::string& trace) {
        std::istringstream in(trace);
        std::string line, text;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string word, seq, time, ms, reason, rip;
            f >> word >> seq >> time >> ms >> reason >> rip;
            text += reason + " " + rip + "\n";
        }
        return text;
    };
    CHECK(strip(a.err) == strip(b.err));
    CHECK(!strip(a.err).empty());
}

TEST_CASE("the bundled guest prints the same on KVM as on the interpreter", "[integration][kvm]") {
    if (!kvmAvailable()) {
        WARN("skipped: /dev/kvm is missing on this host (the kvm_nested test checks KVM inside QEMU)");
        return;
    }
    const auto interp = runProcess({kHvlab, "run", "--engine", "interp"});
    const auto kvm = runProcess({kHvlab, "run", "--engine", "kvm"});
    INFO(kvm.err);
    CHECK(kvm.status == 0);
    CHECK(kvm.out == interp.out);
    CHECK(vmmExitReasons(kvm.err) == vmmExitReasons(interp.err));
}

TEST_CASE("debug-exit ends the run with QEMU's status convention", "[integration]") {
    const auto r = runProcess({kHvlab, "run", image("debug-exit")});
    CHECK(r.status == 85);  // 0x2a * 2 + 1
    CHECK(r.err.find("isa-debug-exit") != std::string::npos);
}

TEST_CASE("a triple fault is a one-line error with RIP and the last exits", "[integration]") {
    for (const char* name : {"triple-fault", "long-mode-fault"}) {
        const auto r = runProcess({kHvlab, "run", "-q", image(name)});
        INFO(name << ": " << r.err);
        CHECK(r.status == 6);
        CHECK(r.err.find("hvlab: error: triple fault (shutdown) at rip 0x") == 0);
        CHECK(r.err.find("last exits:") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}

TEST_CASE("HLT with interrupts enabled and nothing to wake it ends cleanly", "[integration]") {
    const auto r = runProcess({kHvlab, "run", image("halt-sti")});
    CHECK(r.status == 0);
    CHECK(r.err.find("waiting for an interrupt, but no timer is armed") != std::string::npos);
}

TEST_CASE("an unimplemented instruction stops the VM with RIP and bytes", "[integration]") {
    const auto r = runProcess({kHvlab, "run", "-q", image("unimplemented")});
    CHECK(r.status == 8);
    CHECK(r.err.find("unimplemented instruction at rip 0x") != std::string::npos);
    CHECK(r.err.find("bytes d9 e8") != std::string::npos);
}

TEST_CASE("bad images and a missing KVM give one-line errors and distinct statuses", "[integration]") {
    SECTION("missing file") {
        const auto r = runProcess({kHvlab, "run", "/nonexistent/image.bin"});
        CHECK(r.status == 2);
        CHECK(r.err == "hvlab: error: cannot open '/nonexistent/image.bin': No such file or directory\n");
    }
    SECTION("not a ROM image") {
        const auto r = runProcess({kHvlab, "run", HVLAB_SOURCE_DIR "/CMakeLists.txt"});
        CHECK(r.status == 2);
        CHECK(r.err.find("a firmware image must be a multiple of 4 KiB") != std::string::npos);
    }
    SECTION("a directory") {
        const auto r = runProcess({kHvlab, "run", "/tmp"});
        CHECK(r.status == 2);
        CHECK(r.err.find("is a directory") != std::string::npos);
    }
    SECTION("missing /dev/kvm") {
        const auto r = runProcess({kHvlab, "run", "--engine", "kvm", "--kvm-device", "/nonexistent/kvm"});
        CHECK(r.status == 4);
        CHECK(r.err == "hvlab: error: KVM is not usable here: cannot open /nonexistent/kvm: No such file or "
                       "directory (try --engine interp)\n");
    }
    SECTION("bad memory size") {
        const auto r = runProcess({kHvlab, "run", "--mem", "lots"});
        CHECK(r.status == 2);
        CHECK(r.err.find("--mem 'lots'") != std::string::npos);
    }
    SECTION("memory out of range") {
        const auto r = runProcess({kHvlab, "run", "--mem", "1M"});
        CHECK(r.status == 2);
        CHECK(r.err.find("between 2 MiB and 3 GiB") != std::string::npos);
    }
}

TEST_CASE("a guest that never stops is ended by --timeout", "[integration]") {
    // debug-exit.bin stops itself; an infinite loop is made from the halt test by a tiny ROM
    // written here: a reset vector that jumps to itself.
    const std::string path = "/tmp/hvlab-spin-test.bin";
    {
        std::string rom(4096, '\xff');
        rom[4096 - 16] = '\xeb';  // jmp $
        rom[4096 - 15] = '\xfe';
        FILE* f = fopen(path.c_str(), "wb");
        REQUIRE(f);
        fwrite(rom.data(), 1, rom.size(), f);
        fclose(f);
    }
    const auto r = runProcess({kHvlab, "run", "--timeout", "0.3", path}, 20);
    CHECK_FALSE(r.timedOut);
    CHECK(r.status == 12);
    CHECK(r.err.find("timed out after 0.3 s") != std::string::npos);
}
