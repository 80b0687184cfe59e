// The guest-physical (= linear: identity mapped) layout every sequence runs in.
//
//   0x01000 PML4   0x02000 PDPT   0x03000 PD   0x04000 PT (4 KiB pages of the first 2 MiB)
//   0x05000 GDT    0x06000 IDT    0x07000 TSS  0x08000 exception stubs (256 x HLT)
//   0x09000 kernel stack page (RSP0 at most 0x0A000)          -- all of these supervisor-only
//   0x10000 user code, read-only for the user (32 KiB)
//   0x20000 user data, 8 KiB of random bytes that memory operands point into
//   0x30000 user stack, 8 KiB of random bytes, RSP starts near 0x31000
//   0x50000 16 pages that are not present (deliberate page faults)
//   everything else up to 8 MiB: supervisor-only (2 MiB pages above 2 MiB), so a stray user
//   access faults instead of changing memory that is neither restored nor compared
#pragma once

#include <cstdint>

namespace hvlab::difftest::layout {

constexpr uint64_t kRamSize = 8ull << 20;
constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
constexpr uint64_t kGdt = 0x5000, kIdt = 0x6000, kTss = 0x7000, kStubs = 0x8000;
constexpr uint64_t kKernelStack = 0x9000, kKernelStackTop = 0xa000;
constexpr uint64_t kCode = 0x10000, kCodeSize = 0x8000;
constexpr uint64_t kData = 0x20000, kDataSize = 0x2000;
constexpr uint64_t kStack = 0x30000, kStackSize = 0x2000, kStackCenter = 0x31000;
constexpr uint64_t kUnmapped = 0x50000, kUnmappedSize = 0x10000;

constexpr uint16_t kKernelCodeSel = 0x08, kKernelDataSel = 0x10, kUserDataSel = 0x1b, kUserCodeSel = 0x23,
                   kTssSel = 0x28;
constexpr uint16_t kGdtLimit = 0x37;

// The sequence's normal end: OUT imm8, AL (allowed at CPL 3 because RFLAGS.IOPL = 3).
constexpr uint8_t kTerminatorPort = 0xe0;

// The IDT sends vector v to the one-byte HLT at stub(v).
constexpr uint64_t stub(unsigned vector) { return kStubs + vector; }

}  // namespace hvlab::difftest::layout
