// A National Semiconductor PC16550D UART wired as a PC COM port (e.g. COM1 at 0x3F8, IRQ 4).
//
// What is modelled, following the PC16550D datasheet:
//  - all registers: RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, and DLL/DLM under LCR.DLAB;
//  - the receive path: 1-byte holding register (16450 mode) or 16-byte FIFO (FCR0), FIFO resets,
//    trigger levels, overrun (LSR.OE), data ready (LSR.DR);
//  - the interrupt logic: IIR priorities, IER masking, the clearing rules of every source;
//  - the modem control/status pins and loopback (diagnostic) mode, including MSR delta bits;
//  - the PC board wiring: INTR reaches the IRQ line only through the OUT2 pin.
//
// Simplifications (an ideal line to a host terminal, not a wire):
//  - Transmission is instantaneous: a THR write hands the byte to the sink at once, so LSR.THRE and
//    LSR.TEMT always read 1. The THRE interrupt is still modelled: a THR write clears it and it
//    re-arms immediately, so the IRQ line drops and rises again (a fresh edge for an edge-triggered PIC).
//  - Baud rate, word length, parity, stop bits and break are stored but do not alter the bytes:
//    every byte goes through as 8 bits, and parity/framing/break errors never occur.
//  - Character timeout is not timed (see pollInput()).
//  - Host input is never lost: bytes wait in a host-side queue until the receiver has room.
//
// Threading: queueInput() may be called from any thread. Everything else (port accesses,
// pollInput(), state()) belongs to the one thread that runs the guest, or to a paused VM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "devices/bus.hpp"

namespace hvlab::devices {

// Register offsets and bits, for the device itself, its tests and the debugger.
namespace uart {
inline constexpr uint16_t kRbrThr = 0;  // DLL when LCR.DLAB = 1
inline constexpr uint16_t kIer = 1;     // DLM when LCR.DLAB = 1
inline constexpr uint16_t kIirFcr = 2;
inline constexpr uint16_t kLcr = 3;
inline constexpr uint16_t kMcr = 4;
inline constexpr uint16_t kLsr = 5;
inline constexpr uint16_t kMsr = 6;
inline constexpr uint16_t kScr = 7;

inline constexpr uint8_t kIerRxData = 0x01;      // received data available (and character timeout)
inline constexpr uint8_t kIerThrEmpty = 0x02;
inline constexpr uint8_t kIerLineStatus = 0x04;
inline constexpr uint8_t kIerModemStatus = 0x08;

inline constexpr uint8_t kIirNoInterrupt = 0x01;  // bit 0 is active-low "interrupt pending"
inline constexpr uint8_t kIirLineStatus = 0x06;
inline constexpr uint8_t kIirRxData = 0x04;
inline constexpr uint8_t kIirTimeout = 0x0C;
inline constexpr uint8_t kIirThrEmpty = 0x02;
inline constexpr uint8_t kIirModemStatus = 0x00;
inline constexpr uint8_t kIirFifosEnabled = 0xC0;

inline constexpr uint8_t kFcrEnable = 0x01;
inline constexpr uint8_t kFcrRxReset = 0x02;
inline constexpr uint8_t kFcrTxReset = 0x04;

inline constexpr uint8_t kLcrDlab = 0x80;

inline constexpr uint8_t kMcrDtr = 0x01;
inline constexpr uint8_t kMcrRts = 0x02;
inline constexpr uint8_t kMcrOut1 = 0x04;
inline constexpr uint8_t kMcrOut2 = 0x08;
inline constexpr uint8_t kMcrLoop = 0x10;

inline constexpr uint8_t kLsrDataReady = 0x01;
inline constexpr uint8_t kLsrOverrun = 0x02;
inline constexpr uint8_t kLsrThrEmpty = 0x20;
inline constexpr uint8_t kLsrTxEmpty = 0x40;

inline constexpr uint8_t kMsrDeltaCts = 0x01;
inline constexpr uint8_t kMsrDeltaDsr = 0x02;
inline constexpr uint8_t kMsrTrailingRi = 0x04;
inline constexpr uint8_t kMsrDeltaDcd = 0x08;
inline constexpr uint8_t kMsrCts = 0x10;
inline constexpr uint8_t kMsrDsr = 0x20;
inline constexpr uint8_t kMsrRi = 0x40;
inline constexpr uint8_t kMsrDcd = 0x80;
}  // namespace uart

// A side-effect-free snapshot for the debugger. `iir` and `lsr` are what a guest read would
// return, without the read's side effects (clearing THRE, OE).
struct UartState {
    uint16_t base = 0;
    uint8_t ier = 0;
    uint8_t iir = 0;
    uint8_t fcr = 0;  // last programmed FCR value (write-only on the chip)
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t lsr = 0;
    uint8_t msr = 0;
    uint8_t scr = 0;
    uint8_t dll = 0;
    uint8_t dlm = 0;
    bool fifoEnabled = false;
    unsigned rxTriggerLevel = 1;
    std::size_t rxCount = 0;      // bytes in the receive FIFO / holding register
    std::size_t hostQueued = 0;   // host input not yet received (waiting for room)
    bool thrInterruptPending = false;
    bool irqLevel = false;        // what the device drives on its IRQ line
};

class Uart16550 final : public PortDevice {
public:
    using TransmitSink = std::function<void(uint8_t)>;
    static constexpr uint32_t kPortCount = 8;
    static constexpr std::size_t kFifoDepth = 16;

