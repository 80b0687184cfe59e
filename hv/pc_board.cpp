#include "hv/pc_board.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "hv/pci_setup.hpp"

namespace hvlab::hv {

namespace {
constexpr uint16_t kCom1 = 0x3f8;
constexpr uint64_t kVgaText = 0xb8000;
constexpr uint64_t kVgaTextSize = 0x8000;
constexpr uint64_t kPciHole = 0xc0000000;  // RAM below 4 GiB ends here at most (3 GiB)
// PCI slots, as on QEMU's "pc" machine (the BIOS and the MP/ACPI tables assume them).
constexpr int kSlotHostBridge = 0, kSlotPiix = 1, kSlotNic = 3;
// The virtio devices (INTA#; the BIOS routes slot 4 to PIRQD = IRQ 11, 5 to PIRQA = IRQ 10, 6 to
// PIRQB = IRQ 10, 7 to PIRQC = IRQ 11, 8 to PIRQD = IRQ 11, 9 to PIRQA = IRQ 10).
constexpr int kSlotVirtioNet = 4, kSlotVirtioConsole = 5, kSlotVirtioBlkFirst = 6;
constexpr size_t kMaxVirtioDisks = 4;
}  // namespace

PcBoard::PcBoard(const BoardConfig& config, const devices::Clock& clock, mmu::PhysicalMap& memory)
    : PcBoard(config, clock, memory, {}) {}

PcBoard::PcBoard(const BoardConfig& config, const devices::Clock& clock, mmu::PhysicalMap& memory,
                 std::vector<std::unique_ptr<devices::DiskImage>> images)
    : memory_(memory), dma_(memory), legacyDevices_(config.legacyDevices) {
    buildInterruptControllers(config, clock);
    buildLegacyDevices(config, clock);
    buildPci(config, clock, std::move(images));
    buildFirmwareConfig(config);
    if (config.configurePciWithoutFirmware) configurePci(legacyDevices_ && !kernelIrqchip_);
}

void PcBoard::configurePci(bool withPic) {
    const PciSetupResult pci = configurePciLikeFirmware(io_);
    if (withPic) {
        // As the BIOS: the routed PCI interrupts (and the SCI) are level-triggered in the ELCR.
        uint8_t elcr2 = (1u << (kPciIrqA - 8)) | (1u << (kPciIrqB - 8));
        if (pci.powerManagement) elcr2 |= 1u << (kPmSciIrq - 8);
        io_.write(0x4d1, 1, elcr2);
    }
    spdlog::debug("PCI set up without firmware: {} function(s) on bus 0", pci.functions);
}

bool PcBoard::divertIrqLine(unsigned irq, std::function<void()> onEdge) {
    if (irq >= isa_.size()) return false;
    isa_[irq].divertTo(std::move(onEdge));
    return true;
}

std::vector<std::unique_ptr<devices::DiskImage>> PcBoard::takeDisks() {
    std::vector<std::unique_ptr<devices::DiskImage>> images;
    size_t ide = 0, virtio = 0;
    for (const bool isVirtio : diskIsVirtio_) {
        if (isVirtio) {
            images.push_back(virtioDisks_[virtio++]->eject());
        } else {
            images.push_back(ide_->channel(static_cast<unsigned>(ide / 2)).drive(static_cast<unsigned>(ide % 2)).eject());
            ++ide;
        }
    }
    return images;
}

void PcBoard::queueConsoleInput(std::string_view bytes) {
    if (virtioConsole_) virtioConsole_->queueInput(bytes);
    else uart_->queueInput(bytes);
}

PcBoard::~PcBoard() {
    // Unplug from the switch without telling the NIC (a link-down interrupt during teardown
    // would reach devices that are going away).
    if (network_ && port_) network_->disconnect(port_);
}

void PcBoard::buildInterruptControllers(const BoardConfig& config, const devices::Clock& clock) {
    auto wake = config.wake;
    kernelIrqchip_ = static_cast<bool>(config.kernelIrqLine);
    pic_ = std::make_unique<devices::Pic8259Pair>([wake] { if (wake) wake(); });
    if (kernelIrqchip_) {
        // VH: KVM's kernel answers the 8259, 8254, port 0x61, IOAPIC and local APIC accesses
        // itself; the board's copies stay unplugged and every ISA line goes to KVM_IRQ_LINE.
        auto line = config.kernelIrqLine;
        for (unsigned irq = 0; irq < 16; ++irq) isa_[irq].forwardTo([line, irq](bool level) { line(irq, level); });
        lapic_ = std::make_unique<devices::LocalApic>(0, true, clock, pic_.get());
        return;
    }
    if (legacyDevices_) {
        io_.attach(0x20, 2, pic_.get());
        io_.attach(0xa0, 2, pic_.get());
        io_.attach(0x4d0, 2, pic_.get());
    }

    lapic_ = std::make_unique<devices::LocalApic>(0, true, clock, pic_.get());
    apics_ = {lapic_.get()};
    ioapic_ = std::make_unique<devices::IoApic>(
        [this](const devices::ApicMessage& m) { devices::routeApicMessage(m, apics_); }, 1);
    lapic_->setEoiBroadcast([this](uint8_t vector) { ioapic_->endOfInterrupt(vector); });
    lapic_->setIpiSender([this](const devices::Ipi& ipi) { devices::routeIpi(ipi, apics_); });
    lapic_->setIntrChangedCallback([wake] { if (wake) wake(); });
    mmio_.attach(devices::lapic::kDefaultBase, devices::lapic::kMmioSize, lapic_.get());
    mmio_.attach(devices::ioapic::kDefaultBase, devices::ioapic::kMmioSize, ioapic_.get());
    timed_.push_back(lapic_.get());

    for (int irq = 0; irq < 16; ++irq) {
        const int pin = irq == 0 ? 2 : irq;  // the ISA IRQ 0 -> IOAPIC pin 2 override
        if (irq != 2)  // IRQ 2 is the cascade; without legacy devices only the I/O APIC listens
            isa_[irq].connect(legacyDevices_ ? &pic_->input(irq) : nullptr, &ioapic_->input(pin));
    }
}

void PcBoard::buildLegacyDevices(const BoardConfig& config, const devices::Clock& clock) {
    if (legacyDevices_) {
        rtc_ = std::make_unique<devices::RtcCmos>(clock, &isa_[8], config.rtcStartUnixSeconds);
        rtc_->setMemorySize(config.ramBytes);
        io_.attach(0x70, 2, rtc_.get());
        timed_.push_back(rtc_.get());
    }
    if (legacyDevices_ && !kernelIrqchip_) {  // with the in-kernel irqchip, KVM's 8254 and port 0x61 serve these ports
        pit_ = std::make_unique<devices::Pit8254>(clock, &isa_[0]);
        io_.attach(0x40, 4, pit_.get());
        port61_ = std::make_unique<devices::Port61>(clock, *pit_);
        io_.attach(0x61, 1, port61_.get());
        timed_.push_back(pit_.get());
    }

    auto serialOut = config.serialOut;
    uart_ = std::make_unique<devices::Uart16550>(kCom1, &isa_[4], [serialOut](uint8_t byte) {
        if (serialOut) serialOut(byte);
    });
    io_.attach(kCom1, 8, uart_.get());
    auto onDebugExit = config.onDebugExit;
    debugExit_ = std::make_unique<devices::DebugExit>(devices::DebugExit::kDefaultPort, [onDebugExit](uint32_t v) {
        if (onDebugExit) onDebugExit(v);
    });
    io_.attach(devices::DebugExit::kDefaultPort, 1, debugExit_.get());
    if (!legacyDevices_) return;  // COM1 and isa-debug-exit stay: the console and test exits

    auto reset = config.onResetRequest;
    kbc_ = std::make_unique<devices::I8042>(&isa_[1], &isa_[12]);
    kbc_->attachTo(io_);
    kbc_->onReset([reset] { if (reset) reset("the guest pulsed the reset line through the i8042 (command 0xFE)"); });
    port92_ = std::make_unique<devices::Port92>();
    port92_->attachTo(io_);
    port92_->onReset([reset] { if (reset) reset("the guest set the fast-reset bit of port 0x92"); });
    auto a20 = config.onA20;
    // Both drive the one A20 line; as in QEMU, the latest change wins.
    kbc_->onA20([a20](bool enabled) { if (a20) a20(enabled); });
    port92_->onA20([a20](bool enabled) { if (a20) a20(enabled); });
    post_ = std::make_unique<devices::PostPort>();
    post_->attachTo(io_);
    if (config.onPostCode) post_->onCode(config.onPostCode);

    // The text buffer is ordinary guest RAM (writes cost nothing); the device reads it.
    vga_ = std::make_unique<devices::VgaText>(
        [this]() -> const uint8_t* { return memory_.hostPointer(kVgaText, kVgaTextSize, false); });
    vga_->attachTo(io_);
}

void PcBoard::buildPci(const BoardConfig& config, const devices::Clock& clock,
                       std::vector<std::unique_ptr<devices::DiskImage>> images) {
    pci_ = std::make_unique<devices::PciBus>(io_, mmio_);
    pci_->attachTo(io_);
    auto reset = config.onResetRequest;
    pci_->onReset([reset](bool hard) {
        if (reset) reset(hard ? "the guest asked for a hard reset through port 0xCF9" : "the guest asked for a reset through port 0xCF9");
    });
    // A BAR may not be placed over RAM or ROM: the guest-physical map decides what is memory.
    pci_->setMmioRangeCheck([this](uint64_t base, uint64_t size) {
        for (const mmu::Region& r : memory_.regions())
            if (base < r.end() && r.base < base + size) return false;
        return true;
    });
    hostBridge_ = std::make_unique<devices::I440fxHostBridge>();
    isaBridge_ = std::make_unique<devices::Piix3IsaBridge>();
    pci_->add(kSlotHostBridge, 0, *hostBridge_);
    pci_->add(kSlotPiix, 0, *isaBridge_);
    std::array<devices::IrqLine*, 16> lines{};
    for (int irq = 0; irq < 16; ++irq) lines[irq] = &isa_[irq];
    pciIrqRouter_ = std::make_unique<devices::PciIrqRouter>(*isaBridge_, lines);

    ide_ = std::make_unique<devices::PiixIde>(dma_, &isa_[14], &isa_[15]);
    std::vector<std::unique_ptr<devices::DiskImage>> virtioImages;
    size_t ide = 0;
    for (size_t k = 0; k < config.disks.size(); ++k) {
        const DiskConfig& d = config.disks[k];
        auto image = k < images.size() && images[k] ? std::move(images[k])
                     : d.snapshot                   ? devices::DiskImage::openOverlay(d.path)
                                                    : devices::DiskImage::open(d.path, d.readOnly);
        diskIsVirtio_.push_back(d.virtio);
        if (d.virtio) {
            virtioImages.push_back(std::move(image));
        } else {
            if (ide >= 4) throw std::runtime_error("more than 4 IDE disks");
            ide_->channel(static_cast<unsigned>(ide / 2)).attachDisk(static_cast<unsigned>(ide % 2), std::move(image));
            ++ide;
        }
    }
    ide_->attachLegacyPorts(io_);
    pci_->add(kSlotPiix, 1, *ide_);

    // ACPI: the PIIX4 power-management function (as on QEMU's pc machine) at 00:01.3, its SCI on
    // ISA IRQ 9; the BIOS maps its block at 0x600 and describes it in the FADT.
    pm_ = std::make_unique<devices::Piix4Pm>(clock, io_, &isa_[9]);
    if (config.onPowerOff) pm_->onPowerOff(config.onPowerOff);
    pci_->add(kSlotPiix, 3, *pm_);
    timed_.push_back(pm_.get());

    if (config.network) {
        network_ = config.network;
        auto wake = config.wake;
        port_ = network_->connect(config.name, [wake] { if (wake) wake(); });
        if (config.nicModel == NicModel::E1000) {
            nic_ = std::make_unique<devices::E1000>(config.mac, dma_);
            pci_->add(kSlotNic, 0, *nic_);
            pciIrqRouter_->connect(*nic_, kSlotNic);
            nic_->attach(port_);  // the link comes up
        } else {
            virtioNet_ = std::make_unique<devices::virtio::VirtioNet>(dma_, config.mac);
            pci_->add(kSlotVirtioNet, 0, *virtioNet_);
            pciIrqRouter_->connect(*virtioNet_, kSlotVirtioNet);
            virtioNet_->attach(port_);
        }
    }
    buildVirtio(config, virtioImages);
}

void PcBoard::buildVirtio(const BoardConfig& config, std::vector<std::unique_ptr<devices::DiskImage>>& virtioImages) {
    if (config.virtioConsole) {
        auto serialOut = config.serialOut;
        virtioConsole_ = std::make_unique<devices::virtio::VirtioConsole>(dma_, [serialOut](uint8_t byte) {
            if (serialOut) serialOut(byte);
        });
        pci_->add(kSlotVirtioConsole, 0, *virtioConsole_);
        pciIrqRouter_->connect(*virtioConsole_, kSlotVirtioConsole);
    }
    if (virtioImages.size() > kMaxVirtioDisks) throw std::runtime_error("more than 4 virtio disks");
    for (size_t k = 0; k < virtioImages.size(); ++k) {
        const int slot = kSlotVirtioBlkFirst + static_cast<int>(k);
        auto disk = std::make_unique<devices::virtio::VirtioBlk>(dma_, std::move(virtioImages[k]),
                                                                 fmt::format("hvlab-vd{}", static_cast<char>('a' + k)));
        pci_->add(slot, 0, *disk);
        pciIrqRouter_->connect(*disk, slot);
        virtioDisks_.push_back(std::move(disk));
    }
}

void PcBoard::buildFirmwareConfig(const BoardConfig& config) {
    fwCfg_ = std::make_unique<devices::FwCfg>();
    fwCfg_->setRamSize(config.ramBytes);
    fwCfg_->setCpuCount(1);
    // As QEMU: the RAM ranges only; the BIOS adds its reserved areas (EBDA, ROM, tables).
    std::vector<devices::E820Entry> e820{{0, std::min(config.ramBytes, kPciHole), devices::fw_cfg::kE820Ram}};
    if (config.ramBytes > kPciHole)
        e820.push_back({0x100000000ull, config.ramBytes - kPciHole, devices::fw_cfg::kE820Ram});
    fwCfg_->setE820(e820);
    fwCfg_->attachTo(io_);
}

void PcBoard::pollInputs() {
    uart_->pollInput();
    if (kbc_) kbc_->pollInput();
    if (nic_) nic_->pollReceive();
    if (virtioNet_) virtioNet_->pollReceive();
    if (virtioConsole_) virtioConsole_->pollInput();
}

bool PcBoard::waitsForHostInput() const {
    const devices::UartState u = uart_->state();
    if (virtioConsole_ && virtioConsole_->listening()) return true;
    return (u.ier & devices::uart::kIerRxData) && (u.mcr & devices::uart::kMcrOut2);
}

}  // namespace hvlab::hv
