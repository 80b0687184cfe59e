// Runs the per-instruction real-mode tests recorded on an 80286 (shared/testdata/286-real-mode,
// SingleStepTests format) on the interpreter and reports the pass rate per opcode.
//
// One case: 16 MiB of zeroed RAM, `initial.ram` loaded, the registers set (real mode: segment
// base = selector * 16, limit FFFF), then the interpreter runs until the HLT that follows the
// instruction (jumps, calls, INT n and exceptions continue at their target, through the IVT in
// the case's RAM, until a HLT there). Every register is compared (unlisted ones must be
// unchanged), every byte of `final.ram`, and no other byte may have been written.
//
// Flags: the 286 cannot hold FLAGS bits 12-15 in real mode, so they are cleared in the initial
// state (the recorded value has them, the CPU did not) and never compared. Flags the SDM leaves
// undefined are compared too, except where a rule of undefinedFlagRules() says the 286 leaves
// them differently from the interpreter (which follows later CPUs).
//
// Cases: a failing case that a known 286-vs-later difference covers (knownDifferences(): #GP
// instead of #SS, LOCK accepted everywhere, the 10-byte limit, no FS/GS, IP wrapping at 64K,
// string registers stepped before a fault) is counted as "explained", not as passed, and only
// if it passes when that difference is taken into account. The target (99%) applies to passed
// plus explained cases; the table shows both rates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace hvlab::singlestep {

// The 14 registers of a case, in the order the data names them.
enum Reg : uint8_t { AX, BX, CX, DX, CS, SS, DS, ES, SP, BP, SI, DI, IP, FLAGS, kRegCount };
const char* regName(unsigned reg);

struct RegValues {
    std::array<uint16_t, kRegCount> v{};
    uint16_t present = 0;  // bit per register: listed in the data
    bool has(unsigned r) const { return present & (1u << r); }
};

struct RamByte {
    uint32_t address;
    uint8_t value;
};

struct TestCase {
    std::string name;  // the disassembly
    std::vector<uint8_t> bytes;
    RegValues initial, final;
    std::vector<RamByte> initialRam, finalRam;
    bool exception = false;
    uint8_t exceptionNumber = 0;
    uint32_t flagAddress = 0;  // where the exception pushed FLAGS
    std::string hash;
};

// One data file: "F6.6" for F6.6.json.gz.
struct DataFile {
    std::string key;
    std::string path;
};

// The *.json.gz files of `dir`, sorted by key; empty if the folder does not exist.
std::vector<DataFile> listDataFiles(const std::string& dir);
// Hashes from `dir`/revocation_list.txt (empty if there is none).
std::unordered_set<std::string> loadRevocations(const std::string& dir);
// Reads the first `limit` cases of a file (0: all). Throws std::runtime_error on bad data.
std::vector<TestCase> loadCases(const std::string& path, size_t limit = 0);

// A flag the 286 leaves differently from later CPUs where the SDM says "undefined".
struct FlagRule {
    const char* id;   // "shift-af"
    std::string key;  // data file key ("F6.6")
    uint16_t mask;    // FLAGS bits not compared
    const char* reason;
    // Applies only to the cases this selects (nullptr: all of them).
    bool (*applies)(const TestCase&) = nullptr;
};
const std::vector<FlagRule>& undefinedFlagRules();
// The FLAGS bits compared for `key`'s case `c` (and the rules that masked some).
uint16_t comparedFlags(const std::string& key, const TestCase& c, std::vector<const FlagRule*>* used = nullptr);
// FLAGS bits 12-15: the 286 cannot set them in real mode.
constexpr uint16_t kRealModeFlagsMask = 0x0fff;

