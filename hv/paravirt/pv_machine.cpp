#include "hv/paravirt/pv_machine.hpp"

#include <array>
#include <vector>

#include <spdlog/spdlog.h>

#include "cpu/hypercall_abi.hpp"
#include "devices/debug_exit.hpp"

namespace hvlab::hv {

using namespace cpu::hypercall;
using namespace pv_layout;

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kP = 1, kRW = 2, kAccessed = 0x20, kDirty = 0x40, kNx = 1ull << 63;
constexpr uint64_t kLowerHalfEnd = 0x0000800000000000ull;

// hvlab's GDT (cpu::hypercall::pv selectors). Every descriptor is marked accessed, so loading a
// selector never writes to the GDT (which the guest sees read-only).
constexpr uint64_t kHypervisorCodeDesc = 0x00af9b000000ffffull;  // 64-bit, DPL 0
constexpr uint64_t kHypervisorDataDesc = 0x00cf93000000ffffull;
constexpr uint64_t kUserCode32Desc = 0x00cffb000000ffffull;      // DPL 3
constexpr uint64_t kUserDataDesc = 0x00cff3000000ffffull;
constexpr uint64_t kUserCodeDesc = 0x00affb000000ffffull;
constexpr uint64_t kKernelCodeDesc = 0x00afbb000000ffffull;      // 64-bit, DPL 1
constexpr uint64_t kKernelDataDesc = 0x00cfb3000000ffffull;
constexpr uint16_t kGdtLimit = 10 * 8 - 1;

// The 64-bit TSS descriptor (16 bytes): busy (type 0xB), present, DPL 0.
std::array<uint64_t, 2> tssDescriptor(uint64_t base, uint32_t limit) {
    const uint64_t lo = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (0x8bull << 40) |
                        (((limit >> 16) & 0xfull) << 48) | (((base >> 24) & 0xffull) << 56);
    return {lo, base >> 32};
}

// The ring-0 SYSCALL stub at the start of its page: it keeps RAX and RDX in the scratch page
// (the next page), then makes the bounce hypercall. RIP-relative, so it works in the hole.
std::vector<uint8_t> syscallStub() {
    const int32_t toScratch = static_cast<int32_t>(kPageSize);
    const int32_t rax = toScratch - 7, rdx = toScratch + 8 - 14;  // displacements from the next instruction
    std::vector<uint8_t> code{0x48, 0x89, 0x05};                   // mov [rip + rax], rax
    for (int k = 0; k < 4; ++k) code.push_back(static_cast<uint8_t>(rax >> (8 * k)));
    code.insert(code.end(), {0x48, 0x89, 0x15});                   // mov [rip + rdx], rdx
    for (int k = 0; k < 4; ++k) code.push_back(static_cast<uint8_t>(rdx >> (8 * k)));
    code.push_back(0xb8);                                          // mov eax, kSyscallBounce
    for (int k = 0; k < 4; ++k) code.push_back(static_cast<uint8_t>(kSyscallBounce >> (8 * k)));
    code.push_back(0xba);                                          // mov edx, kPort
    for (int k = 0; k < 4; ++k) code.push_back(static_cast<uint8_t>(kPort >> (8 * k)));
    code.push_back(0xef);                                          // out dx, eax (offset 24)
    code.insert(code.end(), {0x0f, 0x0b});                         // ud2: never reached
    return code;
}

// Ports the TSS opens to ring 1: the hypercall port (without it no call could be made), PCI
// configuration, and isa-debug-exit (so test kernels report pass/fail as under QEMU).
struct PortRange {
    uint16_t first, count;
};
constexpr std::array<PortRange, 3> kRing1Ports{{{kPort, 4}, {0xcf8, 8}, {devices::DebugExit::kDefaultPort, 1}}};

bool canonical(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) == v; }

}  // namespace

PvMachine::PvMachine(mmu::PhysicalMap& memory, uint64_t lowRamEnd, std::function<PvVcpu*()> vcpu)
    : memory_(memory),
      base_((lowRamEnd & ~(kPageSize - 1)) - reservedSize()),
      vcpu_(std::move(vcpu)),
      mmu_(memory, base_, reservedSize(), (base_ + kHoleL3Page * kPageSize) | kP | kRW | kAccessed,
           PvMmuHooks{[this] {
                          if (PvVcpu* v = vcpu_()) v->flushTlb();
                      },
                      [this](uint64_t linear) {
                          if (PvVcpu* v = vcpu_()) v->invalidatePage(linear);
                      },
                      [this](uint64_t l4) {
                          if (PvVcpu* v = vcpu_()) {
                              v->liveState().cr3 = l4;
                              v->cr3Changed();
                          }
                      }}) {
    writeTables();
}

