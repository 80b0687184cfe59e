#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "devices/vga_text.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::vga;

namespace {

struct Screen {
    std::vector<uint8_t> memory = std::vector<uint8_t>(kTextWindow, 0);
    VgaText vga{[this] { return memory.data(); }};

    void put(int row, int col, const std::string& s, uint8_t attr = 0x07) {
        for (size_t i = 0; i < s.size(); ++i) {
            const size_t at = 2 * (static_cast<size_t>(row * kColumns + col) + i);
            memory[at] = static_cast<uint8_t>(s[i]);
            memory[at + 1] = attr;
        }
    }
    void crtcWrite(uint8_t index, uint8_t value) {
        vga.ioWrite(kCrtcIndex, 1, index);
        vga.ioWrite(kCrtcData, 1, value);
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        std::string text = vga.screenText();
        size_t start = 0;
        for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
            out.push_back(text.substr(start, nl - start));
            start = nl + 1;
        }
        CHECK(start == text.size());  // every line ends in '\n'
        return out;
    }
};

class FakeGuestMemory final : public GuestMemory {
public:
    std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20, 0);
    bool read(uint64_t gpa, void* out, uint64_t len) override {
        if (gpa + len > ram.size()) return false;
        std::memcpy(out, ram.data() + gpa, len);
        return true;
    }
    bool write(uint64_t, const void*, uint64_t) override { return false; }
};

}  // namespace

TEST_CASE("VGA text: screenText of a written buffer", "[vga][chipset]") {
    Screen s;
    s.put(0, 0, "Hello   ");
    s.put(2, 5, "World");
    s.put(24, 0, "\xC9\xCD\xBB");  // CP437 box drawing
    s.put(10, 0, "\x01 caf\x82");
    const auto lines = s.lines();
    REQUIRE(lines.size() == 25);
    CHECK(lines[0] == "Hello");  // trailing spaces trimmed
    CHECK(lines[1].empty());     // zeroed memory is blank
    CHECK(lines[2] == "     World");
    CHECK(lines[10] == "\u263A caf\u00E9");
    CHECK(lines[24] == "\u2554\u2550\u2557");

    const auto cells = s.vga.cells();
    CHECK(cells[0] == 0x0748);  // 'H' on attribute 0x07
    CHECK(cells[2 * kColumns + 5] == 0x0757);
    CHECK(cp437ToUtf8(0xB3) == "\u2502");
    CHECK(cp437ToUtf8(0x00) == " ");
    CHECK(cp437ToUtf8('A') == "A");
}

TEST_CASE("VGA text: the start address scrolls the visible page", "[vga][chipset]") {
    Screen s;
    s.put(0, 0, "first row");
    s.put(1, 0, "second row");
    s.crtcWrite(kStartAddressHigh, 0);
    s.crtcWrite(kStartAddressLow, kColumns);  // one row down, in cells
    CHECK(s.vga.startAddress() == kColumns);
    const auto lines = s.lines();
    CHECK(lines[0] == "second row");
    // Near the end of the 32 KiB window the page wraps to its start.
    s.crtcWrite(kStartAddressHigh, static_cast<uint8_t>((kTextWindow / 2 - kColumns) >> 8));
    s.crtcWrite(kStartAddressLow, static_cast<uint8_t>((kTextWindow / 2 - kColumns) & 0xFF));
    const auto wrapped = s.lines();
    CHECK(wrapped[1] == "first row");
}

TEST_CASE("VGA text: cursor location and shape registers", "[vga][chipset]") {
    Screen s;
    s.crtcWrite(kCursorHigh, 0x01);
    s.crtcWrite(kCursorLow, 0x42);  // 0x142 = 322 = row 4, column 2
    VgaCursor c = s.vga.cursor();
    CHECK(c.row == 4);
    CHECK(c.col == 2);
    CHECK(c.visible);
    // "out dx, ax" with AL = index, AH = data, as BIOSes do.
    s.vga.ioWrite(kCrtcIndex, 2, 0x000F);
    CHECK(s.vga.crtc(kCursorLow) == 0x00);
    CHECK(s.vga.cursorAddress() == 0x100);
    CHECK(s.vga.cursor().row == 3);
    CHECK(s.vga.cursor().col == 16);
    s.vga.ioWrite(kCrtcIndex, 1, kCursorLow);
    CHECK(s.vga.ioRead(kCrtcData, 1) == 0x00u);
    CHECK(s.vga.ioRead(kCrtcIndex, 1) == kCursorLow);

    s.crtcWrite(kCursorStart, 0x20);  // cursor off
    CHECK_FALSE(s.vga.cursor().visible);
    s.crtcWrite(kCursorStart, 0x0F);  // start below end (0x0E): no cursor on a VGA
    CHECK_FALSE(s.vga.cursor().visible);
    s.crtcWrite(kCursorStart, 0x0E);
    CHECK(s.vga.cursor().visible);
    s.crtcWrite(kCursorHigh, 0x10);  // beyond the screen
    CHECK_FALSE(s.vga.cursor().visible);
}

