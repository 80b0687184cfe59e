#include <catch2/catch.hpp>

#include <array>
#include <thread>
#include <vector>

#include "devices/i8042.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::i8042;

namespace {

struct Kbc {
    LatchedIrqLine irq1;
    LatchedIrqLine irq12;
    I8042 kbc{&irq1, &irq12};
    int resets = 0;
    std::vector<bool> a20Changes;
    Kbc() {
        kbc.onReset([this] { ++resets; });
        kbc.onA20([this](bool on) { a20Changes.push_back(on); });
    }
    uint8_t status() { return static_cast<uint8_t>(kbc.ioRead(kCommandPort, 1)); }
    void command(uint8_t c) { kbc.ioWrite(kCommandPort, 1, c); }
    void data(uint8_t d) { kbc.ioWrite(kDataPort, 1, d); }
    // Reads the output buffer the way a polling driver does; -1 if nothing is there.
    int read() {
        if (!(status() & kStatusOutputFull)) return -1;
        return static_cast<int>(kbc.ioRead(kDataPort, 1));
    }
    std::vector<int> drain() {
        std::vector<int> out;
        for (int b = read(); b >= 0; b = read()) out.push_back(b);
        return out;
    }
    void keys(std::vector<uint8_t> set2) {
        kbc.queueScancodes(set2);
        kbc.pollInput();
    }
};

}  // namespace

TEST_CASE("i8042: controller self test and interface test", "[i8042][chipset]") {
    Kbc k;
    CHECK((k.status() & kStatusOutputFull) == 0);
    k.command(kCmdSelfTest);
    CHECK((k.status() & kStatusCommand) != 0);  // A2: the last write went to 0x64
    CHECK((k.status() & kStatusOutputFull) != 0);
    CHECK(k.read() == 0x55);
    CHECK((k.status() & kStatusOutputFull) == 0);
    k.command(kCmdKeyboardTest);
    CHECK(k.read() == 0x00);
    k.command(kCmdPasswordInstalled);
    CHECK(k.read() == 0xF1);
}

TEST_CASE("i8042: config byte read/write and the SYS flag", "[i8042][chipset]") {
    Kbc k;
    k.command(kCmdReadConfig);
    CHECK(k.read() == kConfigPowerOn);
    CHECK((k.status() & kStatusSystem) != 0);
    k.command(kCmdWriteConfig);
    k.data(0x01);
    CHECK((k.status() & kStatusCommand) == 0);  // A2 clear after a data write
    CHECK((k.status() & kStatusSystem) == 0);
    k.command(kCmdReadConfig);
    CHECK(k.read() == 0x01);
    k.command(kCmdKeyboardDisable);
    k.command(kCmdAuxDisable);
    k.command(kCmdReadConfig);
    CHECK(k.read() == 0x31);
    k.command(kCmdKeyboardEnable);
    k.command(kCmdAuxEnable);
    k.command(kCmdReadConfig);
    CHECK(k.read() == 0x01);
    // Controller RAM bytes beyond the config byte.
    k.command(0x65);
    k.data(0x99);
    k.command(0x25);
    CHECK(k.read() == 0x99);
}

TEST_CASE("i8042: A20 through the output port and 0xDD/0xDF", "[i8042][chipset]") {
    Kbc k;
    CHECK(k.kbc.a20());  // on at power-on
    k.command(kCmdReadOutputPort);
    int port = k.read();
    CHECK((port & kOutputA20) != 0);
    CHECK((port & kOutputReset) != 0);

    k.command(kCmdWriteOutputPort);
    k.data(0xDD);  // A20 off, reset line inactive
    CHECK_FALSE(k.kbc.a20());
    REQUIRE(k.a20Changes.size() == 1);
    CHECK(k.a20Changes[0] == false);
    CHECK(k.resets == 0);
    k.command(kCmdReadOutputPort);
    port = k.read();
    CHECK((port & kOutputA20) == 0);
    CHECK((port & kOutputKeyboardFull) == 0);  // sampled while the buffer was empty
    k.keys({0x1C});
    k.command(kCmdReadOutputPort);  // now a key waits in the buffer: bit 4 shows it
    const auto bytes = k.drain();
    REQUIRE(bytes.size() == 2);
    CHECK(bytes[0] == 0x1E);
    CHECK((bytes[1] & kOutputKeyboardFull) != 0);

    k.command(kCmdA20On);
    CHECK(k.kbc.a20());
    k.command(kCmdA20On);  // no change, no callback
    k.command(kCmdA20Off);
    CHECK_FALSE(k.kbc.a20());
    CHECK(k.a20Changes == std::vector<bool>{false, true, false});
}

