// The 80286 real-mode single-instruction tests, a fixed sample (the first 40 cases of every
// data file, so the result is deterministic and the test stays fast): every opcode the
// interpreter implements must pass at least 99% of them, counting the cases a known
// 286-vs-later difference explains. The full run is scripts/singlestep-full.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "tests/singlestep/singlestep.hpp"

#ifndef HVLAB_TESTDATA_DIR
#define HVLAB_TESTDATA_DIR "../shared/testdata/286-real-mode"
#endif

using namespace hvlab::singlestep;

namespace {
constexpr size_t kSample = 40;
constexpr double kTarget = 99.0;
}  // namespace

TEST_CASE("286 real-mode single-instruction tests: a sample of every implemented opcode", "[singlestep]") {
    const std::string dir = HVLAB_TESTDATA_DIR;
    if (listDataFiles(dir).empty()) {
        // ctest reads this line as a skip (SKIP_REGULAR_EXPRESSION).
        std::printf("singlestep: skipped: no test data in %s\n", dir.c_str());
        return;
    }
    RunOptions options;
    options.dataDir = dir;
    options.sample = kSample;
    options.maxFailureNotes = 3;
    const auto results = runAll(options);

    size_t implemented = 0, cases = 0;
    for (const OpcodeResult& r : results) {
        if (!r.implemented) continue;
        ++implemented;
        cases += r.cases;
        std::string failures;
        for (const std::string& f : r.failures) failures += "\n  " + f;
        INFO("opcode " << r.key << " (" << r.mnemonic << "): " << r.passed << " passed, " << r.explained
                       << " explained, " << r.failed() << " failed of " << r.cases << failures
                       << "\n  (details: hvlab-singlestep --opcode " << r.key << " --sample " << kSample
                       << " --verbose)");
        CHECK(r.percent() >= kTarget);
    }
    INFO(formatTable(results, kTarget));
    // Not vacuous: the data has hundreds of files, and most of them are implemented.
    REQUIRE(implemented >= 100);
    REQUIRE(cases >= implemented * kSample / 2);
}