    // `irq` may be nullptr (no interrupt wired); `sink` may be empty (output discarded).
    Uart16550(uint16_t base, IrqLine* irq, TransmitSink sink);

    // Only byte accesses are meaningful. A 2- or 4-byte access touches just the register of its
    // first port: a write uses the low byte of the value, a read returns that register in the
    // low byte with the upper bytes all-ones (undriven data lines).
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override;  // "uart16550@0x3f8"

    // Host-side input (e.g. from a stdin thread). Thread-safe; never drops bytes.
    void queueInput(uint8_t byte);
    void queueInput(std::string_view bytes);

    // Moves queued host input into the receiver while it has room, then updates the IRQ line.
    // Every guest access does this first, too. It is also the clock of the character-timeout
    // approximation: a poll that receives nothing counts as "4 character times of silence", so
    // data left in the FIFO below the trigger level raises the timeout interrupt (IIR 0xCC) once
    // a poll found no new data since the last received byte or the last guest RBR read.
    void pollInput();

    UartState state() const;
    uint16_t base() const { return base_; }

private:
    uint8_t readRegister(uint16_t offset);
    void writeRegister(uint16_t offset, uint8_t value);
    uint8_t readRbr();
    uint8_t readIir();
    void writeThr(uint8_t value);
    void writeIer(uint8_t value);
    void writeFcr(uint8_t value);
    void writeMcr(uint8_t value);

    bool fifoEnabled() const { return fcr_ & uart::kFcrEnable; }
    bool loopback() const { return mcr_ & uart::kMcrLoop; }
    std::size_t rxCapacity() const { return fifoEnabled() ? kFifoDepth : 1; }
    unsigned rxTriggerLevel() const;
    uint8_t lineStatus() const;
    uint8_t pendingInterrupt() const;  // an IIR id (bits 0-3), kIirNoInterrupt if none
    uint8_t modemInputsNow() const;

    void receive(uint8_t byte);        // a character arriving at the receiver
    bool transferHostInput();          // true if any byte was received
    void pollAndTick();
    void sampleModemInputs();
    void updateIrq();

    const uint16_t base_;
    IrqLine* const irq_;
    const TransmitSink sink_;

    // Registers, in their reset state. The divisor is undefined after reset; 12 is 9600 baud.
    uint8_t ier_ = 0;
    uint8_t fcr_ = 0;
    uint8_t lcr_ = 0;
    uint8_t mcr_ = 0;
    uint8_t scr_ = 0;
    uint8_t dll_ = 12;
    uint8_t dlm_ = 0;
    uint8_t lsrErrors_ = 0;       // LSR bits 1-4; only OE can happen on an ideal line
    uint8_t modemInputs_ = 0;     // MSR bits 4-7 as last sampled
    uint8_t msrDeltas_ = 0;       // MSR bits 0-3
    bool thrInterrupt_ = false;   // the THRE interrupt latch
    bool rxQuiet_ = false;        // character-timeout approximation, see pollInput()
    uint8_t lastRx_ = 0;          // RBR keeps the last character once the FIFO is empty
    std::deque<uint8_t> rx_;      // receive FIFO (capacity 16) or holding register (capacity 1)
    bool irqLevel_ = false;

    mutable std::mutex hostMutex_;
    std::deque<uint8_t> hostQueue_;
};

}  // namespace hvlab::devices
