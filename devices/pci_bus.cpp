#include "devices/pci_bus.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace hvlab::devices {

using namespace pci_config;

namespace {

uint32_t widthMask(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1; }

bool validSize(unsigned size) { return size == 1 || size == 2 || size == 4; }

}  // namespace

// The window of an I/O BAR on the IoBus: turns absolute ports into offsets inside the BAR.
class PciBus::BarPortWindow final : public PortDevice {
public:
    BarPortWindow(PciFunction& fn, int bar) : fn_(fn), bar_(bar) {}
    void setBase(uint16_t base) { base_ = base; }
    uint32_t ioRead(uint16_t port, unsigned size) override {
        return fn_.barIoRead(bar_, static_cast<uint32_t>(port - base_), size);
    }
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override {
        fn_.barIoWrite(bar_, static_cast<uint32_t>(port - base_), size, value);
    }
    std::string name() const override { return fmt::format("{} BAR{}", fn_.name(), bar_); }

private:
    PciFunction& fn_;
    const int bar_;
    uint16_t base_ = 0;
};

// The window of a memory BAR on the MmioBus (which already passes offsets from the base).
class PciBus::BarMmioWindow final : public MmioDevice {
public:
    BarMmioWindow(PciFunction& fn, int bar) : fn_(fn), bar_(bar) {}
    uint64_t mmioRead(uint64_t offset, unsigned size) override { return fn_.barMmioRead(bar_, offset, size); }
    void mmioWrite(uint64_t offset, unsigned size, uint64_t value) override {
        fn_.barMmioWrite(bar_, offset, size, value);
    }
    std::string name() const override { return fmt::format("{} BAR{}", fn_.name(), bar_); }

private:
    PciFunction& fn_;
    const int bar_;
};

PciBus::PciBus(IoBus& io, MmioBus& mmio) : io_(io), mmio_(mmio) {}

PciBus::~PciBus() {
    // Leave no dangling windows on the buses. The functions themselves are not touched: they
    // may already be gone.
    for (auto& slot : slots_) {
        if (!slot) continue;
        for (BarWindow& w : slot->bars) {
            if (!w.mapped) continue;
            if (w.io) io_.detach(w.io.get());
            if (w.mmio) mmio_.detach(w.mmio.get());
        }
    }
}

void PciBus::add(int device, int function, PciFunction& fn) {
    if (device < 0 || device >= kDevices || function < 0 || function >= kFunctions)
        throw std::invalid_argument(fmt::format("PCI slot {:02x}.{} does not exist", device, function));
    auto& slot = slots_[static_cast<size_t>(device * kFunctions + function)];
    if (slot)
        throw std::invalid_argument(fmt::format("PCI slot {:02x}.{} already holds {}", device, function,
                                                slot->function->name()));
    slot = std::make_unique<Slot>();
    slot->function = &fn;
    slot->device = device;
    slot->number = function;
    Slot* raw = slot.get();
    fn.setConfigChangedHook([this, raw](PciFunction&) { remap(*raw); });
    remap(*raw);  // a function added with decoding already on gets its windows now
}

PciFunction* PciBus::functionAt(int device, int function) const {
    if (device < 0 || device >= kDevices || function < 0 || function >= kFunctions) return nullptr;
    const auto& slot = slots_[static_cast<size_t>(device * kFunctions + function)];
    return slot ? slot->function : nullptr;
}

// ---- configuration mechanism #1 ------------------------------------------------------------

uint32_t PciBus::ioRead(uint16_t port, unsigned size) {
    if (!validSize(size)) return widthMask(size);
    if (port == kAddressPort && size == 4) return configAddress_;
    if (port == kResetControlPort && size == 1) return resetControl_;
    if (port >= kDataPort && port < kDataPort + 4) return configDataRead(port - kDataPort, size);
    return widthMask(size);  // byte/word accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS
}

void PciBus::ioWrite(uint16_t port, unsigned size, uint32_t value) {
    if (!validSize(size)) return;
    if (port == kAddressPort && size == 4) {
        configAddress_ = value & kAddressWritable;
    } else if (port == kResetControlPort && size == 1) {
        resetControl_ = static_cast<uint8_t>(value & kSystemReset);
        if (value & kResetCpu) {
            spdlog::debug("pci: reset requested through 0xCF9 ({})", resetControl_ ? "hard" : "soft");
            if (reset_) reset_(resetControl_ != 0);
        }
    } else if (port >= kDataPort && port < kDataPort + 4) {
        configDataWrite(port - kDataPort, size, value);
    }
}

PciBus::Slot* PciBus::selectedSlot() const {
    if (!(configAddress_ & kEnable)) return nullptr;
    if (((configAddress_ >> 16) & 0xFF) != 0) return nullptr;  // only bus 0 exists
    return slots_[(configAddress_ >> 8) & 0xFF].get();          // device:function is the index
}

