#include "devices/uart16550.hpp"

#include <fmt/format.h>

namespace hvlab::devices {

using namespace uart;

namespace {

constexpr uint8_t kLsrErrorBits = 0x1E;  // OE, PE, FE, BI: the receiver line status sources
constexpr uint8_t kIerWritable = 0x0F;
constexpr uint8_t kMcrWritable = 0x1F;
constexpr uint8_t kFcrProgrammable = 0xC9;  // enable, DMA mode, trigger level; resets self-clear
// Outside loopback a connected terminal is assumed: CTS, DSR and DCD active, no ring.
constexpr uint8_t kTerminalModemInputs = kMsrCts | kMsrDsr | kMsrDcd;

// Reads wider than a byte: the register in the low byte, undriven upper lanes read as ones.
uint32_t widen(uint8_t value, unsigned size) {
    if (size <= 1) return value;
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    return (lanes & ~0xFFu) | value;
}

}  // namespace

Uart16550::Uart16550(uint16_t base, IrqLine* irq, TransmitSink sink)
    : base_(base), irq_(irq), sink_(std::move(sink)), modemInputs_(kTerminalModemInputs) {}

std::string Uart16550::name() const { return fmt::format("uart16550@{:#x}", base_); }

// ---- port access -------------------------------------------------------------------------

uint32_t Uart16550::ioRead(uint16_t port, unsigned size) {
    pollAndTick();
    const uint8_t value = readRegister(static_cast<uint16_t>(port - base_) & 7);
    updateIrq();
    return widen(value, size);
}

void Uart16550::ioWrite(uint16_t port, unsigned /*size*/, uint32_t value) {
    pollAndTick();
    writeRegister(static_cast<uint16_t>(port - base_) & 7, static_cast<uint8_t>(value));
    updateIrq();
}

uint8_t Uart16550::readRegister(uint16_t offset) {
    const bool dlab = lcr_ & kLcrDlab;
    switch (offset) {
    case kRbrThr: return dlab ? dll_ : readRbr();
    case kIer: return dlab ? dlm_ : ier_;
    case kIirFcr: return readIir();
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr: {
        const uint8_t lsr = lineStatus();
        lsrErrors_ = 0;  // reading LSR clears OE/PE/FE/BI, and with them the line status interrupt
        return lsr;
    }
    case kMsr: {
        const uint8_t msr = modemInputs_ | msrDeltas_;
        msrDeltas_ = 0;  // reading MSR clears the delta bits, and with them the modem interrupt
        return msr;
    }
    default: return scr_;
    }
}

void Uart16550::writeRegister(uint16_t offset, uint8_t value) {
    const bool dlab = lcr_ & kLcrDlab;
    switch (offset) {
    case kRbrThr:
        if (dlab) dll_ = value;
        else writeThr(value);
        break;
    case kIer:
        if (dlab) dlm_ = value;
        else writeIer(value);
        break;
    case kIirFcr: writeFcr(value); break;
    case kLcr: lcr_ = value; break;
    case kMcr: writeMcr(value); break;
    case kLsr: break;  // LSR and MSR writes are for factory testing only; ignored
    case kMsr: break;
    default: scr_ = value; break;
    }
}

uint8_t Uart16550::readRbr() {
    if (!rx_.empty()) {
        lastRx_ = rx_.front();
        rx_.pop_front();
    }
    rxQuiet_ = false;  // a CPU read restarts the character-timeout count
    return lastRx_;
}

uint8_t Uart16550::readIir() {
    const uint8_t id = pendingInterrupt();
    // Reading IIR clears the THRE interrupt only when it is the source being reported.
    if (id == kIirThrEmpty) thrInterrupt_ = false;
    return id | (fifoEnabled() ? kIirFifosEnabled : 0);
}

void Uart16550::writeThr(uint8_t value) {
    // The THR fills: its interrupt clears and INTR drops...
    thrInterrupt_ = false;
    updateIrq();
    if (loopback())
        receive(value);  // SOUT is held marking; the shift register feeds the receiver
    else if (sink_)
        sink_(value);
    // ...and the byte is gone at once, so THR is empty again and the interrupt re-arms.
    thrInterrupt_ = true;
}

void Uart16550::writeIer(uint8_t value) {
    value &= kIerWritable;
    // Enabling the THRE interrupt while THR is empty raises it, even if an IIR read had cleared
    // it before (what real 16550s do and Windows/Linux drivers rely on; QEMU and Bochs agree).
    if (value & ~ier_ & kIerThrEmpty) thrInterrupt_ = true;
    ier_ = value;
}

void Uart16550::writeFcr(uint8_t value) {
    const bool enable = value & kFcrEnable;
    // Switching between 16450 and FIFO mode empties the FIFOs.
    if (enable != fifoEnabled()) rx_.clear();
    if (!enable) {
        // The other FCR bits are only programmed while FCR0 is written as 1.
        fcr_ &= static_cast<uint8_t>(~kFcrEnable);
        return;
    }
    if (value & kFcrRxReset) rx_.clear();
    // kFcrTxReset: the transmit FIFO is always empty (transmission is immediate); nothing to do.
    fcr_ = value & kFcrProgrammable;
}

void Uart16550::writeMcr(uint8_t value) {
    mcr_ = value & kMcrWritable;
    sampleModemInputs();  // loopback on/off or an output change in loopback moves the inputs
}

// ---- host input -------------------------------------------------------------------------

void Uart16550::queueInput(uint8_t byte) {
    std::lock_guard lock(hostMutex_);
    hostQueue_.push_back(byte);
}

void Uart16550::queueInput(std::string_view bytes) {
    std::lock_guard lock(hostMutex_);
    hostQueue_.insert(hostQueue_.end(), bytes.begin(), bytes.end());
}

void Uart16550::pollInput() {
    pollAndTick();
    updateIrq();
}

void Uart16550::pollAndTick() {
    // A poll that brings nothing new stands for the silence that lets the FIFO time out.
    if (!transferHostInput()) rxQuiet_ = true;
}

bool Uart16550::transferHostInput() {
    if (loopback()) return false;  // SIN is disconnected in loopback; host bytes keep waiting
    std::lock_guard lock(hostMutex_);
    bool received = false;
    // Only take what fits: the host side is flow-controlled, so input is never overrun.
    while (!hostQueue_.empty() && rx_.size() < rxCapacity()) {
        receive(hostQueue_.front());
        hostQueue_.pop_front();
        received = true;
    }
    return received;
}

void Uart16550::receive(uint8_t byte) {
    rxQuiet_ = false;  // a new character restarts the character-timeout count
    if (rx_.size() < rxCapacity()) {
        rx_.push_back(byte);
        return;
    }
    lsrErrors_ |= kLsrOverrun;
    // 16450 mode: the new character overwrites the unread one. FIFO mode: the FIFO keeps its
    // contents and the character in the shift register is lost.
    if (!fifoEnabled()) rx_.back() = byte;
}

// ---- status and interrupts --------------------------------------------------------------

unsigned Uart16550::rxTriggerLevel() const {
    static constexpr unsigned kLevels[4] = {1, 4, 8, 14};
    return kLevels[fcr_ >> 6];
}

uint8_t Uart16550::lineStatus() const {
    uint8_t lsr = lsrErrors_ | kLsrThrEmpty | kLsrTxEmpty;  // transmitter always idle
    if (!rx_.empty()) lsr |= kLsrDataReady;
    // Bit 7 (error in RCVR FIFO) needs PE/FE/BI, which never occur here.
    return lsr;
}

uint8_t Uart16550::pendingInterrupt() const {
    if ((ier_ & kIerLineStatus) && (lsrErrors_ & kLsrErrorBits)) return kIirLineStatus;
    if (ier_ & kIerRxData) {
        // 16450 mode: any character. FIFO mode: the trigger level is reached.
        const std::size_t needed = fifoEnabled() ? rxTriggerLevel() : 1;
        if (!rx_.empty() && rx_.size() >= needed) return kIirRxData;
        if (fifoEnabled() && !rx_.empty() && rxQuiet_) return kIirTimeout;
    }
    if ((ier_ & kIerThrEmpty) && thrInterrupt_) return kIirThrEmpty;
    if ((ier_ & kIerModemStatus) && msrDeltas_) return kIirModemStatus;
    return kIirNoInterrupt;
}

uint8_t Uart16550::modemInputsNow() const {
    if (!loopback()) return kTerminalModemInputs;
    // Loopback wires the modem outputs to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
    uint8_t in = 0;
    if (mcr_ & kMcrRts) in |= kMsrCts;
    if (mcr_ & kMcrDtr) in |= kMsrDsr;
    if (mcr_ & kMcrOut1) in |= kMsrRi;
    if (mcr_ & kMcrOut2) in |= kMsrDcd;
    return in;
}

void Uart16550::sampleModemInputs() {
    const uint8_t now = modemInputsNow();
    const uint8_t changed = now ^ modemInputs_;
    if (changed & kMsrCts) msrDeltas_ |= kMsrDeltaCts;
    if (changed & kMsrDsr) msrDeltas_ |= kMsrDeltaDsr;
    if (changed & kMsrDcd) msrDeltas_ |= kMsrDeltaDcd;
    // TERI: the RI pin went from active to inactive (ring indicator bit 1 -> 0).
    if ((changed & kMsrRi) && !(now & kMsrRi)) msrDeltas_ |= kMsrTrailingRi;
    modemInputs_ = now;
}

void Uart16550::updateIrq() {
    // On a PC, INTR reaches the PIC through a buffer enabled by the OUT2 pin. In loopback the
    // modem output pins are forced inactive, so the interrupt is cut off as well.
    const bool level = pendingInterrupt() != kIirNoInterrupt && (mcr_ & kMcrOut2) && !loopback();
    if (level == irqLevel_) return;
    irqLevel_ = level;
    if (irq_) irq_->setLevel(level);
}

UartState Uart16550::state() const {
    UartState s;
    s.base = base_;
    s.ier = ier_;
    s.iir = pendingInterrupt() | (fifoEnabled() ? kIirFifosEnabled : 0);
    s.fcr = fcr_;
    s.lcr = lcr_;
    s.mcr = mcr_;
    s.lsr = lineStatus();
    s.msr = modemInputs_ | msrDeltas_;
    s.scr = scr_;
    s.dll = dll_;
    s.dlm = dlm_;
    s.fifoEnabled = fifoEnabled();
    s.rxTriggerLevel = rxTriggerLevel();
    s.rxCount = rx_.size();
    {
        std::lock_guard lock(hostMutex_);
        s.hostQueued = hostQueue_.size();
    }
    s.thrInterruptPending = thrInterrupt_;
    s.irqLevel = irqLevel_;
    return s;
}

}  // namespace hvlab::devices
