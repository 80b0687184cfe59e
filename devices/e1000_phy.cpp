#include "devices/e1000_phy.hpp"

#include "devices/e1000_regs.hpp"

namespace hvlab::devices {

using namespace e1000::phy;

namespace {

// Capabilities the status register always shows: 10/100 half/full, extended status (1000BASE-T),
// preamble suppression, autonegotiation ability, extended register set.
constexpr uint16_t kStatusCapabilities = 0x7949;
constexpr uint16_t kPartnerAbilityLinked = 0x41E1;   // ack, 10/100 half/full, IEEE 802.3 selector
constexpr uint16_t kExpansionLinked = 0x0001;        // the partner can autonegotiate
constexpr uint16_t k1000StatusLinked = 0x3C00;       // local/remote receiver OK, partner 1000 FD/HD
constexpr uint16_t kExtendedStatusValue = 0x3000;    // 1000BASE-T full and half duplex capable
constexpr uint16_t kSpecificStatusLinked = 0xAC00;   // 1000 Mb/s, full duplex, resolved, link
constexpr uint16_t kControlSelfClearing = kControlReset | kControlRestartAutoneg;

// Registers whose value comes from the link, not from software.
bool isReadOnly(uint8_t reg) {
    switch (reg) {
    case kStatus:
    case kId1:
    case kId2:
    case kLinkPartnerAbility:
    case kAutonegExpansion:
    case k1000BaseTStatus:
    case kExtendedStatus:
    case kSpecificStatus:
    case kInterruptStatus:
    case kReceiveErrorCounter:
        return true;
    default:
        return false;
    }
}

}  // namespace

void E1000Phy::reset() {
    regs_.fill(0);
    regs_[kControl] = kControlAutonegEnable | kControlFullDuplex | kControlSpeed1000;  // 0x1140
    regs_[kAutonegAdvertisement] = 0x0DE1;  // pause, asym pause, 10/100 half/full, 802.3
    regs_[kNextPageTransmit] = 0x2001;
    regs_[k1000BaseTControl] = 0x0E00;      // advertise 1000 FD/HD, multiport device
    regs_[kSpecificControl] = 0x0360;       // Marvell defaults: auto MDI/MDIX, ...
    regs_[kExtSpecificControl] = 0x0D60;
}

bool E1000Phy::linkUp() const { return cable_ && !(regs_[kControl] & kControlPowerDown); }

uint16_t E1000Phy::read(uint8_t reg) const {
    reg &= kRegisters - 1;
    const bool link = linkUp();
    const bool negotiated = link && (regs_[kControl] & kControlAutonegEnable);
    switch (reg) {
    case kStatus: {
        uint16_t value = kStatusCapabilities;
        if (link) value |= kStatusLinkUp | kStatusAutonegComplete;
        return value;
    }
    case kId1: return kId1Marvell;
    case kId2: return kId2M88E1011;
    case kLinkPartnerAbility: return negotiated ? kPartnerAbilityLinked : 0;
    case kAutonegExpansion: return negotiated ? kExpansionLinked : 0;
    case k1000BaseTStatus: return link ? k1000StatusLinked : 0;
    case kExtendedStatus: return kExtendedStatusValue;
    case kSpecificStatus: return link ? kSpecificStatusLinked : 0;
    case kInterruptStatus:
    case kReceiveErrorCounter: return 0;
    default: return regs_[reg];
    }
}

void E1000Phy::write(uint8_t reg, uint16_t value) {
    reg &= kRegisters - 1;
    if (isReadOnly(reg)) return;
    if (reg == kControl && (value & kControlReset)) {
        // A software reset restores the defaults; the bit self-clears when the reset is done
        // (IEEE 802.3 22.2.4.1.1).
        reset();
        return;
    }
    // Restart-autonegotiation completes at once, so it reads back 0 like reset does.
    regs_[reg] = reg == kControl ? static_cast<uint16_t>(value & ~kControlSelfClearing) : value;
}

}  // namespace hvlab::devices
