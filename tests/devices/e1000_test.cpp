// The Intel 82540EM as a guest driver sees it: PCI identity, EEPROM, PHY, interrupts, the
// transmit and receive rings, filtering, offloads, statistics, reset and malformed input.
#include <catch2/catch.hpp>

#include "tests/devices/vector_memory.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "devices/e1000.hpp"
#include "devices/e1000_offload.hpp"
#include "devices/e1000_regs.hpp"
#include "devices/virtual_switch.hpp"

using namespace hvlab::devices;
using namespace hvlab::devices::e1000;
using hvlab::test::VectorMemory;

namespace {

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr MacAddress kPeerMac = {0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC};
constexpr MacAddress kBroadcast = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};


constexpr uint64_t kTxRing = 0x1000;
constexpr uint64_t kTxBuffers = 0x4000;
constexpr uint64_t kRxRing = 0x8000;
constexpr uint64_t kRxBuffers = 0x10000;

// Ethernet frame: destination, source, EtherType, payload (at least 60 bytes in total).
std::vector<uint8_t> ethernetFrame(const MacAddress& dst, const MacAddress& src, uint16_t type, size_t payload = 46,
                                   uint8_t fill = 0x5A) {
    std::vector<uint8_t> f(dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    f.push_back(static_cast<uint8_t>(type >> 8));
    f.push_back(static_cast<uint8_t>(type));
    for (size_t i = 0; i < payload; ++i) f.push_back(static_cast<uint8_t>(fill + i));
    return f;
}

uint16_t be16(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t be32(const std::vector<uint8_t>& b, size_t at) { return uint32_t{be16(b, at)} << 16 | be16(b, at + 2); }
void putBe16(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

// IPv4 (20-byte header at 14) + UDP or TCP, checksums left as a Linux driver leaves them for
// offload: IP checksum 0, transport checksum = the pseudo-header sum (with the length unless TSO).
std::vector<uint8_t> ipv4Packet(uint8_t protocol, size_t payload, bool pseudoWithLength = true) {
    const size_t transportHeader = protocol == 6 ? 20 : 8;
    std::vector<uint8_t> f = ethernetFrame(kPeerMac, kMac, 0x0800, 20 + transportHeader + payload);
    const size_t ip = 14, l4 = 34;
    std::fill(f.begin() + ip, f.begin() + l4 + static_cast<long>(transportHeader), 0);
    f[ip] = 0x45;
    putBe16(f, ip + 2, static_cast<uint32_t>(20 + transportHeader + payload));
    putBe16(f, ip + 4, 0x1234);  // identification
    f[ip + 8] = 64;
    f[ip + 9] = protocol;
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
    std::copy(src, src + 4, f.begin() + ip + 12);
    std::copy(dst, dst + 4, f.begin() + ip + 16);
    putBe16(f, l4, 1234);      // source port
    putBe16(f, l4 + 2, 5678);  // destination port
    const size_t l4Length = transportHeader + payload;
    if (protocol == 17) putBe16(f, l4 + 4, static_cast<uint32_t>(l4Length));
    if (protocol == 6) {
        f[l4 + 4] = 0x10;  // sequence 0x10000000
        f[l4 + 12] = 0x50;  // data offset 5
        f[l4 + 13] = 0x19;  // FIN | PSH | ACK
    }
    std::vector<uint8_t> pseudo = {10, 0, 0, 1, 10, 0, 0, 2, 0, protocol, 0, 0};
    if (pseudoWithLength) putBe16(pseudo, 10, static_cast<uint32_t>(l4Length));
    putBe16(f, l4 + (protocol == 6 ? 16 : 6), onesComplementSum(pseudo));
    return f;
}

// Verifies the IPv4 header and TCP/UDP checksums of a frame built by ipv4Packet().
bool checksumsValid(const std::vector<uint8_t>& f) {
    if (onesComplementSum(std::span(f).subspan(14, 20)) != 0xFFFF) return false;
    const size_t l4Length = be16(f, 16) - 20u;
    std::vector<uint8_t> pseudo(f.begin() + 26, f.begin() + 34);
    pseudo.push_back(0);
    pseudo.push_back(f[23]);
    pseudo.push_back(static_cast<uint8_t>(l4Length >> 8));
    pseudo.push_back(static_cast<uint8_t>(l4Length));
    const uint16_t partial = onesComplementSum(pseudo);
    return onesComplementSum(std::span(f).subspan(34, l4Length), partial) == 0xFFFF;
}

struct NicFixture {
    VectorMemory memory{1 << 20};
    LatchedIrqLine irq;
    E1000 nic{kMac, memory};
    VirtualSwitch net;
    VirtualSwitch::Port* nicPort = nullptr;
    VirtualSwitch::Port* probe = nullptr;  // the far end of the cable: what the NIC sends arrives here

    NicFixture() {
        nic.connectIrq(&irq);
        nic.configWrite(pci::kCommand, 2, pci::kCommandIo | pci::kCommandMemory | pci::kCommandBusMaster);
    }

    uint32_t rd(uint32_t offset) { return static_cast<uint32_t>(nic.barMmioRead(0, offset, 4)); }
    void wr(uint32_t offset, uint32_t value) { nic.barMmioWrite(0, offset, 4, value); }

    // Attaches the NIC to a switch with a probe port, and forgets the link-change interrupt.
    void plugIn() {
        nicPort = net.connect("nic");
        probe = net.connect("probe");
        nic.attach(nicPort);
        rd(kIcr);
    }
    std::vector<std::vector<uint8_t>> sent() {
        std::vector<std::vector<uint8_t>> frames;
        probe->drain([&](std::span<const uint8_t> f) {
            frames.emplace_back(f.begin(), f.end());
            return true;
        });
        return frames;
    }

    uint32_t mdic(uint32_t op, uint8_t reg, uint16_t data = 0, uint8_t phyAddress = phy::kAddress) {
        wr(kMdic, op | uint32_t{phyAddress} << kMdicPhyShift | uint32_t{reg} << kMdicRegShift | data);
        return rd(kMdic);
    }
    uint16_t phyRead(uint8_t reg) { return static_cast<uint16_t>(mdic(kMdicOpRead, reg) & kMdicDataMask); }

    // ---- transmit ----
    void setupTx(uint32_t descriptors = 8) {
        wr(kTdbal, static_cast<uint32_t>(kTxRing));
        wr(kTdbah, 0);
        wr(kTdlen, descriptors * kDescriptorSize);
        wr(kTdh, 0);
        wr(kTdt, 0);
        wr(kTctl, kTctlEn | kTctlPsp);
    }
    void legacyDescriptor(uint32_t index, uint64_t buffer, uint16_t length, uint8_t command, uint8_t cso = 0,
                          uint8_t css = 0) {
        const uint64_t d = kTxRing + index * kDescriptorSize;
        memory.put(d, buffer, 8);
        memory.put(d + 8, length | uint32_t{cso} << 16 | uint32_t{command} << 24, 4);
        memory.put(d + 12, uint32_t{css} << 8, 4);
    }
    void contextDescriptor(uint32_t index, const TxOffloadContext& c, bool tse) {
        const uint64_t d = kTxRing + index * kDescriptorSize;
        memory.put(d, c.ipcss | uint32_t{c.ipcso} << 8 | uint32_t{c.ipcse} << 16, 4);
        memory.put(d + 4, c.tucss | uint32_t{c.tucso} << 8 | uint32_t{c.tucse} << 16, 4);
        const uint8_t tucmd = static_cast<uint8_t>(kTxCmdDext | (c.tcp ? kTxTucmdTcp : 0) | (c.ipv4 ? kTxTucmdIp : 0) |
                                                   (tse ? kTxCmdTse : 0));
        memory.put(d + 8, c.payloadLength | uint32_t{kTxDtypContext} << 20 | uint32_t{tucmd} << 24, 4);
        memory.put(d + 12, uint32_t{c.headerLength} << 8 | uint32_t{c.mss} << 16, 4);
    }
    void dataDescriptor(uint32_t index, uint64_t buffer, uint32_t length, uint8_t command, uint8_t popts) {
        const uint64_t d = kTxRing + index * kDescriptorSize;
        memory.put(d, buffer, 8);
        memory.put(d + 8, length | uint32_t{kTxDtypData} << 20 | uint32_t{static_cast<uint8_t>(command | kTxCmdDext)} << 24, 4);
        memory.put(d + 12, uint32_t{popts} << 8, 4);
    }
    void putBuffer(uint64_t at, const std::vector<uint8_t>& data) {
        std::copy(data.begin(), data.end(), memory.bytes.begin() + static_cast<long>(at));
    }
    uint8_t txStatus(uint32_t index) { return memory.bytes[kTxRing + index * kDescriptorSize + 12]; }

    // ---- receive ----
    void setupRx(uint32_t descriptors, uint32_t bufferSize, uint32_t rctlExtra) {
        for (uint32_t i = 0; i < descriptors; ++i) memory.put(kRxRing + i * kDescriptorSize, kRxBuffers + i * 0x1000, 8);
        wr(kRdbal, static_cast<uint32_t>(kRxRing));
        wr(kRdbah, 0);
        wr(kRdlen, descriptors * kDescriptorSize);
        wr(kRdh, 0);
        wr(kRdt, descriptors - 1);  // every descriptor but one belongs to the hardware
        uint32_t bsize = 0;
        switch (bufferSize) {
        case 2048: bsize = 0; break;
        case 1024: bsize = 1; break;
        case 512: bsize = 2; break;
        default: bsize = 3; break;  // 256
        }
        wr(kRctl, kRctlEn | bsize << kRctlBsizeShift | rctlExtra);
    }
    uint16_t rxLength(uint32_t i) { return static_cast<uint16_t>(memory.get(kRxRing + i * kDescriptorSize + 8, 2)); }
    uint8_t rxStatus(uint32_t i) { return memory.bytes[kRxRing + i * kDescriptorSize + 12]; }
    uint8_t rxErrors(uint32_t i) { return memory.bytes[kRxRing + i * kDescriptorSize + 13]; }
    std::vector<uint8_t> rxBuffer(uint32_t i, size_t length) {
        auto begin = memory.bytes.begin() + static_cast<long>(kRxBuffers + i * 0x1000);
        return {begin, begin + static_cast<long>(length)};
    }
};

// Shifts `bits` bits of `value` out to the Microwire EEPROM, MSB first, as Linux's
// e1000_shift_out_ee_bits does: DI set up, clock high, clock low.
void microwireShiftOut(NicFixture& f, uint32_t value, unsigned bits) {
    for (unsigned i = bits; i-- > 0;) {
        const uint32_t di = (value >> i) & 1 ? kEecdDi : 0;
        f.wr(kEecd, kEecdCs | kEecdReq | di);
        f.wr(kEecd, kEecdCs | kEecdReq | di | kEecdSk);
        f.wr(kEecd, kEecdCs | kEecdReq | di);
    }
}

uint16_t microwireReadWord(NicFixture& f, uint8_t address) {
    f.wr(kEecd, kEecdReq);
    REQUIRE((f.rd(kEecd) & kEecdGnt) != 0);
    f.wr(kEecd, kEecdReq | kEecdCs);
    microwireShiftOut(f, 0b110, 3);  // start bit + READ
    microwireShiftOut(f, address, 6);
    uint16_t word = 0;
    for (int i = 0; i < 16; ++i) {
        f.wr(kEecd, kEecdCs | kEecdReq | kEecdSk);
        word = static_cast<uint16_t>(word << 1 | ((f.rd(kEecd) & kEecdDo) ? 1 : 0));
        f.wr(kEecd, kEecdCs | kEecdReq);
    }
    f.wr(kEecd, 0);  // deselect
    return word;
}

}  // namespace

// ---- identity, EEPROM, PHY ---------------------------------------------------------------------

TEST_CASE("e1000: PCI identity, BARs and interrupt pin", "[e1000]") {
    NicFixture f;
    CHECK(f.nic.configRead(pci::kVendorId, 4) == 0x100E8086u);
    CHECK(f.nic.configRead(pci::kRevision, 4) == 0x02000003u);  // class 02 00 00, revision 3
    CHECK(f.nic.configRead(pci::kSubsystemVendorId, 4) == 0x001E8086u);
    CHECK(f.nic.configRead(pci::kInterruptPin, 1) == 1u);
    CHECK(f.nic.bar(0).kind == BarKind::Memory32);
    CHECK(f.nic.bar(0).size == 0x20000u);
    CHECK(f.nic.bar(1).kind == BarKind::Io);
    CHECK(f.nic.bar(1).size == 0x40u);
}

TEST_CASE("e1000: EERD reads the MAC address and a valid checksum", "[e1000]") {
    NicFixture f;
    auto eerd = [&](uint32_t word) {
        f.wr(kEerd, word << kEerdAddrShift | kEerdStart);
        const uint32_t v = f.rd(kEerd);
        REQUIRE((v & kEerdDone) != 0);
        return static_cast<uint16_t>(v >> kEerdDataShift);
    };
    CHECK(eerd(0) == 0x5452);  // 52:54
    CHECK(eerd(1) == 0x1200);  // 00:12
    CHECK(eerd(2) == 0x5634);  // 34:56
    CHECK(eerd(0x0D) == 0x100E);
    CHECK(eerd(0x0E) == 0x8086);
    uint16_t sum = 0;
    for (uint32_t w = 0; w <= 0x3F; ++w) sum = static_cast<uint16_t>(sum + eerd(w));
    CHECK(sum == 0xBABA);
    // Without START nothing is read and DONE stays clear.
    f.wr(kEerd, 1u << kEerdAddrShift);
    CHECK((f.rd(kEerd) & kEerdDone) == 0);
}

TEST_CASE("e1000: the EEPROM answers bit-banged Microwire reads through EECD", "[e1000]") {
    NicFixture f;
    const uint32_t eecd = f.rd(kEecd);
    CHECK((eecd & kEecdPres) != 0);
    CHECK((eecd & kEecdSize) == 0);  // a 64-word part
    CHECK(microwireReadWord(f, 0) == 0x5452);
    CHECK(microwireReadWord(f, 2) == 0x5634);
    CHECK(microwireReadWord(f, 0x3F) == f.nic.eeprom().word(0x3F));
}

TEST_CASE("e1000: receive address 0 is loaded from the EEPROM and valid", "[e1000]") {
    NicFixture f;
    CHECK(f.rd(kRal0) == 0x12005452u);
    CHECK(f.rd(kRah0) == (0x5634u | kRahAv));
    CHECK(f.rd(kRal0 + 8) == 0u);  // the other 15 pairs start invalid
}

TEST_CASE("e1000: MDIC reaches the Marvell PHY at address 1", "[e1000]") {
    NicFixture f;
    CHECK(f.phyRead(phy::kId1) == 0x0141);
    CHECK(f.phyRead(phy::kId2) == 0x0C20);
    CHECK(f.phyRead(phy::kControl) == 0x1140);
    CHECK((f.mdic(kMdicOpRead, phy::kId1) & kMdicReady) != 0);
    CHECK((f.phyRead(phy::kStatus) & phy::kStatusLinkUp) == 0);  // no cable yet
    f.plugIn();
    const uint16_t status = f.phyRead(phy::kStatus);
    CHECK((status & phy::kStatusLinkUp) != 0);
    CHECK((status & phy::kStatusAutonegComplete) != 0);
    CHECK(f.phyRead(phy::kAutonegAdvertisement) == 0x0DE1);
    CHECK(f.phyRead(phy::kLinkPartnerAbility) != 0);
    CHECK(f.phyRead(phy::k1000BaseTStatus) == 0x3C00);

    // Writes to a writable register stick; the ID registers are read-only.
    f.mdic(kMdicOpWrite, phy::kAutonegAdvertisement, 0x01E1);
    CHECK(f.phyRead(phy::kAutonegAdvertisement) == 0x01E1);
    f.mdic(kMdicOpWrite, phy::kId1, 0xFFFF);
    CHECK(f.phyRead(phy::kId1) == 0x0141);
    // PHY reset restores defaults and self-clears.
    f.mdic(kMdicOpWrite, phy::kControl, phy::kControlReset);
    CHECK(f.phyRead(phy::kControl) == 0x1140);
    CHECK(f.phyRead(phy::kAutonegAdvertisement) == 0x0DE1);

    // No PHY at another address: the error bit.
    CHECK((f.mdic(kMdicOpRead, phy::kId1, 0, 2) & kMdicError) != 0);
    CHECK((f.mdic(kMdicOpRead, phy::kId1) & kMdicError) == 0);
}

TEST_CASE("e1000: MDIC raises MDAC when its interrupt bit asks", "[e1000]") {
    NicFixture f;
    f.wr(kIms, kIntMdac);
    f.mdic(kMdicOpRead, phy::kStatus);
    CHECK_FALSE(f.irq.level());
    f.wr(kMdic, kMdicOpRead | kMdicInterrupt | uint32_t{phy::kAddress} << kMdicPhyShift);
    CHECK(f.irq.level());
    CHECK(f.rd(kIcr) == kIntMdac);
    CHECK_FALSE(f.irq.level());
}

TEST_CASE("e1000: link follows the cable and PHY power; changes raise LSC", "[e1000]") {
    NicFixture f;
    f.wr(kIms, kIntLsc);
    CHECK((f.rd(kStatus) & kStatusLu) == 0);
    f.nic.attach(f.net.connect("nic"));
    CHECK((f.rd(kStatus) & kStatusLu) != 0);
    CHECK((f.rd(kStatus) & kStatusFd) != 0);
    CHECK((f.rd(kStatus) & (3u << 6)) == kStatusSpeed1000);
    CHECK((f.rd(kStatus) & kStatusTxoff) == 0);
    CHECK(f.irq.level());
    CHECK(f.rd(kIcr) == kIntLsc);
    // Powering the PHY down drops the link.
    f.mdic(kMdicOpWrite, phy::kControl, 0x1140 | phy::kControlPowerDown);
    CHECK((f.rd(kStatus) & kStatusLu) == 0);
    CHECK(f.rd(kIcr) == kIntLsc);
    f.mdic(kMdicOpWrite, phy::kControl, 0x1140);
    CHECK((f.rd(kStatus) & kStatusLu) != 0);
    // So does holding the PHY in reset, and unplugging.
    f.rd(kIcr);
    f.wr(kCtrl, f.rd(kCtrl) | kCtrlPhyRst);
    CHECK((f.rd(kStatus) & kStatusLu) == 0);
    f.wr(kCtrl, f.rd(kCtrl) & ~kCtrlPhyRst);
    CHECK((f.rd(kStatus) & kStatusLu) != 0);
    f.rd(kIcr);
    f.nic.attach(nullptr);
    CHECK((f.rd(kStatus) & kStatusLu) == 0);
    CHECK(f.rd(kIcr) == kIntLsc);
}

// ---- interrupts ------------------------------------------------------------------------------

TEST_CASE("e1000: ICS/IMS/IMC/ICR and the INTx level", "[e1000]") {
    NicFixture f;
    CHECK_FALSE(f.irq.level());
    f.wr(kIcs, kIntRxt0 | kIntTxdw);
    CHECK_FALSE(f.irq.level());  // causes set, all masked
    CHECK(f.nic.peekRegister(kIcr) == (kIntRxt0 | kIntTxdw));
    f.wr(kIms, kIntRxt0);
    CHECK(f.rd(kIms) == kIntRxt0);
    CHECK(f.irq.level());
    CHECK((f.nic.configRead(pci::kStatus, 2) & pci::kStatusInterrupt) != 0);
    f.wr(kImc, kIntRxt0);
    CHECK(f.rd(kIms) == 0u);
    CHECK_FALSE(f.irq.level());
    f.wr(kIms, kIntTxdw | kIntRxt0);
    CHECK(f.irq.level());
    // Reading ICR returns every cause, clears them all and drops the line.
    CHECK(f.rd(kIcr) == (kIntRxt0 | kIntTxdw));
    CHECK_FALSE(f.irq.level());
    CHECK(f.rd(kIcr) == 0u);
    // Writing 1s to ICR clears just those causes.
    f.wr(kIcs, kIntRxt0 | kIntTxdw);
    f.wr(kIcr, kIntTxdw);
    CHECK(f.nic.peekRegister(kIcr) == kIntRxt0);
    CHECK(f.irq.level());
    // Reserved cause bits cannot be set.
    f.rd(kIcr);
    f.wr(kIcs, 0x80000000u);
    CHECK(f.rd(kIcr) == 0u);
}

TEST_CASE("e1000: the I/O BAR reaches the registers through IOADDR/IODATA", "[e1000]") {
    NicFixture f;
    f.nic.barIoWrite(1, kIoAddr, 4, kIms);
    CHECK(f.nic.barIoRead(1, kIoAddr, 4) == kIms);
    f.nic.barIoWrite(1, kIoData, 4, kIntLsc);
    CHECK(f.rd(kIms) == kIntLsc);
    f.nic.barIoWrite(1, kIoAddr, 4, kRal0);
    CHECK(f.nic.barIoRead(1, kIoData, 4) == 0x12005452u);
}

TEST_CASE("e1000: unknown registers read 0 and ignore writes; byte accesses merge", "[e1000]") {
    NicFixture f;
    f.wr(0x0004, 0xFFFFFFFF);
    CHECK(f.rd(0x0004) == 0u);
    f.wr(0x1FFFC, 0x12345678);
    CHECK(f.rd(0x1FFFC) == 0u);
    f.wr(kFcal, 0x11223344);
    f.nic.barMmioWrite(0, kFcal + 1, 1, 0xAB);
    CHECK(f.rd(kFcal) == 0x1122AB44u);
    CHECK(f.nic.barMmioRead(0, kFcal + 2, 2) == 0x1122u);
    f.wr(kRdlen, 0x1234);  // ring lengths keep 128-byte granularity
    CHECK(f.rd(kRdlen) == 0x1200u);
}

// ---- transmit --------------------------------------------------------------------------------

TEST_CASE("e1000: a legacy descriptor chain becomes one frame, DD written back", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    f.wr(kIms, kIntTxdw | kIntTxqe);
    const auto frame = ethernetFrame(kPeerMac, kMac, 0x0800, 86);  // 100 bytes
    const std::vector<uint8_t> head(frame.begin(), frame.begin() + 40), tail(frame.begin() + 40, frame.end());
    f.putBuffer(kTxBuffers, head);
    f.putBuffer(kTxBuffers + 0x800, tail);
    f.legacyDescriptor(0, kTxBuffers, 40, kTxCmdRs | kTxCmdIfcs);
    f.legacyDescriptor(1, kTxBuffers + 0x800, 60, kTxCmdRs | kTxCmdIfcs | kTxCmdEop);
    f.wr(kTdt, 2);

    const auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0] == frame);
    CHECK(f.rd(kTdh) == 2u);
    CHECK((f.txStatus(0) & kTxStaDd) != 0);
    CHECK((f.txStatus(1) & kTxStaDd) != 0);
    CHECK(f.irq.level());
    CHECK(f.rd(kIcr) == (kIntTxdw | kIntTxqe));
    CHECK(f.rd(kGptc) == 1u);
    CHECK(f.rd(kTpt) == 1u);
    CHECK(f.rd(kGotcl) == 104u);  // octets including the FCS
    CHECK(f.rd(kGotch) == 0u);
    CHECK(f.rd(kGotcl) == 0u);    // cleared by reading the high half
    CHECK(f.rd(kGptc) == 0u);     // read-to-clear

    // Without RS there is no write-back and no TXDW, but TXQE still reports the empty queue.
    f.putBuffer(kTxBuffers, frame);
    f.legacyDescriptor(2, kTxBuffers, 100, kTxCmdEop);
    f.wr(kTdt, 3);
    CHECK(f.sent().size() == 1);
    CHECK((f.txStatus(2) & kTxStaDd) == 0);
    CHECK(f.rd(kIcr) == kIntTxqe);
}

