#include "devices/i8042.hpp"

#include <array>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace i8042;

namespace {

// The 8042's translation ROM for codes 0x00-0x7F: set 2 code -> set 1 code (e.g. 0x1C 'A' ->
// 0x1E, 0x76 Esc -> 0x01, 0x5A Enter -> 0x1C). Codes without a key map to spare set 1 codes.
constexpr std::array<uint8_t, 128> kSet2ToSet1 = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,  // 00
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,  // 10
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,  // 20
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,  // 30
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,  // 40
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,  // 50
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,  // 60
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,  // 70
};

constexpr uint8_t kConfigWritable = 0x77;  // bits 3 and 7 are reserved (0) on PS/2 controllers
constexpr uint8_t kLedMask = 0x07;         // scroll, num, caps lock
constexpr uint8_t kTypematicMask = 0x7F;
constexpr uint8_t kTypematicDefault = 0x2B;
constexpr uint8_t kIdentifyFirst = 0xAB;
constexpr uint8_t kIdentifySecond = 0x83;  // MF2 keyboard
constexpr uint8_t kNoPassword = 0xF1;
constexpr uint8_t kBreakPrefix = 0xF0;

uint32_t widen(uint8_t value, unsigned size) {
    if (size <= 1) return value;
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return (lanes & ~0xFFu) | value;
}

}  // namespace

uint8_t i8042::translateSet2(uint8_t code) {
    if (code < 0x80) return kSet2ToSet1[code];
    if (code == 0x83) return 0x41;  // F7, the one set 2 key code above 0x7F
    if (code == 0x84) return 0x54;  // Alt+SysRq
    return code;                    // prefixes (0xE0, 0xE1) and replies (0xFA, 0xAA, ...) pass
}

I8042::I8042(IrqLine* keyboardIrq, IrqLine* auxIrq) : keyboardIrq_(keyboardIrq), auxIrq_(auxIrq) {}

// ---- port access -------------------------------------------------------------------------

uint32_t I8042::ioRead(uint16_t port, unsigned size) {
    pollInput();
    const uint8_t value = port == kCommandPort ? status() : readData();
    return widen(value, size);
}

void I8042::ioWrite(uint16_t port, unsigned /*size*/, uint32_t value) {
    pollInput();
    if (port == kCommandPort) writeCommand(static_cast<uint8_t>(value));
    else writeData(static_cast<uint8_t>(value));
    fillOutputBuffer();
    updateIrqs();
}

uint8_t I8042::status() const {
    uint8_t s = kStatusNotInhibited;
    if (outputFull_) s |= kStatusOutputFull;
    if (outputFull_ && outputAux_) s |= kStatusAuxData;
    if (ram_[0] & kConfigSystem) s |= kStatusSystem;
    if (lastWriteWasCommand_) s |= kStatusCommand;
    if (timeout_) s |= kStatusTimeout;
    return s;
}

uint8_t I8042::readData() {
    const uint8_t value = outputBuffer_;  // an empty buffer reads the stale byte
    if (!outputFull_) return value;
    outputFull_ = false;
    timeout_ = false;
    updateIrqs();  // the line falls here, so the next byte makes a fresh edge
    fillOutputBuffer();
    updateIrqs();
    return value;
}

// ---- the output buffer -------------------------------------------------------------------

void I8042::reply(uint8_t value, bool aux) { controllerOut_.push_back({value, aux}); }

void I8042::keyboardReply(uint8_t value) {
    keyboardOut_.push_back(value);
    lastSent_ = value;
}

void I8042::fillOutputBuffer() {
    while (!outputFull_) {
        if (!controllerOut_.empty()) {
            const OutByte b = controllerOut_.front();
            controllerOut_.pop_front();
            outputBuffer_ = b.value;
            outputAux_ = b.aux;
            outputFull_ = true;
            break;
        }
        if ((ram_[0] & kConfigKeyboardDisable) || keyboardOut_.empty()) break;  // clock inhibited
        uint8_t code = keyboardOut_.front();
        keyboardOut_.pop_front();
        if (ram_[0] & kConfigTranslate) {
            if (code == kBreakPrefix) {  // swallowed: the next code comes out with bit 7 set
                breakPrefix_ = true;
                continue;
            }
            code = translateSet2(code);
            if (breakPrefix_) code |= 0x80;
            breakPrefix_ = false;
        }
        outputBuffer_ = code;
        outputAux_ = false;
        outputFull_ = true;
    }
}

void I8042::updateIrqs() {
    const bool irq1 = outputFull_ && !outputAux_ && (ram_[0] & kConfigKeyboardIrq);
    const bool irq12 = outputFull_ && outputAux_ && (ram_[0] & kConfigAuxIrq);
    if (irq1 != irq1_) {
        irq1_ = irq1;
        if (keyboardIrq_) keyboardIrq_->setLevel(irq1);
    }
    if (irq12 != irq12_) {
        irq12_ = irq12;
        if (auxIrq_) auxIrq_->setLevel(irq12);
    }
}

