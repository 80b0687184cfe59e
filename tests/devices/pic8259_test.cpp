// The cascaded 8259A pair as guests program it: ICW sequences, vector delivery, EOI variants,
// special mask mode, poll, spurious IRQs, edge and level triggering, ELCR.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "devices/pic8259.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::pic;
using Chip = Pic8259Pair::Chip;

namespace {

struct PicFixture {
    int intrRaised = 0;
    Pic8259Pair pic{[this] { ++intrRaised; }};

    void out(uint16_t port, uint8_t v) { pic.ioWrite(port, 1, v); }
    uint8_t in(uint16_t port) { return static_cast<uint8_t>(pic.ioRead(port, 1)); }
    void raise(int irq) { pic.input(irq).setLevel(true); }
    void lower(int irq) { pic.input(irq).setLevel(false); }
    void pulse(int irq) { raise(irq); lower(irq); }

    // Linux's init_8259A(): mask everything, ICW1 (edge, cascade, ICW4), ICW2 vector bases,
    // ICW3 (slave on IR2 / slave ID 2), ICW4 (8086 mode, AEOI if asked), then the masks.
    void initLinux(uint8_t masterBase = 0x30, uint8_t slaveBase = 0x38, bool autoEoi = false) {
        out(kMasterData, 0xFF);
        out(kSlaveData, 0xFF);
        out(kMasterCommand, 0x11);
        out(kMasterData, masterBase);
        out(kMasterData, 1u << kCascadeIrq);
        out(kMasterData, autoEoi ? 0x03 : 0x01);
        out(kSlaveCommand, 0x11);
        out(kSlaveData, slaveBase);
        out(kSlaveData, kCascadeIrq);
        out(kSlaveData, 0x01);
        out(kMasterData, 0x00);
        out(kSlaveData, 0x00);
    }
    // What a PC BIOS does (SeaBIOS, Bochs BIOS): vectors 0x08 and 0x70.
    void initBios() {
        out(kMasterCommand, 0x11);
        out(kMasterData, 0x08);
        out(kMasterData, 0x04);
        out(kMasterData, 0x01);
        out(kSlaveCommand, 0x11);
        out(kSlaveData, 0x70);
        out(kSlaveData, 0x02);
        out(kSlaveData, 0x01);
        out(kMasterData, 0xB8);  // timer, keyboard, cascade, COM1 ... unmasked
        out(kSlaveData, 0x8E);  // RTC (IRQ 8) ... unmasked
    }
    void eoiMaster() { out(kMasterCommand, kOcw2NonSpecificEoi); }
    void eoiSlave() { out(kSlaveCommand, kOcw2NonSpecificEoi); }
    uint8_t readIsr(uint16_t command) {
        out(command, kOcw3 | kOcw3ReadRegister | kOcw3ReadIsr);
        return in(command);
    }
    uint8_t readIrr(uint16_t command) {
        out(command, kOcw3 | kOcw3ReadRegister);
        return in(command);
    }
};

}  // namespace

TEST_CASE_METHOD(PicFixture, "PIC reset state: all IRQs masked, no INTR", "[pic]") {
    CHECK(in(kMasterData) == 0xFF);
    CHECK(in(kSlaveData) == 0xFF);
    CHECK(in(kElcrMaster) == 0);
    CHECK(in(kElcrSlave) == 0);
    raise(0);
    CHECK_FALSE(pic.intrAsserted());
    CHECK_FALSE(pic.acknowledge().has_value());
    CHECK(pic.irr(Chip::Master) == 0x01);  // requested but masked
    CHECK(pic.name() == "pic8259");
}

TEST_CASE_METHOD(PicFixture, "PIC Linux init sequence then vectors in priority order", "[pic]") {
    initLinux();
    CHECK(pic.vectorBase(Chip::Master) == 0x30);
    CHECK(pic.vectorBase(Chip::Slave) == 0x38);
    CHECK_FALSE(pic.state(Chip::Master).initializing);
    CHECK(pic.state(Chip::Master).icw3 == 0x04);
    CHECK(pic.state(Chip::Slave).icw3 == 2);

    raise(3);
    raise(9);
    raise(1);
    CHECK(pic.intrAsserted());
    CHECK(intrRaised == 1);

    // IR1 > IR2 (the slave, IRQ 8-15) > IR3.
    CHECK(pic.acknowledge() == 0x31);
    CHECK(pic.isr(Chip::Master) == 0x02);
    CHECK_FALSE(pic.intrAsserted());  // IR2 and IR3 are blocked by IR1 in service
    eoiMaster();
    CHECK(pic.intrAsserted());
    CHECK(pic.acknowledge() == 0x39);
    CHECK(pic.isr(Chip::Master) == 0x04);
    CHECK(pic.isr(Chip::Slave) == 0x02);
    eoiSlave();
    eoiMaster();
    CHECK(pic.acknowledge() == 0x33);
    eoiMaster();
    CHECK_FALSE(pic.intrAsserted());
    CHECK(pic.isr(Chip::Master) == 0);
    CHECK(pic.isr(Chip::Slave) == 0);
}