TEST_CASE("e1000: transmit waits for TCTL.EN and bus mastering, pads short frames", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    f.wr(kTctl, 0);
    const auto shortFrame = ethernetFrame(kPeerMac, kMac, 0x88B5, 10);  // 24 bytes
    f.putBuffer(kTxBuffers, shortFrame);
    f.legacyDescriptor(0, kTxBuffers, 24, kTxCmdEop | kTxCmdRs);
    f.wr(kTdt, 1);
    CHECK(f.sent().empty());
    CHECK(f.rd(kTdh) == 0u);
    f.nic.configWrite(pci::kCommand, 2, pci::kCommandMemory);
    f.wr(kTctl, kTctlEn | kTctlPsp);
    CHECK(f.sent().empty());  // no bus mastering, no DMA
    f.nic.configWrite(pci::kCommand, 2, pci::kCommandMemory | pci::kCommandBusMaster);
    f.wr(kTctl, kTctlEn | kTctlPsp);
    const auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == 60);  // padded to 64 bytes on the wire
    CHECK(std::equal(shortFrame.begin(), shortFrame.end(), out[0].begin()));
    CHECK(out[0][59] == 0);
}

TEST_CASE("e1000: legacy checksum insertion at CSO from CSS", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    auto frame = ethernetFrame(kPeerMac, kMac, 0x88B5, 46);
    frame[20] = frame[21] = 0;  // the checksum field
    f.putBuffer(kTxBuffers, frame);
    f.legacyDescriptor(0, kTxBuffers, static_cast<uint16_t>(frame.size()), kTxCmdEop | kTxCmdIc, 20, 14);
    f.wr(kTdt, 1);
    const auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(onesComplementSum(std::span(out[0]).subspan(14)) == 0xFFFF);
}