void PvMachine::writeTables() {
    std::vector<uint8_t> zero(reservedSize(), 0);
    memory_.write(base_, zero.data(), zero.size());
    auto put64 = [this](uint64_t gpa, uint64_t v) { memory_.write(gpa, &v, 8); };

    const uint64_t gdt = pageAddress(kGdtPage);
    const std::array<uint64_t, 6> low{0, kHypervisorCodeDesc, kHypervisorDataDesc, kUserCode32Desc, kUserDataDesc,
                                      kUserCodeDesc};
    for (size_t k = 0; k < low.size(); ++k) put64(gdt + 8 * k, low[k]);
    const auto tss = tssDescriptor(holeAddress(kTssPage), kTssLimit);
    put64(gdt + pv::kTss, tss[0]);
    put64(gdt + pv::kTss + 8, tss[1]);
    put64(gdt + (pv::kKernelCode & ~7u), kKernelCodeDesc);
    put64(gdt + (pv::kKernelData & ~7u), kKernelDataDesc);

    // TSS: the I/O bitmap closes every port but a few, and ends with the 0xff byte hardware reads past it.
    const uint64_t tssBase = pageAddress(kTssPage);
    const uint16_t ioBase = kTssIoBitmap;
    memory_.write(tssBase + 0x66, &ioBase, 2);
    std::vector<uint8_t> bitmap(0x2000 + 1, 0xff);
    for (const PortRange& r : kRing1Ports)
        for (unsigned p = r.first; p < unsigned{r.first} + r.count; ++p) bitmap[p / 8] &= static_cast<uint8_t>(~(1u << (p % 8)));
    memory_.write(tssBase + kTssIoBitmap, bitmap.data(), bitmap.size());

    const std::vector<uint8_t> stub = syscallStub();
    memory_.write(pageAddress(kStubPage), stub.data(), stub.size());

    // The hole: L3[0] -> L2[0] -> L1, which maps hvlab's pages supervisor-only, read-only but for
    // the scratch page, executable only for the stub.
    put64(pageAddress(kHoleL3Page), pageAddress(kHoleL2Page) | kP | kRW | kAccessed);
    put64(pageAddress(kHoleL2Page), pageAddress(kHoleL1Page) | kP | kRW | kAccessed);
    for (unsigned page = 0; page < kMappedPages; ++page) {
        uint64_t entry = pageAddress(page) | kP | kAccessed;
        if (page == kScratchPage) entry |= kRW | kDirty;
        if (page != kStubPage) entry |= kNx;
        put64(pageAddress(kHoleL1Page) + 8 * page, entry);
    }
}

cpu::CpuState PvMachine::entryState(uint64_t l4, uint64_t rip, uint64_t rsp, uint64_t rsi) const {
    using namespace cpu;
    CpuState s = CpuState::atReset();
    s.cr0 = cr0::PE | cr0::MP | cr0::ET | cr0::NE | cr0::WP | cr0::PG;
    s.cr4 = cr4::PAE;
    s.cr3 = l4;
    // EFER.SCE follows SET_SYSCALL_ENTRY: before an entry is named, SYSCALL is #UD.
    s.efer = efer::LME | efer::LMA | efer::NXE | (syscallEntry_ ? efer::SCE : 0);
    s.gdtr = {holeAddress(kGdtPage), kGdtLimit};
    s.idtr = {holeAddress(kIdtPage), 256 * 16 - 1};
    s.seg[CS] = segmentFromDescriptor(pv::kKernelCode, kKernelCodeDesc);
    const Segment data = segmentFromDescriptor(pv::kKernelData, kKernelDataDesc);
    s.seg[SS] = s.seg[DS] = s.seg[ES] = data;
    s.seg[FS] = s.seg[GS] = Segment{0, 0, 0, 0};
    s.ldtr = Segment{0, 0, 0, 0};
    s.tr = Segment{pv::kTss, holeAddress(kTssPage), kTssLimit, 0x8b};
    s.msrs.star = (uint64_t{pv::kUserCode32} << 48) | (uint64_t{pv::kHypervisorCode} << 32);
    s.msrs.lstar = holeAddress(kStubPage);
    s.msrs.sfmask = kSfmask;
    s.setRflags(rflag::RESERVED1 | rflag::IF);
    s.rip = rip;
    s.gpr = {};
    s.gpr[RSP] = rsp;
    s.gpr[RSI] = rsi;
    return s;
}

bool PvMachine::handles(uint64_t number) {
    return (number >= kMmuUpdate && number <= kReadCr2) || number == kSyscallBounce;
}