// ---- host input --------------------------------------------------------------------------

void I8042::queueScancodes(std::span<const uint8_t> set2Codes) {
    std::lock_guard lock(hostMutex_);
    for (uint8_t code : set2Codes) {
        if (hostQueue_.size() >= kHostQueueLimit) break;
        hostQueue_.push_back(code);
    }
}

void I8042::pollInput() {
    transferHostInput();
    fillOutputBuffer();
    updateIrqs();
}

void I8042::transferHostInput() {
    std::lock_guard lock(hostMutex_);
    if (!scanning_) {  // a keyboard that does not scan sends nothing for these keys
        hostQueue_.clear();
        return;
    }
    while (!hostQueue_.empty() && keyboardOut_.size() < kKeyboardBufferSize) {
        uint8_t code = hostQueue_.front();
        hostQueue_.pop_front();
        if (scancodeSet_ == 1) {  // the keyboard itself speaks set 1
            if (code == kBreakPrefix) {
                set1Break_ = true;
                continue;
            }
            code = static_cast<uint8_t>(translateSet2(code) | (set1Break_ ? 0x80 : 0));
            set1Break_ = false;
        }
        keyboardReply(code);
    }
}

// ---- controller commands -----------------------------------------------------------------

void I8042::writeCommand(uint8_t command) {
    lastWriteWasCommand_ = true;
    pending_ = Pending::None;  // a new command abandons a data byte still expected
    if (command >= 0x20 && command <= 0x3F) {
        reply(ram_[command & 0x1F]);
        return;
    }
    if (command >= 0x60 && command <= 0x7F) {
        pending_ = Pending::WriteRam;
        pendingRamIndex_ = command & 0x1F;
        return;
    }
    if (command >= 0xF0) {  // pulse output port bits 0-3 that are 0 in the command
        if (!(command & kOutputReset)) pulseReset();
        return;
    }
    switch (command) {
    case kCmdPasswordInstalled: reply(kNoPassword); break;
    case kCmdAuxDisable: setConfig(ram_[0] | kConfigAuxDisable); break;
    case kCmdAuxEnable: setConfig(static_cast<uint8_t>(ram_[0] & ~kConfigAuxDisable)); break;
    case kCmdAuxTest: reply(0x00); break;
    case kCmdSelfTest: reply(kSelfTestPassed); break;
    case kCmdKeyboardTest: reply(0x00); break;
    case kCmdKeyboardDisable: setConfig(ram_[0] | kConfigKeyboardDisable); break;
    case kCmdKeyboardEnable: setConfig(static_cast<uint8_t>(ram_[0] & ~kConfigKeyboardDisable)); break;
    case kCmdReadInputPort: reply(kInputPortValue); break;
    case kCmdReadOutputPort: {
        uint8_t port = outputPort_ & static_cast<uint8_t>(~(kOutputKeyboardFull | kOutputAuxFull));
        if (outputFull_) port |= outputAux_ ? kOutputAuxFull : kOutputKeyboardFull;
        reply(port);
        break;
    }
    case kCmdWriteOutputPort: pending_ = Pending::WriteOutputPort; break;
    case kCmdWriteKeyboardBuffer: pending_ = Pending::WriteKeyboardBuffer; break;
    case kCmdWriteAuxBuffer: pending_ = Pending::WriteAuxBuffer; break;
    case kCmdWriteAux: pending_ = Pending::WriteAux; break;
    case kCmdA20Off: setA20(false); break;
    case kCmdA20On: setA20(true); break;
    case kCmdReadTestInputs: reply(0x00); break;
    default: spdlog::debug("i8042: unknown controller command {:#04x} ignored", command); break;
    }
}

void I8042::writeData(uint8_t value) {
    lastWriteWasCommand_ = false;
    const Pending what = pending_;
    pending_ = Pending::None;
    if (what == Pending::None) keyboardSend(value);
    else controllerData(what, value);
}

void I8042::controllerData(Pending what, uint8_t value) {
    switch (what) {
    case Pending::WriteRam:
        if (pendingRamIndex_ == 0) setConfig(value);
        else ram_[pendingRamIndex_] = value;
        break;
    case Pending::WriteOutputPort: setOutputPort(value); break;
    case Pending::WriteKeyboardBuffer: reply(value, false); break;  // as if the keyboard sent it
    case Pending::WriteAuxBuffer: reply(value, true); break;        // as if the mouse sent it
    case Pending::WriteAux:
        // Nothing is plugged into the aux port: the transmission times out.
        reply(kResendReply, true);
        timeout_ = true;
        break;
    case Pending::None: break;
    }
}

