#include "devices/i440fx.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace i440fx;

namespace {

constexpr uint8_t kPam0Writable = 0x30;  // PAM0 only controls F0000-FFFFF (bits 5:4)
constexpr uint8_t kPamWritable = 0x33;   // PAM1-6: two segments, RE/WE each
constexpr uint8_t kSmramWritable = kSmramDOpen | kSmramDCls | kSmramDLck | kSmramGSmramE;

// PIIX3 function 0 reset values beyond the header (82371SB datasheet, register summary).
struct ResetValue {
    uint8_t offset;
    uint8_t value;
};
constexpr ResetValue kPiix3Defaults[] = {
    {0x4C, 0x4D},  // IORT: ISA I/O recovery timer
    {0x4E, 0x03},  // XBCS: X-bus chip select (RTC, keyboard controller decode)
    {0x60, kPirqDisable}, {0x61, kPirqDisable}, {0x62, kPirqDisable}, {0x63, kPirqDisable},
    {0x69, 0x02},  // TOM: top of memory
    {0x70, 0x80},  // MBIRQ0: motherboard IRQ route disabled
    {0x76, 0x0C},  // MBDMA0
    {0x77, 0x0C},  // MBDMA1
    {0x78, 0x02},  // PCSC: programmable chip select
    {0xA0, 0x08},  // SMICNTL
    {0xA8, 0x0F},  // FTMR: fast-off timer
};

// Little-endian read of stored config bytes, clipped at the end of config space.
uint32_t readBytes(const std::array<uint8_t, 256>& config, uint8_t offset, unsigned size) {
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 256; ++i) v |= static_cast<uint32_t>(config[offset + i]) << (8 * i);
    return v;
}

// IRQs a PIRQ may be steered to (82371SB: 0-2, 8 and 13 are reserved encodings).
bool routableIrq(int irq) { return irq >= 3 && irq <= 15 && irq != 8 && irq != 13; }

}  // namespace

// ---- 82441FX host bridge ---------------------------------------------------------------------

I440fxHostBridge::I440fxHostBridge() : PciFunction(kVendorIntel, kHostBridgeId, 0x06, 0x00, 0x00, 0x02) {
    write16(pci::kCommand, pci::kCommandMemory | pci::kCommandBusMaster);
    write16(pci::kStatus, 0x0280);  // fast back-to-back capable, medium DEVSEL timing
    config_[kSmram] = kSmramBaseSeg;
}

uint8_t I440fxHostBridge::pam(int index) const {
    return index >= 0 && index < kPamCount ? config_[static_cast<size_t>(kPam0 + index)] : 0;
}

uint32_t I440fxHostBridge::extendedConfigRead(uint8_t offset, unsigned size) const {
    return readBytes(config_, offset, size);  // only PAM and SMRAM are ever non-zero
}

void I440fxHostBridge::extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) {
    for (unsigned i = 0; i < size && offset + i < 256; ++i)
        writeRegister(static_cast<uint8_t>(offset + i), static_cast<uint8_t>(value >> (8 * i)));
}

void I440fxHostBridge::writeRegister(uint8_t offset, uint8_t value) {
    uint8_t& reg = config_[offset];
    const uint8_t old = reg;
    if (offset >= kPam0 && offset < kPam0 + kPamCount) {
        reg = value & (offset == kPam0 ? kPam0Writable : kPamWritable);
    } else if (offset == kSmram) {
        if (old & kSmramDLck) {
            // Locked: only D_CLS can still change until the next reset.
            reg = static_cast<uint8_t>((old & ~kSmramDCls) | (value & kSmramDCls));
        } else {
            reg = static_cast<uint8_t>((value & kSmramWritable) | kSmramBaseSeg);
            if (reg & kSmramDLck) reg &= static_cast<uint8_t>(~kSmramDOpen);  // locking closes SMRAM
        }
    } else {
        return;  // everything else reads 0 and ignores writes
    }
    if (reg != old && pamChanged_) pamChanged_(offset, reg);
}

// ---- PIIX3 PCI-to-ISA bridge -----------------------------------------------------------------

