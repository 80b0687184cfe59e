// The two cascaded Intel 8259A programmable interrupt controllers of a PC/AT, plus the PIIX
// edge/level control registers (ELCR), as one device.
//
// Wiring (as on a PC/AT and the Intel 82371 PIIX):
//   master: ports 0x20-0x21, IRQ 0-7, its INT output is the CPU's INTR;
//   slave:  ports 0xA0-0xA1, IRQ 8-15, its INT output drives the master's IR2 (cascade);
//   ELCR:   ports 0x4D0 (IRQ 0-7) and 0x4D1 (IRQ 8-15), 1 = level triggered for that IRQ.
// Attach one object to all three ranges:
//   io.attach(0x20, 2, &pic); io.attach(0xA0, 2, &pic); io.attach(0x4D0, 2, &pic);
//
// What is modelled, following the 8259A datasheet:
//  - the ICW1..ICW4 initialisation sequence (single/cascade, ICW3 cascade map and slave ID,
//    ICW1.LTIM level mode, ICW4 AEOI, special fully nested mode, 8086 mode); ICW1 resets the edge
//    sense, IMR, ISR, priority (IR7 lowest), special mask mode and the status-read selection;
//  - OCW1 (IMR), OCW2 (non-specific and specific EOI, rotate on EOI, rotate in AEOI mode, set
//    priority), OCW3 (read IRR/ISR, poll command, special mask mode);
//  - priority resolution with rotation, in-service blocking (fully nested), special mask mode
//    (a request is serviceable when unmasked and not itself in service), SFNM on the master;
//  - edge mode: a rising edge sets IRR, INTA clears it, the line must fall and rise again to
//    re-request; level mode (LTIM or ELCR): IRR follows the line, so a line still high after EOI
//    requests again. In both modes a line that falls withdraws its request (datasheet: "the IR
//    input must remain high until after the falling edge of the first INTA");
//  - the INTA cycle (acknowledge()): ISR/IRR update, AEOI, cascade through the slave, and the
//    "default IR7": if INT was raised and the request went away before INTA, the master answers
//    with its IR7 vector without setting ISR (spurious IRQ 7); if the master took IR2 but the
//    slave has nothing, the slave answers its IR7 vector (spurious IRQ 15) and the master's ISR
//    bit 2 stays set, so the guest must send the master an EOI, as on real hardware.
//
// The INT outputs: each chip's INT rises when its priority resolver finds a serviceable request.
// A request withdrawn by the device (its line falling) does not lower INT before the INTA cycle
// (this is the window in which real hardware produces the default IR7); INT falls at INTA, and
// any guest command (mask, EOI, reinitialisation...) re-evaluates it from scratch, so masking a
// pending IRQ does not produce a spurious interrupt.
//
// Simplifications: MCS-80/85 mode (ICW4.uPM = 0 or no ICW4) is not emulated: vectors are always
// delivered 8086-style from ICW2 (a debug message notes it). ICW4 buffered mode and M/S are stored
// only. input(2) is not connected (IR2 is the cascade; on an AT the ISA IRQ2 pin goes to IRQ 9).
// If the master's ICW3 or the slave's ID do not match the board wiring (slave on IR2), a
// cascaded INTA gets no answer and returns 0xFF (the floating data bus).
//
// Reset state (the 8259A's power-on state is undefined): the state a PC BIOS leaves (master
// vectors 0x08, slave 0x70, cascade on IR2, edge triggered) but with every IRQ masked.
//
// Threading: not thread-safe. All calls (port accesses, IRQ inputs, acknowledge) belong to the
// thread that runs the devices.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "devices/bus.hpp"
#include "devices/interrupt_source.hpp"

namespace hvlab::devices {

namespace pic {
inline constexpr uint16_t kMasterCommand = 0x20;  // A0 = 0
inline constexpr uint16_t kMasterData = 0x21;     // A0 = 1
inline constexpr uint16_t kSlaveCommand = 0xA0;
inline constexpr uint16_t kSlaveData = 0xA1;
inline constexpr uint16_t kElcrMaster = 0x4D0;
inline constexpr uint16_t kElcrSlave = 0x4D1;

inline constexpr uint8_t kIcw1 = 0x10;        // A0 = 0, D4 = 1 marks ICW1
inline constexpr uint8_t kIcw1NeedIcw4 = 0x01;
inline constexpr uint8_t kIcw1Single = 0x02;
inline constexpr uint8_t kIcw1Level = 0x08;   // LTIM

inline constexpr uint8_t kIcw4Mode8086 = 0x01;
inline constexpr uint8_t kIcw4AutoEoi = 0x02;
inline constexpr uint8_t kIcw4Sfnm = 0x10;    // special fully nested mode

inline constexpr uint8_t kOcw3 = 0x08;        // A0 = 0, D4 = 0, D3 = 1 marks OCW3
inline constexpr uint8_t kOcw3ReadIsr = 0x01;     // RIS
inline constexpr uint8_t kOcw3ReadRegister = 0x02;  // RR: RIS is valid
inline constexpr uint8_t kOcw3Poll = 0x04;
inline constexpr uint8_t kOcw3SpecialMask = 0x20;   // SMM
inline constexpr uint8_t kOcw3SetSpecialMask = 0x40;  // ESMM: SMM is valid

// OCW2 (A0 = 0, D4 = 0, D3 = 0): bits 7-5 are R, SL, EOI; bits 2-0 the level.
inline constexpr uint8_t kOcw2NonSpecificEoi = 0x20;
inline constexpr uint8_t kOcw2SpecificEoi = 0x60;
inline constexpr uint8_t kOcw2RotateNonSpecificEoi = 0xA0;
inline constexpr uint8_t kOcw2RotateSpecificEoi = 0xE0;
inline constexpr uint8_t kOcw2SetPriority = 0xC0;
inline constexpr uint8_t kOcw2RotateAutoEoiSet = 0x80;
inline constexpr uint8_t kOcw2RotateAutoEoiClear = 0x00;

inline constexpr int kCascadeIrq = 2;
inline constexpr int kSpuriousIr = 7;
// ELCR bits that are read-only 0 on PIIX: IRQ 0, 1, 2 (master) and IRQ 8, 13 (slave).
inline constexpr uint8_t kElcrMasterWritable = 0xF8;
inline constexpr uint8_t kElcrSlaveWritable = 0xDE;
}  // namespace pic

// A side-effect-free snapshot of one chip, for the debugger.
struct PicChipState {
    uint8_t imr = 0;
    uint8_t irr = 0;
    uint8_t isr = 0;
    uint8_t elcr = 0;
    uint8_t lines = 0;           // input levels as driven
    uint8_t vectorBase = 0;      // ICW2 & 0xF8
    uint8_t lowestPriority = 7;  // the IR with the lowest priority (rotation)
    uint8_t icw3 = 0;            // master: IRs with a slave; slave: its ID
    bool levelTriggered = false; // ICW1.LTIM (all inputs)
    bool single = false;
    bool autoEoi = false;
    bool rotateOnAutoEoi = false;
    bool specialFullyNested = false;
    bool specialMask = false;
    bool mode8086 = true;
    bool readIsr = false;        // OCW3 status read selection
    bool pollPending = false;
    bool initializing = false;   // inside an ICW sequence
    bool intOutput = false;      // the INT pin
};

class Pic8259Pair final : public PortDevice, public InterruptSource {
public:
    // `onIntrRaised` (may be empty) is called whenever the master's INT output rises.
    explicit Pic8259Pair(IntrChangedCallback onIntrRaised = {});
    Pic8259Pair(const Pic8259Pair&) = delete;
    Pic8259Pair& operator=(const Pic8259Pair&) = delete;