uint32_t PciBus::configDataRead(unsigned lane, unsigned size) const {
    Slot* slot = selectedSlot();
    if (!slot || lane % size != 0) return widthMask(size);
    auto offset = static_cast<uint8_t>((configAddress_ & 0xFC) + lane);
    return slot->function->configRead(offset, size);
}

void PciBus::configDataWrite(unsigned lane, unsigned size, uint32_t value) {
    Slot* slot = selectedSlot();
    if (!slot || lane % size != 0) return;
    auto offset = static_cast<uint8_t>((configAddress_ & 0xFC) + lane);
    slot->function->configWrite(offset, size, value & widthMask(size));  // the hook remaps
}

// ---- BAR decoding ----------------------------------------------------------------------------

void PciBus::remap(Slot& slot) {
    for (int i = 0; i < 6; ++i)
        if (slot.function->bar(i).kind != BarKind::None) remapBar(slot, i);
}

void PciBus::remapBar(Slot& slot, int index) {
    PciFunction& fn = *slot.function;
    BarWindow& w = slot.bars[static_cast<size_t>(index)];
    std::optional<uint64_t> wanted;
    if (fn.decodeEnabled(index)) wanted = fn.barAddress(index);
    if (wanted == w.wanted) return;  // most config writes touch no window

    const bool isMmio = isMemoryBar(fn.bar(index).kind);
    std::optional<uint64_t> oldBase;
    if (w.mapped) oldBase = w.wanted;
    unmapBar(slot, index);
    w.wanted = wanted;
    std::optional<uint64_t> newBase;
    if (wanted && mapBar(slot, index, *wanted)) newBase = *wanted;

    if (isMmio && (oldBase || newBase) && mmioMapChanged_)
        mmioMapChanged_(PciMmioMapChange{&fn, index, fn.bar(index).size, oldBase, newBase});
}

void PciBus::unmapBar(Slot& slot, int index) {
    BarWindow& w = slot.bars[static_cast<size_t>(index)];
    if (!w.mapped) return;
    if (w.io) io_.detach(w.io.get());
    if (w.mmio) mmio_.detach(w.mmio.get());
    w.mapped = false;
}

bool PciBus::mapBar(Slot& slot, int index, uint64_t base) {
    PciFunction& fn = *slot.function;
    BarWindow& w = slot.bars[static_cast<size_t>(index)];
    const uint32_t size = fn.bar(index).size;
    try {
        if (fn.bar(index).kind == BarKind::Io) {
            if (!w.io) w.io = std::make_unique<BarPortWindow>(fn, index);
            w.io->setBase(static_cast<uint16_t>(base));
            io_.attach(static_cast<uint16_t>(base), size, w.io.get());
        } else {
            if (mmioRangeCheck_ && !mmioRangeCheck_(base, size)) {
                spdlog::debug("pci: {} BAR{} at {:#x}+{:#x} refused by the board (address conflict)", fn.name(),
                              index, base, size);
                return false;
            }
            if (!w.mmio) w.mmio = std::make_unique<BarMmioWindow>(fn, index);
            mmio_.attach(base, size, w.mmio.get());
        }
    } catch (const std::invalid_argument& e) {
        // The guest programmed a BAR on top of another device: leave it unmapped.
        spdlog::debug("pci: {} BAR{} left unmapped (address conflict): {}", fn.name(), index, e.what());
        return false;
    }
    w.mapped = true;
    return true;
}

// ---- debugger view ---------------------------------------------------------------------------

std::vector<PciFunctionView> PciBus::functions() const {
    std::vector<PciFunctionView> out;
    for (const auto& slot : slots_) {
        if (!slot) continue;
        const PciFunction& fn = *slot->function;
        PciFunctionView view;
        view.device = slot->device;
        view.function = slot->number;
        view.pci = &fn;
        view.name = fn.name();
        view.vendorId = static_cast<uint16_t>(fn.configRead(pci::kVendorId, 2));
        view.deviceId = static_cast<uint16_t>(fn.configRead(pci::kDeviceId, 2));
        view.classCode = static_cast<uint8_t>(fn.configRead(pci::kClass, 1));
        view.subclass = static_cast<uint8_t>(fn.configRead(pci::kSubclass, 1));
        view.command = fn.command();
        for (int i = 0; i < 6; ++i) {
            const BarInfo& info = fn.bar(i);
            if (info.kind == BarKind::None) continue;
            const BarWindow& w = slot->bars[static_cast<size_t>(i)];
            view.bars.push_back(PciBarView{i, info.kind, info.size, fn.barAddress(i), fn.decodeEnabled(i), w.mapped,
                                           w.wanted.has_value() && !w.mapped});
        }
        out.push_back(std::move(view));
    }
    return out;
}

}  // namespace hvlab::devices
