// The 82540EM's configuration EEPROM: a 64-word (1 Kbit) Microwire part (93C46 type) holding
// the MAC address and the initialisation words the MAC loads at reset (8254x SDM section 5.6,
// "EEPROM Address Map"). Software reads it two ways, both modelled:
//  - EERD: write START with a word address, read DONE and the data (what simple drivers use);
//  - EECD: bit-banged Microwire (CS, SK, DI out, DO in), what Linux's e1000 driver does on the
//    82540 (start bit, READ opcode 10b, six address bits, then a dummy 0 and 16 data bits per
//    word, MSB first, sequential words while the clock keeps running).
//
// Simplifications: the grant handshake is instant (GNT always reads 1, as QEMU), and the part is
// write-protected: Microwire ERASE/WRITE commands are accepted and ignored (DO reports "ready").
#pragma once

#include <array>
#include <cstdint>

namespace hvlab::devices {

class E1000Eeprom {
public:
    static constexpr unsigned kWords = 64;
    static constexpr unsigned kChecksumWord = 0x3F;
    static constexpr uint16_t kChecksumTarget = 0xBABA;  // sum of words 0..0x3F

    E1000Eeprom(const std::array<uint8_t, 6>& mac, uint16_t deviceId, uint16_t subsystemId);

    uint16_t word(unsigned index) const { return words_[index % kWords]; }
    const std::array<uint16_t, kWords>& words() const { return words_; }

    // EECD as software reads and writes it (the Microwire pins plus PRES/GNT).
    uint32_t readEecd() const;
    void writeEecd(uint32_t value);
    // EERD: a write with START performs the read at once (DONE set, data in 31:16).
    uint32_t readEerd() const { return eerd_; }
    void writeEerd(uint32_t value);
    // Device reset (CTRL.RST): the serial interface returns to idle.
    void reset();

private:
    void clockRisingEdge(bool dataIn);
    void resetSerial();
    bool dataOut() const;

    std::array<uint16_t, kWords> words_{};
    uint32_t eecdPins_ = 0;  // SK, CS, DI, FWE, REQ as last written
    uint32_t eerd_ = 0;
    // Microwire state: bits shifted in since CS rose, then the read position.
    uint32_t shiftIn_ = 0;
    unsigned bitsIn_ = 0;
    bool reading_ = false;
    unsigned readAddress_ = 0;
    int readBit_ = -1;  // -1: the dummy 0 bit; n >= 0: bit n of the word stream from readAddress_
};

}  // namespace hvlab::devices