TEST_CASE("e1000: context descriptor offloads the IP and UDP checksums", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    const auto packet = ipv4Packet(17, 100);
    REQUIRE_FALSE(checksumsValid(packet));
    TxOffloadContext c;
    c.ipcss = 14;
    c.ipcso = 14 + 10;
    c.ipcse = 14 + 19;
    c.tucss = 34;
    c.tucso = 34 + 6;
    c.tucse = 0;
    c.ipv4 = true;
    f.contextDescriptor(0, c, false);
    f.putBuffer(kTxBuffers, packet);
    f.dataDescriptor(1, kTxBuffers, 50, 0, kTxPoptsIxsm | kTxPoptsTxsm);
    f.dataDescriptor(2, kTxBuffers + 50, static_cast<uint32_t>(packet.size() - 50), kTxCmdEop | kTxCmdRs, 0);
    f.wr(kTdt, 3);
    const auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == packet.size());
    CHECK(checksumsValid(out[0]));
    CHECK(be16(out[0], 24) != 0);
    CHECK((f.txStatus(2) & kTxStaDd) != 0);
}

TEST_CASE("e1000: TCP segmentation splits a packet per MSS with fixed-up headers", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    const size_t payload = 2500;
    const auto packet = ipv4Packet(6, payload, false);  // TSO: pseudo-header sum without length
    TxOffloadContext c;
    c.ipcss = 14;
    c.ipcso = 24;
    c.ipcse = 33;
    c.tucss = 34;
    c.tucso = 50;
    c.tcp = true;
    c.ipv4 = true;
    c.headerLength = 54;
    c.mss = 1000;
    c.payloadLength = payload;
    f.contextDescriptor(0, c, true);
    f.putBuffer(kTxBuffers, packet);
    f.dataDescriptor(1, kTxBuffers, 54, kTxCmdTse, kTxPoptsIxsm | kTxPoptsTxsm);
    f.dataDescriptor(2, kTxBuffers + 54, static_cast<uint32_t>(payload), kTxCmdTse | kTxCmdEop | kTxCmdRs, 0);
    f.wr(kTdt, 3);
    const auto out = f.sent();
    REQUIRE(out.size() == 3);
    const size_t sizes[] = {1000, 1000, 500};
    for (size_t i = 0; i < 3; ++i) {
        INFO("segment " << i);
        CHECK(out[i].size() == 54 + sizes[i]);
        CHECK(be16(out[i], 16) == 40 + sizes[i]);                 // IP total length
        CHECK(be16(out[i], 18) == 0x1234 + i);                    // IP identification
        CHECK(be32(out[i], 38) == 0x10000000u + 1000 * i);        // TCP sequence
        CHECK((out[i][47] & 0x09) == (i == 2 ? 0x09 : 0x00));     // FIN/PSH only on the last
        CHECK((out[i][47] & 0x10) != 0);                          // ACK everywhere
        CHECK(checksumsValid(out[i]));
        CHECK(std::equal(out[i].begin() + 54, out[i].end(), packet.begin() + 54 + static_cast<long>(1000 * i)));
    }
    CHECK(f.nic.counters().txTsoPackets == 1);
    CHECK(f.rd(kTsctc) == 1u);
}

