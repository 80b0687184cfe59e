// The machine hvlab keeps for a deprivileged (ring 1) PV kernel (privileged P; docs/hypercalls.md
// "The PV MMU"): a few pages at the top of low RAM, reserved in the guest's memory map, holding
// the GDT, the IDT (filled by SET_TRAP_TABLE), the TSS (RSP1 from STACK_SWITCH, an I/O bitmap),
// the ring-0 SYSCALL stub and its scratch page, and the page tables of the hypervisor hole that
// maps them read-only at 0xffffff8000000000 (L4 slot 511) in every PV address space. It owns the
// PvMmu and runs the PV calls 16-24 and the SYSCALL bounce.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "cpu/cpu_state.hpp"
#include "cpu/hypercall_abi.hpp"
#include "cpu/vm_exit.hpp"
#include "hv/paravirt/pv_mmu.hpp"
#include "hv/paravirt/pv_vcpu.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {

// hvlab's pages, in order, physically and in the hole.
namespace pv_layout {
constexpr unsigned kGdtPage = 0, kIdtPage = 1, kTssPage = 2, kTssPages = 3, kStubPage = 5, kScratchPage = 6;
constexpr unsigned kHoleL1Page = 7, kHoleL2Page = 8, kHoleL3Page = 9;
constexpr unsigned kMappedPages = 7;  // GDT through scratch appear in the hole; the tables do not
constexpr unsigned kPages = 10;
constexpr uint64_t kTssIoBitmap = 0x68;                   // the I/O bitmap follows the 64-bit TSS
constexpr uint32_t kTssLimit = kTssIoBitmap + 0x2000;     // bitmap for 64 Ki ports, then 0xff
constexpr uint64_t kTssRsp1 = 12;
constexpr unsigned kStubOutOffset = 24;  // the stub's `out dx, eax`
constexpr uint64_t kSfmask = 0x47700;    // SYSCALL clears TF, IF, DF, IOPL, NT, AC: the stub runs with IF = 0
}  // namespace pv_layout

class PvMachine {
public:
    // Reserves and fills the pages just below `lowRamEnd` (page aligned, guest RAM). `vcpu`
    // returns the running vCPU (nullptr when the engine cannot host a PV kernel).
    PvMachine(mmu::PhysicalMap& memory, uint64_t lowRamEnd, std::function<PvVcpu*()> vcpu);

    uint64_t reservedBase() const { return base_; }
    static constexpr uint64_t reservedSize() { return pv_layout::kPages * 4096ull; }
    PvMmu& mmu() { return mmu_; }
    const PvMmu& mmu() const { return mmu_; }

    // The CPU at the kernel's entry: long mode at ring 1 on `l4`, hvlab's GDT, IDT and TSS.
    cpu::CpuState entryState(uint64_t l4, uint64_t rip, uint64_t rsp, uint64_t rsi) const;

    // Calls 16-24 and the SYSCALL bounce.
    static bool handles(uint64_t number);
    // Runs one; returns the value for RAX, or nullopt when the call set the vCPU's registers
    // itself (the SYSCALL bounce). `exitRip` is the address of the `out` that made the call.
    std::optional<int64_t> call(const cpu::HypercallDetail& call, uint64_t exitRip);

    uint64_t syscallBounces() const { return bounces_; }
    std::optional<uint64_t> syscallEntry() const { return syscallEntry_; }

    static uint64_t holeAddress(unsigned page) { return cpu::hypercall::pv::kHoleBase + page * 4096ull; }
    uint64_t pageAddress(unsigned page) const { return base_ + page * 4096ull; }

private:
    void writeTables();
    int64_t setTrapTable(uint64_t list, uint64_t count);
    int64_t stackSwitch(uint64_t rsp);
    int64_t setSyscallEntry(uint64_t rip);
    std::optional<int64_t> syscallBounce(uint64_t exitRip);

    mmu::PhysicalMap& memory_;
    uint64_t base_;
    std::function<PvVcpu*()> vcpu_;
    PvMmu mmu_;
    std::optional<uint64_t> syscallEntry_;
    uint64_t bounces_ = 0;
};

}  // namespace hvlab::hv
