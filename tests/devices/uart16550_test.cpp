// The 16550 UART as a guest driver sees it: registers, receive FIFO, interrupts, loopback.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "devices/uart16550.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::uart;

namespace {

constexpr uint16_t kBase = 0x3F8;

struct UartFixture {
    LatchedIrqLine irq;
    std::string out;
    Uart16550 uart{kBase, &irq, [this](uint8_t b) { out.push_back(static_cast<char>(b)); }};

    uint8_t rd(uint16_t reg) { return static_cast<uint8_t>(uart.ioRead(kBase + reg, 1)); }
    void wr(uint16_t reg, uint8_t v) { uart.ioWrite(kBase + reg, 1, v); }

    // FIFO mode with the given trigger-level code (FCR bits 6-7), both FIFOs reset.
    void enableFifo(uint8_t triggerCode) {
        wr(kIirFcr, static_cast<uint8_t>(kFcrEnable | kFcrRxReset | kFcrTxReset | (triggerCode << 6)));
    }
    std::string drain() {
        std::string s;
        while (rd(kLsr) & kLsrDataReady) s.push_back(static_cast<char>(rd(kRbrThr)));
        return s;
    }
};

}  // namespace

TEST_CASE_METHOD(UartFixture, "UART reset state", "[uart]") {
    CHECK(uart.name() == "uart16550@0x3f8");
    CHECK(rd(kIer) == 0);
    CHECK(rd(kIirFcr) == kIirNoInterrupt);
    CHECK(rd(kLcr) == 0);
    CHECK(rd(kMcr) == 0);
    CHECK(rd(kLsr) == (kLsrThrEmpty | kLsrTxEmpty));
    CHECK(rd(kMsr) == (kMsrCts | kMsrDsr | kMsrDcd));  // a connected terminal, no deltas
    CHECK_FALSE(irq.level());
    CHECK(irq.transitions() == 0);
}

TEST_CASE_METHOD(UartFixture, "DLAB switches offsets 0 and 1 to the divisor latch", "[uart]") {
    wr(kIer, 0x05);
    wr(kLcr, kLcrDlab | 0x03);
    wr(kRbrThr, 0x01);  // DLL: 115200 baud, must not transmit
    wr(kIer, 0x02);     // DLM: must not touch IER
    CHECK(rd(kRbrThr) == 0x01);
    CHECK(rd(kIer) == 0x02);
    CHECK(out.empty());
    CHECK(uart.state().dll == 0x01);
    CHECK(uart.state().dlm == 0x02);
    CHECK(uart.state().ier == 0x05);

    wr(kLcr, 0x03);
    CHECK(rd(kIer) == 0x05);
    wr(kRbrThr, 'A');  // THR again
    CHECK(out == "A");
    // The latch survives and reappears when DLAB is set again.
    wr(kLcr, kLcrDlab);
    CHECK(rd(kRbrThr) == 0x01);
    CHECK(rd(kIer) == 0x02);
    // IIR/FCR, LCR, SCR are not affected by DLAB.
    CHECK(rd(kIirFcr) == kIirNoInterrupt);
}

TEST_CASE_METHOD(UartFixture, "LCR and SCR round-trip; IER and MCR keep only their defined bits", "[uart]") {
    for (unsigned v = 0; v < 256; ++v) {
        wr(kScr, static_cast<uint8_t>(v));
        REQUIRE(rd(kScr) == v);
        wr(kLcr, static_cast<uint8_t>(v));
        REQUIRE(rd(kLcr) == v);
    }
    wr(kLcr, 0x03);
    wr(kIer, 0xFF);
    CHECK(rd(kIer) == 0x0F);
    wr(kMcr, 0xEF);
    CHECK(rd(kMcr) == 0x0F);
    // LSR and MSR ignore writes.
    wr(kMcr, 0);
    wr(kLsr, 0xFF);
    wr(kMsr, 0x00);
    CHECK(rd(kLsr) == (kLsrThrEmpty | kLsrTxEmpty));
    CHECK(rd(kMsr) == (kMsrCts | kMsrDsr | kMsrDcd));
}

