// hvlab-singlestep: runs the 80286 real-mode single-instruction tests on the interpreter and
// prints the pass rate per opcode. Exits non-zero if an implemented opcode is below 99%.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tests/singlestep/singlestep.hpp"

#ifndef HVLAB_TESTDATA_DIR
#define HVLAB_TESTDATA_DIR "../shared/testdata/286-real-mode"
#endif

int main(int argc, char** argv) {
    using namespace hvlab::singlestep;
    RunOptions options;
    options.dataDir = HVLAB_TESTDATA_DIR;
    double threshold = 99.0;
    bool requireData = false;

    CLI::App app{"hvlab-singlestep: the 80286 real-mode single-instruction tests on hvlab's interpreter"};
    app.add_option("--data", options.dataDir, "folder of <opcode>.json.gz files")->capture_default_str();
    app.add_option("--sample", options.sample, "run the first N cases of each file (0: all)")->capture_default_str();
    app.add_option("--opcode", options.opcode, "only this opcode: XX (with every XX.R) or XX.R");
    app.add_flag("--verbose,-v", options.verbose, "print every failing case in full");
    app.add_flag("--show-explained", options.showExplained,
                 "with --verbose: also print the cases explained by a known 286-vs-later difference");
    app.add_option("--failures", options.maxFailureNotes, "failing cases named in the table's notes, per opcode")
        ->capture_default_str();
    app.add_option("--threshold", threshold, "pass rate (%) every implemented opcode must reach")
        ->capture_default_str();
    app.add_flag("--require-data", requireData, "fail (rather than skip) when the data folder is missing");
    CLI11_PARSE(app, argc, argv);

    if (listDataFiles(options.dataDir).empty()) {
        std::printf(
            "hvlab-singlestep: skipped: no test data in %s (expected <opcode>.json.gz files; see "
            "shared/testdata/286-real-mode/README.md)\n",
            options.dataDir.c_str());
        return requireData ? 2 : 0;
    }
    try {
        const auto start = std::chrono::steady_clock::now();
        const auto results = runAll(options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fputs(formatTable(results, threshold).c_str(), stdout);
        size_t below = 0;
        for (const auto& r : results)
            if (r.implemented && r.percent() < threshold) ++below;
        std::printf("data: %s; %s; %.1f s\n", options.dataDir.c_str(),
                    options.sample ? fmt::format("first {} cases per file", options.sample).c_str() : "all cases",
                    seconds);
        return below ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hvlab-singlestep: %s\n", e.what());
        return 2;
    }
}
