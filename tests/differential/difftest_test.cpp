// The differential tester's own tests, and the differential test itself where /dev/kvm exists.
//
// Without KVM: generated sequences run to their planned end on the interpreter, the same way
// twice and without unimplemented instructions; the engine keeps nothing from one sequence to
// the next; deliberate exceptions push the frame the SDM describes; the encoder agrees with
// nasm; reports and the minimizer work. With KVM: 3000 sequences agree with the interpreter.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "hv/kvm_engine.hpp"
#include "tests/differential/difftest.hpp"
#include "tests/differential/generator.hpp"
#include "tests/differential/runner.hpp"
#include "tests/support/assemble.hpp"

using namespace hvlab;
using namespace hvlab::difftest;

namespace {

// Runs `options` with the reports going to a temporary file; returns the result and the text.
std::pair<Result, std::string> runCaptured(const Options& options) {
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    const Result r = run(options, f);
    std::string text;
    std::rewind(f);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    return {r, text};
}

Options interpOnly(uint64_t sequences, unsigned faultPercent, bool reuseCheck) {
    Options o;
    o.sequences = sequences;
    o.seed = 1;
    o.faultPercent = faultPercent;
    o.interpOnly = true;
    o.reuseCheck = reuseCheck;
    o.maxFailures = 3;
    return o;
}

// Checks a run, showing the summary and the first reports when it fails.
void checkRun(const Options& o, uint64_t sequences) {
    const auto [r, text] = runCaptured(o);
    INFO(summary(o, r));
    INFO(text.substr(0, 20000));
    CHECK(r.sequences == sequences);
    CHECK(r.failures == 0);
}

}  // namespace

TEST_CASE("200 generated sequences run to their end on the interpreter, twice alike, all implemented",
          "[differential]") {
    checkRun(interpOnly(200, 0, false), 200);
}

TEST_CASE("the interpreter engine keeps nothing from one sequence to the next", "[differential]") {
    // The second run of each sequence is on the engine that ran all sequences before it: a
    // cache that is not dropped when guest memory or the CPU state is loaded from outside shows.
    checkRun(interpOnly(200, 5, true), 200);
}

TEST_CASE("deliberate exceptions end the sequence with the frame the SDM describes", "[differential]") {
    // #UD, #BP, INT n, #DE, #PF, #GP: the vector, the end, RF in the pushed RFLAGS image.
    checkRun(interpOnly(200, 100, false), 200);
}

TEST_CASE("the same seed and index give the same sequence", "[differential]") {
    Generator a({7, 20, 5}), b({7, 20, 5});
    for (uint64_t k : {0u, 1u, 99u}) {
        const Sequence x = a.generate(k), y = b.generate(k);
        CHECK(x.bytes == y.bytes);
        CHECK(x.init.gpr == y.init.gpr);
        CHECK(x.init.data == y.init.data);
    }
    CHECK(a.generate(1).bytes != a.generate(2).bytes);
}

TEST_CASE("the encoder agrees with nasm on the generated sequences", "[differential]") {
    // One nasm run for 200 sequences, each in its own section at the code address. An
    // instruction nasm would encode differently is given to it as `db` (see encoder.hpp).
    Generator gen({3, 20, 20, true});
    std::string source = "bits 64\n";
    std::vector<uint8_t> expected;
    std::vector<Sequence> seqs;
    for (uint64_t k = 0; k < 200; ++k) {
        seqs.push_back(gen.generate(k));
        const Sequence& s = seqs.back();
        std::string body = nasmSource(s);
        body = body.substr(body.find('\n', body.find("org")) + 1);  // without "bits 64" and "org"
        source += fmt::format("section s{} {} vstart={:#x} align=1\n{}", k, k ? fmt::format("follows=s{}", k - 1) : "start=0",
                              layout::kCode, body);
        expected.insert(expected.end(), s.bytes.begin(), s.bytes.end());
    }
    const std::vector<uint8_t> got = test::assemble(source);
    if (got == expected) {
        SUCCEED(fmt::format("{} bytes agree", got.size()));
        return;
    }
    size_t offset = 0;
    for (const Sequence& s : seqs) {
        for (const PlacedInsn& p : s.code) {
            const size_t from = std::min(offset + (p.address - layout::kCode), got.size());
            const size_t to = std::min(from + p.bytes.size(), got.size());
            const std::vector<uint8_t> theirs(got.begin() + static_cast<ptrdiff_t>(from), got.begin() + static_cast<ptrdiff_t>(to));
            if (theirs != p.bytes)
                FAIL(fmt::format("sequence {} at {:#x}: '{}': ours {}, nasm {}", s.index, p.address,
                                 render(p.insn, p.address, true, layout::kCode), hexBytes(p.bytes), hexBytes(theirs)));
        }
        offset += s.bytes.size();
    }
    FAIL("nasm's output differs in length");
}

