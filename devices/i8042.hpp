// The PC keyboard controller (Intel 8042 as programmed by IBM for the AT/PS2) at ports 0x60
// (data) and 0x64 (status/command), with an MF2 keyboard plugged into its keyboard port.
//
// What is modelled:
//  - Status register: OBF, IBF (always 0: input is processed at once), SYS (config bit 2), A2
//    (last write went to 0x64), INH (1: keyboard not inhibited), AUX OBF, timeout.
//  - The one-byte output buffer. Bytes wait behind it in order: controller replies, then the
//    keyboard's own output (replies and scancodes; host keys enter it while it holds fewer than
//    16 bytes, as a keyboard's buffer). A byte moves into the output buffer as soon as the guest
//    has read the previous one, unless the keyboard interface is disabled (config bit 4), in
//    which case keyboard bytes wait (controller replies do not).
//  - The config byte (controller RAM byte 0; commands 0x20/0x60, and RAM bytes 1-31 via
//    0x21-0x3F/0x61-0x7F): bit 0 keyboard IRQ, bit 1 aux IRQ, bit 2 SYS, bit 4 keyboard disable,
//    bit 5 aux disable, bit 6 translation. Power-on value 0x45 (translation, SYS, keyboard IRQ):
//    what an AT BIOS leaves behind, so guests booted without firmware find a working keyboard.
//  - Translation (config bit 6): keyboard bytes go through the 8042's set 2 -> set 1 table; an
//    0xF0 break prefix is swallowed and sets bit 7 of the next code.
//  - IRQ1 is the OBF output gated by config bit 0 for a keyboard (non-aux) byte: a level that
//    rises with every byte placed in the output buffer and falls when the guest reads it, i.e.
//    one edge per byte. IRQ12 likewise for aux bytes (config bit 1).
//  - Controller commands: 0x20-0x3F/0x60-0x7F RAM, 0xA4 (no password: 0xF1), 0xA7/0xA8 aux
//    disable/enable, 0xA9 aux interface test (0x00), 0xAA self test (0x55), 0xAB keyboard
//    interface test (0x00), 0xAD/0xAE keyboard disable/enable, 0xC0 input port, 0xD0/0xD1 read/
//    write output port (bit 0 = 0 resets the system, bit 1 = A20), 0xD2/0xD3 write keyboard/aux
//    output buffer, 0xD4 write to aux device, 0xDD/0xDF A20 off/on, 0xE0 test inputs (0),
//    0xF0-0xFF pulse output port bits (an even command pulses bit 0 = reset).
//  - Keyboard commands (port 0x60): 0xED LEDs, 0xEE echo, 0xF0 scancode set get/set, 0xF2
//    identify (0xAB 0x83), 0xF3 typematic, 0xF4 enable, 0xF5 disable + defaults, 0xF6 defaults,
//    0xF7-0xFD set-3 key types (ACK only), 0xFE resend, 0xFF reset (ACK, then BAT 0xAA); others
//    answer 0xFE (resend). A parameter byte with bit 7 set is taken as a new command. Sending a
//    byte to the keyboard re-enables its interface (clears config bit 4), as QEMU's 8042 does.
//
// Simplified:
//  - Aux (mouse) port: present but empty. 0xD3 loops a byte back as aux data, 0xA9 passes, and a
//    byte sent to the device with 0xD4 is answered 0xFE with the timeout bit set, as a PS/2
//    controller with no mouse plugged in does.
//  - Set 3 can be selected but the keyboard keeps sending set 2 codes; set 1 is produced from the
//    host's set 2 codes with the same table the controller uses for translation.
//  - No timing: command replies and keys are available at once; typematic repeat is the host's.
//  - The output port's reset line is a pulse: a 0 in bit 0 calls onReset and reads back as 1.
//  - A20 powers on enabled (as QEMU), so guests that never touch it see all their memory.
//
// Threading: queueScancodes() may be called from any thread. Everything else belongs to the
// thread that runs the guest; it must call pollInput() now and then (every port access does)
// to move host keys into the output buffer.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>

#include "devices/bus.hpp"

