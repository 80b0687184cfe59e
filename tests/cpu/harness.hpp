// A small machine for CPU tests: 4 MiB of RAM at 0, one CpuState, the default CPUID model
// and an Interpreter, with helpers to enter real, 32-bit protected or 64-bit long mode, place
// assembled code, run it to HLT (answering port I/O) and read the results back.
//
// Guest-physical layout (identity mapped in every mode):
//   0x0000 IVT          0x0600 vector record (byte)   0x1000 GDT   0x2000 IDT   0x3000 TSS
//   0x6800 ring-0 stack top for privilege changes       0x7000 stack top (grows down)
//   0x7000 exception stubs, 16 bytes per vector: "record the vector; hlt" (through CS in real
//          mode and SS in protected mode, so a bad DS does not break them)
//   0x8000 code         0xC000 data                   0x10000 page tables   0x20000 more data
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cpu/cpu_state.hpp"
#include "cpu/cpuid_model.hpp"
#include "cpu/interpreter.hpp"
#include "cpu/vm_exit.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::test {

// Arithmetic flags that print by name when a check fails: {CF ZF}.
struct Flags {
    uint64_t bits = 0;
    constexpr bool operator==(const Flags&) const = default;
    constexpr Flags operator|(Flags o) const { return {bits | o.bits}; }
};
std::string flagNames(uint64_t bits);

namespace fl {
constexpr Flags NONE{0}, CF{cpu::rflag::CF}, PF{cpu::rflag::PF}, AF{cpu::rflag::AF}, ZF{cpu::rflag::ZF},
    SF{cpu::rflag::SF}, OF{cpu::rflag::OF};
}

enum class Mode { Real, Protected, ProtectedPaging, Long };

// Registers, flags and memory captured after one snippet of a batch (see Machine::snapshots).
struct Snapshot {
    uint64_t rax, rbx, rcx, rdx, rflags, mem;  // mem: the 8 bytes at Machine::kData
    Flags arith() const { return {rflags & cpu::rflag::ARITH}; }
};

struct InEngineRecorder final : cpu::InEngineExitObserver {
    std::vector<cpu::VmExit> exits;
    void onInEngineExit(const cpu::VmExit& exit) override { exits.push_back(exit); }
};

class Machine {
public:
    static constexpr uint64_t kRamSize = 4ull << 20;
    static constexpr uint64_t kVectorRecord = 0x600, kGdt = 0x1000, kIdt = 0x2000, kTss = 0x3000;
    static constexpr uint64_t kRing0StackTop = 0x6800, kStackTop = 0x7000, kHandlers = 0x7000;
    static constexpr uint64_t kCode = 0x8000, kData = 0xC000, kSnapshots = 0xD000, kData2 = 0x20000;
    static constexpr uint64_t kPd32 = 0x10000, kPt32 = 0x11000;                        // 32-bit paging
    static constexpr uint64_t kPml4 = 0x12000, kPdpt = 0x13000, kPd64 = 0x14000, kPt64 = 0x15000;  // 4-level

    // Selectors of the harness GDT (written into RAM in every mode, so guest code can use it).
    static constexpr uint16_t kCode32 = 0x08, kData32 = 0x10, kCode16 = 0x18, kData16 = 0x20, kCode64 = 0x28,
                              kUserCode32 = 0x33, kUserData = 0x3b, kUserCode64 = 0x43, kTssSel = 0x48;
    static constexpr uint16_t kGdtLimit = 0x57;

    explicit Machine(Mode mode = Mode::Protected, uint16_t realCs = 0);

    // Mode setup (also done by the constructor). Real mode: CS = `cs` (code still at kCode),
    // all other segments 0, IVT at 0. Protected: flat ring-0 segments, 32-bit IDT. Long: 64-bit
    // code segment, identity-mapped 4-level paging, 64-bit IDT.
    void setReal(uint16_t cs = 0);
    void setProtected(bool paging);
    void setLong();
    // Drops to CPL 3 (user code and data/stack selectors of the current mode).
    void enterUser();