    // Byte accesses; a wider access is split into byte accesses of consecutive ports, as the ISA
    // bridge does (ports outside this device read 0xFF and ignore writes).
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "pic8259"; }

    bool intrAsserted() const override;
    std::optional<uint8_t> acknowledge() override;

    // The IRQ input `irq` (0..15) for a device to drive. Throws std::out_of_range otherwise.
    IrqLine& input(int irq);
    // The level on input `irq` (for 2, the slave's INT output); false when out of range.
    bool lineLevel(int irq) const;

    enum class Chip { Master, Slave };
    PicChipState state(Chip chip) const;
    uint8_t imr(Chip chip) const { return chipFor(chip).imr; }
    uint8_t irr(Chip chip) const { return chipFor(chip).irr; }
    uint8_t isr(Chip chip) const { return chipFor(chip).isr; }
    uint8_t vectorBase(Chip chip) const { return chipFor(chip).vectorBase; }

private:
    // One 8259A. Plain data plus the rules that only involve the chip itself.
    struct Controller {
        enum class InitStep : uint8_t { Ready, Icw2, Icw3, Icw4 };

        uint8_t irr = 0;
        uint8_t isr = 0;
        uint8_t imr = 0xFF;
        uint8_t elcr = 0;
        uint8_t elcrWritable = 0;
        uint8_t lines = 0;
        uint8_t vectorBase = 0;
        uint8_t icw3 = 0;
        uint8_t lowestPriority = 7;
        InitStep initStep = InitStep::Ready;
        bool needIcw4 = false;
        bool levelAll = false;
        bool single = false;
        bool autoEoi = false;
        bool rotateOnAutoEoi = false;
        bool specialFullyNested = false;
        bool mode8086 = true;
        bool specialMask = false;
        bool readIsr = false;
        bool pollPending = false;
        bool intLatch = false;

        bool levelMode(int ir) const { return levelAll || (elcr >> ir & 1); }
        void setLine(int ir, bool level);
        void reinitialize(uint8_t icw1);
        void applyElcr(uint8_t value);
        // The IR the priority resolver would deliver now, or -1.
        int resolve(bool isMaster) const;
        // The INTA (or poll) cycle for a resolved IR: ISR, IRR, AEOI.
        void acknowledgeIr(int ir);
        void writeOcw2(uint8_t value);
        void writeOcw3(uint8_t value);
        int highestInService() const;
        PicChipState snapshot() const;
    };

    class InputLine final : public IrqLine {
    public:
        void bind(Pic8259Pair* pic, int irq) { pic_ = pic; irq_ = irq; }
        void setLevel(bool asserted) override { pic_->setInput(irq_, asserted); }

    private:
        Pic8259Pair* pic_ = nullptr;
        int irq_ = 0;
    };

    const Controller& chipFor(Chip chip) const { return chip == Chip::Master ? master_ : slave_; }
    uint8_t readByte(uint16_t port);
    void writeByte(uint16_t port, uint8_t value);
    void writeCommand(Controller& chip, uint8_t value);
    void writeData(Controller& chip, uint8_t value);
    uint8_t readCommand(Controller& chip);
    uint8_t poll(Controller& chip);

    void setInput(int irq, bool level);
    // After a device line changed: INT outputs may only rise.
    void lineChanged();
    // After a guest command or an INTA cycle: INT outputs follow the resolvers exactly.
    void reevaluate();
    void driveCascade();
    void notifyIfRaised(bool masterIntBefore);
    bool isCascadeInput(int ir) const;
    uint8_t vectorFor(const Controller& chip, int ir) const;

    Controller master_;
    Controller slave_;
    std::array<InputLine, 16> inputs_;
    IntrChangedCallback onIntrRaised_;
};

}  // namespace hvlab::devices