std::optional<int64_t> PvMachine::call(const cpu::HypercallDetail& c, uint64_t exitRip) {
    PvVcpu* vcpu = vcpu_();
    if (!vcpu) return kErrorNoSys;
    const auto& a = c.args;
    switch (c.number) {
        case kMmuUpdate: return mmu_.updateList(a[0], a[1]);
        case kMmuPin: {
            const int64_t r = mmu_.pin(a[0], a[1]);
            if (r < 0) spdlog::debug("pv mmu: pin L{} at {:#x} refused: {}", a[0], a[1], r);
            return r;
        }
        case kMmuUnpin: return mmu_.unpin(a[0]);
        case kMmuSetCr3: return mmu_.setCr3(a[0]);
        case kMmuInvlpg: return mmu_.invlpg(a[0]);
        case kSetTrapTable: return setTrapTable(a[0], a[1]);
        case kStackSwitch: return stackSwitch(a[0]);
        case kSetSyscallEntry: return setSyscallEntry(a[0]);
        case kReadCr2: return static_cast<int64_t>(vcpu->liveState().cr2);
        case kSyscallBounce: return syscallBounce(exitRip);
        default: return kErrorNoSys;
    }
}

int64_t PvMachine::setTrapTable(uint64_t list, uint64_t count) {
    constexpr uint64_t kEntrySize = 16;
    if (count > 256) return kErrorInvalid;
    std::vector<uint8_t> entries(count * kEntrySize);
    if (count && (list + entries.size() < list || !memory_.read(list, entries.data(), entries.size())))
        return kErrorFault;
    // All entries are checked before any gate changes.
    for (uint64_t k = 0; k < count; ++k) {
        const uint8_t* e = &entries[k * kEntrySize];
        uint64_t handler = 0;
        for (int b = 0; b < 8; ++b) handler |= uint64_t{e[8 + b]} << (8 * b);
        const bool zeroPad = e[2] == 0 && e[3] == 0 && e[4] == 0 && e[5] == 0 && e[6] == 0 && e[7] == 0;
        if ((e[1] != 1 && e[1] != 3) || !zeroPad || handler >= kLowerHalfEnd) return kErrorInvalid;
    }
    const uint64_t idt = pageAddress(kIdtPage);
    for (uint64_t k = 0; k < count; ++k) {
        const uint8_t* e = &entries[k * kEntrySize];
        uint64_t handler = 0;
        for (int b = 0; b < 8; ++b) handler |= uint64_t{e[8 + b]} << (8 * b);
        std::array<uint64_t, 2> gate{0, 0};
        if (handler) {  // a 64-bit trap gate (type 0xF) to 0x41:handler, IST 0
            gate[0] = (handler & 0xffff) | (uint64_t{pv::kKernelCode} << 16) | (0xfull << 40) | (uint64_t{e[1]} << 45) |
                      (1ull << 47) | (((handler >> 16) & 0xffff) << 48);
            gate[1] = handler >> 32;
        }
        memory_.write(idt + 16ull * e[0], gate.data(), sizeof gate);
    }
    return 0;
}

int64_t PvMachine::stackSwitch(uint64_t rsp) {
    if (!canonical(rsp)) return kErrorInvalid;
    memory_.write(pageAddress(kTssPage) + kTssRsp1, &rsp, sizeof rsp);
    return 0;
}

int64_t PvMachine::setSyscallEntry(uint64_t rip) {
    if (rip >= kLowerHalfEnd) return kErrorInvalid;
    PvVcpu* vcpu = vcpu_();
    if (rip == 0) {
        syscallEntry_.reset();
        vcpu->liveState().efer &= ~cpu::efer::SCE;
    } else {
        syscallEntry_ = rip;
        vcpu->liveState().efer |= cpu::efer::SCE;
    }
    vcpu->privilegeChanged();
    return 0;
}

// SYSCALL landed in the stub at ring 0 with RCX = the user's RIP and R11 = its RFLAGS: give RAX
// and RDX back and go on at the kernel's entry at ring 1, interrupts on (the real IF stays 1).
std::optional<int64_t> PvMachine::syscallBounce(uint64_t exitRip) {
    PvVcpu* vcpu = vcpu_();
    cpu::CpuState& s = vcpu->liveState();
    if (s.seg[cpu::CS].selector != pv::kHypervisorCode || exitRip != holeAddress(kStubPage) + kStubOutOffset ||
        !syscallEntry_)
        return kErrorNoSys;  // only hvlab's own stub may ask
    uint64_t saved[2] = {0, 0};
    memory_.read(pageAddress(kScratchPage), saved, sizeof saved);
    s.gpr[cpu::RAX] = saved[0];
    s.gpr[cpu::RDX] = saved[1];
    s.seg[cpu::CS] = cpu::segmentFromDescriptor(pv::kKernelCode, kKernelCodeDesc);
    s.seg[cpu::SS] = cpu::segmentFromDescriptor(pv::kKernelData, kKernelDataDesc);
    s.flags.setSystem(cpu::rflag::IF, true);
    s.rip = *syscallEntry_;
    vcpu->privilegeChanged();
    ++bounces_;
    return std::nullopt;
}

}  // namespace hvlab::hv
