// Register offsets, bit fields and descriptor layouts of the Intel 82540EM ("e1000"), as the
// PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual (8254x SDM,
// chapter 13 "Register Descriptions" and chapter 3 "Receive and Transmit Description") names them.
// Shared by the device, its tests and the debugger.
#pragma once

#include <cstdint>

namespace hvlab::devices::e1000 {

// ---- PCI identity (82540EM desktop adapter, as QEMU presents it) --------------------------------
inline constexpr uint16_t kVendorIntel = 0x8086;
inline constexpr uint16_t kDevice82540EM = 0x100E;
inline constexpr uint16_t kSubsystemId = 0x001E;  // Intel PRO/1000 MT Desktop
inline constexpr uint8_t kRevision = 0x03;
inline constexpr uint32_t kMmioSize = 0x20000;  // BAR0: 128 KiB of registers
inline constexpr uint32_t kIoSize = 0x40;       // BAR1: IOADDR/IODATA window

// ---- register offsets (BAR0) -----------------------------------------------------------------
inline constexpr uint32_t kCtrl = 0x0000;
inline constexpr uint32_t kStatus = 0x0008;
inline constexpr uint32_t kEecd = 0x0010;
inline constexpr uint32_t kEerd = 0x0014;
inline constexpr uint32_t kCtrlExt = 0x0018;
inline constexpr uint32_t kMdic = 0x0020;
inline constexpr uint32_t kFcal = 0x0028;
inline constexpr uint32_t kFcah = 0x002C;
inline constexpr uint32_t kFct = 0x0030;
inline constexpr uint32_t kVet = 0x0038;
inline constexpr uint32_t kIcr = 0x00C0;
inline constexpr uint32_t kItr = 0x00C4;
inline constexpr uint32_t kIcs = 0x00C8;
inline constexpr uint32_t kIms = 0x00D0;
inline constexpr uint32_t kImc = 0x00D8;
inline constexpr uint32_t kRctl = 0x0100;
inline constexpr uint32_t kFcttv = 0x0170;
inline constexpr uint32_t kTxcw = 0x0178;
inline constexpr uint32_t kRxcw = 0x0180;
inline constexpr uint32_t kTctl = 0x0400;
inline constexpr uint32_t kTipg = 0x0410;
inline constexpr uint32_t kAifs = 0x0458;
inline constexpr uint32_t kLedctl = 0x0E00;
inline constexpr uint32_t kPba = 0x1000;
inline constexpr uint32_t kFcrtl = 0x2160;
inline constexpr uint32_t kFcrth = 0x2168;
inline constexpr uint32_t kRdbal = 0x2800;
inline constexpr uint32_t kRdbah = 0x2804;
inline constexpr uint32_t kRdlen = 0x2808;
inline constexpr uint32_t kRdh = 0x2810;
inline constexpr uint32_t kRdt = 0x2818;
inline constexpr uint32_t kRdtr = 0x2820;
inline constexpr uint32_t kRxdctl = 0x2828;
inline constexpr uint32_t kRadv = 0x282C;
inline constexpr uint32_t kRsrpd = 0x2C00;
inline constexpr uint32_t kTxdmac = 0x3000;
inline constexpr uint32_t kTdbal = 0x3800;
inline constexpr uint32_t kTdbah = 0x3804;
inline constexpr uint32_t kTdlen = 0x3808;
inline constexpr uint32_t kTdh = 0x3810;
inline constexpr uint32_t kTdt = 0x3818;
inline constexpr uint32_t kTidv = 0x3820;
inline constexpr uint32_t kTxdctl = 0x3828;
inline constexpr uint32_t kTadv = 0x382C;
inline constexpr uint32_t kTspmt = 0x3830;
inline constexpr uint32_t kRxcsum = 0x5000;
inline constexpr uint32_t kMta = 0x5200;   // 128 dwords: the multicast hash table
inline constexpr uint32_t kRal0 = 0x5400;  // 16 pairs RAL/RAH: the exact receive address filters
inline constexpr uint32_t kRah0 = 0x5404;
inline constexpr uint32_t kVfta = 0x5600;  // 128 dwords: the VLAN filter table
inline constexpr uint32_t kWuc = 0x5800;
inline constexpr uint32_t kWufc = 0x5808;
inline constexpr uint32_t kWus = 0x5810;
inline constexpr uint32_t kManc = 0x5820;
inline constexpr uint32_t kIpav = 0x5838;
inline constexpr unsigned kMtaEntries = 128;
inline constexpr unsigned kReceiveAddresses = 16;
inline constexpr unsigned kVftaEntries = 128;

// Statistics (0x4000-0x40FC): all read-to-clear; 64-bit pairs clear when the high half is read.
inline constexpr uint32_t kStatsFirst = 0x4000;
inline constexpr uint32_t kStatsLast = 0x40FC;
inline constexpr uint32_t kCrcerrs = 0x4000;
inline constexpr uint32_t kMpc = 0x4010;     // missed packets (receive FIFO overrun)
inline constexpr uint32_t kRnbc = 0x40A0;    // receive no buffers
inline constexpr uint32_t kRoc = 0x40AC;     // receive oversize
inline constexpr uint32_t kPrc64 = 0x405C;   // PRC64..PRC1522: received packets by size
inline constexpr uint32_t kGprc = 0x4074;
inline constexpr uint32_t kBprc = 0x4078;
inline constexpr uint32_t kMprc = 0x407C;
inline constexpr uint32_t kGptc = 0x4080;
inline constexpr uint32_t kGorcl = 0x4088;
inline constexpr uint32_t kGorch = 0x408C;
inline constexpr uint32_t kGotcl = 0x4090;
inline constexpr uint32_t kGotch = 0x4094;
inline constexpr uint32_t kTorl = 0x40C0;
inline constexpr uint32_t kTorh = 0x40C4;
inline constexpr uint32_t kTotl = 0x40C8;
inline constexpr uint32_t kToth = 0x40CC;
inline constexpr uint32_t kTpr = 0x40D0;
inline constexpr uint32_t kTpt = 0x40D4;
inline constexpr uint32_t kPtc64 = 0x40D8;   // PTC64..PTC1522: transmitted packets by size
inline constexpr uint32_t kMptc = 0x40F0;
inline constexpr uint32_t kBptc = 0x40F4;
inline constexpr uint32_t kTsctc = 0x40F8;   // TCP segmentation contexts transmitted
inline constexpr uint32_t kTsctfc = 0x40FC;  // TCP segmentation context failures

// I/O BAR (BAR1): indirect register access.
inline constexpr uint32_t kIoAddr = 0x00;
inline constexpr uint32_t kIoData = 0x04;

// ---- CTRL ------------------------------------------------------------------------------------
inline constexpr uint32_t kCtrlFd = 1u << 0;
inline constexpr uint32_t kCtrlLrst = 1u << 3;
inline constexpr uint32_t kCtrlAsde = 1u << 5;
inline constexpr uint32_t kCtrlSlu = 1u << 6;
inline constexpr uint32_t kCtrlIlos = 1u << 7;
inline constexpr uint32_t kCtrlSpeed1000 = 2u << 8;
inline constexpr uint32_t kCtrlRst = 1u << 26;
inline constexpr uint32_t kCtrlVme = 1u << 30;
inline constexpr uint32_t kCtrlPhyRst = 1u << 31;

// ---- STATUS ----------------------------------------------------------------------------------
inline constexpr uint32_t kStatusFd = 1u << 0;
inline constexpr uint32_t kStatusLu = 1u << 1;
inline constexpr uint32_t kStatusTxoff = 1u << 4;
inline constexpr uint32_t kStatusSpeed1000 = 2u << 6;
inline constexpr uint32_t kStatusAsdv1000 = 2u << 8;

// ---- EECD / EERD (82540: Microwire EEPROM, EERD with DONE at bit 4 and ADDR at 15:8) ----------
inline constexpr uint32_t kEecdSk = 1u << 0;
inline constexpr uint32_t kEecdCs = 1u << 1;
inline constexpr uint32_t kEecdDi = 1u << 2;
inline constexpr uint32_t kEecdDo = 1u << 3;
inline constexpr uint32_t kEecdFwe = 3u << 4;
inline constexpr uint32_t kEecdReq = 1u << 6;
inline constexpr uint32_t kEecdGnt = 1u << 7;
inline constexpr uint32_t kEecdPres = 1u << 8;
inline constexpr uint32_t kEecdSize = 1u << 9;  // 0: 64-word (1 Kbit) EEPROM
inline constexpr uint32_t kEerdStart = 1u << 0;
inline constexpr uint32_t kEerdDone = 1u << 4;
inline constexpr unsigned kEerdAddrShift = 8;
inline constexpr unsigned kEerdDataShift = 16;

// ---- MDIC ------------------------------------------------------------------------------------
inline constexpr uint32_t kMdicDataMask = 0xFFFF;
inline constexpr unsigned kMdicRegShift = 16;
inline constexpr unsigned kMdicPhyShift = 21;
inline constexpr uint32_t kMdicOpWrite = 1u << 26;
inline constexpr uint32_t kMdicOpRead = 2u << 26;
inline constexpr uint32_t kMdicOpMask = 3u << 26;
inline constexpr uint32_t kMdicReady = 1u << 28;
inline constexpr uint32_t kMdicInterrupt = 1u << 29;
inline constexpr uint32_t kMdicError = 1u << 30;

// ---- interrupt causes (ICR, ICS, IMS, IMC) ------------------------------------------------------
inline constexpr uint32_t kIntTxdw = 1u << 0;    // transmit descriptor written back
inline constexpr uint32_t kIntTxqe = 1u << 1;    // transmit queue empty
inline constexpr uint32_t kIntLsc = 1u << 2;     // link status change
inline constexpr uint32_t kIntRxseq = 1u << 3;
inline constexpr uint32_t kIntRxdmt0 = 1u << 4;  // receive descriptors below the minimum threshold
inline constexpr uint32_t kIntRxo = 1u << 6;     // receiver overrun
inline constexpr uint32_t kIntRxt0 = 1u << 7;    // receiver timer (a frame was stored)
inline constexpr uint32_t kIntMdac = 1u << 9;    // MDI/O access complete
inline constexpr uint32_t kIntRxcfg = 1u << 10;
inline constexpr uint32_t kIntPhyint = 1u << 12;
inline constexpr uint32_t kIntGpi = 3u << 13;
inline constexpr uint32_t kIntTxdLow = 1u << 15;
inline constexpr uint32_t kIntSrpd = 1u << 16;
inline constexpr uint32_t kIntAll = kIntTxdw | kIntTxqe | kIntLsc | kIntRxseq | kIntRxdmt0 | kIntRxo | kIntRxt0 |
                                    kIntMdac | kIntRxcfg | kIntPhyint | kIntGpi | kIntTxdLow | kIntSrpd;

// ---- RCTL ------------------------------------------------------------------------------------
inline constexpr uint32_t kRctlEn = 1u << 1;
inline constexpr uint32_t kRctlSbp = 1u << 2;
inline constexpr uint32_t kRctlUpe = 1u << 3;  // unicast promiscuous
inline constexpr uint32_t kRctlMpe = 1u << 4;  // multicast promiscuous
inline constexpr uint32_t kRctlLpe = 1u << 5;  // long packets (> 1522 bytes with CRC)
inline constexpr unsigned kRctlRdmtsShift = 8;  // 00: 1/2, 01: 1/4, 10: 1/8 of the ring
inline constexpr uint32_t kRctlRdmtsMask = 3u << 8;
inline constexpr unsigned kRctlMoShift = 12;    // multicast offset: which 12 address bits hash
inline constexpr uint32_t kRctlMoMask = 3u << 12;
inline constexpr uint32_t kRctlBam = 1u << 15;  // accept broadcast
inline constexpr unsigned kRctlBsizeShift = 16;
inline constexpr uint32_t kRctlBsizeMask = 3u << 16;
inline constexpr uint32_t kRctlVfe = 1u << 18;  // VLAN filter enable
inline constexpr uint32_t kRctlBsex = 1u << 25;  // buffer size x16
inline constexpr uint32_t kRctlSecrc = 1u << 26;  // strip the Ethernet CRC

// ---- RAH -------------------------------------------------------------------------------------
inline constexpr uint32_t kRahAv = 1u << 31;  // address valid
inline constexpr uint32_t kRahAsMask = 3u << 16;  // address select: 00 = destination address

// ---- TCTL ------------------------------------------------------------------------------------
inline constexpr uint32_t kTctlEn = 1u << 1;
inline constexpr uint32_t kTctlPsp = 1u << 3;  // pad short packets to 64 bytes

// ---- descriptors (16 bytes each, rings aligned to 128 bytes) --------------------------------
inline constexpr uint32_t kDescriptorSize = 16;
inline constexpr uint32_t kRingLengthMask = 0x000FFF80;  // RDLEN/TDLEN: bits 6:0 reserved

// Transmit descriptor command byte (legacy CMD, extended DCMD/TUCMD).
inline constexpr uint8_t kTxCmdEop = 1u << 0;
inline constexpr uint8_t kTxCmdIfcs = 1u << 1;
inline constexpr uint8_t kTxCmdIc = 1u << 2;   // legacy: insert checksum at CSO
inline constexpr uint8_t kTxCmdTse = 1u << 2;  // extended: TCP segmentation enable
inline constexpr uint8_t kTxCmdRs = 1u << 3;   // report status (write DD back)
inline constexpr uint8_t kTxCmdRps = 1u << 4;
inline constexpr uint8_t kTxCmdDext = 1u << 5;  // extended descriptor
inline constexpr uint8_t kTxCmdVle = 1u << 6;   // insert the VLAN tag from the special field
inline constexpr uint8_t kTxCmdIde = 1u << 7;   // interrupt delay enable
inline constexpr uint8_t kTxTucmdTcp = 1u << 0;  // context: 1 = TCP, 0 = UDP
inline constexpr uint8_t kTxTucmdIp = 1u << 1;   // context: 1 = IPv4, 0 = IPv6
inline constexpr uint8_t kTxStaDd = 1u << 0;
inline constexpr uint8_t kTxDtypContext = 0x0;
inline constexpr uint8_t kTxDtypData = 0x1;
inline constexpr uint8_t kTxPoptsIxsm = 1u << 0;  // insert the IP checksum
inline constexpr uint8_t kTxPoptsTxsm = 1u << 1;  // insert the TCP/UDP checksum

// Receive descriptor status and error bytes.
inline constexpr uint8_t kRxStaDd = 1u << 0;
inline constexpr uint8_t kRxStaEop = 1u << 1;
inline constexpr uint8_t kRxStaIxsm = 1u << 2;  // ignore checksum indication
inline constexpr uint8_t kRxStaVp = 1u << 3;    // VLAN tag stripped into the special field
inline constexpr uint8_t kRxErrRxe = 1u << 7;

// ---- PHY (Marvell 88E1011 behind MDIC, address 1) -------------------------------------------------
namespace phy {
inline constexpr uint8_t kAddress = 1;
inline constexpr uint8_t kControl = 0x00;
inline constexpr uint8_t kStatus = 0x01;
inline constexpr uint8_t kId1 = 0x02;
inline constexpr uint8_t kId2 = 0x03;
inline constexpr uint8_t kAutonegAdvertisement = 0x04;
inline constexpr uint8_t kLinkPartnerAbility = 0x05;
inline constexpr uint8_t kAutonegExpansion = 0x06;
inline constexpr uint8_t kNextPageTransmit = 0x07;
inline constexpr uint8_t k1000BaseTControl = 0x09;
inline constexpr uint8_t k1000BaseTStatus = 0x0A;
inline constexpr uint8_t kExtendedStatus = 0x0F;
inline constexpr uint8_t kSpecificControl = 0x10;
inline constexpr uint8_t kSpecificStatus = 0x11;
inline constexpr uint8_t kInterruptEnable = 0x12;
inline constexpr uint8_t kInterruptStatus = 0x13;
inline constexpr uint8_t kExtSpecificControl = 0x14;
inline constexpr uint8_t kReceiveErrorCounter = 0x15;

inline constexpr uint16_t kControlReset = 1u << 15;
inline constexpr uint16_t kControlLoopback = 1u << 14;
inline constexpr uint16_t kControlAutonegEnable = 1u << 12;
inline constexpr uint16_t kControlPowerDown = 1u << 11;
inline constexpr uint16_t kControlIsolate = 1u << 10;
inline constexpr uint16_t kControlRestartAutoneg = 1u << 9;
inline constexpr uint16_t kControlFullDuplex = 1u << 8;
inline constexpr uint16_t kControlSpeed1000 = 1u << 6;

inline constexpr uint16_t kStatusLinkUp = 1u << 2;
inline constexpr uint16_t kStatusAutonegComplete = 1u << 5;

inline constexpr uint16_t kId1Marvell = 0x0141;
inline constexpr uint16_t kId2M88E1011 = 0x0C20;
}  // namespace phy

}  // namespace hvlab::devices::e1000
