#include "devices/vga_text.hpp"

#include <algorithm>
#include <cstring>

namespace hvlab::devices {

using namespace vga;

namespace {

// Unicode code points of the code page 437 glyphs for 0x00-0x1F (0x00 shown as a space).
constexpr char16_t kCp437Low[32] = {
    u' ',    u'\u263A', u'\u263B', u'\u2665', u'\u2666', u'\u2663', u'\u2660', u'\u2022',
    u'\u25D8', u'\u25CB', u'\u25D9', u'\u2642', u'\u2640', u'\u266A', u'\u266B', u'\u263C',
    u'\u25BA', u'\u25C4', u'\u2195', u'\u203C', u'\u00B6', u'\u00A7', u'\u25AC', u'\u21A8',
    u'\u2191', u'\u2193', u'\u2192', u'\u2190', u'\u221F', u'\u2194', u'\u25B2', u'\u25BC',
};

// ... and for 0x80-0xFF (0xFF, a blank glyph, shown as a space).
constexpr char16_t kCp437High[128] = {
    u'Ç', u'ü', u'é', u'â', u'ä', u'à', u'å', u'ç', u'ê', u'ë', u'è', u'ï', u'î', u'ì', u'Ä', u'Å',  // 80
    u'É', u'æ', u'Æ', u'ô', u'ö', u'ò', u'û', u'ù', u'ÿ', u'Ö', u'Ü', u'¢', u'£', u'¥', u'₧', u'ƒ',  // 90
    u'á', u'í', u'ó', u'ú', u'ñ', u'Ñ', u'ª', u'º', u'¿', u'⌐', u'¬', u'½', u'¼', u'¡', u'«', u'»',  // A0
    u'░', u'▒', u'▓', u'│', u'┤', u'╡', u'╢', u'╖', u'╕', u'╣', u'║', u'╗', u'╝', u'╜', u'╛', u'┐',  // B0
    u'└', u'┴', u'┬', u'├', u'─', u'┼', u'╞', u'╟', u'╚', u'╔', u'╩', u'╦', u'╠', u'═', u'╬', u'╧',  // C0
    u'╨', u'╤', u'╥', u'╙', u'╘', u'╒', u'╓', u'╫', u'╪', u'┘', u'┌', u'█', u'▄', u'▌', u'▐', u'▀',  // D0
    u'α', u'ß', u'Γ', u'π', u'Σ', u'σ', u'µ', u'τ', u'Φ', u'Θ', u'Ω', u'δ', u'∞', u'φ', u'ε', u'∩',  // E0
    u'≡', u'±', u'≥', u'≤', u'⌠', u'⌡', u'÷', u'≈', u'°', u'∙', u'·', u'√', u'ⁿ', u'²', u'■', u' ',  // F0
};

void appendUtf8(std::string& out, char16_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

char16_t cp437(uint8_t byte) {
    if (byte < 0x20) return kCp437Low[byte];
    if (byte == 0x7F) return u'\u2302';  // house
    if (byte >= 0x80) return kCp437High[byte - 0x80];
    return byte;
}

constexpr uint16_t kBlankCell = 0x0720;  // a space, light grey on black

}  // namespace

std::string vga::cp437ToUtf8(uint8_t byte) {
    std::string s;
    appendUtf8(s, cp437(byte));
    return s;
}

VgaText::VgaText(TextMemory memory) {
    read_ = [memory = std::move(memory)](uint32_t offset, uint8_t* out, uint32_t len) {
        const uint8_t* text = memory ? memory() : nullptr;
        if (!text || offset + len > kTextWindow) return false;
        std::memcpy(out, text + offset, len);
        return true;
    };
    crtc_[kCursorStart] = 0x0D;  // the BIOS's mode 3 underline cursor
    crtc_[kCursorEnd] = 0x0E;
}

VgaText::VgaText(GuestMemory& memory) {
    read_ = [&memory](uint32_t offset, uint8_t* out, uint32_t len) {
        return offset + len <= kTextWindow && memory.read(kTextBase + offset, out, len);
    };
    crtc_[kCursorStart] = 0x0D;
    crtc_[kCursorEnd] = 0x0E;
}

void VgaText::attachTo(IoBus& io) {
    io.attach(kMonoCrtcIndex, 2, this);
    io.attach(kAttrIndex, 16, this);
    io.attach(kCrtcIndex, 2, this);
    io.attach(kInputStatus1, 1, this);
}

// ---- registers ---------------------------------------------------------------------------

uint32_t VgaText::ioRead(uint16_t port, unsigned size) {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i) value |= static_cast<uint32_t>(readByte(static_cast<uint16_t>(port + i))) << (8 * i);
    return value;
}

void VgaText::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i) writeByte(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t VgaText::readByte(uint16_t port) {
    switch (port) {
    case kCrtcIndex: return crtcIndex_;
    case kCrtcData: return crtc(crtcIndex_);
    case kMonoCrtcIndex: return monoCrtcIndex_;
    case kMonoCrtcIndex + 1: return monoCrtc_[monoCrtcIndex_];
    case kInputStatus1: {
        retrace_ = !retrace_;
        attrExpectData_ = false;
        return retrace_ ? kStatusVerticalRetrace | kStatusDisplayDisabled : 0;
    }
    case kAttrIndex: return attrIndex_;
    case kAttrRead: return attr_[attrIndex_ & 0x1F];
    case kMiscRead: return misc_;
    case kSeqIndex: return seqIndex_;
    case kSeqData: return seq_[seqIndex_ & 7];
    case kDacMask: return dacMask_;
    case kDacReadIndex: return dacState_;
    case kDacWriteIndex: return static_cast<uint8_t>(dacWritePos_ / 3);
    case kDacData: {
        const uint8_t v = dac_[dacReadPos_];
        dacReadPos_ = static_cast<uint16_t>((dacReadPos_ + 1) % dac_.size());
        return v;
    }
    case kGfxIndex: return gfxIndex_;
    case kGfxData: return gfx_[gfxIndex_ & 0xF];
    default: return 0xFF;  // 0x3C2 (input status 0), 0x3CA and unassigned ports
    }
}

void VgaText::writeByte(uint16_t port, uint8_t value) {
    switch (port) {
    case kCrtcIndex: crtcIndex_ = value; break;
    case kCrtcData: crtc_[crtcIndex_].store(value, std::memory_order_relaxed); break;
    case kMonoCrtcIndex: monoCrtcIndex_ = value; break;
    case kMonoCrtcIndex + 1: monoCrtc_[monoCrtcIndex_] = value; break;
    case kAttrIndex:
        if (attrExpectData_) attr_[attrIndex_ & 0x1F] = value;
        else attrIndex_ = value & 0x3F;  // bit 5: palette address source
        attrExpectData_ = !attrExpectData_;
        break;
    case kMiscWrite: misc_ = value; break;
    case kSeqIndex: seqIndex_ = value; break;
    case kSeqData: seq_[seqIndex_ & 7] = value; break;
    case kDacMask: dacMask_ = value; break;
    case kDacReadIndex:
        dacReadPos_ = static_cast<uint16_t>(value * 3);
        dacState_ = 3;
        break;
    case kDacWriteIndex:
        dacWritePos_ = static_cast<uint16_t>(value * 3);
        dacState_ = 0;
        break;
    case kDacData:
        dac_[dacWritePos_] = value & 0x3F;  // 6-bit DAC
        dacWritePos_ = static_cast<uint16_t>((dacWritePos_ + 1) % dac_.size());
        break;
    case kGfxIndex: gfxIndex_ = value; break;
    case kGfxData: gfx_[gfxIndex_ & 0xF] = value; break;
    default: break;
    }
}

uint16_t VgaText::startAddress() const {
    return static_cast<uint16_t>(crtc(kStartAddressHigh) << 8 | crtc(kStartAddressLow));
}

uint16_t VgaText::cursorAddress() const { return static_cast<uint16_t>(crtc(kCursorHigh) << 8 | crtc(kCursorLow)); }

// ---- the picture -------------------------------------------------------------------------

bool VgaText::readText(uint32_t offset, uint8_t* out, uint32_t len) const { return read_(offset, out, len); }

std::array<uint16_t, kCells> VgaText::cells() const {
    std::array<uint16_t, kCells> out;
    out.fill(kBlankCell);
    // Cells are two bytes; the start address counts cells and wraps inside the 32 KiB window.
    std::array<uint8_t, kCells * 2> bytes;
    const uint32_t start = (startAddress() * 2u) % kTextWindow;
    const uint32_t first = std::min<uint32_t>(kTextWindow - start, bytes.size());
    if (!readText(start, bytes.data(), first)) return out;
    if (first < bytes.size() && !readText(0, bytes.data() + first, static_cast<uint32_t>(bytes.size()) - first))
        return out;
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
    return out;
}

std::string VgaText::screenText() const {
    const auto screen = cells();
    std::string text;
    text.reserve(kCells + kRows);
    for (int row = 0; row < kRows; ++row) {
        std::string line;
        for (int col = 0; col < kColumns; ++col)
            appendUtf8(line, cp437(static_cast<uint8_t>(screen[static_cast<size_t>(row * kColumns + col)])));
        line.erase(line.find_last_not_of(' ') + 1);  // npos + 1 == 0 clears an all-blank line
        text += line;
        text += '\n';
    }
    return text;
}

VgaCursor VgaText::cursor() const {
    VgaCursor c;
    const int rel = static_cast<int>(cursorAddress()) - static_cast<int>(startAddress());
    const uint8_t startLine = crtc(kCursorStart);
    const uint8_t endLine = crtc(kCursorEnd) & 0x1F;
    if (rel >= 0 && rel < kCells) {
        c.row = rel / kColumns;
        c.col = rel % kColumns;
        c.visible = !(startLine & kCursorDisable) && (startLine & 0x1F) <= endLine;
    }
    return c;
}

}  // namespace hvlab::devices
