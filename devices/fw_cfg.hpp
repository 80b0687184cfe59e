// QEMU's firmware configuration device (fw_cfg), the traditional I/O port interface on x86
// (QEMU docs/specs/fw_cfg.rst): the VMM hands the firmware its RAM size, CPU count, memory map
// (etc/e820) and a kernel/initrd/command line to boot, so firmware written for QEMU (SeaBIOS,
// a BIOS-lite that reads fw_cfg) works here unchanged.
//
// Modelled:
//  - Selector port 0x510 (16-bit write): selects an item and rewinds its data offset to 0.
//    Bit 15 selects the architecture-local items (a separate key space); bit 14 (the write
//    channel) is ignored, since nothing is writable.
//  - Data port 0x511 (byte reads): the next byte of the selected item; the offset advances;
//    reads past the end (or of an absent item) return 0.
//  - FW_CFG_SIGNATURE "QEMU", FW_CFG_ID 1 (bit 0: traditional interface; no DMA),
//    FW_CFG_FILE_DIR (big-endian count, then 64-byte entries {be32 size, be16 select,
//    be16 reserved, char name[56]}) with named files from selector 0x0020 in the order added.
//  - Helpers for RAM size (u64), CPU counts (u16 NB_CPUS and MAX_CPUS) and "etc/e820" (packed
//    little-endian {u64 address, u64 length, u32 type} entries); any other item via setItem.
//
// Simplified: no DMA interface (0x514 is not claimed and FW_CFG_ID says so); writes to the
// data port are ignored (every item is read-only, as in QEMU 2.4+). A wider read of the data port
// returns one byte in the low lane (upper lanes all-ones); reads of the selector port return
// all-ones.
//
// Threading: the VMM fills items before the guest runs; accesses come from the guest thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "devices/bus.hpp"

namespace hvlab::devices {

namespace fw_cfg {
inline constexpr uint16_t kSelectorPort = 0x510;
inline constexpr uint16_t kDataPort = 0x511;

inline constexpr uint16_t kSignature = 0x0000;
inline constexpr uint16_t kId = 0x0001;
inline constexpr uint16_t kUuid = 0x0002;
inline constexpr uint16_t kRamSize = 0x0003;
inline constexpr uint16_t kNoGraphic = 0x0004;
inline constexpr uint16_t kNbCpus = 0x0005;
inline constexpr uint16_t kMachineId = 0x0006;
inline constexpr uint16_t kKernelAddr = 0x0007;
inline constexpr uint16_t kKernelSize = 0x0008;
inline constexpr uint16_t kKernelCmdline = 0x0009;
inline constexpr uint16_t kInitrdAddr = 0x000A;
inline constexpr uint16_t kInitrdSize = 0x000B;
inline constexpr uint16_t kBootDevice = 0x000C;
inline constexpr uint16_t kNuma = 0x000D;
inline constexpr uint16_t kBootMenu = 0x000E;
inline constexpr uint16_t kMaxCpus = 0x000F;
inline constexpr uint16_t kKernelEntry = 0x0010;
inline constexpr uint16_t kKernelData = 0x0011;
inline constexpr uint16_t kInitrdData = 0x0012;
inline constexpr uint16_t kCmdlineAddr = 0x0013;
inline constexpr uint16_t kCmdlineSize = 0x0014;
inline constexpr uint16_t kCmdlineData = 0x0015;
inline constexpr uint16_t kSetupAddr = 0x0016;
inline constexpr uint16_t kSetupSize = 0x0017;
inline constexpr uint16_t kSetupData = 0x0018;
inline constexpr uint16_t kFileDir = 0x0019;
inline constexpr uint16_t kFileFirst = 0x0020;
inline constexpr uint16_t kWriteChannel = 0x4000;
inline constexpr uint16_t kArchLocal = 0x8000;

inline constexpr uint32_t kIdTraditional = 0x1;  // FW_CFG_ID bit 0; bit 1 (DMA) stays clear
inline constexpr size_t kFileNameSize = 56;      // including the terminating NUL
inline constexpr size_t kFileEntrySize = 64;

// E820 memory types.
inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;
inline constexpr uint32_t kE820Acpi = 3;
inline constexpr uint32_t kE820Nvs = 4;
inline constexpr size_t kE820EntrySize = 20;
}  // namespace fw_cfg

struct E820Entry {
    uint64_t address = 0;
    uint64_t length = 0;
    uint32_t type = fw_cfg::kE820Ram;
};

class FwCfg final : public PortDevice {
public:
    FwCfg();

    // Claims 0x510-0x511.
    void attachTo(IoBus& io) { io.attach(fw_cfg::kSelectorPort, 2, this); }

    uint32_t ioRead(uint16_t port, unsigned size) override;
    void ioWrite(uint16_t port, unsigned size, uint32_t value) override;
    std::string name() const override { return "fw_cfg"; }

    // Sets (or replaces) a numbered item. The file directory is generated: setting kFileDir or
    // a selector owned by a file throws std::invalid_argument.
    void setItem(uint16_t key, std::vector<uint8_t> data);
    // Adds a named file (or replaces the data of an existing one, keeping its selector).
    // Returns its selector. Throws std::invalid_argument if the name does not fit in 55 bytes
    // or the 0x3FE0 file selectors are used up.
    uint16_t addFile(std::string name, std::vector<uint8_t> data);

    void setRamSize(uint64_t bytes);
    void setCpuCount(uint16_t count);  // FW_CFG_NB_CPUS and FW_CFG_MAX_CPUS
    void setE820(const std::vector<E820Entry>& entries);  // the "etc/e820" file

    // The data of an item (empty if absent), and the selected key / offset, for tests and the debugger.
    const std::vector<uint8_t>& item(uint16_t key) const;
    uint16_t selector() const { return selector_; }
    uint32_t offset() const { return offset_; }

private:
    struct File {
        std::string name;
        uint16_t select;
    };
    void rebuildFileDir();

    std::map<uint16_t, std::vector<uint8_t>> items_;
    std::vector<File> files_;
    uint16_t selector_ = fw_cfg::kSignature;
    uint32_t offset_ = 0;
};

}  // namespace hvlab::devices