TEST_CASE("the undefined flags are tracked per sequence", "[differential]") {
    auto undefinedAfter = [](std::vector<Insn> insns) {
        Sequence s;
        s.init.data.resize(layout::kDataSize);
        s.init.stack.resize(layout::kStackSize);
        Group g;
        g.insns = std::move(insns);
        s.groups = {g};
        REQUIRE(finalize(s).empty());
        return s.undefinedFlags;
    };
    Insn logic, div, add;
    logic.mnemonic = "and";
    logic.opcode = {0x21};
    logic.fx.def = fl::ALL & ~fl::AF;
    logic.fx.undef = fl::AF;
    div.mnemonic = "div";
    div.opcode = {0xf7};
    div.fx.undef = fl::ALL;
    add.mnemonic = "add";
    add.opcode = {0x01};
    add.fx.def = fl::ALL;
    CHECK(undefinedAfter({logic}) == fl::AF);
    CHECK(undefinedAfter({div}) == fl::ALL);
    CHECK(undefinedAfter({div, add}) == 0);
    // Reading an undefined flag makes the sequence invalid.
    Insn adc = add;
    adc.fx.read = fl::CF;
    Sequence bad;
    bad.groups = {Group{Group::Kind::Plain, {div, adc}, {}, {}}};
    CHECK(finalize(bad).find("reads {CF}") != std::string::npos);
}

TEST_CASE("a mismatch report names the first differing register and shows both states", "[differential]") {
    Generator gen({5, 10, 0});
    const Sequence seq = gen.generate(0);
    Runner runner(false);
    const Outcome a = runner.runInterpreter(seq);
    Outcome b = a;
    b.state.gpr[3] ^= 0x10;   // RBX
    b.state.gpr[12] ^= 0x20;  // R12
    b.data[0x10] ^= 1;
    const std::vector<Difference> diffs = compare(seq, a, b);
    REQUIRE(diffs.size() == 3);
    CHECK(diffs[0].what == "rbx");
    CHECK(diffs[1].what == "r12");
    CHECK(diffs[2].what.rfind("data 0x20010", 0) == 0);
    const std::string text = report(seq, "MISMATCH", a, b, diffs, "interpreter", "kvm");
    CHECK(text.find("first difference: rbx") != std::string::npos);
    CHECK(text.find(listing(seq)) != std::string::npos);
    CHECK(text.find("<--") != std::string::npos);

    // Undefined flags are not compared.
    Sequence masked = seq;
    masked.undefinedFlags = fl::AF;
    Outcome c = a;
    c.state.setRflags(a.state.rflags() ^ fl::AF);
    CHECK(compare(masked, a, c).empty());
    masked.undefinedFlags = 0;
    CHECK(compare(masked, a, c).size() == 1);
}

TEST_CASE("the minimizer keeps only what the failure needs", "[differential]") {
    Generator gen({11, 30, 0});
    Sequence seq;
    // A sequence with a BSWAP somewhere; "failing" means: it still has one.
    for (uint64_t k = 0;; ++k) {
        seq = gen.generate(k);
        bool has = false;
        for (const PlacedInsn& p : seq.code) has = has || p.insn.mnemonic == "bswap";
        if (has && seq.groups.size() > 10) break;
    }
    const Sequence small = minimize(seq, [](const Sequence& c) {
        for (const PlacedInsn& p : c.code)
            if (p.insn.mnemonic == "bswap") return true;
        return false;
    });
    INFO(listing(small));
    CHECK(small.groups.size() == 2);  // the BSWAP and the terminator
    CHECK(small.code.size() == 2);
}

TEST_CASE("3000 sequences agree between the interpreter and KVM", "[differential][kvm]") {
    std::string why;
    if (!hv::KvmEngine::available(&why)) {
        WARN("skipped: " << why);
        return;
    }
    Options o;
    o.sequences = 3000;
    o.seed = 1;
    o.maxFailures = 3;
    checkRun(o, 3000);
}