void I8042::setConfig(uint8_t value) {
    ram_[0] = value & kConfigWritable;
    if (!(ram_[0] & kConfigTranslate)) breakPrefix_ = false;
}

void I8042::setOutputPort(uint8_t value) {
    setA20(value & kOutputA20);
    outputPort_ = static_cast<uint8_t>((outputPort_ & kOutputA20) | (value & ~kOutputA20) | kOutputReset);
    if (!(value & kOutputReset)) pulseReset();
}

void I8042::setA20(bool enabled) {
    if (enabled == a20()) return;
    if (enabled) outputPort_ |= kOutputA20;
    else outputPort_ &= static_cast<uint8_t>(~kOutputA20);
    spdlog::debug("i8042: A20 {}", enabled ? "on" : "off");
    if (a20Changed_) a20Changed_(enabled);
}

void I8042::pulseReset() {
    spdlog::debug("i8042: system reset pulsed");
    if (reset_) reset_();
}

// ---- the keyboard ------------------------------------------------------------------------

void I8042::keyboardSend(uint8_t value) {
    setConfig(static_cast<uint8_t>(ram_[0] & ~kConfigKeyboardDisable));  // the controller clocks the byte out
    if (keyboardPending_ != KeyboardPending::None && !(value & 0x80)) keyboardParameter(value);
    else keyboardCommand(value);
}

void I8042::keyboardDefaults() {
    typematic_ = kTypematicDefault;
    scancodeSet_ = 2;
    set1Break_ = false;
}

void I8042::keyboardCommand(uint8_t command) {
    keyboardPending_ = KeyboardPending::None;
    switch (command) {
    case kKbdSetLeds:
        keyboardReply(kAck);
        keyboardPending_ = KeyboardPending::Leds;
        break;
    case kKbdEcho: keyboardReply(kKbdEcho); break;
    case kKbdScancodeSet:
        keyboardReply(kAck);
        keyboardPending_ = KeyboardPending::ScancodeSet;
        break;
    case kKbdIdentify:
        keyboardReply(kAck);
        keyboardReply(kIdentifyFirst);
        keyboardReply(kIdentifySecond);
        break;
    case kKbdTypematic:
        keyboardReply(kAck);
        keyboardPending_ = KeyboardPending::Typematic;
        break;
    case kKbdEnable:
        keyboardOut_.clear();
        scanning_ = true;
        keyboardReply(kAck);
        break;
    case kKbdDisable:
        keyboardOut_.clear();
        scanning_ = false;
        keyboardDefaults();
        keyboardReply(kAck);
        break;
    case kKbdDefaults:
        keyboardOut_.clear();
        keyboardDefaults();
        keyboardReply(kAck);
        break;
    case kKbdResend: keyboardOut_.push_back(lastSent_); break;
    case kKbdReset:
        keyboardOut_.clear();
        keyboardDefaults();
        leds_ = 0;
        scanning_ = true;
        keyboardReply(kAck);
        keyboardReply(kBatPassed);  // basic assurance test passed
        break;
    default:
        if (command >= 0xF7 && command <= 0xFD) {  // set 3 key types: accepted, not modelled
            keyboardReply(kAck);
            break;
        }
        spdlog::debug("i8042: unknown keyboard command {:#04x}", command);
        keyboardReply(kResendReply);
        break;
    }
}

void I8042::keyboardParameter(uint8_t value) {
    const KeyboardPending what = keyboardPending_;
    keyboardPending_ = KeyboardPending::None;
    switch (what) {
    case KeyboardPending::Leds:
        leds_ = value & kLedMask;
        keyboardReply(kAck);
        break;
    case KeyboardPending::Typematic:
        typematic_ = value & kTypematicMask;
        keyboardReply(kAck);
        break;
    case KeyboardPending::ScancodeSet:
        if (value == 0) {
            keyboardReply(kAck);
            keyboardReply(scancodeSet_);
        } else if (value <= 3) {
            scancodeSet_ = value;
            set1Break_ = false;
            keyboardReply(kAck);
        } else {
            keyboardReply(kResendReply);
        }
        break;
    case KeyboardPending::None: break;
    }
}

// ---- debugger ------------------------------------------------------------------------------

I8042State I8042::state() const {
    I8042State s;
    s.status = status();
    s.config = ram_[0];
    s.outputPort = outputPort_;
    s.outputBuffer = outputBuffer_;
    s.a20 = a20();
    s.keyboardScanning = scanning_;
    s.scancodeSet = scancodeSet_;
    s.leds = leds_;
    s.typematic = typematic_;
    s.pendingBytes = controllerOut_.size() + keyboardOut_.size();
    s.irq1 = irq1_;
    s.irq12 = irq12_;
    return s;
}

}  // namespace hvlab::devices