TEST_CASE_METHOD(PicFixture, "PIC BIOS init: timer and RTC vectors", "[pic]") {
    initBios();
    raise(0);
    CHECK(pic.acknowledge() == 0x08);
    eoiMaster();
    raise(8);
    CHECK(pic.acknowledge() == 0x70);
    CHECK(in(kSlaveData) == 0x8E);
    // A higher-priority request nests above one in service (fully nested mode).
    raise(1);
    CHECK(pic.acknowledge() == 0x09);
    CHECK(pic.isr(Chip::Master) == 0x06);
}

TEST_CASE_METHOD(PicFixture, "PIC edge mode: the line must fall and rise to request again", "[pic]") {
    initLinux();
    raise(4);
    CHECK(pic.acknowledge() == 0x34);
    eoiMaster();
    CHECK_FALSE(pic.intrAsserted());  // still high, but no new edge
    raise(4);                          // staying high is not an edge either
    CHECK_FALSE(pic.intrAsserted());
    lower(4);
    raise(4);
    CHECK(pic.intrAsserted());
    CHECK(pic.acknowledge() == 0x34);
}

TEST_CASE_METHOD(PicFixture, "PIC level mode through ELCR: the request follows the line", "[pic]") {
    initLinux();
    out(kElcrMaster, 0xFF);
    out(kElcrSlave, 0xFF);
    CHECK(in(kElcrMaster) == 0xF8);  // IRQ 0, 1, 2 are edge only
    CHECK(in(kElcrSlave) == 0xDE);   // IRQ 8 and 13 are edge only
    CHECK(pic.state(Chip::Slave).elcr == 0xDE);

    raise(10);
    CHECK(pic.acknowledge() == 0x3A);
    CHECK(pic.irr(Chip::Slave) == 0x04);  // level mode: IRR stays with the line
    eoiSlave();
    eoiMaster();
    CHECK(pic.intrAsserted());  // still high after EOI: a new request
    CHECK(pic.acknowledge() == 0x3A);
    lower(10);  // the driver cleared the device
    eoiSlave();
    eoiMaster();
    CHECK_FALSE(pic.intrAsserted());
    CHECK(pic.irr(Chip::Slave) == 0);
    CHECK(pic.lineLevel(10) == false);
}

TEST_CASE_METHOD(PicFixture, "PIC level mode through ICW1.LTIM", "[pic]") {
    out(kMasterCommand, 0x19);  // LTIM, cascade, ICW4
    out(kMasterData, 0x20);
    out(kMasterData, 0x04);
    out(kMasterData, 0x01);
    out(kMasterData, 0x00);
    raise(5);
    CHECK(pic.acknowledge() == 0x25);
    eoiMaster();
    CHECK(pic.acknowledge() == 0x25);
    CHECK(pic.state(Chip::Master).levelTriggered);
}

TEST_CASE_METHOD(PicFixture, "PIC automatic EOI leaves ISR clear", "[pic]") {
    initLinux(0x30, 0x38, true);
    CHECK(pic.state(Chip::Master).autoEoi);
    raise(0);
    CHECK(pic.acknowledge() == 0x30);
    CHECK(pic.isr(Chip::Master) == 0);
    raise(3);  // nothing in service blocks it
    CHECK(pic.acknowledge() == 0x33);
    lower(0);
    raise(0);
    CHECK(pic.acknowledge() == 0x30);
}

TEST_CASE_METHOD(PicFixture, "PIC rotate in AEOI mode makes the serviced IR lowest", "[pic]") {
    initLinux(0x30, 0x38, true);
    out(kMasterCommand, kOcw2RotateAutoEoiSet);
    raise(1);
    CHECK(pic.acknowledge() == 0x31);
    CHECK(pic.state(Chip::Master).lowestPriority == 1);
    raise(0);
    raise(4);
    CHECK(pic.acknowledge() == 0x34);  // IR2 is now the highest priority, then IR3, IR4
    out(kMasterCommand, kOcw2RotateAutoEoiClear);
    CHECK_FALSE(pic.state(Chip::Master).rotateOnAutoEoi);
}

TEST_CASE_METHOD(PicFixture, "PIC specific EOI clears the named level only", "[pic]") {
    initLinux();
    raise(5);
    CHECK(pic.acknowledge() == 0x35);
    raise(0);
    CHECK(pic.acknowledge() == 0x30);  // nests above IR5
    CHECK(pic.isr(Chip::Master) == 0x21);
    out(kMasterCommand, kOcw2SpecificEoi | 5);
    CHECK(pic.isr(Chip::Master) == 0x01);
    CHECK(readIsr(kMasterCommand) == 0x01);
    eoiMaster();
    CHECK(readIsr(kMasterCommand) == 0x00);
}

