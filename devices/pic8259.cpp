#include "devices/pic8259.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace pic;

namespace {

constexpr uint8_t bit(int ir) { return static_cast<uint8_t>(1u << ir); }

// The IR with priority rank `rank` (0 = highest) when `lowest` has the lowest priority.
constexpr int irAtRank(uint8_t lowest, int rank) { return (lowest + 1 + rank) & 7; }

constexpr int kSlaveIrqBase = 8;
constexpr uint8_t kFloatingBus = 0xFF;

}  // namespace

// ---- one chip ---------------------------------------------------------------------------

void Pic8259Pair::Controller::setLine(int ir, bool level) {
    const uint8_t mask = bit(ir);
    const bool was = lines & mask;
    if (level) {
        lines |= mask;
        // Edge mode latches a rising edge; level mode follows the line.
        if (!was || levelMode(ir)) irr |= mask;
    } else {
        lines &= static_cast<uint8_t>(~mask);
        irr &= static_cast<uint8_t>(~mask);  // a request that goes away is withdrawn (both modes)
    }
}

void Pic8259Pair::Controller::reinitialize(uint8_t icw1) {
    // Datasheet, "Initialization Command Words": the edge sense circuit is reset (a line that is
    // high must go low and high again), IMR is cleared, IR7 gets the lowest priority, special
    // mask mode is cleared and the status read is set to IRR; without IC4 the ICW4 functions are 0.
    needIcw4 = icw1 & kIcw1NeedIcw4;
    single = icw1 & kIcw1Single;
    levelAll = icw1 & kIcw1Level;
    imr = 0;
    isr = 0;
    irr = 0;
    for (int ir = 0; ir < 8; ++ir)
        if (levelMode(ir) && (lines & bit(ir))) irr |= bit(ir);
    lowestPriority = 7;
    specialMask = false;
    readIsr = false;
    pollPending = false;
    rotateOnAutoEoi = false;
    if (!needIcw4) {
        spdlog::debug("pic8259: ICW1 without IC4 selects MCS-80/85 mode (not emulated)");
        autoEoi = false;
        specialFullyNested = false;
        mode8086 = false;
    }
    initStep = InitStep::Icw2;
}

void Pic8259Pair::Controller::applyElcr(uint8_t value) {
    elcr = value & elcrWritable;
    // An input switched to level mode requests exactly while its line is high.
    for (int ir = 0; ir < 8; ++ir)
        if (levelMode(ir)) {
            if (lines & bit(ir)) irr |= bit(ir);
            else irr &= static_cast<uint8_t>(~bit(ir));
        }
}

int Pic8259Pair::Controller::resolve(bool isMaster) const {
    const uint8_t pending = irr & static_cast<uint8_t>(~imr);
    if (!pending) return -1;
    uint8_t blocking = isr;
    if (isMaster && specialFullyNested && !single)
        blocking &= static_cast<uint8_t>(~icw3);  // SFNM: a slave may nest above its own in-service IR
    for (int rank = 0; rank < 8; ++rank) {
        const int ir = irAtRank(lowestPriority, rank);
        if (specialMask) {
            // Special mask mode: any unmasked request that is not itself in service.
            if ((pending & bit(ir)) && !(isr & bit(ir))) return ir;
            continue;
        }
        if (blocking & bit(ir)) return -1;  // an equal or higher level is in service
        if (pending & bit(ir)) return ir;
    }
    return -1;
}

void Pic8259Pair::Controller::acknowledgeIr(int ir) {
    if (!levelMode(ir)) irr &= static_cast<uint8_t>(~bit(ir));
    if (autoEoi) {
        if (rotateOnAutoEoi) lowestPriority = static_cast<uint8_t>(ir);
    } else {
        isr |= bit(ir);
    }
}

int Pic8259Pair::Controller::highestInService() const {
    // In special mask mode a non-specific EOI does not clear an in-service bit that is masked.
    const uint8_t candidates = specialMask ? (isr & static_cast<uint8_t>(~imr)) : isr;
    for (int rank = 0; rank < 8; ++rank) {
        const int ir = irAtRank(lowestPriority, rank);
        if (candidates & bit(ir)) return ir;
    }
    return -1;
}

