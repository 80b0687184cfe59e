// Packet captures through libpcap: the file is a valid pcap that pcap_open_offline reads back,
// with the frames and the timestamps of the supplied clock.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "devices/pcap_capture.hpp"
#include "devices/virtual_switch.hpp"

using namespace hvlab::devices;

namespace {

std::string tempPath(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("hvlab-pcap-" + std::to_string(::getpid()) + "-" + name)).string();
}

struct Record {
    uint64_t tsUs;
    uint32_t len;
    std::vector<uint8_t> data;
};

std::vector<Record> readCapture(const std::string& path, int* linkType = nullptr) {
    char error[PCAP_ERRBUF_SIZE] = {};
    pcap_t* handle = pcap_open_offline(path.c_str(), error);
    REQUIRE(handle != nullptr);
    if (linkType) *linkType = pcap_datalink(handle);
    std::vector<Record> records;
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(handle, &header, &data) == 1)
        records.push_back({static_cast<uint64_t>(header->ts.tv_sec) * 1000000u + static_cast<uint64_t>(header->ts.tv_usec),
                           header->len, std::vector<uint8_t>(data, data + header->caplen)});
    pcap_close(handle);
    return records;
}

std::vector<uint8_t> frame(uint8_t dstLast, uint8_t srcLast, size_t size) {
    std::vector<uint8_t> f = {0x52, 0x54, 0, 0, 0, dstLast, 0x52, 0x54, 0, 0, 0, srcLast, 0x88, 0xB5};
    f.resize(size, 0xA5);
    return f;
}

}  // namespace

TEST_CASE("pcap capture: frames and clock timestamps read back with libpcap", "[pcap]") {
    const std::string path = tempPath("basic.pcap");
    uint64_t now = 1'700'000'000'123'456'789ull;
    {
        PcapCapture capture(path, [&] { return now; });
        capture.write(frame(1, 2, 60));
        now += 2'500'000;  // 2.5 ms later
        capture.write(frame(2, 1, 1514));
        CHECK(capture.framesWritten() == 2);
        // Flushed at once: readable while the capture is still open.
        CHECK(readCapture(path).size() == 2);
    }
    int linkType = -1;
    const auto records = readCapture(path, &linkType);
    CHECK(linkType == DLT_EN10MB);
    REQUIRE(records.size() == 2);
    CHECK(records[0].tsUs == 1'700'000'000'123'456u);
    CHECK(records[1].tsUs == 1'700'000'000'125'956u);
    CHECK(records[0].data == frame(1, 2, 60));
    CHECK(records[1].len == 1514);
    CHECK(records[1].data == frame(2, 1, 1514));
    std::filesystem::remove(path);
}

TEST_CASE("pcap capture: frames beyond the snap length are truncated", "[pcap]") {
    const std::string path = tempPath("snap.pcap");
    {
        PcapCapture capture(path, [] { return uint64_t{0}; });
        capture.write(frame(1, 2, 65535 + 100));
    }
    const auto records = readCapture(path);
    REQUIRE(records.size() == 1);
    CHECK(records[0].len == 65635);
    CHECK(records[0].data.size() == 65535);
    std::filesystem::remove(path);
}

TEST_CASE("pcap capture: a file that cannot be created is a clear error", "[pcap]") {
    CHECK_THROWS_AS(PcapCapture("/nonexistent-dir/x/capture.pcap"), std::runtime_error);
    try {
        PcapCapture("/nonexistent-dir/x/capture.pcap");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("/nonexistent-dir/x/capture.pcap") != std::string::npos);
    }
}

TEST_CASE("pcap capture: the switch records every frame that enters it", "[pcap][vswitch]") {
    const std::string path = tempPath("switch.pcap");
    uint64_t now = 0;
    {
        PcapCapture capture(path, [&] { return now += 1000; });
        VirtualSwitch sw(&capture);
        auto* a = sw.connect("a");
        auto* b = sw.connect("b");
        a->send(frame(0xFF, 1, 60));
        b->send(frame(1, 2, 100));
        a->send(std::vector<uint8_t>(5, 0));  // malformed: refused, not captured
        CHECK(capture.framesWritten() == 2);
    }
    const auto records = readCapture(path);
    REQUIRE(records.size() == 2);
    CHECK(records[0].data == frame(0xFF, 1, 60));
    CHECK(records[1].data == frame(1, 2, 100));
    CHECK(records[0].tsUs == 1);
    CHECK(records[1].tsUs == 2);
    std::filesystem::remove(path);
}