TEST_CASE("i8042: system reset through 0xFE and the output port", "[i8042][chipset]") {
    Kbc k;
    k.command(0xFF);  // pulses nothing
    CHECK(k.resets == 0);
    k.command(kCmdPulseReset);
    CHECK(k.resets == 1);
    k.command(0xF0);  // bit 0 low as well
    CHECK(k.resets == 2);
    k.command(kCmdWriteOutputPort);
    k.data(0xDE);  // bit 0 = 0
    CHECK(k.resets == 3);
    k.command(kCmdReadOutputPort);
    CHECK((k.read() & kOutputReset) != 0);  // a pulse: the line is released again
}

TEST_CASE("i8042: keyboard reset, identify, echo, LEDs and typematic", "[i8042][chipset]") {
    Kbc k;
    k.data(kKbdReset);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xAA});
    k.data(kKbdSetLeds);
    CHECK(k.drain() == std::vector<int>{0xFA});
    k.data(0x07);
    CHECK(k.drain() == std::vector<int>{0xFA});
    CHECK(k.kbc.state().leds == 7);
    k.data(kKbdTypematic);
    k.data(0x20);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xFA});
    CHECK(k.kbc.state().typematic == 0x20);
    k.data(kKbdEcho);
    CHECK(k.drain() == std::vector<int>{0xEE});
    k.data(0x01);  // not a command
    CHECK(k.drain() == std::vector<int>{0xFE});

    // Identify: MF2 keyboard 0xAB 0x83; translation turns 0x83 into 0x41, as on a real 8042.
    k.data(kKbdIdentify);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xAB, 0x41});
    k.command(kCmdWriteConfig);
    k.data(kConfigKeyboardIrq);  // translation off
    k.data(kKbdIdentify);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xAB, 0x83});

    // Scancode set: both bytes are acknowledged, then "get" (0) reports set 2; set 3 is remembered.
    k.data(kKbdScancodeSet);
    k.data(0);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xFA, 0x02});
    k.data(kKbdScancodeSet);
    k.data(3);
    CHECK(k.drain() == std::vector<int>{0xFA, 0xFA});
    CHECK(k.kbc.state().scancodeSet == 3);
    // Resend repeats the last byte the keyboard sent.
    k.data(kKbdResend);
    CHECK(k.drain() == std::vector<int>{0xFA});
}

TEST_CASE("i8042: set 2 make/break codes are translated to set 1", "[i8042][chipset]") {
    Kbc k;
    k.keys({0x1C, 0xF0, 0x1C});  // 'A' pressed and released
    CHECK(k.drain() == std::vector<int>{0x1E, 0x9E});
    k.keys({0xE0, 0x75, 0xE0, 0xF0, 0x75});  // cursor up (extended)
    CHECK(k.drain() == std::vector<int>{0xE0, 0x48, 0xE0, 0xC8});
    k.keys({0x76, 0x5A});  // Esc, Enter
    CHECK(k.drain() == std::vector<int>{0x01, 0x1C});

    // With translation off the guest sees set 2 as sent.
    k.command(kCmdWriteConfig);
    k.data(kConfigKeyboardIrq);
    k.keys({0x1C, 0xF0, 0x1C});
    CHECK(k.drain() == std::vector<int>{0x1C, 0xF0, 0x1C});

    // A keyboard switched to set 1 converts by itself.
    k.data(kKbdScancodeSet);
    k.data(1);
    k.drain();
    k.keys({0x1C, 0xF0, 0x1C});
    CHECK(k.drain() == std::vector<int>{0x1E, 0x9E});
}

