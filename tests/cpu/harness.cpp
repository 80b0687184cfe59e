#include "tests/cpu/harness.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/support/assemble.hpp"

namespace hvlab::test {

using namespace hvlab::cpu;

std::string flagNames(uint64_t bits) {
    static constexpr struct {
        uint64_t bit;
        const char* name;
    } kNames[] = {{rflag::CF, "CF"}, {rflag::PF, "PF"}, {rflag::AF, "AF"},
                  {rflag::ZF, "ZF"}, {rflag::SF, "SF"}, {rflag::OF, "OF"}};
    std::string out = "{";
    for (const auto& n : kNames) {
        if (!(bits & n.bit)) continue;
        if (out.size() > 1) out += ' ';
        out += n.name;
    }
    return out + "}";
}

Segment segmentFromDescriptor(uint16_t selector, uint64_t d) {
    Segment sg;
    sg.selector = selector;
    sg.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    sg.attributes = static_cast<uint16_t>(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
    if (sg.granularity()) limit = (limit << 12) | 0xfff;
    sg.limit = limit;
    return sg;
}

namespace {

// Flat descriptors, accessed bit already set (so loads never write the GDT).
constexpr uint64_t kGdtEntries[] = {
    0,                      // 0x00 null
    0x00cf9b000000ffffull,  // 0x08 ring-0 code, 32-bit, 4 GiB
    0x00cf93000000ffffull,  // 0x10 ring-0 data, 4 GiB, B = 1
    0x00009b000000ffffull,  // 0x18 ring-0 code, 16-bit, 64 KiB
    0x000093000000ffffull,  // 0x20 ring-0 data, 64 KiB, B = 0
    0x00af9b000000ffffull,  // 0x28 ring-0 code, 64-bit (L = 1)
    0x00cffb000000ffffull,  // 0x30 ring-3 code, 32-bit
    0x00cff3000000ffffull,  // 0x38 ring-3 data
    0x00affb000000ffffull,  // 0x40 ring-3 code, 64-bit
    0x0000890030000067ull,  // 0x48 TSS at 0x3000, limit 0x67 (16 bytes in long mode: high half 0)
    0,
};

uint64_t descriptor(uint16_t selector) { return kGdtEntries[selector >> 3]; }

}  // namespace

Machine::Machine(Mode mode, uint16_t realCs) {
    map.addRam(0, kRamSize, host.data());
    cpu.setInEngineObserver(&inEngine);
    switch (mode) {
        case Mode::Real: setReal(realCs); break;
        case Mode::Protected: setProtected(false); break;
        case Mode::ProtectedPaging: setProtected(true); break;
        case Mode::Long: setLong(); break;
    }
}

void Machine::writeGdt() {
    for (size_t k = 0; k < std::size(kGdtEntries); ++k) write(kGdt + 8 * k, 8, kGdtEntries[k]);
    s.gdtr = {kGdt, kGdtLimit};
}

void Machine::commonReset() {
    s = CpuState{};
    s.setRflags(rflag::RESERVED1);
    writeGdt();
    write(kVectorRecord, 1, 0xff);
    // 32-bit paging: one page table mapping the first 4 MiB, user-accessible and writable.
    write(kPd32, 4, kPt32 | 7);
    for (uint64_t k = 0; k < 1024; ++k) write(kPt32 + 4 * k, 4, (k << 12) | 7);
    // 4-level paging: 4 KiB pages below 2 MiB, one 2 MiB page above.
    write(kPml4, 8, kPdpt | 7);
    write(kPdpt, 8, kPd64 | 7);
    write(kPd64, 8, kPt64 | 7);
    write(kPd64 + 8, 8, 0x200000 | 0x87);
    for (uint64_t k = 0; k < 512; ++k) write(kPt64 + 8 * k, 8, (k << 12) | 7);
    s.gpr[RSP] = kStackTop;
    s.rip = kCode;
}

void Machine::writeStubs(unsigned codeBits) {
    for (unsigned v = 0; v < 256; ++v) {
        std::vector<uint8_t> stub;
        const uint8_t lo = kVectorRecord & 0xff, hi = (kVectorRecord >> 8) & 0xff;
        if (codeBits == 16)
            stub = {0x2e, 0xc6, 0x06, lo, hi, static_cast<uint8_t>(v), 0xf4};  // mov byte [cs:rec], v; hlt
        else if (codeBits == 32)
            stub = {0x36, 0xc6, 0x05, lo, hi, 0, 0, static_cast<uint8_t>(v), 0xf4};  // mov byte [ss:rec], v; hlt
        else
            stub = {0xc6, 0x04, 0x25, lo, hi, 0, 0, static_cast<uint8_t>(v), 0xf4};  // mov byte [abs rec], v
        writeBytes(handlerAddress(static_cast<uint8_t>(v)), stub);
    }
}

void Machine::setReal(uint16_t cs) {
    if (static_cast<uint64_t>(cs) * 16 > kCode) throw std::invalid_argument("real-mode CS must be at or below kCode");
    commonReset();
    for (Segment& sg : s.seg) sg = Segment{0, 0, 0xffff, 0x93};
    s.seg[CS] = Segment{cs, static_cast<uint64_t>(cs) << 4, 0xffff, 0x9b};
    s.ldtr = Segment{0, 0, 0xffff, 0x82};
    s.tr = Segment{0, 0, 0xffff, 0x8b};
    s.idtr = {0, 0x3ff};
    s.cr0 = cr0::ET;
    s.rip = kCode - (static_cast<uint64_t>(cs) << 4);
    writeStubs(16);
    for (unsigned v = 0; v < 256; ++v)
        setIvt(static_cast<uint8_t>(v), 0, static_cast<uint16_t>(handlerAddress(static_cast<uint8_t>(v))));
    cpu.stateLoaded();
}

void Machine::setProtected(bool paging) {
    commonReset();
    s.seg[CS] = segmentFromDescriptor(kCode32, descriptor(kCode32));
    for (unsigned sg : {ES, SS, DS, FS, GS}) s.seg[sg] = segmentFromDescriptor(kData32, descriptor(kData32));
    s.ldtr = Segment{0, 0, 0, 0};
    s.tr = segmentFromDescriptor(kTssSel, descriptor(kTssSel));
    s.tr.attributes |= 2;  // busy
    write(kTss + 4, 4, kRing0StackTop);  // ESP0
    write(kTss + 0x66, 2, 0x68);         // I/O map base beyond the limit: no I/O bitmap
    write(kTss + 8, 2, kData32);         // SS0
    s.cr0 = cr0::PE | cr0::ET;
    if (paging) {
        s.cr0 |= cr0::PG;
        s.cr3 = kPd32;
    }
    writeStubs(32);
    s.idtr = {kIdt, 256 * 8 - 1};
    for (unsigned v = 0; v < 256; ++v)
        setGate(static_cast<uint8_t>(v), handlerAddress(static_cast<uint8_t>(v)), 0x8e);  // 32-bit interrupt gate
    cpu.stateLoaded();
}

void Machine::setLong() {
    commonReset();
    s.seg[CS] = segmentFromDescriptor(kCode64, descriptor(kCode64));
    for (unsigned sg : {ES, SS, DS, FS, GS}) s.seg[sg] = segmentFromDescriptor(kData32, descriptor(kData32));
    s.ldtr = Segment{0, 0, 0, 0};
    s.tr = segmentFromDescriptor(kTssSel, descriptor(kTssSel));
    s.tr.attributes |= 2;
    write(kTss + 4, 8, kRing0StackTop);  // RSP0
    write(kTss + 0x66, 2, 0x68);         // I/O map base beyond the limit: no I/O bitmap
    s.cr0 = cr0::PE | cr0::ET | cr0::PG;
    s.cr4 = cr4::PAE;
    s.cr3 = kPml4;
    s.efer = efer::LME | efer::LMA;
    writeStubs(64);
    s.idtr = {kIdt, 256 * 16 - 1};
    for (unsigned v = 0; v < 256; ++v)
        setGate(static_cast<uint8_t>(v), handlerAddress(static_cast<uint8_t>(v)), 0x8e);  // 64-bit interrupt gate
    cpu.stateLoaded();
}

void Machine::enterUser() {
    const uint16_t code = s.longModeActive() ? kUserCode64 : kUserCode32;
    s.seg[CS] = segmentFromDescriptor(code, descriptor(code));
    for (unsigned sg : {ES, SS, DS, FS, GS}) s.seg[sg] = segmentFromDescriptor(kUserData, descriptor(kUserData));
    cpu.stateLoaded();
}

unsigned Machine::bits() const {
    switch (s.mode()) {
        case CpuMode::Long64: return 64;
        case CpuMode::Protected32:
        case CpuMode::Compat32: return 32;
        default: return 16;
    }
}

void Machine::setGate(uint8_t vector, uint64_t handler, uint8_t typeAttr) {
    const uint16_t selector = s.longModeActive() ? kCode64 : kCode32;
    const uint64_t lo = (handler & 0xffff) | (static_cast<uint64_t>(selector) << 16) |
                        (static_cast<uint64_t>(typeAttr) << 40) | (((handler >> 16) & 0xffff) << 48);
    if (s.longModeActive()) {
        write(kIdt + vector * 16u, 8, lo);
        write(kIdt + vector * 16u + 8, 8, handler >> 32);
    } else {
        write(kIdt + vector * 8u, 8, lo);
    }
}

void Machine::setIvt(uint8_t vector, uint16_t segment, uint16_t offset) {
    write(vector * 4u, 2, offset);
    write(vector * 4u + 2, 2, segment);
}

void Machine::unmap(uint64_t linear) {
    if (s.longModeActive()) {
        if (linear >= 0x200000) throw std::invalid_argument("unmap: long mode maps 4 KiB pages only below 2 MiB");
        write(kPt64 + (linear >> 12) * 8, 8, 0);
    } else {
        write(kPt32 + (linear >> 12) * 4, 4, 0);
    }
    cpu.stateLoaded();  // drops the TLB
}

namespace {

constexpr uint64_t kMaxProgram = Machine::kData - Machine::kCode;

std::string defines() {
    return fmt::format("%define DATA {:#x}\n%define DATA2 {:#x}\n", Machine::kData, Machine::kData2);
}

// Assembled programs by (code size, origin, source).
std::map<std::string, std::vector<uint8_t>>& programCache() {
    static std::map<std::string, std::vector<uint8_t>> cache;
    return cache;
}

std::string cacheKey(unsigned bits, uint64_t ip, const std::string& source) {
    return fmt::format("{}:{:#x}:{}", bits, ip, source);
}

}  // namespace

void preassemble(unsigned bits, const std::vector<std::string>& sources) {
    // One nasm source with a fixed-size section per program, each placed at kCode.
    std::string batch = defines();
    for (size_t k = 0; k < sources.size(); ++k)
        batch += fmt::format("section p{0} start={1:#x} vstart={2:#x}\nbits {3}\n__program{0}:\n{4}\nhlt\n", k,
                             k * kMaxProgram, Machine::kCode, bits, sources[k]);
    std::vector<uint8_t> image;
    try {
        image = assemble(batch);
    } catch (const std::exception&) {
        return;  // a program does not fit or clashes with another: they assemble one by one later
    }
    for (size_t k = 0; k < sources.size(); ++k) {
        const size_t begin = k * kMaxProgram;
        if (begin >= image.size()) break;
        const size_t end = std::min<size_t>(image.size(), begin + kMaxProgram);
        programCache()[cacheKey(bits, Machine::kCode, sources[k])] =
            std::vector<uint8_t>(image.begin() + static_cast<std::ptrdiff_t>(begin),
                                 image.begin() + static_cast<std::ptrdiff_t>(end));
    }
}

void Machine::load(const std::vector<uint8_t>& bytes, uint64_t address) { writeBytes(address, bytes); }

void Machine::loadAsm(const std::string& source) {
    const uint64_t ip = kCode - s.seg[CS].base;
    s.rip = ip;
    cpu.stateLoaded();
    const auto cached = programCache().find(cacheKey(bits(), ip, source));
    if (cached != programCache().end()) {
        load(cached->second, kCode);
        return;
    }
    const std::string program = fmt::format("bits {}\norg {:#x}\n{}{}\nhlt\n", bits(), ip, defines(), source);
    const std::vector<uint8_t> code = assemble(program);
    if (code.size() > kMaxProgram) throw std::length_error("test program does not fit below kData");
    load(code, kCode);
}

cpu::VmExit Machine::resume(uint64_t budget) {
    cpu.stateLoaded();
    const uint64_t start = cpu.retired();
    for (unsigned exits = 0; exits < 100000; ++exits) {
        const uint64_t done = cpu.retired() - start;
        if (done >= budget) break;
        VmExit e = cpu.run(budget - done);
        if (e.reason != ExitReason::PortIo) return e;
        if (!e.io.write) {
            e.io.value = inValue & static_cast<uint32_t>(Interpreter::sizeMask(e.io.size));
            cpu.completeExit(e);
        }
        ports.push_back(e.io);
    }
    return VmExit{};
}

namespace {
constexpr unsigned kSnapshotSlot = 48;
}

std::string Machine::snapshotProgram(unsigned b, const std::vector<std::string>& snippets) {
    constexpr unsigned kSlot = kSnapshotSlot;
    if (kSnapshots + snippets.size() * kSlot > 0x10000) throw std::invalid_argument("too many snippets");
    // 16- and 32-bit code store the E.. registers; 64-bit code the full ones.
    const char* r[4] = {"eax", "ebx", "ecx", "edx"};
    const char* r64[4] = {"rax", "rbx", "rcx", "rdx"};
    std::string program;
    for (size_t k = 0; k < snippets.size(); ++k) {
        const uint64_t slot = kSnapshots + k * kSlot;
        program += snippets[k] + "\n";
        program += b == 16 ? "pushf\n" : b == 32 ? "pushfd\n" : "pushfq\n";
        for (unsigned n = 0; n < 4; ++n) program += fmt::format("mov [{:#x}], {}\n", slot + 8 * n, b == 64 ? r64[n] : r[n]);
        program += fmt::format("pop {} [{:#x}]\n", b == 16 ? "word" : b == 32 ? "dword" : "qword", slot + 32);
        if (b == 64) {
            program += fmt::format("push rsi\nmov rsi, [{:#x}]\nmov [{:#x}], rsi\npop rsi\n", kData, slot + 40);
        } else {
            program += fmt::format("push esi\nmov esi, [{:#x}]\nmov [{:#x}], esi\n", kData, slot + 40);
            program += fmt::format("mov esi, [{:#x}]\nmov [{:#x}], esi\npop esi\n", kData + 4, slot + 44);
        }
    }
    return program;
}

std::vector<Snapshot> Machine::snapshots(const std::vector<std::string>& snippets) {
    constexpr unsigned kSlot = kSnapshotSlot;
    const std::string program = snapshotProgram(bits(), snippets);
    for (size_t k = 0; k < snippets.size() * kSlot; k += 8) write(kSnapshots + k, 8, 0);
    run(program);
    std::vector<Snapshot> out(snippets.size());
    for (size_t k = 0; k < snippets.size(); ++k) {
        const uint64_t slot = kSnapshots + k * kSlot;
        out[k] = {read(slot, 8), read(slot + 8, 8), read(slot + 16, 8), read(slot + 24, 8), read(slot + 32, 8),
                  read(slot + 40, 8)};
    }
    return out;
}

cpu::VmExit Machine::runExit(const std::string& source) {
    loadAsm(source);
    return resume();
}

void Machine::run(const std::string& source) {
    const VmExit e = runExit(source);
    INFO("exit: " << exitReasonName(e.reason) << " " << describeExit(e) << " at rip " << std::hex << e.rip
                  << " (state rip " << s.rip << ", last vector " << std::dec << lastVector() << ")");
    REQUIRE(e.reason == ExitReason::Hlt);
}

uint64_t Machine::read(uint64_t address, unsigned size) const {
    uint64_t v = 0;
    if (!map.read(address, &v, size)) throw std::out_of_range("Machine::read outside RAM");
    return v;
}

void Machine::write(uint64_t address, unsigned size, uint64_t value) {
    if (!map.write(address, &value, size)) throw std::out_of_range("Machine::write outside RAM");
}

void Machine::writeBytes(uint64_t address, const std::vector<uint8_t>& bytes) {
    if (!map.write(address, bytes.data(), bytes.size())) throw std::out_of_range("Machine::writeBytes outside RAM");
}

uint64_t Machine::stack(unsigned index, unsigned size) const {
    return read(s.seg[SS].base + s.gpr[RSP] + static_cast<uint64_t>(index) * size, size);
}

int Machine::lastVector() const {
    const uint64_t v = read(kVectorRecord, 1);
    return v == 0xff ? -1 : static_cast<int>(v);
}

}  // namespace hvlab::test
