// The emulated PC (the VS motherboard of the brief): an i440FX/PIIX3-style board with the
// 8259A pair, 8254 PIT, RTC/CMOS, local APIC and IOAPIC, COM1, i8042, port 0x92, POST port,
// fw_cfg, VGA text capture, isa-debug-exit, the PCI bus with the PIIX3 IDE controller (and an
// e1000 or virtio-net, virtio-blk disks and a virtio-console when asked; slots in pc_board.cpp). Devices know nothing of engines: the Vm drives the board through its
// buses, its CPU interrupt pin (interruptSource()) and its timed devices.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/bus.hpp"
#include "devices/clock.hpp"
#include "devices/debug_exit.hpp"
#include "devices/e1000.hpp"
#include "devices/virtual_switch.hpp"
#include "devices/virtio/virtio_blk.hpp"
#include "devices/virtio/virtio_console.hpp"
#include "devices/virtio/virtio_net.hpp"
#include "devices/fw_cfg.hpp"
#include "devices/guest_memory.hpp"
#include "devices/i440fx.hpp"
#include "devices/i8042.hpp"
#include "devices/io_apic.hpp"
#include "devices/local_apic.hpp"
#include "devices/pci_bus.hpp"
#include "devices/pic8259.hpp"
#include "devices/piix4_pm.hpp"
#include "devices/piix_ide.hpp"
#include "devices/pit8254.hpp"
#include "devices/port61.hpp"
#include "devices/port92.hpp"
#include "devices/post_port.hpp"
#include "devices/rtc_cmos.hpp"
#include "devices/uart16550.hpp"
#include "devices/vga_text.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {

struct DiskConfig {
    std::string path;
    bool readOnly = false;
    bool snapshot = false;  // copy-on-write overlay in memory: the file is never written
    bool virtio = false;    // on a virtio-blk device instead of the IDE controller
};

enum class NicModel { E1000, Virtio };

struct BoardConfig {
    uint64_t ramBytes = 128ull << 20;
    int64_t rtcStartUnixSeconds = 1767225600;  // 2026-01-01 00:00:00 UTC
    // IDE disks in order primary master, primary slave, secondary master, ...; virtio disks in
    // order at PCI 00:06.0, 00:07.0, ...
    std::vector<DiskConfig> disks;
    // A NIC plugged into this switch (none when null): an e1000 at PCI 00:03.0 or a virtio-net at
    // 00:04.0. The switch outlives the board.
    devices::VirtualSwitch* network = nullptr;
    NicModel nicModel = NicModel::E1000;
    // A virtio-console at PCI 00:05.0 whose output goes to serialOut, as COM1's.
    bool virtioConsole = false;
    devices::MacAddress mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x02};
    std::string name = "vm";                   // the switch port's name
    std::function<void(uint8_t)> serialOut;
    std::function<void()> wake;                // an interrupt may have become pending (any thread)
    std::function<void(std::string why)> onResetRequest;
    std::function<void(uint32_t value)> onDebugExit;
    std::function<void(bool enabled)> onA20;   // the A20 gate: i8042 output port / port 0x92
    std::function<void(uint8_t code)> onPostCode;  // firmware progress codes on port 0x80
    std::function<void(std::string why)> onPowerOff;  // ACPI S5 through the PIIX4 PM block
    // VH interrupts: KVM's in-kernel 8259/IOAPIC/LAPIC/8254 replace the board's; ISA lines go to
    // this function (KVM_IRQ_LINE) instead. Empty: the emulated (VS) controllers.
    std::function<void(unsigned irq, bool level)> kernelIrqLine;
    // Boot P: no firmware runs, so the board configures PCI the way the hvlab BIOS does (BARs,
    // command registers, PIRQ routing to IRQ 10/11, interrupt-line registers, the PM block).
    bool configurePciWithoutFirmware = false;
    // Boot P with P interrupts (docs/hypercalls.md "PVH boot"): no 8259 PIC, 8254 PIT, port 0x61,
    // RTC/CMOS, i8042, port 0x92, POST port or VGA. The local APIC and I/O APIC stay.
    bool legacyDevices = true;
};

