// The small interface devices plug into: port I/O ranges, MMIO ranges and IRQ lines.
// Devices know nothing of engines; the VMM routes I/O and MMIO exits here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hvlab::devices {

// A device that owns one or more I/O port ranges. `size` is the access width in bytes (1, 2, 4).
class PortDevice {
public:
    virtual ~PortDevice() = default;
    virtual uint32_t ioRead(uint16_t port, unsigned size) = 0;
    virtual void ioWrite(uint16_t port, unsigned size, uint32_t value) = 0;
    virtual std::string name() const = 0;
};

// A device that owns a guest-physical MMIO range. `offset` is relative to the range base.
class MmioDevice {
public:
    virtual ~MmioDevice() = default;
    virtual uint64_t mmioRead(uint64_t offset, unsigned size) = 0;
    virtual void mmioWrite(uint64_t offset, unsigned size, uint64_t value) = 0;
    virtual std::string name() const = 0;
};

// An interrupt request line as a device sees it: it drives the level, the board routes it.
class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void setLevel(bool asserted) = 0;
};

// A line that only remembers its level, for boards with no interrupt controller yet and tests.
class LatchedIrqLine final : public IrqLine {
public:
    void setLevel(bool asserted) override { level_ = asserted; ++transitions_; }
    bool level() const { return level_; }
    uint64_t transitions() const { return transitions_; }

private:
    bool level_ = false;
    uint64_t transitions_ = 0;
};

// Port I/O routing: a short sorted list of port ranges (a PC has a few dozen), searched
// by bisection. Small on purpose: a 64K-entry table would cost 512 KiB of host memory.
class IoBus {
public:
    struct Range {
        uint32_t first;
        uint32_t count;
        PortDevice* device;
    };
    // Claims [first, first + count). Throws std::invalid_argument if any port is taken.
    void attach(uint16_t first, uint32_t count, PortDevice* device);
    // Releases every range `device` holds (a PCI BAR moving or being disabled).
    void detach(PortDevice* device);
    PortDevice* deviceAt(uint16_t port) const;
    const std::vector<Range>& ranges() const { return ranges_; }

    // Unclaimed ports read as all-ones and ignore writes, like an ISA bus with no decoder.
    uint32_t read(uint16_t port, unsigned size);
    void write(uint16_t port, unsigned size, uint32_t value);

private:
    std::vector<Range> ranges_;  // sorted by first port, non-overlapping
};

// MMIO routing: a short sorted list of ranges.
class MmioBus {
public:
    struct Range {
        uint64_t base;
        uint64_t size;
        MmioDevice* device;
    };
    void attach(uint64_t base, uint64_t size, MmioDevice* device);
    void detach(MmioDevice* device);
    const Range* find(uint64_t gpa) const;
    const std::vector<Range>& ranges() const { return ranges_; }

    // Unclaimed addresses read as all-ones and ignore writes. Returns false if unclaimed.
    bool read(uint64_t gpa, unsigned size, uint64_t& value);
    bool write(uint64_t gpa, unsigned size, uint64_t value);

private:
    std::vector<Range> ranges_;
};

}  // namespace hvlab::devices