    // Code: assembled with "bits N" for the current mode and "org" at kCode, then "hlt".
    // The macros DATA and DATA2 name kData and kData2.
    void loadAsm(const std::string& source);
    void load(const std::vector<uint8_t>& bytes, uint64_t address);
    // Loads and runs `source` to its HLT; the check fails on any other exit.
    void run(const std::string& source);
    // Loads and runs `source` and returns the first exit that is not port I/O.
    cpu::VmExit runExit(const std::string& source);
    // Runs the snippets one after another in one program and captures, after each, RAX, RBX,
    // RCX, RDX (only their low 32 bits in 16- and 32-bit code), the flags and the qword at
    // kData. State carries over from one snippet to the next.
    std::vector<Snapshot> snapshots(const std::vector<std::string>& snippets);
    // The program snapshots() runs, for preassemble().
    static std::string snapshotProgram(unsigned bits, const std::vector<std::string>& snippets);
    // Runs from the current state until an exit other than port I/O (or the budget runs out).
    cpu::VmExit resume(uint64_t budget = 2'000'000);

    // State.
    uint64_t& reg(cpu::Gpr r) { return s.gpr[r]; }
    uint64_t rflags() const { return s.rflags(); }
    Flags arith() const { return {s.rflags() & cpu::rflag::ARITH}; }
    unsigned bits() const;  // 16, 32 or 64: the current code size

    // Physical memory.
    uint64_t read(uint64_t address, unsigned size) const;
    void write(uint64_t address, unsigned size, uint64_t value);
    void writeBytes(uint64_t address, const std::vector<uint8_t>& bytes);
    // The value `index` slots above the stack pointer (slots of `size` bytes), via SS.base.
    uint64_t stack(unsigned index, unsigned size) const;

    // Exceptions: the vector the last stub handler recorded, or -1.
    int lastVector() const;
    // IDT/IVT entries.
    void setGate(uint8_t vector, uint64_t handler, uint8_t typeAttr);  // protected/long IDT gate
    void setIvt(uint8_t vector, uint16_t segment, uint16_t offset);
    static uint64_t handlerAddress(uint8_t vector) { return kHandlers + vector * 16u; }

    // Paging: clears the page-table entry for `linear` (below 2 MiB in long mode).
    void unmap(uint64_t linear);

    // Port I/O seen by the runs; IN is answered with `inValue` (masked to the access size).
    std::vector<cpu::IoDetail> ports;
    uint32_t inValue = 0xffffffff;

    mmu::HostMemory host{kRamSize};
    mmu::PhysicalMap map;
    cpu::CpuState s;
    cpu::CpuidModel model = cpu::CpuidModel::hvlabDefault();
    cpu::Interpreter cpu{s, map, model};
    InEngineRecorder inEngine;

private:
    void writeGdt();
    void writeStubs(unsigned codeBits);
    void commonReset();
};

// Assembles many programs with one nasm run (nasm's start-up dominates the suite's time) and
// caches them, so later loadAsm/run/snapshots calls with the same source and code size skip
// nasm. `bits` is the code size they will be loaded for (the origin is kCode).
void preassemble(unsigned bits, const std::vector<std::string>& sources);
// The code size a Machine of `mode` starts in (16, 32 or 64).
constexpr unsigned modeBits(Mode mode) { return mode == Mode::Real ? 16 : mode == Mode::Long ? 64 : 32; }
inline void preassemble(Mode mode, const std::vector<std::string>& sources) { preassemble(modeBits(mode), sources); }
// Preassembles `code` of each case (anything with `mode` and `code` members), one nasm run per code size.
template <typename Cases>
void preassembleCases(const Cases& cases) {
    for (unsigned bits : {16u, 32u, 64u}) {
        std::vector<std::string> sources;
        for (const auto& c : cases)
            if (modeBits(c.mode) == bits) sources.push_back(c.code);
        if (!sources.empty()) preassemble(bits, sources);
    }
}

// The segment-cache value a descriptor loads (base, expanded limit, access rights).
cpu::Segment segmentFromDescriptor(uint16_t selector, uint64_t descriptor);

}  // namespace hvlab::test

namespace Catch {
template <>
struct StringMaker<hvlab::test::Flags> {
    static std::string convert(const hvlab::test::Flags& f) { return hvlab::test::flagNames(f.bits); }
};
}  // namespace Catch
