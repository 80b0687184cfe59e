// The Intel 82540EM Gigabit Ethernet controller ("e1000"), the NIC QEMU, VirtualBox and Bochs
// emulate, as a PCI function: vendor 8086, device 100E, class 02/00/00, subsystem 8086:001E,
// revision 3; BAR0 = 128 KiB of memory-mapped registers, BAR1 = 64 bytes of I/O (IOADDR at 0,
// IODATA at 4: indirect register access), INTA#.
//
// Modelled, following the 8254x Software Developer's Manual:
//  - the register file (table in e1000.cpp): CTRL with self-clearing RST and PHY_RST, STATUS
//    computed from the link, the EEPROM (EECD bit-banging and EERD, e1000_eeprom.hpp), MDIC to the
//    PHY (e1000_phy.hpp), ICR/ICS/IMS/IMC, RCTL, TCTL, the descriptor ring registers, 16 receive
//    address pairs, MTA, VFTA, the statistics (read-to-clear), and plain storage for the rest of
//    the documented registers; unknown offsets read 0 and ignore writes;
//  - interrupts: INTx level = (ICR & IMS) != 0; reading ICR clears every cause;
//  - transmit: legacy descriptors (CSO/CSS checksum insertion), context + data descriptors
//    (IP and TCP/UDP checksum offload, TCP segmentation), VLAN tag insertion, short packet
//    padding (TCTL.PSP), DD write-back on RS, TXDW/TXQE;
//  - receive: address filtering (exact RAL/RAH, MTA hash per RCTL.MO, UPE, MPE, BAM), VLAN
//    filtering and stripping, buffers per RCTL.BSIZE/BSEX with frames spread over descriptors,
//    the FCS appended unless RCTL.SECRC, RXT0/RXDMT0/RXO, MPC/RNBC;
//  - link: up while attached to a switch port and the PHY is powered and out of reset; LSC on change.
//
// Simplified or missing (see docs/devices/e1000.md): interrupt moderation and delay timers (ITR,
// RDTR, RADV, TIDV, TADV are stored, interrupts fire at once); flow control (pause frames are
// never sent or honoured, TXOFF stays 0); receive checksum offload (frames carry IXSM: "checksum
// not checked"); wake-on-LAN and manageability; collisions and half duplex.
//
// Threading: everything runs on the thread that owns the VM's vCPU (or while it is paused).
// Frames from other VMs reach it through the switch port's queue, drained by pollReceive().
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "devices/e1000_eeprom.hpp"
#include "devices/e1000_offload.hpp"
#include "devices/e1000_phy.hpp"
#include "devices/e1000_regs.hpp"
#include "devices/guest_memory.hpp"
#include "devices/pci_function.hpp"
#include "devices/virtual_switch.hpp"

namespace hvlab::devices {

// Host-side diagnostics (not guest-visible): what happened to frames, for logs, the UI and tests.
struct E1000Counters {
    uint64_t txFrames = 0;          // frames handed to the switch (TSO segments count one each)
    uint64_t txBytes = 0;
    uint64_t txTsoPackets = 0;      // TSO packets segmented
    uint64_t txDropped = 0;         // packets dropped for a malformed descriptor chain
    uint64_t txDmaErrors = 0;       // descriptor or buffer reads/writes outside RAM
    uint64_t txRingErrors = 0;      // TDH/TDT outside the ring
    uint64_t rxFrames = 0;          // frames stored in guest memory
    uint64_t rxBytes = 0;
    uint64_t rxFiltered = 0;        // frames no address filter accepted
    uint64_t rxDiscarded = 0;       // receiver off, runt or oversize frames
    uint64_t rxNoDescriptors = 0;   // times a frame had to wait for free descriptors
    uint64_t rxQueueOverruns = 0;   // frames the switch dropped from the full queue (MPC)
    uint64_t rxDmaErrors = 0;       // descriptor or buffer accesses outside RAM
    uint64_t rxRingErrors = 0;      // RDH/RDT outside the ring
};

class E1000 final : public PciFunction {
public:
    static constexpr size_t kMaxTxFrame = 16384;          // largest non-TSO frame
    static constexpr size_t kMaxTsoPacket = 65536 + 256;  // header + payload of one TSO packet
    static constexpr size_t kMaxRxFrame = 16384;

    E1000(const MacAddress& mac, GuestMemory& memory);
    ~E1000() override;

    std::string name() const override { return "e1000"; }

    // BAR accesses (BAR0 memory, BAR1 I/O); registers are 32-bit, other widths are split/merged.
    uint64_t barMmioRead(int bar, uint64_t offset, unsigned size) override;
    void barMmioWrite(int bar, uint64_t offset, unsigned size, uint64_t value) override;
    uint32_t barIoRead(int bar, uint32_t offset, unsigned size) override;
    void barIoWrite(int bar, uint32_t offset, unsigned size, uint32_t value) override;