class PcBoard {
public:
    // Builds and wires every device; opens the disk images (throws std::runtime_error with the
    // path and the reason if one cannot be used).
    PcBoard(const BoardConfig& config, const devices::Clock& clock, mmu::PhysicalMap& memory);
    // As above, with the disk images already open (a reset keeps them, overlays included):
    // images[k] is disk k of config.disks.
    PcBoard(const BoardConfig& config, const devices::Clock& clock, mmu::PhysicalMap& memory,
            std::vector<std::unique_ptr<devices::DiskImage>> images);
    // Takes the disk images out, in config.disks order (before the board is destroyed on a reset).
    std::vector<std::unique_ptr<devices::DiskImage>> takeDisks();
    ~PcBoard();
    PcBoard(const PcBoard&) = delete;
    PcBoard& operator=(const PcBoard&) = delete;

    devices::IoBus& io() { return io_; }
    devices::MmioBus& mmio() { return mmio_; }
    // The CPU's INTR pin: the local APIC, with the 8259 pair behind it (virtual-wire mode).
    // Unused with the in-kernel irqchip (kernelIrqchip()).
    devices::InterruptSource& interruptSource() { return *lapic_; }
    bool kernelIrqchip() const { return kernelIrqchip_; }
    // Limits the devices' DMA writes (see devices::PhysicalMapMemory::WriteGuard).
    void setDmaWriteGuard(devices::PhysicalMapMemory::WriteGuard guard) { dma_.setWriteGuard(std::move(guard)); }
    const std::vector<devices::TimedDevice*>& timedDevices() const { return timed_; }
    // Moves host input (serial, keyboard) into the devices; call on the vCPU thread between runs.
    void pollInputs();
    // Whether a device the guest is listening on can be woken by host input (serial RX
    // interrupts enabled): a halted CPU with no timer armed then waits instead of stopping.
    bool waitsForHostInput() const;

    devices::Uart16550& uart() { return *uart_; }
    // Null on a board without legacy devices (BoardConfig::legacyDevices); the PIT also with
    // the in-kernel irqchip.
    devices::PostPort* post() { return post_.get(); }
    devices::VgaText* vga() { return vga_.get(); }
    devices::Pit8254* pit() { return pit_.get(); }
    bool hasLegacyDevices() const { return legacyDevices_; }
    // The 8259 pair always exists (the local APIC's ExtINT input), but without legacy devices
    // no line and no port reaches it.
    devices::Pic8259Pair& pic() { return *pic_; }
    devices::LocalApic& lapic() { return *lapic_; }
    devices::PiixIde& ide() { return *ide_; }
    devices::Piix4Pm& powerManagement() { return *pm_; }
    devices::PciBus& pci() { return *pci_; }
    devices::E1000* nic() { return nic_.get(); }
    devices::virtio::VirtioNet* virtioNet() { return virtioNet_.get(); }
    devices::virtio::VirtioConsole* virtioConsole() { return virtioConsole_.get(); }
    const std::vector<std::unique_ptr<devices::virtio::VirtioBlk>>& virtioDisks() const { return virtioDisks_; }
    // Host console input (any thread): to the virtio-console when there is one, else to COM1.
    void queueConsoleInput(std::string_view bytes);
    // event_bind_irq: rising edges of ISA line `irq` (0-15) call `onEdge` instead of reaching
    // the PIC and I/O APIC. False for a line the board does not have.
    bool divertIrqLine(unsigned irq, std::function<void()> onEdge);

private:
    // An ISA interrupt line as the board wires it: to the 8259 input and the IOAPIC pin
    // (IRQ 0 reaches IOAPIC pin 2, as on every PC chipset and in the MP/ACPI tables). A line
    // bound to a PV event port (event_bind_irq) reaches neither: its rising edges go to the
    // event channel instead.
    class IsaLine final : public devices::IrqLine {
    public:
        void connect(devices::IrqLine* pic, devices::IrqLine* ioapic) { pic_ = pic; ioapic_ = ioapic; }
        void forwardTo(std::function<void(bool)> kernel) { kernel_ = std::move(kernel); }
        // Rising edges call `onEdge` from now on, instead of the controllers (which see the
        // line low). A line already high counts as an edge at once, so a device that asserted
        // before the binding is not lost. Empty: back to the controllers.
        void divertTo(std::function<void()> onEdge) {
            const bool highNow = onEdge && level_;
            if (highNow) {
                if (pic_) pic_->setLevel(false);
                if (ioapic_) ioapic_->setLevel(false);
            }
            diverted_ = std::move(onEdge);
            if (highNow) diverted_();
        }
        void setLevel(bool asserted) override {
            const bool rising = asserted && !level_;
            level_ = asserted;
            if (diverted_) {
                if (rising) diverted_();
                return;
            }
            if (kernel_) {
                kernel_(asserted);
                return;
            }
            if (pic_) pic_->setLevel(asserted);
            if (ioapic_) ioapic_->setLevel(asserted);
        }

