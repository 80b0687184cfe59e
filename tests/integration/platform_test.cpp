// The PC platform end to end: the hvlab BIOS boots disks, tinyos boots to its shell through the
// BIOS and answers commands, and a VS (interpreter) run is deterministic.
#include <catch2/catch.hpp>

#include <cstdio>
#include <pcap/pcap.h>
#include <sstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

using hvlab::test::ConsoleStep;
using hvlab::test::runConversation;
using hvlab::test::runProcess;

namespace {

const std::string kHvlab = HVLAB_BINARY;
const std::string kFirmware = HVLAB_FIRMWARE_DIR;

// The reason and RIP of every exit in a --trace-exits log (times and costs left out).
std::vector<std::string> exitSequence(const std::string& trace) {
    std::vector<std::string> seq;
    std::istringstream in(trace);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("exit ", 0) != 0) continue;
        std::istringstream f(line);
        std::string word, number, time, ms, reason, rip;
        f >> word >> number >> time >> ms >> reason >> rip;
        seq.push_back(reason + " " + rip);
    }
    return seq;
}

}  // namespace

TEST_CASE("the hvlab BIOS passes its self-checking test disk on the interpreter", "[integration][bios]") {
    // INT 10h/13h (CHS, LBA, LBA48 geometry), 15h (E820, A20, waits), 16h, 1Ah, PCI BIOS, MP and
    // ACPI tables: the disk checks each and reports through isa-debug-exit (0x10 = pass).
    const auto r = runProcess({kHvlab, "run", "--disk", kFirmware + "/bios-test.img", "--snapshot"}, 120);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.out.find("hvlab BIOS") != std::string::npos);
    CHECK(r.out.find("bios-test: 15 groups, 0 failed") != std::string::npos);
    CHECK(r.status == 33);  // 0x10 * 2 + 1
}

TEST_CASE("tinyos boots from disk through the BIOS to its shell and answers commands", "[integration][tinyos]") {
    const std::vector<ConsoleStep> script = {
        {"tinyos> ", "ps\n"},
        {"spinner", ""},
        {"tinyos> ", "disk write 3 hello\n"},
        {"tinyos> ", "disk read 3\n"},
        {"tinyos> ", "ticks\n"},
        {"tinyos> ", "poweroff\n"},
    };
    const auto r = runConversation({kHvlab, "run", "--disk", kFirmware + "/tinyos.img", "--snapshot"}, script, 120);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.out.find("ide: primary master \"hvlab HARDDISK\"") != std::string::npos);  // IDE through PCI
    CHECK(r.out.find("timer: PIT at 1000 Hz") != std::string::npos);
    CHECK(r.out.find("tinyos shell") != std::string::npos);
    CHECK(r.out.find("counter") != std::string::npos);  // ps lists the ring-3 processes
    CHECK(r.out.find("wrote 5 bytes to data sector 3") != std::string::npos);
    CHECK(r.out.find("|hello...") != std::string::npos);  // read back through the IDE driver
    CHECK(r.out.find("ticks at 1000 Hz") != std::string::npos);
    CHECK(r.status == 1);  // poweroff writes 0 to isa-debug-exit
}

TEST_CASE("a VS run is deterministic: same output, same exit sequence", "[integration][determinism]") {
    const std::vector<std::string> argv = {kHvlab,     "run", "--disk", kFirmware + "/bios-test.img",
                                           "--snapshot", "--trace-exits"};
    const auto a = runProcess(argv, 120);
    const auto b = runProcess(argv, 120);
    REQUIRE(a.status == 33);
    REQUIRE(b.status == 33);
    CHECK(a.out == b.out);
    const auto sa = exitSequence(a.err), sb = exitSequence(b.err);
    CHECK(sa.size() > 10000);  // the BIOS and the test disk do a lot of port I/O
    CHECK(sa == sb);
}

