// The differential test run: generate sequences, run each on both engines (or twice on the
// interpreter), report every failure. Shared by hvlab-difftest and its Catch2 test.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace hvlab::difftest {

struct Options {
    uint64_t sequences = 1000;
    uint64_t seed = 1;
    uint64_t first = 0;        // index of the first sequence (to rerun one: --first K --sequences 1)
    std::vector<uint64_t> only;  // if not empty: just these sequence indices
    unsigned length = 20;      // instruction groups per sequence
    unsigned faultPercent = 5; // sequences that end with a deliberate exception
    bool interpOnly = false;   // self-check: the interpreter against itself, no KVM
    bool cmpxchg8b = false;    // also generate CMPXCHG8B/16B (see GeneratorOptions)
    bool minimize = true;      // shrink a mismatching sequence before reporting it again
    bool reuseCheck = true;    // --interp-only: the second run is on the engine that ran all
                               // earlier sequences (finds state it should not have kept)
    bool print = false;        // print every sequence's listing
    bool progress = false;     // a progress line every 500 sequences (stderr)
    uint64_t maxFailures = 0;  // stop after this many failed sequences (0: run them all)
    uint64_t maxReports = 10;  // full reports for the first failures, one line for the others
    std::string kvmDevice = "/dev/kvm";
};

struct Result {
    uint64_t sequences = 0;     // sequences run
    uint64_t instructions = 0;  // instructions generated (setup included)
    uint64_t failures = 0;      // mismatches, unexpected ends, unimplemented instructions
    double seconds = 0, generateSeconds = 0, interpreterSeconds = 0, kvmSeconds = 0;
    std::string engines;        // "interpreter vs KVM (API 12, sync regs)"
    std::map<std::string, uint64_t> failureKinds;  // "mismatch in rbx" -> how many sequences
};

// Runs the sequences, printing reports of failures (and, at the end, a summary line) to `out`.
// Throws hv::KvmUnavailable when KVM is wanted but cannot be used.
Result run(const Options& options, std::FILE* out);
std::string summary(const Options& options, const Result& result);

}  // namespace hvlab::difftest