TEST_CASE("e1000: VLAN tag insertion on transmit in VLAN mode", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    f.wr(kCtrl, f.rd(kCtrl) | kCtrlVme);
    const auto frame = ethernetFrame(kPeerMac, kMac, 0x0800, 46);
    f.putBuffer(kTxBuffers, frame);
    f.legacyDescriptor(0, kTxBuffers, 60, kTxCmdEop | kTxCmdVle);
    f.memory.put(kTxRing + 14, 0x2005, 2);  // special: priority 1, VLAN 5
    f.wr(kTdt, 1);
    const auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == 64);
    CHECK(be16(out[0], 12) == 0x8100);
    CHECK(be16(out[0], 14) == 0x2005);
    CHECK(be16(out[0], 16) == 0x0800);
}

TEST_CASE("e1000: malformed transmit descriptors are dropped and counted, never fatal", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupTx();
    SECTION("a buffer outside RAM") {
        f.legacyDescriptor(0, 0x7FFF0000, 100, kTxCmdEop | kTxCmdRs);
        f.wr(kTdt, 1);
        CHECK(f.sent().empty());
        CHECK(f.nic.counters().txDropped == 1);
        CHECK(f.nic.counters().txDmaErrors == 1);
        CHECK((f.txStatus(0) & kTxStaDd) != 0);  // DD still written back
        CHECK(f.rd(kTdh) == 1u);
    }
    SECTION("a buffer address that wraps around 2^64") {
        f.legacyDescriptor(0, 0xFFFFFFFFFFFFFFF0ull, 0xFFFF, kTxCmdEop | kTxCmdRs);
        f.wr(kTdt, 1);
        CHECK(f.sent().empty());
        CHECK(f.nic.counters().txDropped == 1);
    }
    SECTION("a frame longer than 16 KiB") {
        for (uint32_t i = 0; i < 5; ++i) f.legacyDescriptor(i, kTxBuffers, 4000, i == 4 ? kTxCmdEop : 0);
        f.wr(kTdt, 5);
        CHECK(f.sent().empty());
        CHECK(f.nic.counters().txDropped == 1);
        // The next packet goes through normally.
        f.putBuffer(kTxBuffers, ethernetFrame(kPeerMac, kMac, 0x0800));
        f.legacyDescriptor(5, kTxBuffers, 60, kTxCmdEop);
        f.wr(kTdt, 6);
        CHECK(f.sent().size() == 1);
    }
    SECTION("a ring outside RAM") {
        f.wr(kTdbal, 0xFFFF0000);
        f.wr(kTdt, 4);
        CHECK(f.sent().empty());
        CHECK(f.nic.counters().txDmaErrors == 4);
        CHECK(f.rd(kTdh) == 4u);
    }
    SECTION("a tail beyond the ring") {
        f.wr(kTdt, 200);
        CHECK(f.nic.counters().txRingErrors == 1);
        CHECK(f.rd(kTdh) == 0u);
    }
    SECTION("a TSO context that cannot describe the packet") {
        TxOffloadContext c;
        c.tcp = true;
        c.ipv4 = true;
        c.headerLength = 54;
        c.mss = 0;
        f.contextDescriptor(0, c, true);
        f.putBuffer(kTxBuffers, ipv4Packet(6, 200, false));
        f.dataDescriptor(1, kTxBuffers, 254, kTxCmdTse | kTxCmdEop, kTxPoptsTxsm);
        f.wr(kTdt, 2);
        CHECK(f.sent().empty());
        CHECK(f.rd(kTsctfc) == 1u);
    }
}

