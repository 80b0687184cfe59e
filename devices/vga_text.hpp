// The colour text mode of a CGA/VGA adapter, as a screen capture: 80x25 cells of {character,
// attribute} in guest RAM at 0xB8000 (the board maps plain RAM there, so guest writes to the
// screen cost no exits), plus the I/O registers software programs.
//
// Modelled:
//  - CRTC at 0x3D4 (index) / 0x3D5 (data), 256 stored registers; the display uses cursor start
//    0x0A (bit 5 = cursor off, bits 4:0 first scan line), cursor end 0x0B, start address
//    0x0C/0x0D and cursor location 0x0E/0x0F (both in character cells from 0xB8000). As on a
//    VGA, no cursor is shown when its start line is below its end line.
//  - Input status 1 at 0x3DA: every read toggles vertical retrace (bit 3) and display disabled
//    (bit 0), so "wait for retrace" polling loops end; the read also resets the attribute
//    controller's index/data flip-flop.
//  - 0x3C0-0x3CF: attribute controller (index/data flip-flop at 0x3C0, read at 0x3C1),
//    miscellaneous output (write 0x3C2, read 0x3CC), sequencer 0x3C4/0x3C5, DAC (mask 0x3C6,
//    read index 0x3C7, write index 0x3C8, data 0x3C9 in R,G,B triples), graphics controller
//    0x3CE/0x3CF: all stored and read back, none changes the picture.
//  - 0x3B4/0x3B5 (monochrome CRTC address): tolerated, a separate stored register file.
//  - Wider accesses are split into byte accesses at consecutive ports (so "out dx, ax" to
//    0x3D4 writes the index and then the data register, as on an 8-bit ISA card).
//
// screenText(): 25 lines, each ending in '\n', trailing spaces trimmed. Bytes are shown as their
// code page 437 glyphs in UTF-8 (box drawing, accented letters, symbols; 0x01-0x1F and 0x7F
// included); 0x00 and 0xFF (blank glyphs) become a space. Blinking, colours and the font are
// not rendered: cells() gives the GUI the attributes.
//
// Not modelled: graphics modes, other text geometries (40 columns, 50 lines), the VGA memory
// planes at 0xA0000. Reading the buffer of a running guest is racy in the way a real screen
// capture is: a frame may show half of an update.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "devices/bus.hpp"
#include "devices/guest_memory.hpp"

namespace hvlab::devices {

namespace vga {
inline constexpr uint64_t kTextBase = 0xB8000;
inline constexpr uint32_t kTextWindow = 0x8000;  // 32 KiB of text memory the start address wraps in
inline constexpr int kColumns = 80;
inline constexpr int kRows = 25;
inline constexpr int kCells = kColumns * kRows;

inline constexpr uint16_t kMonoCrtcIndex = 0x3B4;
inline constexpr uint16_t kAttrIndex = 0x3C0;
inline constexpr uint16_t kAttrRead = 0x3C1;
inline constexpr uint16_t kMiscWrite = 0x3C2;
inline constexpr uint16_t kSeqIndex = 0x3C4;
inline constexpr uint16_t kSeqData = 0x3C5;
inline constexpr uint16_t kDacMask = 0x3C6;
inline constexpr uint16_t kDacReadIndex = 0x3C7;
inline constexpr uint16_t kDacWriteIndex = 0x3C8;
inline constexpr uint16_t kDacData = 0x3C9;
inline constexpr uint16_t kMiscRead = 0x3CC;
inline constexpr uint16_t kGfxIndex = 0x3CE;
inline constexpr uint16_t kGfxData = 0x3CF;
inline constexpr uint16_t kCrtcIndex = 0x3D4;
inline constexpr uint16_t kCrtcData = 0x3D5;
inline constexpr uint16_t kInputStatus1 = 0x3DA;

inline constexpr uint8_t kCursorStart = 0x0A;
inline constexpr uint8_t kCursorEnd = 0x0B;
inline constexpr uint8_t kStartAddressHigh = 0x0C;
inline constexpr uint8_t kStartAddressLow = 0x0D;
inline constexpr uint8_t kCursorHigh = 0x0E;
inline constexpr uint8_t kCursorLow = 0x0F;
inline constexpr uint8_t kCursorDisable = 0x20;

inline constexpr uint8_t kStatusDisplayDisabled = 0x01;
inline constexpr uint8_t kStatusVerticalRetrace = 0x08;

// The UTF-8 form of a code page 437 byte (0x00 and 0xFF as a space).
std::string cp437ToUtf8(uint8_t byte);
}  // namespace vga

struct VgaCursor {
    int row = 0;
    int col = 0;
    bool visible = false;  // enabled, its scan lines not inverted, and within the 80x25 screen
};

class VgaText final : public PortDevice {
public:
    // Returns a host pointer to the 32 KiB of text memory at 0xB8000, or nullptr (blank screen).
    using TextMemory = std::function<const uint8_t*()>;

    explicit VgaText(TextMemory memory);
    explicit VgaText(GuestMemory& memory);  // copies through the bounds-checked DMA interface

    // Claims 0x3B4-0x3B5, 0x3C0-0x3CF, 0x3D4-0x3D5 and 0x3DA.
    void attachTo(IoBus& io);

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "vga-text"; }

    // May be called from another thread (the GUI) while the guest runs.
    std::string screenText() const;
    VgaCursor cursor() const;
    // The visible cells, row by row: character in bits 7:0, attribute in bits 15:8.
    std::array<uint16_t, vga::kCells> cells() const;

    uint8_t crtc(uint8_t index) const { return crtc_[index].load(std::memory_order_relaxed); }
    uint16_t startAddress() const;
    uint16_t cursorAddress() const;

private:
    uint8_t readByte(uint16_t port);
    void writeByte(uint16_t port, uint8_t value);
    bool readText(uint32_t offset, uint8_t* out, uint32_t len) const;

    std::function<bool(uint32_t offset, uint8_t* out, uint32_t len)> read_;

    std::array<std::atomic<uint8_t>, 256> crtc_{};  // read by the GUI thread
    uint8_t crtcIndex_ = 0;
    std::array<uint8_t, 256> monoCrtc_{};
    uint8_t monoCrtcIndex_ = 0;
    std::array<uint8_t, 32> attr_{};
    uint8_t attrIndex_ = 0;
    bool attrExpectData_ = false;  // the 0x3C0 flip-flop
    std::array<uint8_t, 8> seq_{};
    uint8_t seqIndex_ = 0;
    std::array<uint8_t, 16> gfx_{};
    uint8_t gfxIndex_ = 0;
    uint8_t misc_ = 0x67;  // colour I/O addresses, RAM enabled (the BIOS's mode 3 value)
    uint8_t dacMask_ = 0xFF;
    std::array<uint8_t, 256 * 3> dac_{};
    uint16_t dacReadPos_ = 0;   // index * 3 + component
    uint16_t dacWritePos_ = 0;
    uint8_t dacState_ = 0;      // 0x3C7 read: 0 = write mode, 3 = read mode
    bool retrace_ = false;
};

}  // namespace hvlab::devices
