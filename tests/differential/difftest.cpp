#include "tests/differential/difftest.hpp"

#include <cctype>
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "tests/differential/generator.hpp"
#include "tests/differential/runner.hpp"

namespace hvlab::difftest {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// "data 0x20010 (...)" and "data 0x20020 (...)" are the same kind of difference.
std::string kind(const std::string& what) {
    for (const std::string area : {"data ", "stack ", "kernel stack "})
        if (what.rfind(area, 0) == 0) return area.substr(0, area.size() - 1);
    return what;
}

// A failure's headline without the numbers, to count failures of the same kind.
std::string generic(const std::string& text) {
    std::string out;
    for (size_t k = 0; k < text.size(); ++k) {
        if (text.compare(k, 2, "0x") == 0) {
            out += "N";
            k += 2;
            while (k < text.size() && std::isxdigit(static_cast<unsigned char>(text[k]))) ++k;
            --k;
        } else {
            out += text[k];
        }
    }
    return out;
}

std::string reproduce(const Options& o, const Sequence& seq) {
    return fmt::format("hvlab-difftest --seed {} --first {} --sequences 1 --length {} --fault-percent {}{}{}", o.seed,
                       seq.index, o.length, o.faultPercent, o.cmpxchg8b ? " --cmpxchg8b" : "",
                       o.interpOnly ? " --interp-only" : "");
}

}  // namespace

std::string summary(const Options& o, const Result& r) {
    std::string kinds;
    for (const auto& [what, count] : r.failureKinds) kinds += fmt::format("  {:>6}  {}\n", count, what);
    if (!kinds.empty()) kinds = "failures by kind (sequences, first problem):\n" + kinds;
    return kinds + fmt::format(
        "hvlab-difftest: {} sequences (seed {}, first {}, length {}), {} instructions, {}: {} failure{}; "
        "{:.1f} s (generate {:.2f} s, interpreter {:.2f} s, kvm {:.2f} s)",
        r.sequences, o.seed, o.first, o.length, r.instructions, r.engines, r.failures, r.failures == 1 ? "" : "s",
        r.seconds, r.generateSeconds, r.interpreterSeconds, r.kvmSeconds);
}

Result run(const Options& o, std::FILE* out) {
    const auto start = Clock::now();
    Result r;
    Runner runner(!o.interpOnly, o.kvmDevice.c_str());
    r.engines = o.interpOnly ? "interpreter vs interpreter" : "interpreter vs " + runner.kvmDescription();
    Generator gen({o.seed, o.length, o.faultPercent, o.cmpxchg8b});

    // A failure: counted by kind; reported in full (by `full`) for the first maxReports and
    // for the first of each kind.
    auto fail = [&](const Sequence& seq, const std::string& kindText, const std::function<void()>& full) {
        ++r.failures;
        const bool firstOfKind = ++r.failureKinds[kindText] == 1;
        if (r.failures <= o.maxReports || firstOfKind)
            full();
        else
            fmt::print(out, "sequence {}: {} (reproduce: {})\n", seq.index, kindText, reproduce(o, seq));
        std::fflush(out);
    };

    const uint64_t count = o.only.empty() ? o.sequences : o.only.size();
    for (uint64_t n = 0; n < count && (o.maxFailures == 0 || r.failures < o.maxFailures); ++n) {
        if (o.progress && n && n % 500 == 0)
            fmt::print(stderr, "hvlab-difftest: {} of {} sequences, {} failures, {:.1f} s\n", n, count, r.failures,
                       since(start));
        const auto t = Clock::now();
        const Sequence seq = gen.generate(o.only.empty() ? o.first + n : o.only[n]);
        r.generateSeconds += since(t);
        ++r.sequences;
        r.instructions += instructionCount(seq);
        if (o.print) fmt::print(out, "--- sequence {}\n{}", seq.index, listing(seq));

        if (o.interpOnly) {
            const Outcome a = runner.runInterpreter(seq);
            const Outcome b = runner.runInterpreter(seq, o.reuseCheck);
            std::string problem;
            const std::vector<Difference> diffs = compare(seq, a, b, false);
            if (a.exit.reason == cpu::ExitReason::UnimplementedInsn)
                problem = "the interpreter does not implement an instruction of the sequence";
            else if (!diffs.empty())
                problem = o.reuseCheck ? "the interpreter that ran the earlier sequences differs from a fresh one"
                                       : "two runs on fresh interpreters differ";
            else
                problem = checkEnd(seq, a);
            if (!problem.empty())
                fail(seq, generic(problem), [&] {
                    fmt::print(out, "{}reproduce: {}\n\n",
                               report(seq, problem, a, b, diffs, "fresh", o.reuseCheck ? "reused" : "fresh 2"), reproduce(o, seq));
                });
            continue;
        }

        const Outcome a = runner.runInterpreter(seq);
        const Outcome b = runner.runKvm(seq);
        const std::vector<Difference> diffs = compare(seq, a, b);
        if (diffs.empty()) {
            // Both agree; still, they must have ended where the generator meant them to, and the
            // interpreter's exception frame must follow the SDM where nested KVM cannot judge it.
            const std::string problem = checkEnd(seq, a);
            if (!problem.empty()) {
                const bool kvmOk = checkEnd(seq, b, false).empty();
                const std::string headline = (kvmOk ? "the interpreter: " : "both engines (a generator bug?): ") + problem;
                fail(seq, generic(headline), [&] {
                    fmt::print(out, "{}reproduce: {}\n\n", report(seq, headline, a, b, diffs, "interpreter", "kvm"),
                               reproduce(o, seq));
                });
            }
            continue;
        }
        const std::string firstKind = kind(diffs.front().what);
        fail(seq, "mismatch: first difference in " + firstKind, [&] {
            fmt::print(out, "{}reproduce: {}\n\n",
                       report(seq, "MISMATCH interpreter vs KVM", a, b, diffs, "interpreter", "kvm"), reproduce(o, seq));
            if (!o.minimize) return;
            const Sequence small = minimize(seq, [&](const Sequence& c) {
                const Outcome ca = runner.runInterpreter(c);
                const Outcome cb = runner.runKvm(c);
                const std::vector<Difference> d = compare(c, ca, cb);
                return !d.empty() && kind(d.front().what) == firstKind;
            });
            const Outcome ma = runner.runInterpreter(small);
            const Outcome mb = runner.runKvm(small);
            fmt::print(out, "{}\n", report(small, "minimized", ma, mb, compare(small, ma, mb), "interpreter", "kvm"));
        });
    }
    r.interpreterSeconds = runner.interpreterSeconds;
    r.kvmSeconds = runner.kvmSeconds;
    r.seconds = since(start);
    return r;
}

}  // namespace hvlab::difftest