    private:
        devices::IrqLine* pic_ = nullptr;
        devices::IrqLine* ioapic_ = nullptr;
        std::function<void(bool)> kernel_;
        std::function<void()> diverted_;
        bool level_ = false;
    };

    void buildInterruptControllers(const BoardConfig& config, const devices::Clock& clock);
    void buildLegacyDevices(const BoardConfig& config, const devices::Clock& clock);
    void buildPci(const BoardConfig& config, const devices::Clock& clock,
                  std::vector<std::unique_ptr<devices::DiskImage>> images);
    void buildVirtio(const BoardConfig& config, std::vector<std::unique_ptr<devices::DiskImage>>& virtioImages);
    void buildFirmwareConfig(const BoardConfig& config);
    // What the hvlab BIOS's pci_init does (firmware/bios/pci.asm), through configuration space.
    void configurePci(bool withPic);

    mmu::PhysicalMap& memory_;
    devices::PhysicalMapMemory dma_;
    std::vector<bool> diskIsVirtio_;  // per config.disks entry
    bool kernelIrqchip_ = false;
    bool legacyDevices_ = true;
    devices::IoBus io_;
    devices::MmioBus mmio_;
    std::array<IsaLine, 16> isa_;
    std::vector<devices::TimedDevice*> timed_;

    std::unique_ptr<devices::Pic8259Pair> pic_;
    std::unique_ptr<devices::IoApic> ioapic_;
    std::unique_ptr<devices::LocalApic> lapic_;
    std::vector<devices::LocalApic*> apics_;
    std::unique_ptr<devices::Pit8254> pit_;
    std::unique_ptr<devices::Port61> port61_;
    std::unique_ptr<devices::RtcCmos> rtc_;
    std::unique_ptr<devices::Uart16550> uart_;
    std::unique_ptr<devices::DebugExit> debugExit_;
    std::unique_ptr<devices::I8042> kbc_;
    std::unique_ptr<devices::Port92> port92_;
    std::unique_ptr<devices::PostPort> post_;
    std::unique_ptr<devices::FwCfg> fwCfg_;
    std::unique_ptr<devices::VgaText> vga_;
    std::unique_ptr<devices::PciBus> pci_;
    std::unique_ptr<devices::I440fxHostBridge> hostBridge_;
    std::unique_ptr<devices::Piix3IsaBridge> isaBridge_;
    std::unique_ptr<devices::PciIrqRouter> pciIrqRouter_;
    std::unique_ptr<devices::PiixIde> ide_;
    std::unique_ptr<devices::Piix4Pm> pm_;
    std::unique_ptr<devices::E1000> nic_;
    std::unique_ptr<devices::virtio::VirtioNet> virtioNet_;
    std::unique_ptr<devices::virtio::VirtioConsole> virtioConsole_;
    std::vector<std::unique_ptr<devices::virtio::VirtioBlk>> virtioDisks_;
    devices::VirtualSwitch* network_ = nullptr;
    devices::VirtualSwitch::Port* port_ = nullptr;
};

}  // namespace hvlab::hv