// ---- receive ---------------------------------------------------------------------------------

TEST_CASE("e1000: receive filtering by address", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 2048, kRctlSecrc);
    const auto toUs = ethernetFrame(kMac, kPeerMac, 0x0800);
    const auto toOther = ethernetFrame({0x52, 0x54, 0, 0, 0, 1}, kPeerMac, 0x0800);
    const auto broadcast = ethernetFrame(kBroadcast, kPeerMac, 0x0806);
    const MacAddress group = {0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB};
    const auto multicast = ethernetFrame(group, kPeerMac, 0x0800);

    CHECK(f.nic.receiveFrame(toUs));
    CHECK(f.nic.counters().rxFrames == 1);
    CHECK(f.nic.receiveFrame(toOther));  // consumed, but filtered out
    CHECK(f.nic.counters().rxFrames == 1);
    CHECK(f.nic.counters().rxFiltered == 1);
    CHECK(f.nic.receiveFrame(broadcast));
    CHECK(f.nic.counters().rxFrames == 1);  // BAM off
    CHECK(f.nic.receiveFrame(multicast));
    CHECK(f.nic.counters().rxFrames == 1);  // no MTA bit, no MPE

    f.wr(kRctl, f.rd(kRctl) | kRctlBam);
    f.nic.receiveFrame(broadcast);
    CHECK(f.nic.counters().rxFrames == 2);
    f.wr(kRctl, f.rd(kRctl) | kRctlUpe);
    f.nic.receiveFrame(toOther);
    CHECK(f.nic.counters().rxFrames == 3);
    f.wr(kRctl, f.rd(kRctl) & ~kRctlUpe);

    // Multicast through the hash table, MO = 0: bits 47:36 of the address -> 0xFB0.
    const unsigned hash = (0x00 >> 4 | 0xFB << 4) & 0xFFF;
    f.wr(kMta + 4 * (hash >> 5), 1u << (hash & 31));
    f.nic.receiveFrame(multicast);
    CHECK(f.nic.counters().rxFrames == 4);
    f.wr(kMta + 4 * (hash >> 5), 0);
    f.wr(kRctl, f.rd(kRctl) | kRctlMpe);
    f.nic.receiveFrame(multicast);
    CHECK(f.nic.counters().rxFrames == 5);

    // A second exact filter (RAL1/RAH1) with the address-valid bit.
    f.wr(kRal0 + 8, 0x00005452);
    f.wr(kRah0 + 8, 0x0100 | kRahAv);
    f.nic.receiveFrame(toOther);
    CHECK(f.nic.counters().rxFrames == 6);
    CHECK(f.rd(kGprc) == 6u);
    CHECK(f.rd(kBprc) == 1u);
    CHECK(f.rd(kMprc) == 2u);

    // Receiver disabled: frames are discarded.
    f.wr(kRctl, 0);
    CHECK(f.nic.receiveFrame(toUs));
    CHECK(f.nic.counters().rxFrames == 6);
}

