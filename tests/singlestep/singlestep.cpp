#include "tests/singlestep/singlestep.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "cpu/cpu_state.hpp"
#include "cpu/cpuid_model.hpp"
#include "cpu/decoder.hpp"
#include "cpu/handlers.hpp"
#include "cpu/interpreter.hpp"
#include "cpu/vm_exit.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::singlestep {

using namespace hvlab::cpu;
using json = nlohmann::json;

namespace {

constexpr const char* kRegNames[kRegCount] = {"ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                              "es", "sp", "bp", "si", "di", "ip", "flags"};

// ---- Loading ----

std::string readGzip(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    gzbuffer(f, 1 << 17);
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int err = 0;
            const std::string msg = gzerror(f, &err);
            gzclose(f);
            throw std::runtime_error(path + ": " + msg);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    gzclose(f);
    return out;
}

// The text of the first `limit` elements of the top-level array, as an array (the whole text
// when limit is 0 or the array is shorter), so a sample parses only what it uses.
std::string firstElements(const std::string& text, size_t limit) {
    if (limit == 0) return text;
    int depth = 0;
    bool inString = false, escape = false;
    size_t count = 0;
    for (size_t k = 0; k < text.size(); ++k) {
        const char ch = text[k];
        if (inString) {
            if (escape)
                escape = false;
            else if (ch == '\\')
                escape = true;
            else if (ch == '"')
                inString = false;
            continue;
        }
        switch (ch) {
            case '"':
                inString = true;
                break;
            case '[':
            case '{':
                ++depth;
                break;
            case ']':
            case '}':
                --depth;
                if (depth == 1 && ++count == limit) return text.substr(0, k + 1) + "]";
                break;
            default:
                break;
        }
    }
    return text;
}

void readRegs(const json& j, RegValues& out) {
    for (unsigned r = 0; r < kRegCount; ++r) {
        auto it = j.find(kRegNames[r]);
        if (it == j.end()) continue;
        out.v[r] = static_cast<uint16_t>(it->get<uint32_t>());
        out.present = static_cast<uint16_t>(out.present | (1u << r));
    }
}

void readRam(const json& j, std::vector<RamByte>& out) {
    out.reserve(j.size());
    for (const json& e : j) out.push_back({e.at(0).get<uint32_t>(), static_cast<uint8_t>(e.at(1).get<uint32_t>())});
}

std::vector<TestCase> parseCases(const std::string& text, size_t limit, const std::string& path) {
    json doc;
    try {
        doc = json::parse(firstElements(text, limit));
    } catch (const json::exception& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
    if (!doc.is_array()) throw std::runtime_error(path + ": not a JSON array");
    std::vector<TestCase> cases;
    cases.reserve(doc.size());
    for (const json& t : doc) {
        if (limit && cases.size() == limit) break;
        TestCase c;
        c.name = t.value("name", "");
        for (const json& b : t.at("bytes")) c.bytes.push_back(static_cast<uint8_t>(b.get<uint32_t>()));
        readRegs(t.at("initial").at("regs"), c.initial);
        readRam(t.at("initial").at("ram"), c.initialRam);
        readRegs(t.at("final").at("regs"), c.final);
        readRam(t.at("final").at("ram"), c.finalRam);
        if (auto e = t.find("exception"); e != t.end() && e->is_object()) {
            c.exception = true;
            c.exceptionNumber = static_cast<uint8_t>(e->at("number").get<uint32_t>());
            c.flagAddress = e->at("flag_address").get<uint32_t>();
        }
        c.hash = t.value("hash", "");
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string hexBytes(const std::vector<uint8_t>& bytes) {
    std::string s;
    for (uint8_t b : bytes) s += fmt::format("{}{:02X}", s.empty() ? "" : " ", b);
    return s;
}

std::string flagLetters(uint16_t f) {
    static constexpr struct {
        uint16_t bit;
        char letter;
    } kBits[] = {{0x800, 'O'}, {0x400, 'D'}, {0x200, 'I'}, {0x100, 'T'}, {0x80, 'S'},
                 {0x40, 'Z'},  {0x10, 'A'},  {0x4, 'P'},   {0x1, 'C'}};
    std::string s;
    for (const auto& b : kBits) s += (f & b.bit) ? b.letter : '-';
    return s;
}

std::string flagNames(uint16_t mask) {
    static constexpr struct {
        uint16_t bit;
        const char* name;
    } kBits[] = {{0x1, "CF"}, {0x4, "PF"}, {0x10, "AF"}, {0x40, "ZF"}, {0x80, "SF"}, {0x800, "OF"}};
    std::string s;
    for (const auto& b : kBits)
        if (mask & b.bit) s += fmt::format("{}{}", s.empty() ? "" : " ", b.name);
    return s;
}

// The instruction's first word after prefixes ("lock rep movsb" -> "movsb").
std::string mnemonicOf(const std::string& name) {
    static const char* kPrefixes[] = {"lock", "rep", "repe", "repne", "repz", "repnz", "es", "cs", "ss", "ds"};
    size_t pos = 0;
    for (;;) {
        const size_t end = name.find(' ', pos);
        const std::string word = name.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        const bool prefix = std::find_if(std::begin(kPrefixes), std::end(kPrefixes),
                                         [&](const char* p) { return word == p; }) != std::end(kPrefixes);
        if (!prefix || end == std::string::npos) return word;
        pos = end + 1;
    }
}

// ---- Instruction bytes ----

bool isPrefix(uint8_t b) {
    return b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e;
}

// The index of the opcode byte (after the prefixes).
size_t opcodeIndex(const TestCase& c) {
    size_t k = 0;
    while (k < c.bytes.size() && isPrefix(c.bytes[k])) ++k;
    return k;
}

uint8_t opcodeOf(const TestCase& c) {
    const size_t k = opcodeIndex(c);
    return k < c.bytes.size() ? c.bytes[k] : 0;
}

// Decodes the case's instruction as if it had no LOCK prefix (the interpreter, like later CPUs,
// rejects LOCK where the 286 ignores it), with room for an instruction longer than its bytes.
DecodeStatus decodeWithoutLock(const TestCase& c, DecodedInsn& insn) {
    std::vector<uint8_t> bytes;
    const size_t start = opcodeIndex(c);
    for (size_t k = 0; k < c.bytes.size(); ++k)
        if (k >= start || c.bytes[k] != 0xf0) bytes.push_back(c.bytes[k]);
    bytes.resize(16, 0);
    return decode(bytes.data(), bytes.size(), CodeSize::Bits16, insn);
}

// The ModRM reg field (for opcodes with a ModRM byte).
unsigned modrmReg(const TestCase& c) {
    const size_t k = opcodeIndex(c) + 1;
    return k < c.bytes.size() ? (c.bytes[k] >> 3) & 7 : 0;
}

// The count of a group-2 shift or rotate as the CPU uses it (masked to 5 bits, as the 286 and
// later CPUs do): 1 (D0/D1), CL (D2/D3) or the immediate (C0/C1).
unsigned shiftCount(const TestCase& c) {
    const uint8_t op = opcodeOf(c);
    if (op == 0xd0 || op == 0xd1) return 1;
    if (op == 0xd2 || op == 0xd3) return c.initial.v[CX] & 0x1f;
    DecodedInsn insn;
    if (decodeWithoutLock(c, insn) != DecodeStatus::Ok) return 0;
    return insn.imm & 0x1f;
}

bool shiftCountNonZero(const TestCase& c) {
    return shiftCount(c) != 0;
}
bool shiftCountAboveOne(const TestCase& c) {
    return shiftCount(c) > 1;
}

bool recordedException(const TestCase& c, uint8_t vector) {
    return c.exception && c.exceptionNumber == vector;
}

}  // namespace

const char* regName(unsigned reg) {
    return reg < kRegCount ? kRegNames[reg] : "?";
}

// ---- Undefined flags: where the 286 differs from later CPUs ----

const std::vector<FlagRule>& undefinedFlagRules() {
    // Each rule masks flags the SDM leaves undefined for the instruction, and only for the data
    // files where the 286's values disagree with the interpreter's choice.
    static const std::vector<FlagRule> rules = [] {
        using namespace rflag;
        std::vector<FlagRule> r;
        for (const char* op : {"C0", "C1", "D0", "D1", "D2", "D3"})
            for (const char* reg : {".4", ".5", ".6", ".7"})
                r.push_back({"shift-af", std::string(op) + reg, static_cast<uint16_t>(AF),
                             "AF is undefined after SHL/SHR/SAR by a non-zero count; the 286 sets it (always after "
                             "SHR/SAR, by the result after SHL), the interpreter clears it as after the logic "
                             "instructions",
                             shiftCountNonZero});
        for (const char* op : {"C0", "C1", "D2", "D3"}) {
            r.push_back({"shr-of", std::string(op) + ".5", static_cast<uint16_t>(OF),
                         "OF is undefined after SHR by more than 1; the 286 clears it, the interpreter applies the "
                         "1-bit rule (the operand's old top bit)",
                         shiftCountAboveOne});
            r.push_back({"rcr-of", std::string(op) + ".3", static_cast<uint16_t>(OF),
                         "OF is undefined after RCR by more than 1; the interpreter applies the 1-bit rule (old top "
                         "bit XOR CF, before the rotation), the 286 leaves a different value",
                         shiftCountAboveOne});
        }
        for (const char* key : {"F6.4", "F6.5", "F7.4", "F7.5", "69", "6B"})
            r.push_back({"mul-flags", key, static_cast<uint16_t>(SF | ZF | AF | PF),
                         "SF ZF AF PF are undefined after MUL/IMUL; the 286 leaves values of its own (AF set), the "
                         "interpreter derives SF ZF PF from the low half of the product and clears AF"});
        for (const char* key : {"F6.6", "F6.7", "F7.6", "F7.7"})
            r.push_back(
                {"div-flags", key, static_cast<uint16_t>(ARITH),
                 "all six arithmetic flags are undefined after DIV/IDIV; the 286 changes them while dividing "
                 "(also before a #DE, so in the FLAGS image it pushes), the interpreter leaves them unchanged"});
        return r;
    }();
    return rules;
}

uint16_t comparedFlags(const std::string& key, const TestCase& c, std::vector<const FlagRule*>* used) {
    uint16_t mask = kRealModeFlagsMask;
    for (const FlagRule& r : undefinedFlagRules()) {
        if (key != r.key || (r.applies && !r.applies(c))) continue;
        mask = static_cast<uint16_t>(mask & ~r.mask);
        if (used) used->push_back(&r);
    }
    return mask;
}

// ---- Case-level differences between the 286 and later CPUs ----

namespace {

// The instruction's length as the interpreter decodes it (0 if it does not decode).
unsigned decodedLength(const TestCase& c) {
    DecodedInsn insn;
    return decodeWithoutLock(c, insn) == DecodeStatus::Ok ? insn.length : 0;
}

bool isStringOp(uint8_t op) {
    return (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf);
}

// The 286 has stepped SI/DI by one element (each of them or not) and, under REP, counted up
// to two more elements in CX; nothing else differs.
bool indexRegistersStepped(const TestCase& c, const CaseOutcome& o) {
    if (!o.runError.empty() || !o.memDiffs.empty()) return false;
    const unsigned size = (opcodeOf(c) & 1) ? 2 : 1;
    const uint16_t step = (c.initial.v[FLAGS] & rflag::DF) ? static_cast<uint16_t>(-size) : static_cast<uint16_t>(size);
    const size_t start = opcodeIndex(c);
    const bool rep = std::any_of(c.bytes.begin(), c.bytes.begin() + static_cast<long>(start),
                                 [](uint8_t b) { return b == 0xf2 || b == 0xf3; });
    bool any = false;
    for (unsigned r = 0; r < kRegCount; ++r) {
        if (o.regOk[r]) continue;
        if (r == SI || r == DI) {
            if (static_cast<uint16_t>(o.actual[r] + step) != o.expected[r]) return false;
        } else if (r == CX && rep) {
            const uint16_t fewer = static_cast<uint16_t>(o.actual[r] - o.expected[r]);
            if (fewer > 2) return false;
        } else {
            return false;
        }
        any = true;
    }
    return any;
}

// Only IP differs, and by a carry into bit 16 (EIP = 10000h + the 286's IP).
bool ipCarriedPastFfff(const TestCase&, const CaseOutcome& o) {
    if (!o.runError.empty() || !o.memDiffs.empty()) return false;
    for (unsigned r = 0; r < kRegCount; ++r)
        if (!o.regOk[r] && r != IP) return false;
    return !o.regOk[IP] && o.actual[IP] == 0x10000u + o.expected[IP];
}

bool hasLockPrefix(const TestCase& c) {
    const size_t end = opcodeIndex(c);
    return std::find(c.bytes.begin(), c.bytes.begin() + static_cast<long>(end), 0xf0) !=
           c.bytes.begin() + static_cast<long>(end);
}

}  // namespace

const std::vector<KnownDifference>& knownDifferences() {
    static const std::vector<KnownDifference> list = {
        {"stack-overrun-gp",
         "a stack-segment access past offset FFFF (word at SS:FFFF) is #GP (13) on the 286 in real mode; later CPUs "
         "raise #SS (12), as the interpreter does (the case passes with #SS delivered through the #GP vector)",
         [](const std::string&, const TestCase& c) { return recordedException(c, 13); }, kStackFaultAsGp},
        {"string-index-stepped",
         "when a string instruction's word access overruns the segment (#GP), the 286 has already stepped SI/DI "
         "(and under REP counted the element in CX); later CPUs, and the interpreter, fault with them unchanged",
         [](const std::string&, const TestCase& c) { return recordedException(c, 13) && isStringOp(opcodeOf(c)); },
         kPlain, indexRegistersStepped},
        {"ip-wrap",
         "IP is a 16-bit register on the 286: after an instruction ending at offset FFFF it wraps to 0; later CPUs "
         "(and the interpreter) carry into EIP (10000h, where the next fetch is #GP)",
         [](const std::string&, const TestCase&) { return true; }, kPlain, ipCarriedPastFfff},
        {"lock-ignored",
         "the 286 accepts LOCK on any instruction; later CPUs raise #UD for LOCK on an instruction that is not a "
         "locked read-modify-write of memory (the case passes with the prefix replaced by a no-op segment override)",
         [](const std::string&, const TestCase& c) { return hasLockPrefix(c); }, kLockAsSegmentPrefix},
        {"insn-length-10",
         "the 286 limits an instruction to 10 bytes (#GP beyond, here with redundant prefixes); later CPUs allow 15",
         [](const std::string&, const TestCase& c) { return recordedException(c, 13) && decodedLength(c) > 10; }},
        {"no-fs-gs",
         "MOV to/from segment register 4 or 5 (FS/GS) is #UD on the 286, which has no FS/GS; later CPUs execute it",
         [](const std::string& key, const TestCase& c) {
             return (key == "8C" || key == "8E") && recordedException(c, 6) && (modrmReg(c) == 4 || modrmReg(c) == 5);
         }},
    };
    return list;
}

// ---- Files ----

std::vector<DataFile> listDataFiles(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<DataFile> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const std::string suffix = ".json.gz";
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        files.push_back({name.substr(0, name.size() - suffix.size()), entry.path().string()});
    }
    std::sort(files.begin(), files.end(), [](const DataFile& a, const DataFile& b) { return a.key < b.key; });
    return files;
}

std::unordered_set<std::string> loadRevocations(const std::string& dir) {
    std::unordered_set<std::string> hashes;
    std::ifstream in(dir + "/revocation_list.txt");
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        hashes.insert(line);
    }
    return hashes;
}

std::vector<TestCase> loadCases(const std::string& path, size_t limit) {
    return parseCases(readGzip(path), limit, path);
}

ImplementedStatus implementedStatus(const TestCase& c) {
    DecodedInsn insn;
    switch (decodeWithoutLock(c, insn)) {
        case DecodeStatus::Ok:
            // An entry whose handler is `ud` is an encoding the interpreter treats as invalid.
            if (insn.exec == &exec::ud) return {false, "not implemented (the interpreter raises #UD)"};
            return {true, ""};
        case DecodeStatus::Unimplemented:
            return {false, "not implemented"};
        case DecodeStatus::InvalidOpcode:
            return {false, "not implemented (decodes as invalid)"};
        case DecodeStatus::Truncated:
            return {false, "does not decode (truncated)"};
        case DecodeStatus::TooLong:
            return {false, "does not decode (too long)"};
    }
    return {false, "?"};
}

// ---- Running ----

struct Runner::Machine {
    static constexpr uint64_t kRamSize = 16ull << 20;
    mmu::HostMemory host{kRamSize};
    mmu::PhysicalMap map;
    CpuidModel model = CpuidModel::hvlabDefault();
    CpuState s;
    std::vector<unsigned char> residency = std::vector<unsigned char>(kRamSize / 4096);

    Machine() { map.addRam(0, kRamSize, host.data()); }

    // Back to all-zero RAM: the kernel drops the pages the last case touched (page by page, which
    // keeps the page tables, rather than the whole range).
    void clearRam() {
        uint8_t* ram = host.data();
        if (mincore(ram, kRamSize, residency.data()) != 0) {
            if (madvise(ram, kRamSize, MADV_DONTNEED) != 0) std::memset(ram, 0, kRamSize);
            return;
        }
        for (size_t page = 0; page < residency.size();) {
            if (!(residency[page] & 1)) {
                ++page;
                continue;
            }
            size_t end = page + 1;
            while (end < residency.size() && (residency[end] & 1)) ++end;
            if (madvise(ram + page * 4096, (end - page) * 4096, MADV_DONTNEED) != 0)
                std::memset(ram + page * 4096, 0, (end - page) * 4096);
            page = end;
        }
    }
};

Runner::Runner() : m_(std::make_unique<Machine>()) {}
Runner::~Runner() = default;

namespace {

void loadState(CpuState& s, const TestCase& c) {
    s = CpuState{};
    const RegValues& r = c.initial;
    s.gpr[RAX] = r.v[AX];
    s.gpr[RBX] = r.v[BX];
    s.gpr[RCX] = r.v[CX];
    s.gpr[RDX] = r.v[DX];
    s.gpr[RSP] = r.v[SP];
    s.gpr[RBP] = r.v[BP];
    s.gpr[RSI] = r.v[SI];
    s.gpr[RDI] = r.v[DI];
    s.rip = r.v[IP];
    // The 286 cannot hold bits 12-15 in real mode: the recorded initial value has them, the CPU
    // did not (PUSHF and exceptions push them as 0).
    s.setRflags((r.v[FLAGS] & kRealModeFlagsMask) | rflag::RESERVED1);
    for (Segment& sg : s.seg) sg = Segment{0, 0, 0xffff, 0x93};
    const std::pair<unsigned, Reg> segs[] = {{cpu::ES, ES}, {cpu::CS, CS}, {cpu::SS, SS}, {cpu::DS, DS}};
    for (auto [seg, reg] : segs) s.seg[seg] = Segment{r.v[reg], static_cast<uint64_t>(r.v[reg]) << 4, 0xffff, 0x93};
    s.seg[cpu::CS].attributes = 0x9b;
    s.ldtr = Segment{0, 0, 0xffff, 0x82};
    s.tr = Segment{0, 0, 0xffff, 0x8b};
    s.gdtr = {0, 0xffff};
    s.idtr = {0, 0x3ff};
    s.cr0 = 0;
}

std::array<uint64_t, kRegCount> captureState(const CpuState& s) {
    std::array<uint64_t, kRegCount> a{};
    a[AX] = s.gpr[RAX];
    a[BX] = s.gpr[RBX];
    a[CX] = s.gpr[RCX];
    a[DX] = s.gpr[RDX];
    a[SP] = s.gpr[RSP];
    a[BP] = s.gpr[RBP];
    a[SI] = s.gpr[RSI];
    a[DI] = s.gpr[RDI];
    a[IP] = s.rip;
    a[FLAGS] = s.rflags();
    a[CS] = s.seg[cpu::CS].selector;
    a[SS] = s.seg[cpu::SS].selector;
    a[DS] = s.seg[cpu::DS].selector;
    a[ES] = s.seg[cpu::ES].selector;
    return a;
}

}  // namespace

CaseOutcome Runner::execute(const std::string& key, const TestCase& c, Variant variant, std::string* detail) {
    Machine& m = *m_;
    uint8_t* ram = m.host.data();
    std::map<uint32_t, uint8_t> expectedRam;  // every byte the case loads or lists after
    for (const RamByte& b : c.initialRam) {
        if (b.address < Machine::kRamSize) ram[b.address] = b.value;
        expectedRam[b.address] = b.value;
    }
    auto patch = [&](uint32_t address, uint8_t value) {
        ram[address] = value;
        expectedRam[address] = value;
    };
    if (variant & kStackFaultAsGp)
        for (uint32_t k = 0; k < 4; ++k) patch(12 * 4 + k, ram[13 * 4 + k]);
    if (variant & kLockAsSegmentPrefix) {
        // The segment the instruction uses (its override or its default), from its bytes without LOCK.
        DecodedInsn insn;
        decodeWithoutLock(c, insn);
        static constexpr uint8_t kOverride[4] = {0x26, 0x2e, 0x36, 0x3e};  // ES CS SS DS
        const uint8_t replacement = kOverride[insn.segment < 4 ? insn.segment : 3];
        const uint32_t csBase = static_cast<uint32_t>(c.initial.v[CS]) << 4;
        for (size_t k = 0; k < opcodeIndex(c); ++k)
            if (c.bytes[k] == 0xf0) patch(csBase + ((c.initial.v[IP] + k) & 0xffff), replacement);
    }
    for (const RamByte& b : c.finalRam) expectedRam[b.address] = b.value;
    loadState(m.s, c);

    CaseOutcome o;
    // Run to the HLT, answering port reads as the recording's empty bus did (all ones).
    try {
        Interpreter cpu(m.s, m.map, m.model);
        uint64_t budget = 200'000;
        for (unsigned exits = 0;; ++exits) {
            const uint64_t before = cpu.retired();
            const VmExit e = cpu.run(budget);
            const uint64_t ran = cpu.retired() - before;
            budget = budget > ran ? budget - ran : 0;
            if (e.reason == ExitReason::Hlt) break;
            if (e.reason == ExitReason::PortIo && exits < 400'000 && budget) {
                if (!e.io.write) {
                    VmExit answer = e;
                    answer.io.value = 0xffffffffu;
                    cpu.completeExit(answer);
                }
                continue;
            }
            if (e.reason == ExitReason::None)
                o.runError = "no HLT reached (instruction budget exhausted)";
            else
                o.runError = fmt::format("the run ended with a {} exit at ip {:04x} ({})", exitReasonName(e.reason),
                                         e.rip & 0xffff, describeExit(e));
            break;
        }
    } catch (const std::exception& e) {
        o.runError = fmt::format("the interpreter threw: {}", e.what());
    }
    o.actual = captureState(m.s);

    // Registers (those the data does not list must be unchanged).
    std::vector<const FlagRule*> rules;
    o.flagMask = comparedFlags(key, c, &rules);
    std::string& first = o.firstDifference;
    first = o.runError;
    for (unsigned r = 0; r < kRegCount; ++r) {
        o.expected[r] = c.final.has(r) ? c.final.v[r] : c.initial.v[r];
        if (r == FLAGS)
            o.regOk[r] = ((o.actual[r] ^ o.expected[r]) & o.flagMask) == 0;
        else
            o.regOk[r] = o.actual[r] == o.expected[r];
        if (o.regOk[r] || !first.empty()) continue;
        if (r == FLAGS)
            first = fmt::format("flags: expected {:04x} [{}], got {:04x} [{}] (differ in {})", o.expected[r],
                                flagLetters(o.expected[r]), o.actual[r] & 0xffff,
                                flagLetters(static_cast<uint16_t>(o.actual[r])),
                                flagNames(static_cast<uint16_t>((o.actual[r] ^ o.expected[r]) & o.flagMask)));
        else
            first = fmt::format("{}: expected {:04x}, got {:04x}", kRegNames[r], o.expected[r], o.actual[r]);
    }

    // Memory: the bytes the data lists after, the bytes it loaded (unchanged unless listed), and
    // no other byte written. The FLAGS image an exception pushed is compared like FLAGS.
    // `flag_address` is word-aligned (a bus address): with an odd SP the image starts one byte
    // higher, at SS:SP+4 after the three pushes.
    uint32_t flagsLow = c.flagAddress, flagsHigh = c.flagAddress + 1;
    if (c.exception) {
        const uint32_t ssBase = static_cast<uint32_t>(o.expected[SS]) << 4;
        const uint32_t low = ssBase + ((o.expected[SP] + 4u) & 0xffff),
                       high = ssBase + ((o.expected[SP] + 5u) & 0xffff);
        if ((low & ~1u) == (c.flagAddress & ~1u)) {
            flagsLow = low;
            flagsHigh = high;
        }
    }
    auto byteMask = [&](uint32_t address) -> uint8_t {
        if (!c.exception) return 0xff;
        if (address == flagsLow) return static_cast<uint8_t>(o.flagMask);
        if (address == flagsHigh) return static_cast<uint8_t>(o.flagMask >> 8);
        return 0xff;
    };
    for (const auto& [address, value] : expectedRam) {
        const uint8_t got = address < Machine::kRamSize ? ram[address] : 0;
        if (((got ^ value) & byteMask(address)) != 0) o.memDiffs.push_back({address, value, got});
    }
    if (mincore(ram, Machine::kRamSize, m.residency.data()) == 0) {
        for (size_t page = 0; page < m.residency.size(); ++page) {
            if (!(m.residency[page] & 1)) continue;
            const uint8_t* p = ram + page * 4096;
            for (size_t off = 0; off < 4096; off += 8) {
                uint64_t word;
                std::memcpy(&word, p + off, 8);
                if (!word) continue;
                for (size_t k = 0; k < 8; ++k) {
                    const uint32_t address = static_cast<uint32_t>(page * 4096 + off + k);
                    if (p[off + k] && !expectedRam.count(address)) o.memDiffs.push_back({address, -1, p[off + k]});
                }
            }
        }
    }
    std::sort(o.memDiffs.begin(), o.memDiffs.end(),
              [](const MemDiff& x, const MemDiff& y) { return x.address < y.address; });
    if (first.empty() && !o.memDiffs.empty()) {
        const MemDiff& d = o.memDiffs.front();
        if (d.expected < 0)
            first = fmt::format("memory {:06x}: written with {:02x}, the CPU did not write it", d.address, d.actual);
        else
            first = fmt::format("memory {:06x}: expected {:02x}, got {:02x}", d.address, d.expected, d.actual);
    }

    if (detail && !o.passed()) {
        std::string& out = *detail;
        out += fmt::format("  bytes:   {}\n", hexBytes(c.bytes));
        out += "  initial:";
        for (unsigned r = 0; r < kRegCount; ++r) out += fmt::format(" {}={:04x}", kRegNames[r], c.initial.v[r]);
        out += fmt::format(" [{}]\n", flagLetters(c.initial.v[FLAGS]));
        if (c.exception)
            out += fmt::format("  exception taken by the 286: vector {} (FLAGS pushed at {:06x})\n", c.exceptionNumber,
                               c.flagAddress);
        if (variant & kStackFaultAsGp) out += "  (run with the #SS vector pointed at the #GP handler)\n";
        for (const FlagRule* rule : rules)
            out += fmt::format("  not compared: {} ({})\n", flagNames(rule->mask), rule->reason);
        out += "  register  expected  actual\n";
        for (unsigned r = 0; r < kRegCount; ++r) {
            if (!c.final.has(r) && o.regOk[r]) continue;
            out += fmt::format("  {:<8}  {:04x}      {:04x}{}", kRegNames[r], o.expected[r], o.actual[r],
                               o.regOk[r] ? "" : "   <-- differs");
            if (r == FLAGS)
                out += fmt::format("   [{} vs {}]", flagLetters(o.expected[r]),
                                   flagLetters(static_cast<uint16_t>(o.actual[r])));
            out += '\n';
        }
        if (!c.finalRam.empty() || !o.memDiffs.empty()) {
            out += "  memory    expected  actual\n";
            for (const RamByte& b : c.finalRam) {
                const uint8_t got = b.address < Machine::kRamSize ? ram[b.address] : 0;
                const bool ok = ((got ^ b.value) & byteMask(b.address)) == 0;
                out += fmt::format("  {:06x}    {:02x}        {:02x}{}\n", b.address, b.value, got,
                                   ok ? "" : "     <-- differs");
            }
            for (const MemDiff& d : o.memDiffs) {
                const bool listed = std::any_of(c.finalRam.begin(), c.finalRam.end(),
                                                [&](const RamByte& b) { return b.address == d.address; });
                if (listed) continue;
                out += fmt::format("  {:06x}    {}        {:02x}     <-- {}\n", d.address,
                                   d.expected < 0 ? std::string("--") : fmt::format("{:02x}", d.expected), d.actual,
                                   d.expected < 0 ? "written, but not by the CPU" : "changed, but not by the CPU");
            }
        }
        out += fmt::format("  first difference: {}\n", first);
    }

    m.clearRam();
    return o;
}

CaseResult Runner::run(const std::string& key, const TestCase& c, bool verbose) {
    CaseResult result;
    std::string detail;
    const CaseOutcome plain = execute(key, c, kPlain, verbose ? &detail : nullptr);
    result.passed = plain.passed();
    result.firstDifference = plain.firstDifference;
    if (result.passed) return result;

    // The known differences that cover the case, alone and then in pairs.
    std::vector<const KnownDifference*> covering;
    for (const KnownDifference& k : knownDifferences())
        if (k.applies(key, c)) covering.push_back(&k);
    std::map<Variant, CaseOutcome> runs{{kPlain, plain}};
    std::string rerunDetail;
    auto explains = [&](const std::vector<const KnownDifference*>& combo) {
        Variant variant = kPlain;
        for (const KnownDifference* k : combo) {
            if (k->rerun == kPlain && !k->accepts) return true;
            variant = static_cast<Variant>(variant | k->rerun);
        }
        auto it = runs.find(variant);
        if (it == runs.end()) {
            std::string d;
            it = runs.emplace(variant, execute(key, c, variant, verbose ? &d : nullptr)).first;
            if (!it->second.passed()) rerunDetail += fmt::format("  run with variant {}:\n{}", variant, d);
        }
        if (it->second.passed()) return true;
        return std::any_of(combo.begin(), combo.end(),
                           [&](const KnownDifference* k) { return k->accepts && k->accepts(c, it->second); });
    };
    for (size_t a = 0; a < covering.size() && result.explained.empty(); ++a)
        if (explains({covering[a]})) result.explained = {covering[a]};
    for (size_t a = 0; a < covering.size() && result.explained.empty(); ++a)
        for (size_t b = a + 1; b < covering.size() && result.explained.empty(); ++b)
            if (explains({covering[a], covering[b]})) result.explained = {covering[a], covering[b]};

    if (verbose) {
        const bool explained = !result.explained.empty();
        result.detail = fmt::format("{} {} \"{}\" (hash {})\n", explained ? "EXPLAINED" : "FAIL", key, c.name, c.hash);
        for (const KnownDifference* k : result.explained)
            result.detail += fmt::format("  known difference [{}]: {}\n", k->id, k->reason);
        result.detail += detail;
        if (!explained && !rerunDetail.empty())
            result.detail += "  runs for the known differences that cover it did not pass either:\n" + rerunDetail;
    }
    return result;
}

std::vector<OpcodeResult> runAll(const RunOptions& options) {
    auto print = options.print ? options.print : [](const std::string& s) { std::fputs(s.c_str(), stdout); };
    const auto revoked = loadRevocations(options.dataDir);
    std::vector<OpcodeResult> results;
    Runner runner;
    for (const DataFile& f : listDataFiles(options.dataDir)) {
        if (!options.opcode.empty()) {
            const bool exact = f.key == options.opcode;
            const bool group =
                options.opcode.find('.') == std::string::npos && f.key.rfind(options.opcode + ".", 0) == 0;
            if (!exact && !group) continue;
        }
        OpcodeResult res;
        res.key = f.key;
        const std::vector<TestCase> cases = loadCases(f.path, options.sample);
        if (cases.empty()) continue;
        // The instruction's name and whether the interpreter implements it: by most cases (a few
        // are encodings the 286 rejects, such as a group member that does not exist).
        std::map<std::string, size_t> names, reasons;
        size_t implemented = 0;
        for (const TestCase& c : cases) {
            ++names[mnemonicOf(c.name)];
            const ImplementedStatus st = implementedStatus(c);
            if (st.implemented)
                ++implemented;
            else
                ++reasons[st.why];
        }
        res.mnemonic =
            std::max_element(names.begin(), names.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
        res.implemented = implemented * 2 > cases.size();
        if (!res.implemented) {
            res.notImplementedWhy = std::max_element(reasons.begin(), reasons.end(), [](auto& a, auto& b) {
                                        return a.second < b.second;
                                    })->first;
            results.push_back(std::move(res));
            continue;
        }
        size_t failureNotes = 0;
        for (size_t n = 0; n < cases.size(); ++n) {
            const TestCase& c = cases[n];
            if (!c.hash.empty() && revoked.count(c.hash)) {
                ++res.revoked;
                continue;
            }
            ++res.cases;
            std::vector<const FlagRule*> used;
            comparedFlags(f.key, c, &used);
            for (const FlagRule* r : used) ++res.masked[r->id];
            const CaseResult cr = runner.run(f.key, c, options.verbose);
            if (cr.passed) {
                ++res.passed;
                continue;
            }
            if (!cr.explained.empty()) {
                ++res.explained;
                std::string ids;
                for (const KnownDifference* k : cr.explained) ids += (ids.empty() ? "" : "+") + std::string(k->id);
                ++res.explainedBy[ids];
                if (options.verbose && options.showExplained) print(fmt::format("[case {}] {}", n, cr.detail));
                continue;
            }
            if (options.verbose) print(fmt::format("[case {}] {}", n, cr.detail));
            if (failureNotes++ < options.maxFailureNotes)
                res.failures.push_back(fmt::format("case {} \"{}\": {}", n, c.name, cr.firstDifference));
        }
        results.push_back(std::move(res));
    }
    return results;
}

std::string formatTable(const std::vector<OpcodeResult>& results, double threshold) {
    std::string o = fmt::format("{:<6} {:<7} {:>5} {:>6} {:>5} {:>6} {:>7} {:>7}  {}\n", "opcode", "insn", "cases",
                                "passed", "expl.", "failed", "pass%", "+expl%", "notes");
    size_t implemented = 0, below = 0, cases = 0, passed = 0, explained = 0;
    std::vector<std::string> skipped;
    std::map<std::string, size_t> maskedTotal, explainedTotal;
    for (const OpcodeResult& r : results) {
        if (!r.implemented) {
            skipped.push_back(fmt::format("{} ({})", r.key, r.mnemonic));
            o += fmt::format("{:<6} {:<7} {:>5} {:>6} {:>5} {:>6} {:>7} {:>7}  {}\n", r.key, r.mnemonic, "-", "-", "-",
                             "-", "-", "-", r.notImplementedWhy);
            continue;
        }
        ++implemented;
        cases += r.cases;
        passed += r.passed;
        explained += r.explained;
        const bool low = r.percent() < threshold;
        if (low) ++below;
        std::vector<std::string> notes;
        if (low) notes.push_back(fmt::format("BELOW {:.0f}%", threshold));
        std::string part;
        for (const auto& [id, count] : r.masked) {
            part += fmt::format("{}{} {}", part.empty() ? "flags masked: " : ", ", id, count);
            maskedTotal[id] += count;
        }
        if (!part.empty()) notes.push_back(part);
        part.clear();
        for (const auto& [id, count] : r.explainedBy) {
            part += fmt::format("{}{} {}", part.empty() ? "explained: " : ", ", id, count);
            explainedTotal[id] += count;
        }
        if (!part.empty()) notes.push_back(part);
        for (const std::string& f : r.failures) notes.push_back("FAILS " + f);
        if (r.revoked) notes.push_back(fmt::format("{} revoked cases skipped", r.revoked));
        std::string joined;
        for (const std::string& n : notes) joined += (joined.empty() ? "" : " | ") + n;
        o += fmt::format("{:<6} {:<7} {:>5} {:>6} {:>5} {:>6} {:>6.2f}% {:>6.2f}%  {}\n", r.key, r.mnemonic, r.cases,
                         r.passed, r.explained, r.failed(), r.strictPercent(), r.percent(), joined);
    }
    auto pct = [](size_t n, size_t d) { return d ? 100.0 * static_cast<double>(n) / static_cast<double>(d) : 100.0; };
    o += fmt::format(
        "\n{} implemented opcodes, {} cases: {} passed ({:.2f}%), {} explained by a known 286-vs-later "
        "difference ({:.2f}% with them), {} failed; {} opcodes below {:.0f}%\n",
        implemented, cases, passed, pct(passed, cases), explained, pct(passed + explained, cases),
        cases - passed - explained, below, threshold);
    if (!skipped.empty()) {
        o += fmt::format("{} not implemented (listed, not run):", skipped.size());
        for (const std::string& s : skipped) o += " " + s;
        o += "\n";
    }
    if (!maskedTotal.empty()) {
        o += "\nFlags not compared (undefined in the SDM; the 286 leaves them differently from the interpreter):\n";
        for (const auto& [id, count] : maskedTotal) {
            const FlagRule* rule = nullptr;
            std::string keys;
            for (const FlagRule& r : undefinedFlagRules()) {
                if (std::string(r.id) != id) continue;
                rule = &r;
                keys += (keys.empty() ? "" : " ") + r.key;
            }
            if (rule)
                o += fmt::format("  {:<12} {} in {} cases of {}: {}\n", id, flagNames(rule->mask), count, keys,
                                 rule->reason);
        }
    }
    if (!explainedTotal.empty()) {
        o += "\nKnown 286-vs-later differences (cases counted as explained, not as passed):\n";
        std::map<std::string, size_t> byId;
        for (const auto& [ids, count] : explainedTotal) {
            size_t pos = 0;
            while (pos != std::string::npos) {
                const size_t plus = ids.find('+', pos);
                byId[ids.substr(pos, plus == std::string::npos ? std::string::npos : plus - pos)] += count;
                pos = plus == std::string::npos ? plus : plus + 1;
            }
        }
        for (const KnownDifference& k : knownDifferences())
            if (byId.count(k.id)) o += fmt::format("  {:<20} {:>4} cases: {}\n", k.id, byId[k.id], k.reason);
    }
    return o;
}

}  // namespace hvlab::singlestep