namespace hvlab::devices {

namespace i8042 {
inline constexpr uint16_t kDataPort = 0x60;
inline constexpr uint16_t kCommandPort = 0x64;  // status on read

inline constexpr uint8_t kStatusOutputFull = 0x01;
inline constexpr uint8_t kStatusInputFull = 0x02;
inline constexpr uint8_t kStatusSystem = 0x04;
inline constexpr uint8_t kStatusCommand = 0x08;     // A2: last write was to 0x64
inline constexpr uint8_t kStatusNotInhibited = 0x10;
inline constexpr uint8_t kStatusAuxData = 0x20;     // output buffer holds an aux byte
inline constexpr uint8_t kStatusTimeout = 0x40;
inline constexpr uint8_t kStatusParity = 0x80;

inline constexpr uint8_t kConfigKeyboardIrq = 0x01;
inline constexpr uint8_t kConfigAuxIrq = 0x02;
inline constexpr uint8_t kConfigSystem = 0x04;
inline constexpr uint8_t kConfigKeyboardDisable = 0x10;
inline constexpr uint8_t kConfigAuxDisable = 0x20;
inline constexpr uint8_t kConfigTranslate = 0x40;
inline constexpr uint8_t kConfigPowerOn = kConfigTranslate | kConfigSystem | kConfigKeyboardIrq;

inline constexpr uint8_t kOutputReset = 0x01;  // 0 = system reset asserted
inline constexpr uint8_t kOutputA20 = 0x02;
inline constexpr uint8_t kOutputKeyboardFull = 0x10;
inline constexpr uint8_t kOutputAuxFull = 0x20;
inline constexpr uint8_t kOutputPowerOn = 0xCF;  // reset inactive, A20 on, clock/data lines idle high
inline constexpr uint8_t kInputPortValue = 0x80;  // input port: keyboard not inhibited

// Controller commands (port 0x64).
inline constexpr uint8_t kCmdReadConfig = 0x20;
inline constexpr uint8_t kCmdWriteConfig = 0x60;
inline constexpr uint8_t kCmdPasswordInstalled = 0xA4;
inline constexpr uint8_t kCmdAuxDisable = 0xA7;
inline constexpr uint8_t kCmdAuxEnable = 0xA8;
inline constexpr uint8_t kCmdAuxTest = 0xA9;
inline constexpr uint8_t kCmdSelfTest = 0xAA;
inline constexpr uint8_t kCmdKeyboardTest = 0xAB;
inline constexpr uint8_t kCmdKeyboardDisable = 0xAD;
inline constexpr uint8_t kCmdKeyboardEnable = 0xAE;
inline constexpr uint8_t kCmdReadInputPort = 0xC0;
inline constexpr uint8_t kCmdReadOutputPort = 0xD0;
inline constexpr uint8_t kCmdWriteOutputPort = 0xD1;
inline constexpr uint8_t kCmdWriteKeyboardBuffer = 0xD2;
inline constexpr uint8_t kCmdWriteAuxBuffer = 0xD3;
inline constexpr uint8_t kCmdWriteAux = 0xD4;
inline constexpr uint8_t kCmdA20Off = 0xDD;
inline constexpr uint8_t kCmdA20On = 0xDF;
inline constexpr uint8_t kCmdReadTestInputs = 0xE0;
inline constexpr uint8_t kCmdPulseReset = 0xFE;

// Keyboard commands (port 0x60) and replies.
inline constexpr uint8_t kKbdSetLeds = 0xED;
inline constexpr uint8_t kKbdEcho = 0xEE;
inline constexpr uint8_t kKbdScancodeSet = 0xF0;
inline constexpr uint8_t kKbdIdentify = 0xF2;
inline constexpr uint8_t kKbdTypematic = 0xF3;
inline constexpr uint8_t kKbdEnable = 0xF4;
inline constexpr uint8_t kKbdDisable = 0xF5;
inline constexpr uint8_t kKbdDefaults = 0xF6;
inline constexpr uint8_t kKbdResend = 0xFE;
inline constexpr uint8_t kKbdReset = 0xFF;
inline constexpr uint8_t kAck = 0xFA;
inline constexpr uint8_t kResendReply = 0xFE;
inline constexpr uint8_t kBatPassed = 0xAA;
inline constexpr uint8_t kSelfTestPassed = 0x55;

// The 8042's set 2 -> set 1 translation of one byte (without the 0xF0 break prefix handling).
uint8_t translateSet2(uint8_t code);
}  // namespace i8042

// A side-effect-free snapshot for the debugger and tests.
struct I8042State {
    uint8_t status = 0;
    uint8_t config = 0;
    uint8_t outputPort = 0;
    uint8_t outputBuffer = 0;
    bool a20 = false;
    bool keyboardScanning = false;
    uint8_t scancodeSet = 2;
    uint8_t leds = 0;
    uint8_t typematic = 0;
    size_t pendingBytes = 0;  // replies and keyboard bytes behind the output buffer
    bool irq1 = false;
    bool irq12 = false;
};

class I8042 final : public PortDevice {
public:
    static constexpr size_t kKeyboardBufferSize = 16;
    static constexpr size_t kHostQueueLimit = 4096;

