// hvlab-difftest: differential testing of the interpreter against KVM.
//
// Each sequence of random, valid 64-bit user-mode instructions runs on both engines from the
// same state; registers, RIP, RFLAGS (without the flags the SDM leaves undefined), CS/SS, CR2,
// and the data, stack and kernel-stack pages must agree. See tests/differential/README.md.
//
//   hvlab-difftest --sequences 3000 --seed 1            interpreter vs /dev/kvm
//   hvlab-difftest --interp-only --sequences 200        self-check without KVM
//   scripts/kvm-in-qemu -t 900 build/tests/differential/hvlab-difftest --sequences 3000
//
// Exit status: 0 all sequences agree, 1 failures (reports on stdout), 2 bad usage,
// 4 KVM unavailable (the reason on stderr).
#include <algorithm>
#include <cctype>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "hv/kvm_engine.hpp"
#include "tests/differential/difftest.hpp"
#include "tests/differential/generator.hpp"
#include "tests/differential/runner.hpp"

namespace {

using namespace hvlab::difftest;

int runCode(const Options& o, const std::string& hex, const std::vector<std::string>& regs, const std::string& maskFlags) {
    std::vector<uint8_t> bytes;
    std::string digits;
    for (char c : hex)
        if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    if (digits.empty() || digits.size() % 2) {
        fmt::print(stderr, "hvlab-difftest: --code wants hex bytes\n");
        return 2;
    }
    for (size_t k = 0; k < digits.size(); k += 2) bytes.push_back(static_cast<uint8_t>(std::stoul(digits.substr(k, 2), nullptr, 16)));
    uint16_t mask = 0;
    static const std::pair<const char*, uint16_t> kFlags[] = {{"CF", fl::CF}, {"PF", fl::PF}, {"AF", fl::AF},
                                                               {"ZF", fl::ZF}, {"SF", fl::SF}, {"OF", fl::OF}};
    for (const auto& [name, bit] : kFlags)
        if (maskFlags.find(name) != std::string::npos) mask |= bit;

    Generator gen({o.seed, o.length, o.faultPercent, o.cmpxchg8b});
    Sequence seq = gen.generate(o.first);
    for (const std::string& r : regs) {
        const size_t eq = r.find('=');
        const std::string name = r.substr(0, eq);
        const uint64_t value = eq == std::string::npos ? 0 : std::stoull(r.substr(eq + 1), nullptr, 0);
        bool found = name == "rflags";
        if (found) seq.init.rflags = value | 0x2;
        for (unsigned k = 0; k < 16 && !found; ++k)
            if (name == regName(k, 8)) {
                seq.init.gpr[k] = value;
                found = true;
            }
        if (!found) {
            fmt::print(stderr, "hvlab-difftest: unknown register in --reg {}\n", r);
            return 2;
        }
    }
    setRawCode(seq, bytes, mask);
    try {
        Runner runner(!o.interpOnly, o.kvmDevice.c_str());
        const Outcome a = runner.runInterpreter(seq);
        const Outcome b = o.interpOnly ? runner.runInterpreter(seq) : runner.runKvm(seq);
        const std::vector<Difference> diffs = compare(seq, a, b);
        fmt::print("{}", report(seq, diffs.empty() ? "the engines agree" : "MISMATCH", a, b, diffs, "interpreter",
                                o.interpOnly ? "interpreter" : "kvm"));
        return diffs.empty() ? 0 : 1;
    } catch (const hvlab::hv::KvmUnavailable& e) {
        fmt::print(stderr, "hvlab-difftest: KVM is unavailable: {}\n", e.what());
        return 4;
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace hvlab::difftest;
    Options o;
    bool noMinimize = false;
    int64_t show = -1;
    CLI::App app{"hvlab-difftest: run random instruction sequences on the interpreter and on KVM and compare"};
    app.add_option("--sequences,-n", o.sequences, "How many sequences")->capture_default_str();
    app.add_option("--seed,-s", o.seed, "Seed of the run (sequence k of a seed is always the same)")->capture_default_str();
    app.add_option("--length,-l", o.length, "Instruction groups per sequence")->capture_default_str()->check(CLI::Range(1u, 400u));
    app.add_option("--first", o.first, "Index of the first sequence (rerun one: --first K --sequences 1)")
        ->capture_default_str();
    app.add_option("--only", o.only, "Only these sequences (indices, comma-separated)")->delimiter(',');
    app.add_option("--fault-percent", o.faultPercent, "Sequences that end in a deliberate exception")
        ->capture_default_str()
        ->check(CLI::Range(0u, 100u));
    app.add_flag("--interp-only", o.interpOnly,
                 "No KVM: run each sequence twice on the interpreter (determinism, no unimplemented instruction, "
                 "the planned end)");
    bool noReuseCheck = false;
    app.add_flag("--no-reuse-check", noReuseCheck,
                 "--interp-only: run both times on fresh interpreters (by default the second run reuses the engine "
                 "that ran every earlier sequence, to find state it kept)");
    app.add_flag("--cmpxchg8b", o.cmpxchg8b,
                 "Also generate CMPXCHG8B/16B (off by default: QEMU 7.2's TCG, the CPU under scripts/kvm-in-qemu, "
                 "returns garbage RFLAGS after them)");
    app.add_option("--max-failures", o.maxFailures, "Stop after this many failed sequences (0: never)")->capture_default_str();
    app.add_option("--max-reports", o.maxReports,
                   "Full (and minimized) reports for this many failures, one line for each further one")
        ->capture_default_str();
    app.add_flag("--no-minimize", noMinimize, "Do not shrink mismatching sequences");
    app.add_flag("--print", o.print, "Print every sequence's listing");
    app.add_flag("--progress", o.progress, "A progress line on stderr every 500 sequences");
    app.add_option("--show", show, "Only print sequence K (listing and nasm source), run nothing");
    int64_t trace = -1;
    app.add_option("--trace", trace, "Only run sequence K on the interpreter, one instruction at a time, and print "
                                     "what each instruction changed");
    std::vector<std::string> codes;
    std::vector<std::string> regs;
    std::string maskFlags;
    app.add_option("--code", codes,
                   "Only run these instruction bytes (hex, e.g. \"48 f7 e1 f9\"), then OUT, on both engines (or the "
                   "interpreter with --interp-only), from the initial state of sequence --first, and print the report "
                   "(repeatable: each runs from the same state)");
    app.add_option("--reg", regs, "With --code: set a register first, NAME=VALUE (rax..r15, rflags), repeatable");
    app.add_option("--mask-flags", maskFlags, "With --code: flags not to compare, e.g. \"AF,OF\"");
    app.add_option("--kvm-device", o.kvmDevice, "The KVM device")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    o.minimize = !noMinimize;
    o.reuseCheck = !noReuseCheck;

    if (show >= 0) {
        Generator gen({o.seed, o.length, o.faultPercent, o.cmpxchg8b});
        const Sequence seq = gen.generate(static_cast<uint64_t>(show));
        fmt::print("; sequence {} of seed {}: expected end: {}; undefined flags at the end: {}\n{}\n; nasm source:\n{}",
                   seq.index, seq.seed, seq.expect.what, flagNames(seq.undefinedFlags), listing(seq), nasmSource(seq));
        return 0;
    }

    if (trace >= 0) {
        Generator gen({o.seed, o.length, o.faultPercent, o.cmpxchg8b});
        const Sequence seq = gen.generate(static_cast<uint64_t>(trace));
        Runner runner(false);
        fmt::print("; sequence {} of seed {}: expected end: {}\n{}", seq.index, seq.seed, seq.expect.what,
                   runner.traceInterpreter(seq));
        return 0;
    }

    if (!codes.empty()) {
        int status = 0;
        for (const std::string& code : codes) status = std::max(status, runCode(o, code, regs, maskFlags));
        return status;
    }

    try {
        const Result r = run(o, stdout);
        fmt::print("{}\n", summary(o, r));
        return r.failures ? 1 : 0;
    } catch (const hvlab::hv::KvmUnavailable& e) {
        fmt::print(stderr,
                   "hvlab-difftest: KVM is unavailable: {}\n"
                   "  Run it where /dev/kvm works (scripts/kvm-in-qemu runs it in a QEMU guest that has one),\n"
                   "  or check the generator and the interpreter alone with --interp-only.\n",
                   e.what());
        return 4;
    }
}