Piix3IsaBridge::Piix3IsaBridge() : PciFunction(kVendorIntel, kPiix3IsaId, 0x06, 0x01, 0x00, 0x00) {
    config_[pci::kHeaderType] = 0x80;  // multi-function device
    write16(pci::kCommand, pci::kCommandIo | pci::kCommandMemory | pci::kCommandBusMaster);
    write16(pci::kStatus, 0x0200);  // medium DEVSEL timing
    for (const ResetValue& r : kPiix3Defaults) config_[r.offset] = r.value;
}

int Piix3IsaBridge::pirqToIsaIrq(int pirq) const {
    if (pirq < 0 || pirq >= kPirqCount) return -1;
    const uint8_t route = config_[static_cast<size_t>(kPirqRouteA + pirq)];
    if (route & kPirqDisable) return -1;
    const int irq = route & kPirqIrqMask;
    return routableIrq(irq) ? irq : -1;
}

uint32_t Piix3IsaBridge::extendedConfigRead(uint8_t offset, unsigned size) const {
    return readBytes(config_, offset, size);
}

void Piix3IsaBridge::extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) {
    bool routingChanged = false;
    for (unsigned i = 0; i < size && offset + i < 256; ++i) {
        const auto reg = static_cast<uint8_t>(offset + i);
        auto byte = static_cast<uint8_t>(value >> (8 * i));
        if (reg >= kPirqRouteA && reg < kPirqRouteA + kPirqCount) {
            byte &= kPirqDisable | kPirqIrqMask;  // bits 6:4 are reserved
            routingChanged |= config_[reg] != byte;
        }
        config_[reg] = byte;
    }
    if (routingChanged) {
        spdlog::debug("piix3: PIRQ routes A-D = {:#04x} {:#04x} {:#04x} {:#04x}", config_[0x60], config_[0x61],
                      config_[0x62], config_[0x63]);
        if (routingChanged_) routingChanged_();
    }
}

// ---- PIRQ router -----------------------------------------------------------------------------

// One PCI function's INTx pin as the router sees it.
class PciIrqRouter::Source final : public IrqLine {
public:
    Source(PciIrqRouter& router, int pirq) : router_(router), pirq_(pirq) {}
    void setLevel(bool asserted) override {
        if (asserted == level_) return;
        level_ = asserted;
        router_.update();
    }
    int pirq() const { return pirq_; }
    bool level() const { return level_; }

private:
    PciIrqRouter& router_;
    const int pirq_;
    bool level_ = false;
};

PciIrqRouter::PciIrqRouter(Piix3IsaBridge& bridge, std::array<IrqLine*, 16> isaIrqs)
    : bridge_(bridge), isa_(isaIrqs) {
    bridge_.onPirqRoutingChanged([this] { update(); });
}

PciIrqRouter::~PciIrqRouter() { bridge_.onPirqRoutingChanged(nullptr); }

IrqLine& PciIrqRouter::addSource(int device, int pin) {
    if (pin < 1 || pin > 4) throw std::invalid_argument("PCI interrupt pin must be 1 (INTA#) to 4 (INTD#)");
    sources_.push_back(std::make_unique<Source>(*this, pirqFor(device, pin)));
    return *sources_.back();
}

void PciIrqRouter::connect(PciFunction& fn, int device) {
    const auto pin = static_cast<int>(fn.configRead(pci::kInterruptPin, 1));
    if (pin >= 1 && pin <= 4) fn.connectIrq(&addSource(device, pin));
}

bool PciIrqRouter::pirqLevel(int pirq) const {
    for (const auto& s : sources_)
        if (s->pirq() == pirq && s->level()) return true;
    return false;
}

void PciIrqRouter::update() {
    std::array<bool, 16> wanted{};
    for (int pirq = 0; pirq < kPirqCount; ++pirq) {
        const int irq = bridge_.pirqToIsaIrq(pirq);
        if (irq >= 0 && pirqLevel(pirq)) wanted[static_cast<size_t>(irq)] = true;
    }
    for (size_t irq = 0; irq < wanted.size(); ++irq) {
        if (wanted[irq] == driven_[irq]) continue;
        driven_[irq] = wanted[irq];
        if (isa_[irq]) isa_[irq]->setLevel(wanted[irq]);
    }
}

}  // namespace hvlab::devices