TEST_CASE("two tinyos VMs in one process ping each other through the switch, captured in a pcap",
          "[integration][network]") {
    const std::string pcapPath = "/tmp/hvlab-test-ping-" + std::to_string(getpid()) + ".pcap";
    const std::vector<ConsoleStep> script = {
        {"[vm2] started process 3", "\n"},  // VM 2 is up; a fresh prompt from VM 1
        {"tinyos> ", "ping 10.0.0.3 3\n"},
        {"reply from 10.0.0.3: seq=3", "poweroff\n"},
    };
    const auto r = runConversation(
        {kHvlab, "run", "--disk", kFirmware + "/tinyos.img", "--vms", "2", "--pcap", pcapPath}, script, 180);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.out.find("[vm2] net: IP address 10.0.0.3/24") != std::string::npos);
    CHECK(r.out.find("reply from 10.0.0.3: seq=1") != std::string::npos);
    CHECK(r.out.find("reply from 10.0.0.3: seq=3") != std::string::npos);
    CHECK(r.status == 1);

    // The capture holds the ARP exchange and the ICMP echo requests and replies.
    char error[PCAP_ERRBUF_SIZE];
    pcap_t* pcap = pcap_open_offline(pcapPath.c_str(), error);
    REQUIRE(pcap != nullptr);
    CHECK(pcap_datalink(pcap) == DLT_EN10MB);
    int arp = 0, echoRequests = 0, echoReplies = 0;
    pcap_pkthdr* header;
    const u_char* data;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
        if (header->caplen < 14) continue;
        const int type = data[12] << 8 | data[13];
        if (type == 0x0806) ++arp;
        if (type == 0x0800 && header->caplen >= 14 + 20 + 8 && data[14 + 9] == 1) {
            const int ihl = (data[14] & 15) * 4;
            const u_char icmpType = data[14 + ihl];
            if (icmpType == 8) ++echoRequests;
            if (icmpType == 0) ++echoReplies;
        }
    }
    pcap_close(pcap);
    std::remove(pcapPath.c_str());
    CHECK(arp >= 2);
    CHECK(echoRequests >= 3);
    CHECK(echoReplies >= 3);
}

TEST_CASE("tinyos runs every bench: cpu, syscall, pagefault, disk (PIO and DMA), net to a second VM, timer",
          "[integration][bench]") {
    const std::vector<ConsoleStep> script = {
        {"[vm2] started process 3", "\n"},
        {"tinyos> ", "bench cpu\n"},
        {"per tick (wall clock)", "bench syscall\n"},
        {"getpid() calls in", "bench pagefault\n"},
        {"page faults in", "bench disk\n"},
        {"disk DMA: read", "bench net 10.0.0.3\n"},
        {"net ICMP echo: 10 round trips", "bench timer\n"},
        {"TSC cycles per tick", "poweroff\n"},
    };
    const auto r = runConversation({kHvlab, "run", "--disk", kFirmware + "/tinyos.img", "--vms", "2"}, script, 240);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.out.find("cpu: this process ran") != std::string::npos);
    CHECK(r.out.find(" ns and ") != std::string::npos);  // syscall: ns and TSC cycles per call
    CHECK(r.out.find("faults per second") != std::string::npos);
    CHECK(r.out.find("disk PIO: read 1024 sectors") != std::string::npos);
    CHECK(r.out.find("disk DMA: read 1024 sectors") != std::string::npos);
    CHECK(r.out.find("net ARP request: 5 round trips") != std::string::npos);
    CHECK(r.out.find("net ICMP echo: 10 round trips") != std::string::npos);
    CHECK(r.out.find("timer: failed") == std::string::npos);
    CHECK(r.out.find("RTC seconds (expected") != std::string::npos);
    CHECK(r.status == 1);
}

TEST_CASE("a guest reset reboots the PC (disk contents kept); --no-reboot stops instead", "[integration][reset]") {
    const std::vector<ConsoleStep> script = {
        {"tinyos> ", "disk write 5 before-reboot\n"},
        {"tinyos> ", "reboot\n"},                   // the i8042's reset line (command 0xFE)
        {"hvlab BIOS 1.0", ""},                     // POST again
        {"tinyos> ", "disk read 5\n"},
        {"|before-reboot", "poweroff\n"},           // the snapshot overlay survived the reset
    };
    const auto r = runConversation({kHvlab, "run", "--disk", kFirmware + "/tinyos.img", "--snapshot"}, script, 120);
    INFO(r.out.substr(r.out.size() > 3000 ? r.out.size() - 3000 : 0));
    INFO(r.err);
    CHECK(r.out.find("|before-reboot") != std::string::npos);
    CHECK(r.status == 1);

    const std::vector<ConsoleStep> once = {{"tinyos> ", "reboot\n"}};
    const auto n = runConversation({kHvlab, "run", "--disk", kFirmware + "/tinyos.img", "--snapshot", "--no-reboot"},
                                   once, 120);
    INFO(n.err);
    CHECK(n.status == 0);
    CHECK(n.err.find("i8042") != std::string::npos);
    CHECK(n.err.find("--no-reboot") != std::string::npos);
}