TEST_CASE_METHOD(UartFixture, "THR writes reach the sink in order; the transmitter stays empty", "[uart]") {
    for (char c : std::string("hello\n\x00\xff", 8)) {
        wr(kRbrThr, static_cast<uint8_t>(c));
        CHECK((rd(kLsr) & (kLsrThrEmpty | kLsrTxEmpty)) == (kLsrThrEmpty | kLsrTxEmpty));
    }
    CHECK(out == std::string("hello\n\x00\xff", 8));
    // Word length does not alter bytes: an uninitialised UART (LCR = 0, 5 bits) still prints.
    CHECK(rd(kLcr) == 0);
}

TEST_CASE("UART works without a sink and without an IRQ line", "[uart]") {
    Uart16550 uart(0x2F8, nullptr, {});
    CHECK(uart.name() == "uart16550@0x2f8");
    uart.ioWrite(0x2F8 + kMcr, 1, kMcrOut2);
    uart.ioWrite(0x2F8 + kIer, 1, 0x0F);
    uart.ioWrite(0x2F8, 1, 'x');
    uart.queueInput('y');
    uart.pollInput();
    CHECK(uart.ioRead(0x2F8, 1) == 'y');
    CHECK(uart.state().irqLevel);  // THRE still pending; the level is tracked with no line attached
}

TEST_CASE_METHOD(UartFixture, "16450 mode: a one-byte holding register, host input waits for room", "[uart]") {
    uart.queueInput(std::string_view("abc"));
    uart.pollInput();
    CHECK(uart.state().rxCount == 1);
    CHECK(uart.state().hostQueued == 2);
    CHECK((rd(kLsr) & kLsrDataReady));
    CHECK(rd(kRbrThr) == 'a');
    // Input is never overrun by the host: the rest arrives as room appears.
    CHECK(drain() == "bc");
    CHECK_FALSE(rd(kLsr) & kLsrOverrun);
    CHECK_FALSE(rd(kLsr) & kLsrDataReady);
    // An empty receiver buffer still reads its last character.
    CHECK(rd(kRbrThr) == 'c');
}

TEST_CASE_METHOD(UartFixture, "FIFO mode: 16 bytes deep, first in first out, nothing dropped", "[uart]") {
    enableFifo(0);
    CHECK((rd(kIirFcr) & 0xC0) == kIirFifosEnabled);
    std::string input;
    for (int i = 0; i < 40; ++i) input.push_back(static_cast<char>('A' + i));
    uart.queueInput(input);
    uart.pollInput();
    CHECK(uart.state().rxCount == 16);
    CHECK(uart.state().hostQueued == 24);
    CHECK(drain() == input);
    CHECK_FALSE(rd(kLsr) & kLsrOverrun);
}

TEST_CASE_METHOD(UartFixture, "Receive trigger levels 1/4/8/14", "[uart]") {
    const auto [code, level] = GENERATE(table<uint8_t, unsigned>({{0, 1}, {1, 4}, {2, 8}, {3, 14}}));
    CAPTURE(level);
    enableFifo(code);
    wr(kIer, kIerRxData);
    wr(kMcr, kMcrOut2);
    CHECK(uart.state().rxTriggerLevel == level);

    for (unsigned i = 0; i + 1 < level; ++i) uart.queueInput('x');
    uart.pollInput();
    // Below the trigger and data just arrived: no interrupt yet.
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirNoInterrupt));
    CHECK_FALSE(irq.level());

    uart.queueInput('y');
    uart.pollInput();
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirRxData));
    CHECK(irq.level());
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirRxData));  // reading IIR does not clear it

    // Reading one byte drops below the trigger: data-available clears (timeout may follow).
    rd(kRbrThr);
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirNoInterrupt));
    CHECK_FALSE(irq.level());
}

