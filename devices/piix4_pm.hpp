// The power-management function of the Intel 82371AB/EB PIIX4 (PCI 8086:7113 rev 03, class
// 06 80 00), as QEMU's `pc` machine has it at 00:01.3: the ACPI fixed-hardware registers (PM1
// event and control blocks, PM timer) in a 64-byte I/O block, and the SCI.
//
// Configuration space (82371AB datasheet, "PCI Configuration Registers -- Power Management
// Function"):
//  - header: status 0280h (fast back-to-back, medium DEVSEL), interrupt pin 1 (INTA#, as QEMU
//    reports it). The function never drives INTx: the SCI is the PIIX4's internal IRQ 9
//    (datasheet 11.6.1), a separate line given to the constructor;
//  - PMBA (40h-43h): bits 15:6 the base of the 64-byte PM block, bit 0 hardwired to 1 (I/O
//    space indicator), everything else reads 0;
//  - PMREGMISC (80h) bit 0 PMIOSE: the PM block is decoded while it is set. The PCI command
//    register's I/O enable does not gate it (as on QEMU; hvlab's BIOS reads PM1_CNT before it
//    turns the command bits on). A base of 0 is not decoded (as for PCI BARs in hvlab);
//  - every other register beyond the header (SMBus, device monitoring, GPIO) reads 0 and
//    ignores writes.
// The function attaches its block to the IoBus itself when PMBA or PMIOSE change (extended
// config writes do not reach the PciBus's BAR logic). A base on top of another device's ports
// is left unmapped and logged; it is retried at the next PMBA/PMREGMISC write.
//
// PM I/O block (offsets from PMBA; ACPI 1.0 section 4.7.3 fixed hardware, PIIX4 PMSTS/PMEN/
// PMCNTRL/PMTMR):
//  00h PM1_STS (16 bits, write 1 to clear): TMR_STS (0), PWRBTN_STS (8), WAK_STS (15);
//  02h PM1_EN: TMR_EN (0), GBL_EN (5), PWRBTN_EN (8), RTC_EN (10) -- read/write;
//  04h PM1_CNT: SCI_EN (0) and BM_RLD (1) read/write, GBL_RLS (2) write-only, SLP_TYP (12:10)
//      read/write, SLP_EN (13) write-only (reads 0);
//  08h PM_TMR: 24-bit free-running counter at 3.579545 MHz, bits 31:24 read 0, read-only.
// Every other byte of the block reads 0 and ignores writes. Accesses are handled byte by byte,
// so byte, word and dword accesses at any offset behave alike; bytes of an access that fall
// past the end of the block read as all-ones (nothing there decodes them) and are ignored.
//
// Behaviour:
//  - PM_TMR is computed from the Clock (ticks = ns * 3579545 / 1e9 since the clock's zero), so
//    a VS run is deterministic. TMR_STS is set whenever bit 23 of the timer toggles (every
//    2^23 ticks, about 2.34 s), whether TMR_EN is set or not; it is computed lazily at each
//    access, and nextDeadlineNs() reports the next toggle while it could raise the SCI
//    (TMR_EN and SCI_EN set, TMR_STS still clear);
//  - the SCI (level, active high; the board wires it to ISA IRQ 9, which the BIOS programs as
//    level-triggered) is asserted while SCI_EN is set and an enabled status bit is set
//    (PM1_STS & PM1_EN). With SCI_EN clear, events would go to SMI, which is not modelled:
//    the status bits still latch, nothing is signalled;
//  - writing SLP_EN = 1 with SLP_TYP = 0 (\_S5 in hvlab's DSDT, and QEMU's) calls the power-off
//    callback. Other sleep types are logged as unsupported and ignored (no S1-S4, so WAK_STS is
//    never set by the hardware);
//  - pressPowerButton() sets PWRBTN_STS (the SCI follows if PWRBTN_EN and SCI_EN are set).
//    The power-button override (4 s hold) is not modelled.
//
// Threading: not thread-safe; every call belongs to the thread that runs the guest (the GUI's
// power button goes through the VM session's command queue).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "devices/bus.hpp"
#include "devices/clock.hpp"
#include "devices/pci_function.hpp"