TEST_CASE_METHOD(PicFixture, "PIC OCW3 selects IRR or ISR for reads; the data port reads IMR", "[pic]") {
    initLinux();
    out(kMasterData, 0x10);
    raise(4);
    raise(6);
    CHECK(readIrr(kMasterCommand) == 0x50);
    CHECK(pic.acknowledge() == 0x36);
    CHECK(readIsr(kMasterCommand) == 0x40);
    CHECK(in(kMasterCommand) == 0x40);  // the selection sticks
    CHECK(readIrr(kMasterCommand) == 0x10);
    CHECK(in(kMasterData) == 0x10);
    // A 16-bit read splits into the two byte ports.
    CHECK(pic.ioRead(kMasterCommand, 2) == 0x1010u);
}

TEST_CASE_METHOD(PicFixture, "PIC special mask mode lets lower levels in while one is masked", "[pic]") {
    initLinux();
    raise(3);
    CHECK(pic.acknowledge() == 0x33);
    raise(5);
    CHECK_FALSE(pic.intrAsserted());  // fully nested: IR3 in service blocks IR5
    out(kMasterCommand, kOcw3 | kOcw3SetSpecialMask | kOcw3SpecialMask);
    CHECK(pic.state(Chip::Master).specialMask);
    out(kMasterData, 0x08);  // the handler masks its own level
    CHECK(pic.intrAsserted());
    CHECK(pic.acknowledge() == 0x35);
    CHECK(pic.isr(Chip::Master) == 0x28);
    // A non-specific EOI in special mask mode skips masked in-service levels.
    eoiMaster();
    CHECK(pic.isr(Chip::Master) == 0x08);
    out(kMasterCommand, kOcw3 | kOcw3SetSpecialMask);  // leave special mask mode
    out(kMasterData, 0x00);
    eoiMaster();
    CHECK(pic.isr(Chip::Master) == 0x00);
}

TEST_CASE_METHOD(PicFixture, "PIC spurious IRQ 7 when the request goes away before INTA", "[pic]") {
    initLinux();
    raise(4);
    CHECK(pic.intrAsserted());
    lower(4);
    CHECK(pic.intrAsserted());  // INT stays up until the INTA cycle
    CHECK(pic.acknowledge() == 0x37);
    CHECK(pic.isr(Chip::Master) == 0);  // a spurious IR7 sets no ISR bit
    CHECK_FALSE(pic.intrAsserted());
    CHECK_FALSE(pic.acknowledge().has_value());
}

TEST_CASE_METHOD(PicFixture, "PIC spurious IRQ 15 leaves the master's cascade IR in service", "[pic]") {
    initLinux();
    raise(12);
    lower(12);
    CHECK(pic.intrAsserted());
    CHECK(pic.acknowledge() == 0x3F);
    CHECK(pic.isr(Chip::Slave) == 0);
    CHECK(pic.isr(Chip::Master) == 0x04);  // the OS must still EOI the master
    raise(11);
    CHECK_FALSE(pic.intrAsserted());       // the cascade is blocked until then
    eoiMaster();
    CHECK(pic.acknowledge() == 0x3B);
}

TEST_CASE_METHOD(PicFixture, "PIC masking a pending request lowers INTR without a spurious IRQ", "[pic]") {
    initLinux();
    raise(4);
    CHECK(pic.intrAsserted());
    out(kMasterData, 0x10);
    CHECK_FALSE(pic.intrAsserted());
    CHECK_FALSE(pic.acknowledge().has_value());
    out(kMasterData, 0x00);
    CHECK(pic.intrAsserted());
    CHECK(intrRaised == 2);
    CHECK(pic.acknowledge() == 0x34);
}

TEST_CASE_METHOD(PicFixture, "PIC set priority and rotate on EOI change the resolution order", "[pic]") {
    initLinux();
    out(kMasterCommand, kOcw2SetPriority | 4);  // IR4 lowest, so IR5 highest
    raise(3);
    raise(6);
    CHECK(pic.acknowledge() == 0x36);
    // Rotate on non-specific EOI: IR6 becomes lowest, IR7 highest, IR3 next of those pending.
    out(kMasterCommand, kOcw2RotateNonSpecificEoi);
    CHECK(pic.state(Chip::Master).lowestPriority == 6);
    CHECK(pic.acknowledge() == 0x33);
    out(kMasterCommand, kOcw2RotateSpecificEoi | 3);
    CHECK(pic.state(Chip::Master).lowestPriority == 3);
    CHECK(pic.isr(Chip::Master) == 0);
}