TEST_CASE("i8042: IRQ1 rises for every byte placed in the output buffer", "[i8042][chipset]") {
    Kbc k;
    k.keys({0x1C, 0x32});  // two make codes
    CHECK(k.irq1.level());
    CHECK(k.irq1.transitions() == 1);
    CHECK(k.kbc.ioRead(kDataPort, 1) == 0x1Eu);
    CHECK(k.irq1.level());  // the next byte was loaded at once...
    CHECK(k.irq1.transitions() == 3);  // ...after the line fell: a fresh edge
    CHECK(k.kbc.ioRead(kDataPort, 1) == 0x30u);
    CHECK_FALSE(k.irq1.level());
    CHECK_FALSE(k.irq12.level());

    // Interrupts disabled in the config byte: data arrives without IRQ1.
    k.command(kCmdWriteConfig);
    k.data(kConfigTranslate);
    const auto before = k.irq1.transitions();
    k.keys({0x1C});
    CHECK((k.status() & kStatusOutputFull) != 0);
    CHECK(k.irq1.transitions() == before);
}

TEST_CASE("i8042: a disabled keyboard interface holds keys, a disabled keyboard drops them", "[i8042][chipset]") {
    Kbc k;
    k.command(kCmdKeyboardDisable);
    k.keys({0x1C});
    CHECK(k.read() == -1);
    k.command(kCmdReadConfig);  // controller replies still come through
    CHECK(k.read() == (kConfigPowerOn | kConfigKeyboardDisable));
    k.command(kCmdKeyboardEnable);
    CHECK(k.drain() == std::vector<int>{0x1E});

    k.data(kKbdDisable);
    CHECK(k.drain() == std::vector<int>{0xFA});
    k.keys({0x1C});
    CHECK(k.drain().empty());
    k.data(kKbdEnable);
    CHECK(k.drain() == std::vector<int>{0xFA});
    k.keys({0x1C});
    CHECK(k.drain() == std::vector<int>{0x1E});
}

TEST_CASE("i8042: controller replies queue behind a full output buffer", "[i8042][chipset]") {
    Kbc k;
    k.keys({0x1C});
    k.command(kCmdSelfTest);
    CHECK(k.drain() == std::vector<int>{0x1E, 0x55});
}

TEST_CASE("i8042: the aux port is present with nothing plugged in", "[i8042][chipset]") {
    Kbc k;
    k.command(kCmdWriteConfig);
    k.data(kConfigTranslate | kConfigKeyboardIrq | kConfigAuxIrq);
    k.command(kCmdWriteAuxBuffer);
    k.data(0x5A);
    CHECK((k.status() & kStatusAuxData) != 0);
    CHECK(k.irq12.level());
    CHECK_FALSE(k.irq1.level());
    CHECK(k.kbc.ioRead(kDataPort, 1) == 0x5Au);
    CHECK_FALSE(k.irq12.level());

    k.command(kCmdWriteAux);
    k.data(0xFF);  // reset the mouse: nobody answers
    const uint8_t s = k.status();
    CHECK((s & kStatusAuxData) != 0);
    CHECK((s & kStatusTimeout) != 0);
    CHECK(k.kbc.ioRead(kDataPort, 1) == 0xFEu);
    CHECK((k.status() & kStatusTimeout) == 0);
    k.command(kCmdAuxTest);
    CHECK(k.read() == 0x00);
}

TEST_CASE("i8042: host input from another thread arrives complete and in order", "[i8042][chipset]") {
    Kbc k;
    k.command(kCmdWriteConfig);
    k.data(0);  // no translation, no IRQ
    constexpr int kCount = 1000;
    std::thread typist([&] {
        for (int i = 0; i < kCount; ++i) {
            const std::array<uint8_t, 1> code{static_cast<uint8_t>(1 + i % 0x7F)};
            k.kbc.queueScancodes(code);
        }
    });
    std::vector<int> got;
    while (got.size() < static_cast<size_t>(kCount)) {
        k.kbc.pollInput();
        for (int b = k.read(); b >= 0; b = k.read()) got.push_back(b);
        if (got.size() < static_cast<size_t>(kCount)) std::this_thread::yield();
    }
    typist.join();
    for (int i = 0; i < kCount; ++i) REQUIRE(got[static_cast<size_t>(i)] == 1 + i % 0x7F);
}