    // `keyboardIrq` is IRQ1, `auxIrq` IRQ12; either may be nullptr.
    explicit I8042(IrqLine* keyboardIrq, IrqLine* auxIrq = nullptr);

    // Claims 0x60 and 0x64.
    void attachTo(IoBus& io) {
        io.attach(i8042::kDataPort, 1, this);
        io.attach(i8042::kCommandPort, 1, this);
    }

    // Byte accesses; a wider access touches the port's register in the low byte (upper lanes
    // read as ones).
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "i8042"; }

    // Host key input in scancode set 2 (make codes, 0xF0-prefixed breaks, 0xE0 extensions).
    // Thread-safe. Dropped while the keyboard is disabled (0xF5), as a keyboard that is not
    // scanning; bytes beyond kHostQueueLimit are dropped.
    void queueScancodes(std::span<const uint8_t> set2Codes);
    // Moves host input into the keyboard and the output buffer; updates the IRQ lines.
    void pollInput();

    // The system reset line (output port bit 0 pulsed low) and the A20 gate (output port bit 1).
    void onReset(std::function<void()> callback) { reset_ = std::move(callback); }
    void onA20(std::function<void(bool enabled)> callback) { a20Changed_ = std::move(callback); }
    bool a20() const { return outputPort_ & i8042::kOutputA20; }

    I8042State state() const;

private:
    enum class Pending : uint8_t { None, WriteRam, WriteOutputPort, WriteKeyboardBuffer, WriteAuxBuffer, WriteAux };
    enum class KeyboardPending : uint8_t { None, Leds, ScancodeSet, Typematic };
    struct OutByte {
        uint8_t value;
        bool aux;
    };

    uint8_t readData();
    uint8_t status() const;
    void writeCommand(uint8_t command);
    void writeData(uint8_t value);
    void controllerData(Pending what, uint8_t value);
    void keyboardCommand(uint8_t value);
    void keyboardParameter(uint8_t value);
    void keyboardSend(uint8_t value);
    void keyboardDefaults();
    void setConfig(uint8_t value);
    void setOutputPort(uint8_t value);
    void setA20(bool enabled);
    void pulseReset();
    void reply(uint8_t value, bool aux = false);
    void keyboardReply(uint8_t value);
    void transferHostInput();
    void fillOutputBuffer();
    void updateIrqs();

    IrqLine* const keyboardIrq_;
    IrqLine* const auxIrq_;
    std::function<void()> reset_;
    std::function<void(bool)> a20Changed_;

    // Controller.
    std::array<uint8_t, 32> ram_{i8042::kConfigPowerOn};  // byte 0 is the config byte
    uint8_t outputPort_ = i8042::kOutputPowerOn;
    bool lastWriteWasCommand_ = true;
    bool timeout_ = false;                // belongs to the aux byte in the output buffer
    Pending pending_ = Pending::None;
    uint8_t pendingRamIndex_ = 0;
    bool outputFull_ = false;
    bool outputAux_ = false;
    uint8_t outputBuffer_ = 0;
    bool breakPrefix_ = false;            // translation saw 0xF0
    std::deque<OutByte> controllerOut_;   // replies to controller commands, first in line
    bool irq1_ = false;
    bool irq12_ = false;

    // Keyboard.
    std::deque<uint8_t> keyboardOut_;     // what the keyboard sends, in its scancode set
    bool scanning_ = true;
    uint8_t scancodeSet_ = 2;
    uint8_t leds_ = 0;
    uint8_t typematic_ = 0x2B;  // 10.9 characters/s, 500 ms delay
    uint8_t lastSent_ = 0;
    KeyboardPending keyboardPending_ = KeyboardPending::None;
    bool set1Break_ = false;              // keyboard-side set 1 conversion saw 0xF0

    mutable std::mutex hostMutex_;
    std::deque<uint8_t> hostQueue_;
};

}  // namespace hvlab::devices
