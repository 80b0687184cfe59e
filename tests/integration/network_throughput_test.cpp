// Network throughput: tinyos's `bench udp` on the e1000 (one tail-register write, so one exit, per
// frame) and on virtio-net (one notify per burst of 128 frames, no transmit interrupts), through
// `hvlab spectrum`, and the frames themselves in a capture of the switch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <pcap/pcap.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

using hvlab::test::ConsoleStep;
using hvlab::test::runConversation;
using hvlab::test::runProcess;

namespace {

const std::string kHvlab = HVLAB_BINARY;
const std::string kTinyos = std::string(HVLAB_FIRMWARE_DIR) + "/tinyos.img";

uint64_t exitsFor(const nlohmann::json& row, const char* reason) {
    const auto& byReason = row["vmm_exits_by_reason"];
    return byReason.contains(reason) ? byReason[reason].get<uint64_t>() : 0;
}

}  // namespace

TEST_CASE("hvlab spectrum net: virtio-net needs far fewer exits per frame than the e1000",
          "[integration][spectrum][network]") {
    const auto r = runProcess({kHvlab, "spectrum", "--guest", kTinyos, "--workload", "net", "--presets",
                               "emulated,hvm-pv-drivers", "--engine", "interp", "--json"},
                              300);
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["workload"] == "net");
    CHECK(doc["unit"] == "frame");
    const auto& rows = doc["presets"];
    REQUIRE(rows.size() == 2);
    const auto& e1000 = rows[0];
    const auto& virtio = rows[1];
    INFO(e1000.dump() << "\n" << virtio.dump());
    REQUIRE(e1000["ran"] == true);
    REQUIRE(virtio["ran"] == true);
    CHECK(virtio["modes"]["devices"] == "P");

    const auto frames = e1000["units"].get<uint64_t>();
    CHECK(frames >= 4096);
    CHECK(virtio["units"].get<uint64_t>() == frames);
    CHECK(e1000["figures"][1].get<std::string>().rfind("net UDP stream: e1000 doorbell", 0) == 0);
    CHECK(virtio["figures"][1].get<std::string>().rfind("net UDP stream: virtio-net doorbell", 0) == 0);
    // Every frame reached the switch (plus the ARP request and reply).
    CHECK(e1000["switch_frames"].get<uint64_t>() >= frames);
    CHECK(virtio["switch_frames"].get<uint64_t>() >= frames);

    // The e1000 driver writes TDT once per frame: one MMIO exit each. virtio-net notifies once per
    // burst. Measured (32,768 frames): 1.02 vs 0.03 exits per frame, mmio 32,771 vs 258.
    CHECK(exitsFor(e1000, "mmio") >= frames);
    CHECK(exitsFor(virtio, "mmio") * 50 < frames);
    const double e1000PerFrame = e1000["exits_per_unit"].get<double>();
    const double virtioPerFrame = virtio["exits_per_unit"].get<double>();
    CHECK(e1000PerFrame >= 1.0);
    CHECK(virtioPerFrame * 10 < e1000PerFrame);
}

TEST_CASE("tinyos on virtio-net: ping still answers, and `bench udp` frames are in the capture",
          "[integration][network]") {
    const std::string pcapPath = "/tmp/hvlab-test-udp-" + std::to_string(getpid()) + ".pcap";
    const std::vector<ConsoleStep> script = {
        {"[vm2] started process 3", "\n"},
        {"tinyos> ", "ping 10.0.0.3 2\n"},
        {"reply from 10.0.0.3: seq=2", "bench udp 10.0.0.3 300 100\n"},
        {"frames each; ring full", "poweroff\n"},
    };
    const auto r = runConversation({kHvlab, "run", "--disk", kTinyos, "--vms", "2", "--nic=virtio", "--pcap",
                                    pcapPath},
                                   script, 180);
    INFO(r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0));
    INFO(r.err);
    CHECK(r.out.find("net: using virtio-net") != std::string::npos);
    CHECK(r.out.find("net UDP stream: 300 frames of 142 bytes") != std::string::npos);  // 14 + 20 + 8 + 100
    CHECK(r.out.find("virtio-net doorbell (queue notify) rung 3 times") != std::string::npos);  // 128 + 128 + 44
    CHECK(r.status == 1);

    char error[PCAP_ERRBUF_SIZE];
    pcap_t* pcap = pcap_open_offline(pcapPath.c_str(), error);
    REQUIRE(pcap != nullptr);
    int datagrams = 0, inOrder = 0, wholePayload = 0;
    pcap_pkthdr* header;
    const u_char* data;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
        // IPv4, UDP, to 10.0.0.3 port 9 with a 100-byte payload numbered from 0.
        if (header->caplen < 14 + 20 + 8 + 4 || (data[12] << 8 | data[13]) != 0x0800 || data[14 + 9] != 17) continue;
        if (data[14 + 19] != 3 || (data[34 + 2] << 8 | data[34 + 3]) != 9 || (data[34 + 4] << 8 | data[34 + 5]) != 108)
            continue;
        const int sequence = data[42] << 24 | data[43] << 16 | data[44] << 8 | data[45];
        if (sequence == datagrams) ++inOrder;
        ++datagrams;
        if (header->caplen == 142 && std::all_of(data + 46, data + 142, [](u_char c) { return c == 'u'; }))
            ++wholePayload;
    }
    pcap_close(pcap);
    std::remove(pcapPath.c_str());
    CHECK(datagrams == 300);
    CHECK(inOrder == 300);
    CHECK(wholePayload == 300);  // after the number, the 96 'u's of the payload
}