    // A 32-bit register access as the guest makes it (with read side effects).
    uint32_t readRegister(uint32_t offset);
    void writeRegister(uint32_t offset, uint32_t value);
    // The register value without side effects (for the debugger and tests); ICR is not cleared.
    uint32_t peekRegister(uint32_t offset) const;

    // Plugs the cable into a switch port (nullptr unplugs it). Link changes raise LSC.
    void attach(VirtualSwitch::Port* port);
    VirtualSwitch::Port* port() const { return port_; }

    // Moves frames waiting in the port's queue into the receive ring, as far as there are free
    // descriptors. The VMM calls this after the port's wake callback fired (on the vCPU thread);
    // the NIC also calls it itself when the guest frees descriptors (RDT write) or enables RX.
    void pollReceive();
    // Receives one frame (without FCS). Returns true if the frame was consumed (stored, or
    // discarded by a filter or an error), false if it must wait for free receive descriptors.
    bool receiveFrame(std::span<const uint8_t> frame);

    // Power-on / PCI reset of the MAC (the same as CTRL.RST).
    void reset();

    bool linkUp() const { return linkUp_; }
    bool interruptAsserted() const { return (icr_ & ims_) != 0; }
    const MacAddress& mac() const { return mac_; }
    const E1000Counters& counters() const { return counters_; }
    const E1000Eeprom& eeprom() const { return eeprom_; }

private:
    // Packet under assembly from transmit descriptors, until EOP.
    struct TxPacket {
        std::vector<uint8_t> data;
        bool active = false;      // a first descriptor was seen
        bool failed = false;      // a fragment was unreadable or the packet too long
        bool extended = false;    // data descriptors (else legacy)
        bool tso = false;
        uint8_t popts = 0;
        bool legacyChecksum = false;  // legacy IC
        uint8_t cso = 0;
        uint8_t css = 0;
    };

    uint32_t& reg(uint32_t offset) { return regs_[offset / 4]; }
    uint32_t reg(uint32_t offset) const { return regs_[offset / 4]; }

    // Register file (e1000.cpp).
    uint32_t readStatus() const;
    uint32_t readStatistic(uint32_t offset);
    void writeCtrl(uint32_t value);
    void writeMdic(uint32_t value);
    void raiseInterrupt(uint32_t causes);
    void updateIrq();
    void updateLink();
    void addStatistic(uint32_t offset, uint64_t amount = 1);
    void addOctets(uint32_t lowOffset, uint64_t amount);
    void countPacketSize(uint32_t firstBin, size_t bytesWithFcs);

    // Transmit (e1000_tx.cpp).
    void processTransmitRing();
    uint32_t processTxDescriptor(const std::array<uint8_t, 16>& raw, uint64_t address);
    void loadContext(const std::array<uint8_t, 16>& raw);
    void appendTxBuffer(uint64_t address, uint32_t length);
    void finishTxPacket(uint8_t eopCommand, uint16_t special);
    void transmitFrame(std::vector<uint8_t>& frame, bool insertVlan, uint16_t special);

    // Receive (e1000_rx.cpp).
    bool processReceivedFrame(std::span<const uint8_t> frame);
    bool addressAccepted(std::span<const uint8_t> frame) const;
    bool vlanAccepted(std::span<const uint8_t> frame) const;
    size_t receiveBufferSize() const;
    uint32_t receiveRingSize() const { return (reg(e1000::kRdlen) & e1000::kRingLengthMask) / e1000::kDescriptorSize; }
    uint32_t freeReceiveDescriptors() const;
    bool storeFrame(std::span<const uint8_t> data, uint8_t status, uint16_t special);
    void accountQueueDrops();

    const MacAddress mac_;
    GuestMemory& memory_;
    E1000Eeprom eeprom_;
    E1000Phy phy_;
    std::vector<uint32_t> regs_;  // the 128 KiB register window, one slot per dword
    uint32_t icr_ = 0;
    uint32_t ims_ = 0;
    uint32_t ioAddress_ = 0;     // IOADDR
    bool linkUp_ = false;
    bool rxWaiting_ = false;     // the head frame is already counted in RNBC
    bool receiving_ = false;     // guards pollReceive() against re-entry
    uint64_t seenQueueDrops_ = 0;
    e1000::TxOffloadContext txContext_;
    bool txContextTso_ = false;  // the context's TUCMD.TSE
    TxPacket tx_;
    VirtualSwitch::Port* port_ = nullptr;
    E1000Counters counters_;
};

}  // namespace hvlab::devices
