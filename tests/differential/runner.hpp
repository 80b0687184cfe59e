// Runs sequences on the interpreter and on KVM from identical state, compares what they did,
// and reports (and minimizes) mismatches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/cpuid_model.hpp"
#include "cpu/interpreter.hpp"
#include "cpu/vm_exit.hpp"
#include "hv/engine.hpp"
#include "mmu/physical_map.hpp"
#include "tests/differential/generator.hpp"

namespace hvlab::difftest {

// Guest memory with the static structures of layout.hpp (page tables, GDT, IDT, TSS, stubs),
// and the per-sequence parts (code, data, stack, the TSS's RSP0).
class Guest {
public:
    Guest();
    mmu::PhysicalMap& map() { return map_; }
    // Writes the sequence's code and its initial data, stack and kernel stack.
    void load(const Sequence& seq);
    // Writes the initial data, stack and kernel stack again (between two runs).
    void restoreMutable(const Sequence& seq);
    cpu::CpuState initialState(const Sequence& seq) const;
    const uint8_t* at(uint64_t gpa) const { return host_.data() + gpa; }

private:
    mmu::HostMemory host_{layout::kRamSize};
    mmu::PhysicalMap map_;
    size_t loadedCode_ = layout::kCodeSize;
};

// What one engine did with a sequence.
struct Outcome {
    cpu::VmExit exit;
    cpu::CpuState state;
    uint64_t finalRip = 0;  // RIP at the end (after the OUT terminator, or in the exception stub)
    std::vector<uint8_t> data, stack, kernelStack;
    unsigned runs = 0;  // engine run() calls until the exit
};

struct Difference {
    std::string what;  // "RAX", "RFLAGS", "exit", "data 0x20010", ...
    std::string a, b;
};

// Compares two outcomes, masking the arithmetic flags in `undefinedFlags` (also in the
// RFLAGS image an exception pushed, where RF is not compared either: under nested KVM, KVM
// sets it for the faults it injects itself, #UD, and QEMU's TCG does not for the ones it
// delivers; checkEnd() holds the interpreter to the SDM instead). Empty when they agree.
std::vector<Difference> compare(const Sequence& seq, const Outcome& a, const Outcome& b, bool maskUndefined = true);
// Why `o` is not the end the generator planned (empty when it is). With `checkRf`, also that
// the RFLAGS image an exception pushed has RF set exactly for a fault (SDM vol. 3, 18.3.1.1).
std::string checkEnd(const Sequence& seq, const Outcome& o, bool checkRf = true);
std::string describeEnd(const cpu::VmExit& exit);

class Runner {
public:
    // With `kvm`, creates the KVM engine too (throws hv::KvmUnavailable when it cannot).
    explicit Runner(bool kvm, const char* kvmDevice = "/dev/kvm");
    ~Runner();

    // On a fresh interpreter engine, or (`reuse`) on the one engine that ran every sequence
    // before: hidden state it kept from them (caches) shows up as a difference.
    Outcome runInterpreter(const Sequence& seq, bool reuse = false);
    Outcome runKvm(const Sequence& seq);
    // Runs `seq` on the interpreter one instruction at a time, printing each instruction and
    // the registers and flags it changed.
    std::string traceInterpreter(const Sequence& seq);
    bool hasKvm() const { return kvm_ != nullptr; }
    std::string kvmDescription() const;
    Guest& guest() { return guest_; }

    // Seconds spent inside the engines.
    double interpreterSeconds = 0, kvmSeconds = 0;

private:
    Outcome run(hv::Engine& engine, const Sequence& seq, double& seconds);

    Guest guest_;
    cpu::CpuidModel cpuid_ = cpu::CpuidModel::hvlabDefault();
    std::unique_ptr<hv::Engine> interpreter_;  // the long-lived one
    std::unique_ptr<hv::Engine> kvm_;
};

// Removes groups (and simplifies the initial registers) while `stillFails` holds.
Sequence minimize(const Sequence& seq, const std::function<bool(const Sequence&)>& stillFails);

// The report of a failed sequence: the headline, the differences, the code, the initial and
// both final states. `aName`/`bName` label the two outcomes ("interpreter", "kvm").
std::string report(const Sequence& seq, const std::string& headline, const Outcome& a, const Outcome& b,
                   const std::vector<Difference>& diffs, const char* aName, const char* bName);

}  // namespace hvlab::difftest