// A difference between the 286 and later CPUs at the level of a whole case (not a flag): a
// case it covers that fails is counted as "explained" with its reason, not as a failure.
struct CaseOutcome;
// How a case is run: bits that change the machine in a way a known difference needs.
using Variant = uint8_t;
constexpr Variant kPlain = 0;
constexpr Variant kStackFaultAsGp = 1;       // the #SS (12) IVT entry points at the #GP (13) handler
constexpr Variant kLockAsSegmentPrefix = 2;  // LOCK prefix bytes become the override of the segment used anyway
struct KnownDifference {
    const char* id;
    const char* reason;
    // The cases it covers: by their bytes and by what the 286 recorded (the exception it took).
    bool (*applies)(const std::string& key, const TestCase& c);
    // A covered case is explained if it passes when run this way, or if `accepts` accepts the
    // outcome of that run. With neither (kPlain, nullptr), every covered case that fails is explained.
    // Two differences can explain a case together (their variants combined).
    Variant rerun = kPlain;
    bool (*accepts)(const TestCase& c, const CaseOutcome& o) = nullptr;
};
const std::vector<KnownDifference>& knownDifferences();

// The comparison of one run with the data.
struct MemDiff {
    uint32_t address;
    int expected;  // -1: not in the data (the CPU did not write it; expected unchanged/zero)
    uint8_t actual;
};
struct CaseOutcome {
    std::string runError;  // the run did not end at a HLT
    std::array<uint64_t, kRegCount> actual{};
    std::array<uint16_t, kRegCount> expected{};
    std::array<bool, kRegCount> regOk{};
    std::vector<MemDiff> memDiffs;
    uint16_t flagMask = kRealModeFlagsMask;
    std::string firstDifference;  // empty when the case passed
    bool passed() const { return firstDifference.empty(); }
};

// How a case went.
struct CaseResult {
    bool passed = false;
    std::vector<const KnownDifference*> explained;  // failed, but by these known 286-vs-later differences
    std::string firstDifference;                    // empty when passed
    std::string detail;                             // the verbose report (filled when asked for)
};

// Whether the interpreter implements an instruction (decoding the case's bytes).
struct ImplementedStatus {
    bool implemented = false;
    std::string why;  // "not implemented", "invalid opcode", ...
};
ImplementedStatus implementedStatus(const TestCase& c);

// Runs cases on one 16 MiB machine, reused from case to case (RAM is cleared in between).
class Runner {
public:
    Runner();
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // Runs the case, and when it fails, checks the known differences that cover it.
    CaseResult run(const std::string& key, const TestCase& c, bool verbose);
    // One run, compared with the data.
    CaseOutcome execute(const std::string& key, const TestCase& c, Variant variant = kPlain,
                        std::string* detail = nullptr);

private:
    struct Machine;
    std::unique_ptr<Machine> m_;
};

// Per-opcode results of a run over a data folder.
struct OpcodeResult {
    std::string key;
    std::string mnemonic;
    bool implemented = false;
    std::string notImplementedWhy;
    size_t cases = 0, passed = 0, explained = 0, revoked = 0;
    std::map<std::string, size_t> masked;       // flag rule id -> cases where it masked flags
    std::map<std::string, size_t> explainedBy;  // known difference id(s) -> cases
    std::vector<std::string> failures;          // the first failing cases: name and first difference
    size_t failed() const { return cases - passed - explained; }
    // Passed or explained by a known 286-vs-later difference: what the target applies to.
    double percent() const {
        return cases ? 100.0 * static_cast<double>(passed + explained) / static_cast<double>(cases) : 100.0;
    }
    double strictPercent() const {
        return cases ? 100.0 * static_cast<double>(passed) / static_cast<double>(cases) : 100.0;
    }
};

struct RunOptions {
    std::string dataDir;
    size_t sample = 0;           // first N cases of each file; 0: all
    std::string opcode;          // "F6" (every F6.x) or "F6.6"; empty: all
    bool verbose = false;        // print every failing case
    bool showExplained = false;  // with verbose: also the cases explained by a known difference
    size_t maxFailureNotes = 1;
    std::function<void(const std::string&)> print;  // verbose output (default: stdout)
};

std::vector<OpcodeResult> runAll(const RunOptions& options);
// The table: opcode, cases, passed, explained, failed, pass %, notes; a summary line; and a
// legend of the flag rules and known differences the notes name.
std::string formatTable(const std::vector<OpcodeResult>& results, double threshold = 99.0);

}  // namespace hvlab::singlestep