TEST_CASE("e1000: a received frame lands in guest memory with DD|EOP and RXT0", "[e1000]") {
    NicFixture f;
    f.wr(kIms, kIntRxt0);
    f.setupRx(8, 2048, kRctlSecrc);
    const auto frame = ethernetFrame(kMac, kPeerMac, 0x0800, 200);
    REQUIRE(f.nic.receiveFrame(frame));
    CHECK(f.rxLength(0) == frame.size());
    CHECK(f.rxStatus(0) == (kRxStaDd | kRxStaEop | kRxStaIxsm));
    CHECK(f.rxErrors(0) == 0);
    CHECK(f.rxBuffer(0, frame.size()) == frame);
    CHECK(f.rd(kRdh) == 1u);
    CHECK(f.irq.level());
    CHECK((f.rd(kIcr) & kIntRxt0) != 0);
    CHECK(f.rd(kGorcl) == frame.size() + 4);
    CHECK(f.rd(kTpr) == 1u);
}

TEST_CASE("e1000: runts are padded and the FCS kept unless SECRC", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 2048, 0);
    const auto runt = ethernetFrame(kMac, kPeerMac, 0x88B5, 10);  // 24 bytes
    REQUIRE(f.nic.receiveFrame(runt));
    CHECK(f.rxLength(0) == 64);  // 60 bytes of frame + 4 of FCS
    const auto stored = f.rxBuffer(0, 64);
    CHECK(std::equal(runt.begin(), runt.end(), stored.begin()));
    CHECK(stored[59] == 0);
    const uint32_t fcs = ethernetFcs(std::span(stored).first(60));
    CHECK(f.memory.get(kRxBuffers + 60, 4) == fcs);
    // The FCS of a frame followed by its FCS leaves the CRC-32 residue.
    CHECK(ethernetFcs(stored) == 0x2144DF1Cu);
}