TEST_CASE_METHOD(UartFixture, "Character timeout approximation in FIFO mode", "[uart]") {
    enableFifo(3);  // trigger 14
    wr(kIer, kIerRxData);
    wr(kMcr, kMcrOut2);
    uart.queueInput(std::string_view("hi!"));
    uart.pollInput();  // the bytes arrive: the timeout count restarts
    CHECK_FALSE(irq.level());
    uart.pollInput();  // nothing new since: the FIFO times out
    CHECK(irq.level());
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirTimeout));

    // A CPU read of RBR clears the timeout; it comes back if data is left and all stays quiet.
    CHECK(rd(kRbrThr) == 'h');
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirNoInterrupt));
    CHECK_FALSE(irq.level());
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirTimeout));  // the access itself is a quiet poll
    CHECK(irq.level());

    // New data also restarts the count.
    uart.queueInput('?');
    uart.pollInput();
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirNoInterrupt));
    CHECK(drain() == "i!?");
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirNoInterrupt));  // empty FIFO: no timeout
    CHECK_FALSE(irq.level());

    // Timeout needs IER0 like data-available.
    wr(kIer, 0);
    uart.queueInput('z');
    uart.pollInput();
    uart.pollInput();
    CHECK(uart.state().iir == (kIirFifosEnabled | kIirNoInterrupt));
}

TEST_CASE_METHOD(UartFixture, "No character timeout in 16450 mode: one byte is data-available", "[uart]") {
    wr(kIer, kIerRxData);
    uart.queueInput('q');
    uart.pollInput();
    uart.pollInput();
    CHECK(rd(kIirFcr) == kIirRxData);
}

TEST_CASE_METHOD(UartFixture, "FCR: FIFO resets, mode changes and unprogrammed bits", "[uart]") {
    enableFifo(0);
    uart.queueInput(std::string_view("12345"));
    uart.pollInput();
    REQUIRE(uart.state().rxCount == 5);

    SECTION("TX FIFO reset leaves received data alone") {
        wr(kIirFcr, kFcrEnable | kFcrTxReset);
        CHECK(uart.state().rxCount == 5);
        CHECK(drain() == "12345");
    }
    SECTION("RX FIFO reset empties the receiver and clears DR") {
        wr(kIirFcr, kFcrEnable | kFcrRxReset);
        CHECK(uart.state().rxCount == 0);
        CHECK_FALSE(rd(kLsr) & kLsrDataReady);
        // Host input not yet received is not lost: it was never on the line.
        uart.queueInput('6');
        CHECK(drain() == "6");
    }
    SECTION("Leaving FIFO mode empties the FIFO; other bits are ignored while FCR0 = 0") {
        wr(kIirFcr, 0xC0);  // trigger 14, but FCR0 = 0: only disables
        CHECK_FALSE(uart.state().fifoEnabled);
        CHECK(uart.state().rxCount == 0);
        CHECK(uart.state().rxTriggerLevel == 1);
        CHECK((rd(kIirFcr) & 0xC0) == 0);
    }
    SECTION("Entering FIFO mode empties the 16450 holding register") {
        wr(kIirFcr, 0);
        uart.queueInput('h');
        uart.pollInput();
        REQUIRE(uart.state().rxCount == 1);
        wr(kIirFcr, kFcrEnable);
        CHECK(uart.state().rxCount == 0);
    }
    SECTION("Rewriting FCR with the same mode and no reset bits keeps data") {
        wr(kIirFcr, kFcrEnable | 0x40);
        CHECK(uart.state().rxCount == 5);
        CHECK(uart.state().rxTriggerLevel == 4);
    }
}