void Pic8259Pair::Controller::writeOcw2(uint8_t value) {
    const int level = value & 7;
    switch (value & 0xE0) {
    case kOcw2NonSpecificEoi:
    case kOcw2RotateNonSpecificEoi: {
        const int ir = highestInService();
        if (ir < 0) break;
        isr &= static_cast<uint8_t>(~bit(ir));
        if ((value & 0xE0) == kOcw2RotateNonSpecificEoi) lowestPriority = static_cast<uint8_t>(ir);
        break;
    }
    case kOcw2SpecificEoi:
        isr &= static_cast<uint8_t>(~bit(level));
        break;
    case kOcw2RotateSpecificEoi:
        isr &= static_cast<uint8_t>(~bit(level));
        lowestPriority = static_cast<uint8_t>(level);
        break;
    case kOcw2SetPriority:
        lowestPriority = static_cast<uint8_t>(level);
        break;
    case kOcw2RotateAutoEoiSet: rotateOnAutoEoi = true; break;
    case kOcw2RotateAutoEoiClear: rotateOnAutoEoi = false; break;
    default: break;  // 0x40: no operation
    }
}

void Pic8259Pair::Controller::writeOcw3(uint8_t value) {
    if (value & kOcw3SetSpecialMask) specialMask = value & kOcw3SpecialMask;
    if (value & kOcw3ReadRegister) readIsr = value & kOcw3ReadIsr;
    if (value & kOcw3Poll) pollPending = true;
}

PicChipState Pic8259Pair::Controller::snapshot() const {
    PicChipState s;
    s.imr = imr;
    s.irr = irr;
    s.isr = isr;
    s.elcr = elcr;
    s.lines = lines;
    s.vectorBase = vectorBase;
    s.lowestPriority = lowestPriority;
    s.icw3 = icw3;
    s.levelTriggered = levelAll;
    s.single = single;
    s.autoEoi = autoEoi;
    s.rotateOnAutoEoi = rotateOnAutoEoi;
    s.specialFullyNested = specialFullyNested;
    s.specialMask = specialMask;
    s.mode8086 = mode8086;
    s.readIsr = readIsr;
    s.pollPending = pollPending;
    s.initializing = initStep != InitStep::Ready;
    s.intOutput = intLatch;
    return s;
}

// ---- the pair ---------------------------------------------------------------------------

Pic8259Pair::Pic8259Pair(IntrChangedCallback onIntrRaised) : onIntrRaised_(std::move(onIntrRaised)) {
    master_.elcrWritable = kElcrMasterWritable;
    slave_.elcrWritable = kElcrSlaveWritable;
    master_.vectorBase = 0x08;
    slave_.vectorBase = 0x70;
    master_.icw3 = bit(kCascadeIrq);
    slave_.icw3 = kCascadeIrq;
    for (int irq = 0; irq < 16; ++irq) inputs_[irq].bind(this, irq);
}

IrqLine& Pic8259Pair::input(int irq) {
    if (irq < 0 || irq > 15) throw std::out_of_range("8259 IRQ input must be 0..15");
    return inputs_[irq];
}

bool Pic8259Pair::lineLevel(int irq) const {
    if (irq < 0 || irq > 15) return false;
    if (irq == kCascadeIrq) return slave_.intLatch;
    const Controller& chip = irq < kSlaveIrqBase ? master_ : slave_;
    return chip.lines & bit(irq & 7);
}

PicChipState Pic8259Pair::state(Chip chip) const { return chipFor(chip).snapshot(); }

bool Pic8259Pair::intrAsserted() const { return master_.intLatch; }

bool Pic8259Pair::isCascadeInput(int ir) const { return !master_.single && (master_.icw3 & bit(ir)); }

uint8_t Pic8259Pair::vectorFor(const Controller& chip, int ir) const {
    return static_cast<uint8_t>(chip.vectorBase | ir);  // 8086 mode, also without ICW4 (see header)
}

std::optional<uint8_t> Pic8259Pair::acknowledge() {
    if (!master_.intLatch) return std::nullopt;
    uint8_t vector;
    const int ir = master_.resolve(true);
    if (ir < 0) {
        vector = vectorFor(master_, kSpuriousIr);  // default IR7: the request went away
    } else {
        master_.acknowledgeIr(ir);
        if (!isCascadeInput(ir)) {
            vector = vectorFor(master_, ir);
        } else if (ir != kCascadeIrq || (slave_.icw3 & 7) != kCascadeIrq) {
            spdlog::debug("pic8259: no slave answers the cascade address of IR{}", ir);
            vector = kFloatingBus;
        } else {
            const int slaveIr = slave_.resolve(false);
            if (slaveIr < 0) {
                // Spurious IRQ 15: the master's ISR bit 2 stays set and needs an EOI.
                vector = vectorFor(slave_, kSpuriousIr);
            } else {
                slave_.acknowledgeIr(slaveIr);
                vector = vectorFor(slave_, slaveIr);
            }
            slave_.intLatch = false;  // the slave's INT falls during its INTA cycle
        }
    }
    master_.intLatch = false;
    reevaluate();
    return vector;
}

// ---- inputs and INT outputs ---------------------------------------------------------------