TEST_CASE_METHOD(PicFixture, "PIC poll command acknowledges through a read", "[pic]") {
    initLinux();
    out(kMasterCommand, kOcw3 | kOcw3Poll);
    CHECK(in(kMasterCommand) == 0x00);  // nothing pending
    raise(6);
    out(kMasterCommand, kOcw3 | kOcw3Poll);
    CHECK(pic.state(Chip::Master).pollPending);
    CHECK(in(kMasterCommand) == 0x86);
    CHECK(pic.isr(Chip::Master) == 0x40);
    CHECK_FALSE(pic.intrAsserted());
    CHECK(in(kMasterCommand) == 0x00);  // back to IRR reads, IR6 acknowledged
}

TEST_CASE_METHOD(PicFixture, "PIC special fully nested mode lets a higher slave IRQ nest", "[pic]") {
    initLinux();
    out(kMasterCommand, 0x11);  // the master again, now with SFNM
    out(kMasterData, 0x30);
    out(kMasterData, 0x04);
    out(kMasterData, kIcw4Mode8086 | kIcw4Sfnm);
    out(kMasterData, 0x00);
    CHECK(pic.state(Chip::Master).specialFullyNested);
    raise(12);
    CHECK(pic.acknowledge() == 0x3C);
    raise(9);  // higher priority than IRQ 12 on the slave
    CHECK(pic.acknowledge() == 0x39);
    CHECK(pic.isr(Chip::Slave) == 0x12);
}

TEST_CASE_METHOD(PicFixture, "PIC ICW1 resets the edge sense, IMR and ISR", "[pic]") {
    initLinux();
    raise(3);
    CHECK(pic.acknowledge() == 0x33);
    raise(5);
    out(kMasterCommand, 0x11);
    CHECK(pic.state(Chip::Master).initializing);
    CHECK(pic.isr(Chip::Master) == 0);
    CHECK(pic.irr(Chip::Master) == 0);
    out(kMasterData, 0x40);
    out(kMasterData, 0x04);
    out(kMasterData, 0x01);
    CHECK(in(kMasterData) == 0x00);  // IMR cleared by ICW1
    CHECK_FALSE(pic.intrAsserted());  // IRQ 3 and 5 are high but made no new edge
    pulse(5);
    raise(5);
    CHECK(pic.acknowledge() == 0x45);
}

TEST_CASE_METHOD(PicFixture, "PIC single mode delivers IR2 from the master itself", "[pic]") {
    out(kMasterCommand, 0x13);  // single, ICW4
    out(kMasterData, 0x50);
    out(kMasterData, 0x01);  // no ICW3 in single mode: this is ICW4
    out(kMasterData, 0x00);
    CHECK(pic.state(Chip::Master).single);
    out(kSlaveCommand, 0x11);
    out(kSlaveData, 0x70);
    out(kSlaveData, 0x02);
    out(kSlaveData, 0x01);
    out(kSlaveData, 0x00);
    raise(9);
    CHECK(pic.acknowledge() == 0x52);
}

TEST_CASE_METHOD(PicFixture, "PIC inputs: range, cascade input and line levels", "[pic]") {
    CHECK_THROWS_AS(pic.input(16), std::out_of_range);
    CHECK_THROWS_AS(pic.input(-1), std::out_of_range);
    initLinux();
    raise(2);  // not connected: IR2 is the cascade
    CHECK_FALSE(pic.intrAsserted());
    raise(14);
    CHECK(pic.lineLevel(14));
    CHECK(pic.lineLevel(2));  // the slave's INT drives IR2
    CHECK_FALSE(pic.lineLevel(15));
    CHECK_FALSE(pic.lineLevel(99));
    CHECK(pic.state(Chip::Master).intOutput);
    CHECK(pic.acknowledge() == 0x3E);
    CHECK_FALSE(pic.lineLevel(2));
}

TEST_CASE_METHOD(PicFixture, "PIC ignores unknown ports and survives arbitrary guest writes", "[pic]") {
    for (unsigned v = 0; v < 256; ++v) {
        out(kMasterCommand, static_cast<uint8_t>(v));
        out(kMasterData, static_cast<uint8_t>(v * 7));
        out(kSlaveCommand, static_cast<uint8_t>(v * 13));
        out(kSlaveData, static_cast<uint8_t>(v * 3));
        pulse(static_cast<int>(v % 16));
        (void)in(kMasterCommand);
        (void)pic.acknowledge();
    }
    CHECK(pic.ioRead(0x22, 1) == 0xFF);
    initLinux();
    raise(7);
    CHECK(pic.acknowledge() == 0x37);
    CHECK(pic.isr(Chip::Master) == 0x80);  // a real IR7 sets its ISR bit
}
