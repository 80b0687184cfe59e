#include "devices/e1000_eeprom.hpp"

#include "devices/e1000_regs.hpp"

namespace hvlab::devices {

using namespace e1000;

namespace {

// The 82540EM image QEMU and Bochs ship (8254x SDM table 5-2): words 0-2 are filled with the MAC,
// 0x0B-0x0E with the PCI IDs, 0x3F with the checksum. Word 0x0A (initialization control 1) and
// 0x0F (control 2) are what an 82540 desktop adapter loads; 0x30-0x32 the (absent) boot agent.
constexpr std::array<uint16_t, E1000Eeprom::kWords> kImageTemplate = {
    0x0000, 0x0000, 0x0000, 0x0000, 0xFFFF, 0x0000, 0x0000, 0x0000,  //
    0x3000, 0x1000, 0x6403, 0x0000, 0x8086, 0x0000, 0x8086, 0x3040,  //
    0x0008, 0x2000, 0x7E14, 0x0048, 0x1000, 0x00D8, 0x0000, 0x2700,  //
    0x6CC9, 0x3150, 0x0722, 0x040B, 0x0984, 0x0000, 0xC000, 0x0706,  //
    0x1008, 0x0000, 0x0F04, 0x7FFF, 0x4D01, 0xFFFF, 0xFFFF, 0xFFFF,  //
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,  //
    0x0100, 0x4000, 0x121C, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,  //
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x0000,
};
constexpr unsigned kSubsystemIdWord = 0x0B;
constexpr unsigned kSubsystemVendorWord = 0x0C;
constexpr unsigned kDeviceIdWord = 0x0D;
constexpr unsigned kVendorIdWord = 0x0E;

// Microwire framing: a start bit, a 2-bit opcode and 6 address bits (93C46 in x16 mode).
constexpr unsigned kCommandBits = 9;
constexpr unsigned kAddressBits = 6;
constexpr uint32_t kOpcodeRead = 0b10;
constexpr uint32_t kWritablePins = kEecdSk | kEecdCs | kEecdDi | kEecdFwe | kEecdReq;

}  // namespace

E1000Eeprom::E1000Eeprom(const std::array<uint8_t, 6>& mac, uint16_t deviceId, uint16_t subsystemId)
    : words_(kImageTemplate) {
    for (unsigned i = 0; i < 3; ++i) words_[i] = static_cast<uint16_t>(mac[2 * i] | mac[2 * i + 1] << 8);
    words_[kSubsystemIdWord] = subsystemId;
    words_[kSubsystemVendorWord] = kVendorIntel;
    words_[kDeviceIdWord] = deviceId;
    words_[kVendorIdWord] = kVendorIntel;
    uint16_t sum = 0;
    for (unsigned i = 0; i < kChecksumWord; ++i) sum = static_cast<uint16_t>(sum + words_[i]);
    words_[kChecksumWord] = static_cast<uint16_t>(kChecksumTarget - sum);
}

void E1000Eeprom::reset() {
    eecdPins_ = 0;
    eerd_ = 0;
    resetSerial();
}

void E1000Eeprom::resetSerial() {
    shiftIn_ = 0;
    bitsIn_ = 0;
    reading_ = false;
    readAddress_ = 0;
    readBit_ = -1;
}

uint32_t E1000Eeprom::readEecd() const {
    uint32_t value = eecdPins_ | kEecdPres | kEecdGnt;  // 64-word part: SIZE reads 0
    if (dataOut()) value |= kEecdDo;
    return value;
}

bool E1000Eeprom::dataOut() const {
    if (!(eecdPins_ & kEecdCs)) return false;
    if (!reading_) return true;  // idle or after a (ignored) write command: "ready"
    if (readBit_ < 0) return false;  // the dummy bit that precedes the data
    const unsigned wordIndex = (readAddress_ + static_cast<unsigned>(readBit_) / 16) % kWords;
    const unsigned bit = 15 - static_cast<unsigned>(readBit_) % 16;
    return (words_[wordIndex] >> bit) & 1;
}

void E1000Eeprom::writeEecd(uint32_t value) {
    const uint32_t previous = eecdPins_;
    eecdPins_ = value & kWritablePins;
    const bool cs = value & kEecdCs;
    if (!cs || !(previous & kEecdCs)) {
        resetSerial();  // CS low deselects; a CS rising edge starts a new command
        if (!cs) return;
    }
    const bool risingClock = (value & kEecdSk) && !(previous & kEecdSk);
    if (risingClock) clockRisingEdge(value & kEecdDi);
}

void E1000Eeprom::clockRisingEdge(bool dataIn) {
    if (reading_) {  // each further clock presents the next data bit (sequential read)
        readBit_ = (readBit_ + 1) % static_cast<int>(kWords * 16);  // wraps after the last word
        return;
    }
    if (bitsIn_ >= kCommandBits) return;  // a non-read command was shifted in: ignore until CS falls
    if (bitsIn_ == 0 && !dataIn) return;  // leading zeros before the start bit are ignored
    shiftIn_ = (shiftIn_ << 1) | (dataIn ? 1u : 0u);
    if (++bitsIn_ < kCommandBits) return;
    const uint32_t opcode = (shiftIn_ >> kAddressBits) & 3;
    if (opcode == kOpcodeRead) {
        reading_ = true;
        readAddress_ = shiftIn_ & ((1u << kAddressBits) - 1);
        readBit_ = -1;
    }
}

void E1000Eeprom::writeEerd(uint32_t value) {
    // The 82540 has a 64-word part: only six address bits reach it.
    const unsigned address = (value >> kEerdAddrShift) & 0xFF;
    if (!(value & kEerdStart)) {
        eerd_ = address << kEerdAddrShift;
        return;
    }
    eerd_ = address << kEerdAddrShift | kEerdDone | static_cast<uint32_t>(words_[address % kWords]) << kEerdDataShift;
}

}  // namespace hvlab::devices