TEST_CASE("VGA text: input status 1 toggles retrace so polling loops end", "[vga][chipset]") {
    Screen s;
    const auto first = s.vga.ioRead(kInputStatus1, 1);
    const auto second = s.vga.ioRead(kInputStatus1, 1);
    CHECK(first == (kStatusVerticalRetrace | kStatusDisplayDisabled));
    CHECK(second == 0u);
    // "wait while in retrace, then wait for retrace" terminates.
    int reads = 0;
    while (s.vga.ioRead(kInputStatus1, 1) & kStatusVerticalRetrace) ++reads;
    while (!(s.vga.ioRead(kInputStatus1, 1) & kStatusVerticalRetrace)) ++reads;
    CHECK(reads < 4);
}

TEST_CASE("VGA text: attribute, sequencer, DAC and mono CRTC registers read back", "[vga][chipset]") {
    Screen s;
    s.vga.ioRead(kInputStatus1, 1);  // reset the flip-flop to "index"
    s.vga.ioWrite(kAttrIndex, 1, 0x10);
    s.vga.ioWrite(kAttrIndex, 1, 0x0C);  // data
    CHECK(s.vga.ioRead(kAttrIndex, 1) == 0x10u);
    CHECK(s.vga.ioRead(kAttrRead, 1) == 0x0Cu);
    s.vga.ioWrite(kSeqIndex, 2, 0x0304);  // index 4 = 0x03
    CHECK(s.vga.ioRead(kSeqData, 1) == 0x03u);
    s.vga.ioWrite(kGfxIndex, 1, 6);
    s.vga.ioWrite(kGfxData, 1, 0x0E);
    CHECK(s.vga.ioRead(kGfxData, 1) == 0x0Eu);
    s.vga.ioWrite(kMiscWrite, 1, 0x63);
    CHECK(s.vga.ioRead(kMiscRead, 1) == 0x63u);
    s.vga.ioWrite(kDacWriteIndex, 1, 1);
    for (uint8_t v : {0x3F, 0x20, 0x01}) s.vga.ioWrite(kDacData, 1, v);
    s.vga.ioWrite(kDacReadIndex, 1, 1);
    CHECK(s.vga.ioRead(kDacData, 1) == 0x3Fu);
    CHECK(s.vga.ioRead(kDacData, 1) == 0x20u);
    CHECK(s.vga.ioRead(kDacData, 1) == 0x01u);
    s.vga.ioWrite(kMonoCrtcIndex, 1, 0x0E);
    s.vga.ioWrite(kMonoCrtcIndex + 1, 1, 0x55);
    CHECK(s.vga.ioRead(kMonoCrtcIndex + 1, 1) == 0x55u);
    CHECK(s.vga.crtc(0x0E) == 0x00);  // the colour CRTC is a different register file
}

TEST_CASE("VGA text: reads guest memory through GuestMemory; no memory means a blank screen", "[vga][chipset]") {
    FakeGuestMemory mem;
    const char* hi = "hi";
    mem.ram[kTextBase] = static_cast<uint8_t>(hi[0]);
    mem.ram[kTextBase + 2] = static_cast<uint8_t>(hi[1]);
    VgaText vga(mem);
    CHECK(vga.screenText().substr(0, 3) == "hi\n");

    VgaText blank([]() -> const uint8_t* { return nullptr; });
    const auto cells = blank.cells();
    CHECK(std::all_of(cells.begin(), cells.end(), [](uint16_t c) { return c == 0x0720; }));
    CHECK(blank.screenText() == std::string(25, '\n'));
}