TEST_CASE_METHOD(UartFixture, "Overrun in 16450 mode: the new character wins, OE clears on LSR read", "[uart]") {
    wr(kMcr, kMcrLoop);
    wr(kRbrThr, 'x');
    wr(kRbrThr, 'y');
    CHECK(rd(kLsr) == (kLsrDataReady | kLsrOverrun | kLsrThrEmpty | kLsrTxEmpty));
    CHECK(rd(kLsr) == (kLsrDataReady | kLsrThrEmpty | kLsrTxEmpty));
    CHECK(rd(kRbrThr) == 'y');
    CHECK(out.empty());  // loopback: nothing reaches the sink
}

TEST_CASE_METHOD(UartFixture, "Overrun in FIFO mode: the FIFO keeps its 16 bytes, the 17th is lost", "[uart]") {
    enableFifo(0);
    wr(kMcr, kMcrLoop);
    wr(kIer, kIerRxData | kIerLineStatus);
    std::string sent;
    for (int i = 0; i < 17; ++i) {
        sent.push_back(static_cast<char>('a' + i));
        wr(kRbrThr, static_cast<uint8_t>(sent.back()));
    }
    CHECK(uart.state().rxCount == 16);
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirLineStatus));  // line status beats data
    CHECK((rd(kLsr) & kLsrOverrun));
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirRxData));
    CHECK(drain() == sent.substr(0, 16));
}

TEST_CASE_METHOD(UartFixture, "IIR reports sources by priority and each clears by its own rule", "[uart]") {
    enableFifo(0);
    wr(kMcr, kMcrLoop);  // modem inputs drop to 0: CTS, DSR and DCD deltas
    for (int i = 0; i < 17; ++i) wr(kRbrThr, 'o');  // data available, overrun, THRE re-armed
    wr(kIer, 0x0F);

    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirLineStatus));
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirLineStatus));  // IIR reads do not clear it...
    rd(kLsr);                                                    // ...an LSR read does
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirRxData));
    CHECK(drain().size() == 16);  // reading the data clears data-available
    // THRE was pending all along, hidden behind higher priorities and not cleared by those reads.
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirThrEmpty));
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirModemStatus));  // reading IIR cleared THRE
    CHECK(rd(kMsr) == (kMsrDeltaCts | kMsrDeltaDsr | kMsrDeltaDcd));
    CHECK(rd(kIirFcr) == (kIirFifosEnabled | kIirNoInterrupt));  // reading MSR cleared it
    CHECK(rd(kMsr) == 0);
}

TEST_CASE_METHOD(UartFixture, "THRE interrupt: raised on enable, cleared by IIR read or THR write", "[uart]") {
    wr(kMcr, kMcrOut2);
    wr(kIer, kIerThrEmpty);
    CHECK(irq.level());
    CHECK(rd(kIirFcr) == kIirThrEmpty);
    CHECK_FALSE(irq.level());
    CHECK(rd(kIirFcr) == kIirNoInterrupt);

    // A THR write re-arms it at once (the byte is sent immediately).
    const uint64_t before = irq.transitions();
    wr(kRbrThr, '!');
    CHECK(irq.level());
    CHECK(irq.transitions() == before + 1);

    // While it is pending, a THR write pulses the line: low (THR full), high (sent). An
    // edge-triggered PIC sees a new rising edge for every byte.
    const uint64_t pending = irq.transitions();
    wr(kRbrThr, '?');
    CHECK(irq.level());
    CHECK(irq.transitions() == pending + 2);
    CHECK(out == "!?");

    // Toggling IER1 off and on raises it again even after an IIR read cleared it.
    CHECK(rd(kIirFcr) == kIirThrEmpty);
    wr(kIer, 0);
    wr(kIer, kIerThrEmpty);
    CHECK(rd(kIirFcr) == kIirThrEmpty);
    // Rewriting IER with THRE already enabled does not.
    wr(kIer, kIerThrEmpty);
    CHECK(rd(kIirFcr) == kIirNoInterrupt);
}