void Pic8259Pair::setInput(int irq, bool level) {
    if (irq == kCascadeIrq) {
        spdlog::debug("pic8259: input 2 is the cascade and is not connected");
        return;
    }
    Controller& chip = irq < kSlaveIrqBase ? master_ : slave_;
    chip.setLine(irq & 7, level);
    lineChanged();
}

void Pic8259Pair::driveCascade() { master_.setLine(kCascadeIrq, slave_.intLatch); }

void Pic8259Pair::lineChanged() {
    const bool before = master_.intLatch;
    slave_.intLatch = slave_.intLatch || slave_.resolve(false) >= 0;
    driveCascade();
    master_.intLatch = master_.intLatch || master_.resolve(true) >= 0;
    notifyIfRaised(before);
}

void Pic8259Pair::reevaluate() {
    const bool before = master_.intLatch;
    slave_.intLatch = slave_.resolve(false) >= 0;
    driveCascade();
    master_.intLatch = master_.resolve(true) >= 0;
    notifyIfRaised(before);
}

void Pic8259Pair::notifyIfRaised(bool masterIntBefore) {
    if (!masterIntBefore && master_.intLatch && onIntrRaised_) onIntrRaised_();
}

// ---- port access ----------------------------------------------------------------------------

uint32_t Pic8259Pair::ioRead(uint16_t port, unsigned size) {
    uint32_t value = 0;
    for (unsigned i = 0; i < size && i < 4; ++i)
        value |= static_cast<uint32_t>(readByte(static_cast<uint16_t>(port + i))) << (8 * i);
    return value;
}

void Pic8259Pair::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && i < 4; ++i)
        writeByte(static_cast<uint16_t>(port + i), static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Pic8259Pair::readByte(uint16_t port) {
    switch (port) {
    case kMasterCommand: return readCommand(master_);
    case kMasterData: return master_.imr;
    case kSlaveCommand: return readCommand(slave_);
    case kSlaveData: return slave_.imr;
    case kElcrMaster: return master_.elcr;
    case kElcrSlave: return slave_.elcr;
    default: return kFloatingBus;
    }
}

void Pic8259Pair::writeByte(uint16_t port, uint8_t value) {
    switch (port) {
    case kMasterCommand: writeCommand(master_, value); break;
    case kMasterData: writeData(master_, value); break;
    case kSlaveCommand: writeCommand(slave_, value); break;
    case kSlaveData: writeData(slave_, value); break;
    case kElcrMaster: master_.applyElcr(value); break;
    case kElcrSlave: slave_.applyElcr(value); break;
    default: return;
    }
    reevaluate();
}

uint8_t Pic8259Pair::readCommand(Controller& chip) {
    if (chip.pollPending) return poll(chip);
    return chip.readIsr ? chip.isr : chip.irr;
}

uint8_t Pic8259Pair::poll(Controller& chip) {
    // Poll command: this read is the interrupt acknowledge. Bit 7 = a request is pending,
    // bits 2-0 = the highest-priority level.
    chip.pollPending = false;
    const int ir = chip.resolve(&chip == &master_);
    if (ir < 0) return 0;
    chip.acknowledgeIr(ir);
    chip.intLatch = false;
    reevaluate();
    return static_cast<uint8_t>(0x80 | ir);
}

void Pic8259Pair::writeCommand(Controller& chip, uint8_t value) {
    if (value & kIcw1) {
        if (value & 0x04) spdlog::debug("pic8259: ICW1 call address interval 4 (ignored in 8086 mode)");
        chip.reinitialize(value);
        chip.intLatch = false;
    } else if (value & kOcw3) {
        chip.writeOcw3(value);
    } else {
        chip.writeOcw2(value);
    }
}

void Pic8259Pair::writeData(Controller& chip, uint8_t value) {
    using Step = Controller::InitStep;
    switch (chip.initStep) {
    case Step::Ready:
        chip.imr = value;  // OCW1
        return;
    case Step::Icw2:
        chip.vectorBase = value & 0xF8;
        chip.initStep = !chip.single ? Step::Icw3 : chip.needIcw4 ? Step::Icw4 : Step::Ready;
        return;
    case Step::Icw3:
        chip.icw3 = &chip == &master_ ? value : static_cast<uint8_t>(value & 7);
        chip.initStep = chip.needIcw4 ? Step::Icw4 : Step::Ready;
        return;
    case Step::Icw4:
        chip.mode8086 = value & kIcw4Mode8086;
        chip.autoEoi = value & kIcw4AutoEoi;
        chip.specialFullyNested = value & kIcw4Sfnm;
        if (!chip.mode8086) spdlog::debug("pic8259: ICW4 selects MCS-80/85 mode (not emulated)");
        chip.initStep = Step::Ready;
        return;
    }
}

}  // namespace hvlab::devices
