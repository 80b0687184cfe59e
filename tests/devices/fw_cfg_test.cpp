#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "devices/fw_cfg.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::fw_cfg;

namespace {

// The guest side, as a BIOS drives the traditional interface.
struct Guest {
    FwCfg& dev;
    void select(uint16_t key) { dev.ioWrite(kSelectorPort, 2, key); }
    uint8_t byte() { return static_cast<uint8_t>(dev.ioRead(kDataPort, 1)); }
    std::vector<uint8_t> bytes(size_t n) {
        std::vector<uint8_t> out(n);
        for (auto& b : out) b = byte();
        return out;
    }
    uint64_t le(int n) {
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
        return v;
    }
    uint64_t be(int n) {
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = v << 8 | byte();
        return v;
    }
};

}  // namespace

TEST_CASE("fw_cfg: signature and interface id", "[fw_cfg][chipset]") {
    FwCfg dev;
    Guest g{dev};
    g.select(kSignature);
    CHECK(g.bytes(4) == std::vector<uint8_t>{'Q', 'E', 'M', 'U'});
    CHECK(g.byte() == 0);  // past the end
    CHECK(g.byte() == 0);
    g.select(kId);
    CHECK(g.le(4) == kIdTraditional);  // no DMA interface advertised
    // Re-selecting rewinds the offset.
    g.select(kSignature);
    CHECK(g.byte() == 'Q');
    g.select(kSignature);
    CHECK(g.byte() == 'Q');
    // The write channel bit does not change what is read.
    g.select(kSignature | kWriteChannel);
    CHECK(g.byte() == 'Q');
    // Absent items read 0.
    g.select(0x1234);
    CHECK(g.byte() == 0);
}

TEST_CASE("fw_cfg: RAM size and CPU count", "[fw_cfg][chipset]") {
    FwCfg dev;
    Guest g{dev};
    dev.setRamSize(0x1'2345'6789ull);
    dev.setCpuCount(4);
    g.select(kRamSize);
    CHECK(g.le(8) == 0x1'2345'6789ull);
    g.select(kNbCpus);
    CHECK(g.le(2) == 4u);
    g.select(kMaxCpus);
    CHECK(g.le(2) == 4u);
    CHECK(g.byte() == 0);
}

TEST_CASE("fw_cfg: the file directory, parsed as a BIOS does, leads to etc/e820", "[fw_cfg][chipset]") {
    FwCfg dev;
    Guest g{dev};
    dev.addFile("etc/boot-fail-wait", {0x10, 0, 0, 0});
    const std::vector<E820Entry> map = {
        {0x0, 0x9FC00, kE820Ram},
        {0x9FC00, 0x400, kE820Reserved},
        {0x100000, 0x7F00000, kE820Ram},
    };
    dev.setE820(map);

    g.select(kFileDir);
    const auto count = static_cast<uint32_t>(g.be(4));
    REQUIRE(count == 2);
    uint16_t e820Select = 0;
    uint32_t e820Size = 0;
    for (uint32_t i = 0; i < count; ++i) {
        const auto size = static_cast<uint32_t>(g.be(4));
        const auto select = static_cast<uint16_t>(g.be(2));
        g.be(2);  // reserved
        const auto raw = g.bytes(kFileNameSize);
        const std::string name(reinterpret_cast<const char*>(raw.data()), strnlen(reinterpret_cast<const char*>(raw.data()), raw.size()));
        if (i == 0) {
            CHECK(name == "etc/boot-fail-wait");
            CHECK(select == kFileFirst);
            CHECK(size == 4);
        }
        if (name == "etc/e820") {
            e820Select = select;
            e820Size = size;
        }
    }
    CHECK(e820Select == kFileFirst + 1);
    REQUIRE(e820Size == map.size() * kE820EntrySize);

    g.select(e820Select);
    for (const E820Entry& e : map) {
        CHECK(g.le(8) == e.address);
        CHECK(g.le(8) == e.length);
        CHECK(g.le(4) == e.type);
    }
    CHECK(g.byte() == 0);
}

TEST_CASE("fw_cfg: replacing a file keeps its selector and updates the directory", "[fw_cfg][chipset]") {
    FwCfg dev;
    Guest g{dev};
    const uint16_t first = dev.addFile("opt/a", {1, 2, 3});
    const uint16_t second = dev.addFile("opt/b", {4});
    CHECK(second == first + 1);
    CHECK(dev.addFile("opt/a", {9, 9, 9, 9, 9}) == first);
    g.select(kFileDir);
    CHECK(g.be(4) == 2u);
    CHECK(g.be(4) == 5u);  // new size of opt/a
    g.select(first);
    CHECK(g.bytes(5) == std::vector<uint8_t>{9, 9, 9, 9, 9});
    CHECK_THROWS_AS(dev.addFile(std::string(56, 'x'), {}), std::invalid_argument);
    CHECK_NOTHROW(dev.addFile(std::string(55, 'x'), {}));
    CHECK_THROWS_AS(dev.setItem(kFileDir, {}), std::invalid_argument);
    CHECK_THROWS_AS(dev.setItem(first, {}), std::invalid_argument);
}

TEST_CASE("fw_cfg: kernel items set by the VMM; the data port is read-only", "[fw_cfg][chipset]") {
    FwCfg dev;
    Guest g{dev};
    const std::string cmdline = "console=ttyS0";
    std::vector<uint8_t> data(cmdline.begin(), cmdline.end());
    data.push_back(0);
    dev.setItem(kCmdlineSize, {static_cast<uint8_t>(data.size()), 0, 0, 0});
    dev.setItem(kCmdlineData, data);
    g.select(kCmdlineSize);
    CHECK(g.le(4) == data.size());
    g.select(kCmdlineData);
    dev.ioWrite(kDataPort, 1, 'X');  // ignored, and does not advance the offset
    CHECK(g.bytes(data.size()) == data);
    CHECK(dev.item(kCmdlineData) == data);
    // A wider data read yields one byte; the selector port is write-only.
    g.select(kSignature);
    CHECK(dev.ioRead(kDataPort, 2) == 0xFF51u);
    CHECK(dev.ioRead(kSelectorPort, 2) == 0xFFFFu);
    CHECK(dev.offset() == 1u);
}