namespace hvlab::devices {

namespace piix4pm {
inline constexpr uint16_t kVendorIntel = 0x8086;
inline constexpr uint16_t kDeviceId = 0x7113;
inline constexpr uint8_t kRevision = 0x03;

// Configuration registers.
inline constexpr uint8_t kPmBase = 0x40;      // PMBA, 32 bits
inline constexpr uint8_t kPmRegMisc = 0x80;   // PMREGMISC, 8 bits
inline constexpr uint8_t kPmIoSpaceEnable = 0x01;  // PMREGMISC.PMIOSE
inline constexpr uint16_t kPmBaseMask = 0xFFC0;    // PMBA bits 15:6
inline constexpr uint32_t kPmBaseIoIndicator = 0x01;
inline constexpr uint32_t kBlockSize = 64;

// Offsets in the PM I/O block.
inline constexpr uint32_t kPm1Status = 0x00;
inline constexpr uint32_t kPm1Enable = 0x02;
inline constexpr uint32_t kPm1Control = 0x04;
inline constexpr uint32_t kPmTimer = 0x08;

// PM1_STS / PM1_EN bits.
inline constexpr uint16_t kTimerStatus = 0x0001;        // TMR_STS
inline constexpr uint16_t kPowerButtonStatus = 0x0100;  // PWRBTN_STS
inline constexpr uint16_t kWakeStatus = 0x8000;         // WAK_STS
inline constexpr uint16_t kTimerEnable = 0x0001;        // TMR_EN
inline constexpr uint16_t kGlobalEnable = 0x0020;       // GBL_EN
inline constexpr uint16_t kPowerButtonEnable = 0x0100;  // PWRBTN_EN
inline constexpr uint16_t kRtcEnable = 0x0400;          // RTC_EN

// PM1_CNT bits.
inline constexpr uint16_t kSciEnable = 0x0001;         // SCI_EN
inline constexpr uint16_t kBusMasterReload = 0x0002;   // BM_RLD
inline constexpr uint16_t kGlobalRelease = 0x0004;     // GBL_RLS (write-only)
inline constexpr unsigned kSleepTypeShift = 10;
inline constexpr uint16_t kSleepTypeMask = 0x1C00;     // SLP_TYP
inline constexpr uint16_t kSleepEnable = 0x2000;       // SLP_EN (write-only)
inline constexpr uint8_t kSleepTypeSoftOff = 0;        // \_S5 in the DSDT

// The PM timer.
inline constexpr uint64_t kTimerHz = 3579545;
inline constexpr uint32_t kTimerMask = 0x00FFFFFF;
inline constexpr unsigned kTimerStatusBit = 23;  // TMR_STS follows toggles of this bit

// PM timer ticks that have occurred at or before `ns`, and the first ns at which tick `tick`
// has occurred (timerTicksAt(nsAtTimerTick(t)) == t).
uint64_t timerTicksAt(uint64_t ns);
uint64_t nsAtTimerTick(uint64_t tick);
}  // namespace piix4pm

// A side-effect-free view of the function, for the debugger and tests.
struct Piix4PmState {
    uint32_t pmBase = 0;                // PMBA as the guest reads it
    bool ioSpaceEnabled = false;        // PMREGMISC.PMIOSE
    std::optional<uint16_t> mappedAt;   // where the block is on the IoBus now
    bool conflict = false;              // decoding wanted but the ports belong to another device
    uint16_t pm1Status = 0, pm1Enable = 0, pm1Control = 0;
    uint32_t timer = 0;
    bool sci = false;
};

class Piix4Pm final : public PciFunction, public PortDevice, public TimedDevice {
public:
    using PowerOffCallback = std::function<void(std::string why)>;

    // `io` is where the PM block is attached when the guest enables it; `sci` (may be nullptr)
    // is driven with the SCI level. Both, and the clock, must outlive the function.
    Piix4Pm(const Clock& clock, IoBus& io, IrqLine* sci);
    ~Piix4Pm() override;
    Piix4Pm(const Piix4Pm&) = delete;
    Piix4Pm& operator=(const Piix4Pm&) = delete;

    // Called (from inside the guest's I/O write) when the guest enters S5. The callee should
    // stop the VM after this exit; it must not destroy the function from inside the call.
    void onPowerOff(PowerOffCallback callback) { powerOff_ = std::move(callback); }
    // The host presses the power button: PWRBTN_STS is set, the SCI rises if enabled.
    void pressPowerButton();

    // The PM I/O block, routed by the IoBus.
    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "piix4-pm"; }

    void advanceTo(uint64_t nowNs) override;
    uint64_t nextDeadlineNs() const override;

    Piix4PmState state() const;

protected:
    uint32_t extendedConfigRead(uint8_t offset, unsigned size) const override;
    void extendedConfigWrite(uint8_t offset, unsigned size, uint32_t value) override;

private:
    // What TMR_STS would be after syncing the timer to `ticks` (no state change).
    bool timerToggledBy(uint64_t ticks) const;
    void syncTimer(uint64_t ticks);
    void syncToClock() { syncTimer(piix4pm::timerTicksAt(clock_.nowNs())); }
    uint32_t timerValue() const;

    uint8_t readRegisterByte(uint32_t offset) const;
    // Returns false when the write powered the machine off (stop touching the device).
    bool writeRegisterByte(uint32_t offset, uint8_t value);
    bool requestSleep();
    void updateSci();

    uint16_t pmBaseAddress() const;
    void updateMapping();

    const Clock& clock_;
    IoBus& io_;
    IrqLine* const sci_;
    PowerOffCallback powerOff_;

    uint16_t status_ = 0;
    uint16_t enable_ = 0;
    uint16_t control_ = 0;
    uint64_t timerTicksSynced_ = 0;  // TMR_STS accounts for every toggle up to this tick
    bool sciLevel_ = false;

    std::optional<uint16_t> mappedAt_;
    bool conflict_ = false;
};

}  // namespace hvlab::devices