TEST_CASE_METHOD(UartFixture, "IER masks each source", "[uart]") {
    wr(kMcr, kMcrOut2);
    uart.queueInput('d');
    uart.pollInput();
    CHECK(rd(kIirFcr) == kIirNoInterrupt);
    CHECK_FALSE(irq.level());
    wr(kIer, kIerThrEmpty | kIerLineStatus | kIerModemStatus);
    CHECK(rd(kIirFcr) == kIirThrEmpty);  // data is there but masked
    CHECK(rd(kIirFcr) == kIirNoInterrupt);
    wr(kIer, kIerRxData);
    CHECK(rd(kIirFcr) == kIirRxData);
    CHECK(irq.level());
    wr(kIer, 0);
    CHECK_FALSE(irq.level());
    CHECK(rd(kRbrThr) == 'd');
}

TEST_CASE_METHOD(UartFixture, "The IRQ line follows pending interrupts only while OUT2 is set", "[uart]") {
    wr(kIer, kIerRxData);
    uart.queueInput('k');
    uart.pollInput();
    CHECK(uart.state().iir == kIirRxData);
    CHECK_FALSE(irq.level());  // OUT2 clear: the PC's IRQ buffer is off
    wr(kMcr, kMcrOut2 | kMcrDtr | kMcrRts);
    CHECK(irq.level());
    CHECK(uart.state().irqLevel);
    wr(kMcr, kMcrDtr | kMcrRts);
    CHECK_FALSE(irq.level());
    wr(kMcr, kMcrOut2);
    CHECK(irq.level());
    rd(kRbrThr);  // source gone
    CHECK_FALSE(irq.level());
    // Loopback forces the modem output pins inactive, OUT2 included: no IRQ reaches the PIC.
    wr(kMcr, kMcrLoop | kMcrOut2);
    wr(kRbrThr, 'L');
    CHECK(uart.state().iir == kIirRxData);
    CHECK_FALSE(irq.level());
    wr(kMcr, kMcrOut2);
    CHECK(irq.level());
}

TEST_CASE_METHOD(UartFixture, "Loopback: TX feeds RX and modem outputs drive the modem inputs", "[uart]") {
    wr(kMcr, kMcrLoop);
    uart.queueInput('h');  // host input must wait: SIN is disconnected in loopback
    wr(kRbrThr, 'l');
    CHECK(out.empty());
    CHECK(drain() == "l");
    CHECK(uart.state().hostQueued == 1);

    rd(kMsr);  // drop the deltas from entering loopback
    const auto [mcrBit, msrBit] = GENERATE(table<uint8_t, uint8_t>(
        {{kMcrDtr, kMsrDsr}, {kMcrRts, kMsrCts}, {kMcrOut1, kMsrRi}, {kMcrOut2, kMsrDcd}}));
    wr(kMcr, kMcrLoop | mcrBit);
    CHECK((rd(kMsr) & 0xF0) == msrBit);
    // Linux's 8250 probe: loopback with OUT2|RTS must read back DCD|CTS.
    wr(kMcr, kMcrLoop | kMcrOut2 | kMcrRts);
    CHECK((rd(kMsr) & 0xF0) == (kMsrDcd | kMsrCts));

    wr(kMcr, 0);
    CHECK((rd(kMsr) & 0xF0) == (kMsrCts | kMsrDsr | kMsrDcd));
    CHECK(drain() == "h");  // host input flows again
}

TEST_CASE_METHOD(UartFixture, "Loopback modem deltas and the modem status interrupt", "[uart]") {
    wr(kMcr, kMcrLoop | kMcrRts | kMcrDtr | kMcrOut2);  // CTS, DSR, DCD stay active: no delta
    CHECK(rd(kMsr) == (kMsrCts | kMsrDsr | kMsrDcd));
    wr(kIer, kIerModemStatus);
    wr(kMcr, kMcrLoop | kMcrDtr | kMcrOut2);  // RTS off: CTS falls
    CHECK(rd(kIirFcr) == kIirModemStatus);
    CHECK(rd(kMsr) == (kMsrDsr | kMsrDcd | kMsrDeltaCts));
    CHECK(rd(kIirFcr) == kIirNoInterrupt);

    // TERI is set on the trailing edge of ring (RI 1 -> 0) only.
    wr(kMcr, kMcrLoop | kMcrDtr | kMcrOut2 | kMcrOut1);
    CHECK((rd(kMsr) & 0x0F) == 0);
    wr(kMcr, kMcrLoop | kMcrDtr | kMcrOut2);
    CHECK((rd(kMsr) & 0x0F) == kMsrTrailingRi);
}