TEST_CASE("e1000: a frame larger than a buffer spans descriptors, EOP on the last", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 256, kRctlSecrc);
    const auto frame = ethernetFrame(kMac, kPeerMac, 0x0800, 386);  // 400 bytes
    REQUIRE(f.nic.receiveFrame(frame));
    CHECK(f.rxLength(0) == 256);
    CHECK(f.rxStatus(0) == kRxStaDd);
    CHECK(f.rxLength(1) == 144);
    CHECK((f.rxStatus(1) & (kRxStaDd | kRxStaEop)) == (kRxStaDd | kRxStaEop));
    auto joined = f.rxBuffer(0, 256);
    const auto second = f.rxBuffer(1, 144);
    joined.insert(joined.end(), second.begin(), second.end());
    CHECK(joined == frame);
    CHECK(f.rd(kRdh) == 2u);
}

TEST_CASE("e1000: long frames need RCTL.LPE", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 2048, kRctlSecrc | kRctlBsex | (1u << kRctlBsizeShift));  // 16 KiB buffers
    const auto jumbo = ethernetFrame(kMac, kPeerMac, 0x0800, 3000);
    CHECK(f.nic.receiveFrame(jumbo));
    CHECK(f.nic.counters().rxFrames == 0);
    CHECK(f.rd(kRoc) == 1u);
    f.wr(kRctl, f.rd(kRctl) | kRctlLpe);
    CHECK(f.nic.receiveFrame(jumbo));
    CHECK(f.rxLength(0) == jumbo.size());
    const auto full = ethernetFrame(kMac, kPeerMac, 0x0800, 1500);  // a standard 1514-byte frame
    f.wr(kRctl, f.rd(kRctl) & ~kRctlLpe);
    CHECK(f.nic.receiveFrame(full));
    CHECK(f.nic.counters().rxFrames == 2);
}

TEST_CASE("e1000: VLAN stripping and filtering in VLAN mode", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 2048, kRctlSecrc);
    auto tagged = ethernetFrame(kMac, kPeerMac, 0x8100, 50);
    putBe16(tagged, 14, 0x0007);  // VLAN 7
    putBe16(tagged, 16, 0x0800);
    f.wr(kCtrl, f.rd(kCtrl) | kCtrlVme);
    REQUIRE(f.nic.receiveFrame(tagged));
    CHECK(f.rxLength(0) == tagged.size() - 4);
    CHECK((f.rxStatus(0) & kRxStaVp) != 0);
    CHECK(f.memory.get(kRxRing + 14, 2) == 0x0007);  // the tag, in the special field
    CHECK(be16(f.rxBuffer(0, 14), 12) == 0x0800);
    f.wr(kRctl, f.rd(kRctl) | kRctlVfe);
    CHECK(f.nic.receiveFrame(tagged));
    CHECK(f.nic.counters().rxFrames == 1);  // VLAN 7 not in the filter table
    f.wr(kVfta, 1u << 7);
    CHECK(f.nic.receiveFrame(tagged));
    CHECK(f.nic.counters().rxFrames == 2);
}

TEST_CASE("e1000: a full receive ring holds frames back; RXDMT0, RNBC, MPC and RXO", "[e1000]") {
    NicFixture f;
    VirtualSwitch net(nullptr, 3);
    auto* nicPort = net.connect("nic");
    auto* peer = net.connect("peer");
    f.nic.attach(nicPort);
    f.setupRx(8, 2048, kRctlSecrc);  // rings come in multiples of 8 descriptors
    f.wr(kRdt, 3);                     // give the hardware 3 of them
    f.wr(kIms, kIntRxt0 | kIntRxdmt0 | kIntRxo);
    f.rd(kIcr);  // forget the link change
    for (uint8_t i = 0; i < 3; ++i) peer->send(ethernetFrame(kMac, kPeerMac, 0x0800, 46, i));
    f.nic.pollReceive();
    CHECK(f.nic.counters().rxFrames == 3);
    CHECK(f.rd(kRdh) == 3u);
    // Half the ring (4 of 8) or fewer free: the minimum threshold interrupt (RDMTS = 1/2).
    CHECK((f.rd(kIcr) & (kIntRxt0 | kIntRxdmt0)) == (kIntRxt0 | kIntRxdmt0));

    // RDH == RDT: no descriptors. The next frame waits in the port queue.
    const auto waiting = ethernetFrame(kMac, kPeerMac, 0x0800, 46, 0x77);
    peer->send(waiting);
    f.nic.pollReceive();
    CHECK(nicPort->pending() == 1);
    CHECK(f.nic.counters().rxFrames == 3);
    f.nic.pollReceive();
    CHECK(f.rd(kRnbc) == 1u);  // counted once per waiting frame

    // The guest hands over two more descriptors: the waiting frame arrives by itself.
    f.wr(kRdt, 5);
    CHECK(nicPort->pending() == 0);
    CHECK(f.nic.counters().rxFrames == 4);
    CHECK(f.rxBuffer(3, waiting.size()) == waiting);

    // Fill the queue past its capacity of 3 without descriptors: the oldest frames are missed.
    f.wr(kRdt, f.rd(kRdh));
    f.rd(kIcr);
    for (uint8_t i = 0; i < 5; ++i) peer->send(ethernetFrame(kMac, kPeerMac, 0x0800, 46, i));
    f.nic.pollReceive();
    CHECK(f.rd(kMpc) == 2u);
    CHECK((f.rd(kIcr) & kIntRxo) != 0);
    CHECK(f.nic.counters().rxQueueOverruns == 2);
    CHECK(nicPort->pending() == 3);
}

TEST_CASE("e1000: receive DMA outside RAM is reported, never fatal", "[e1000]") {
    NicFixture f;
    f.setupRx(8, 2048, kRctlSecrc);
    const auto frame = ethernetFrame(kMac, kPeerMac, 0x0800);
    SECTION("a buffer outside RAM: the descriptor carries RXE") {
        f.memory.put(kRxRing, 0xFFFFFFF000ull, 8);
        CHECK(f.nic.receiveFrame(frame));
        CHECK((f.rxErrors(0) & kRxErrRxe) != 0);
        CHECK((f.rxStatus(0) & kRxStaDd) != 0);
        CHECK(f.nic.counters().rxDmaErrors == 1);
    }
    SECTION("a ring outside RAM: the frame is dropped") {
        f.wr(kRdbal, 0xFFFF0000);
        CHECK(f.nic.receiveFrame(frame));
        CHECK(f.nic.counters().rxDmaErrors == 1);
        CHECK(f.nic.counters().rxFrames == 0);
    }
    SECTION("a head beyond the ring") {
        f.wr(kRdh, 100);
        CHECK(f.nic.receiveFrame(frame));
        CHECK(f.nic.counters().rxFrames == 0);
        CHECK(f.nic.counters().rxRingErrors == 1);
    }
    SECTION("a frame that can never fit the ring") {
        f.wr(kRctl, kRctlEn | kRctlSecrc | kRctlLpe | (3u << kRctlBsizeShift));  // 256-byte buffers
        CHECK(f.nic.receiveFrame(ethernetFrame(kMac, kPeerMac, 0x0800, 2000)));
        CHECK(f.rd(kMpc) == 1u);
    }
}

// ---- statistics, reset, robustness -------------------------------------------------------------

TEST_CASE("e1000: CTRL.RST resets the registers and self-clears", "[e1000]") {
    NicFixture f;
    f.plugIn();
    f.setupRx(8, 2048, kRctlSecrc);
    f.setupTx();
    f.wr(kIms, kIntRxt0);
    f.wr(kIcs, kIntRxt0);
    f.wr(kRal0, 0xDEADBEEF);
    f.wr(kMta + 8, 0xFFFF);
    f.wr(kVet, 0x88A8);
    f.mdic(kMdicOpWrite, phy::kAutonegAdvertisement, 0x0001);
    REQUIRE(f.irq.level());
    f.wr(kCtrl, f.rd(kCtrl) | kCtrlRst);
    CHECK((f.rd(kCtrl) & kCtrlRst) == 0);
    CHECK_FALSE(f.irq.level());
    CHECK(f.rd(kIms) == 0u);
    CHECK(f.nic.peekRegister(kIcr) == 0u);
    CHECK(f.rd(kRctl) == 0u);
    CHECK(f.rd(kTctl) == 0u);
    CHECK(f.rd(kRdlen) == 0u);
    CHECK(f.rd(kTdbal) == 0u);
    CHECK(f.rd(kRal0) == 0x12005452u);  // reloaded from the EEPROM
    CHECK(f.rd(kMta + 8) == 0u);
    CHECK(f.rd(kVet) == 0x8100u);
    CHECK(f.rd(kPba) == 0x00100030u);
    CHECK(f.phyRead(phy::kAutonegAdvertisement) == 0x0DE1);
    CHECK((f.rd(kStatus) & kStatusLu) != 0);  // the cable is still there
}

TEST_CASE("e1000: random register and descriptor garbage never crashes the device", "[e1000]") {
    NicFixture f;
    f.plugIn();
    std::mt19937 rng(1234);
    for (size_t i = 0; i < 0x4000; ++i) f.memory.bytes[i] = static_cast<uint8_t>(rng());
    const uint32_t interesting[] = {kCtrl, kRctl, kTctl, kRdbal, kRdlen, kRdh, kRdt, kTdbal, kTdlen, kTdh, kTdt,
                                    kEecd, kEerd, kMdic, kIcs, kIms, kRxcsum, kVet, kRal0, kRah0};
    for (int i = 0; i < 20000; ++i) {
        const uint32_t offset = (rng() % 4 == 0) ? (rng() % kMmioSize) : interesting[rng() % std::size(interesting)];
        uint32_t value = static_cast<uint32_t>(rng());
        if (offset == kCtrl) value &= ~kCtrlRst;
        if (offset == kRdbal || offset == kTdbal) value &= 0x3FF0;
        if (offset == kRdlen || offset == kTdlen) value &= 0x3FF80;
        f.wr(offset, value);
        f.rd(offset);
        if (i % 64 == 0) f.nic.receiveFrame(ethernetFrame(kMac, kPeerMac, 0x0800, rng() % 3000));
    }
    f.sent();
    SUCCEED("no crash, no hang");
}