TEST_CASE_METHOD(UartFixture, "Wide accesses touch only the register of their first port", "[uart]") {
    CHECK(uart.ioRead(kBase + kLsr, 2) == 0xFF60u);
    CHECK(uart.ioRead(kBase + kLsr, 4) == 0xFFFFFF60u);
    uart.ioWrite(kBase + kScr, 4, 0x12345634u);
    CHECK(rd(kScr) == 0x34);
    uart.ioWrite(kBase + kLcr, 2, 0x0383u);  // LCR = 0x83; MCR (next port) untouched
    CHECK(rd(kLcr) == 0x83);
    CHECK(rd(kMcr) == 0);
    uart.ioWrite(kBase + kRbrThr, 2, 0x4142u);  // THR gets 0x42 only
    wr(kLcr, 0x03);
    uart.ioWrite(kBase + kRbrThr, 2, 0x4142u);
    CHECK(out == "B");
}

TEST_CASE_METHOD(UartFixture, "Host input queued from another thread arrives complete and in order", "[uart]") {
    enableFifo(2);
    std::string expected;
    for (int i = 0; i < 5000; ++i) expected.push_back(static_cast<char>(i * 7 + i / 256));

    std::thread producer([&] {
        for (std::size_t i = 0; i < expected.size();) {
            if (i % 3 == 0) {
                uart.queueInput(static_cast<uint8_t>(expected[i]));
                ++i;
            } else {
                const std::size_t n = std::min<std::size_t>(37, expected.size() - i);
                uart.queueInput(std::string_view(expected).substr(i, n));
                i += n;
            }
            if (i % 500 == 0) std::this_thread::yield();
        }
    });

    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
        if (rd(kLsr) & kLsrDataReady) got.push_back(static_cast<char>(rd(kRbrThr)));
    }
    producer.join();
    CHECK(got == expected);
    CHECK_FALSE(rd(kLsr) & kLsrOverrun);
}

TEST_CASE("A guest writing garbage never breaks the UART's invariants", "[uart]") {
    LatchedIrqLine irq;
    std::size_t sent = 0;
    Uart16550 uart(kBase, &irq, [&](uint8_t) { ++sent; });
    std::mt19937 rng(1234);
    const unsigned sizes[] = {0, 1, 2, 3, 4, 8};
    for (int i = 0; i < 200000; ++i) {
        const auto port = static_cast<uint16_t>(kBase + rng() % 8);
        const unsigned size = sizes[rng() % 6];
        if (rng() % 2) {
            uart.ioWrite(port, size, static_cast<uint32_t>(rng()));
        } else {
            const uint32_t v = uart.ioRead(port, size);
            if (size == 1) REQUIRE(v <= 0xFF);
        }
        if (i % 97 == 0) uart.queueInput(std::string_view("garbage"));
        if (i % 13 == 0) uart.pollInput();
        const UartState s = uart.state();
        REQUIRE(s.rxCount <= Uart16550::kFifoDepth);
        REQUIRE((s.iir & 0x30) == 0);
        REQUIRE((s.lsr & (kLsrThrEmpty | kLsrTxEmpty)) == (kLsrThrEmpty | kLsrTxEmpty));
        REQUIRE(s.ier <= 0x0F);
        REQUIRE(s.mcr <= 0x1F);
        REQUIRE(s.irqLevel == irq.level());
    }
    CHECK(sent > 0);
}
