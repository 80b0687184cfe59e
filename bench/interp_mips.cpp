// The interpreter's speed budget: a boot-sector compute loop (32-bit protected mode,
// add/xor/rol/mov store/load/add/dec/jnz) run for N instructions, in MIPS, next to the same
// loop compiled natively and measured in the same run (these machines are shared and noisy,
// so the ratio is the figure to compare).
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cpu/interpreter.hpp"
#include "mmu/physical_map.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
    uint64_t instructions;
    double seconds;
    uint32_t eax;
};

// The guest loop, natively: the same operations on the same values.
__attribute__((noinline)) uint32_t nativeLoop(uint64_t iterations, volatile uint32_t* scratch) {
    uint32_t eax = 0x12345678, ebx = 0x9abcdef0;
    for (uint64_t n = iterations; n != 0; --n) {
        eax += ebx;
        ebx ^= eax;
        eax = (eax << 3) | (eax >> 29);
        *scratch = eax;
        const uint32_t edx = *scratch;
        ebx += edx;
    }
    return eax;
}

Result runGuest(const std::vector<uint8_t>& bootSector, uint32_t iterations) {
    using namespace hvlab;
    mmu::HostMemory ram(4ull << 20);
    mmu::PhysicalMap map;
    map.addRam(0, ram.size(), ram.data());
    std::vector<uint8_t> sector = bootSector;
    // Patch the iteration count: the dword just before the GDT, found by its initial value.
    const uint32_t marker = 1000;
    auto it = std::search(sector.begin(), sector.end(), reinterpret_cast<const uint8_t*>(&marker),
                          reinterpret_cast<const uint8_t*>(&marker) + 4);
    if (it == sector.end()) throw std::runtime_error("iteration count not found in the boot sector");
    std::memcpy(&*it, &iterations, 4);
    map.write(0x7c00, sector.data(), sector.size());

    cpu::CpuidModel cpuid = cpu::CpuidModel::hvlabDefault();
    cpu::CpuState state = cpu::CpuState::atReset();
    // As a BIOS hands over a boot sector: real mode at 0000:7C00.
    state.seg[cpu::CS] = cpu::Segment{0, 0, 0xffff, 0x9b};
    state.rip = 0x7c00;
    cpu::Interpreter interp(state, map, cpuid);

    const auto t0 = Clock::now();
    cpu::VmExit exit;
    for (;;) {
        exit = interp.run(1ull << 24);
        if (exit.reason == cpu::ExitReason::PortIo || exit.reason == cpu::ExitReason::Hlt) break;
        if (exit.reason != cpu::ExitReason::None)
            throw std::runtime_error(fmt::format("unexpected exit {} at {:#x}", cpu::exitReasonName(exit.reason), exit.rip));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return {interp.retired(), seconds, static_cast<uint32_t>(state.gpr[cpu::RAX])};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hvlab interpreter benchmark: boot-sector compute loop, in MIPS"};
    uint64_t instructions = 700'000'000;
    std::string image = HVLAB_COMPUTE_LOOP;
    app.add_option("--instructions,-n", instructions, "Guest instructions to run (8 per loop iteration)")
        ->capture_default_str();
    app.add_option("--image", image, "The boot sector")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    std::ifstream in(image, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "cannot open {}\n", image);
        return 2;
    }
    const std::vector<uint8_t> sector((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const uint64_t iterations = instructions / 8;

    const Result guest = runGuest(sector, static_cast<uint32_t>(iterations));
    static volatile uint32_t scratch;
    const auto t0 = Clock::now();
    const uint32_t nativeEax = nativeLoop(iterations, &scratch);
    const double nativeSeconds = std::chrono::duration<double>(Clock::now() - t0).count();

    const double mips = guest.instructions / guest.seconds / 1e6;
    const double nativeMips = iterations * 8.0 / nativeSeconds / 1e6;
    fmt::print("guest instructions   {}\n", guest.instructions);
    fmt::print("interpreter          {:.3f} s  {:.1f} MIPS\n", guest.seconds, mips);
    fmt::print("native loop          {:.3f} s  {:.1f} MIPS (the same operations compiled, same run)\n",
               nativeSeconds, nativeMips);
    fmt::print("interpreter/native   {:.4f}\n", mips / nativeMips);
    fmt::print("budget               350 MIPS: {}\n", mips >= 350 ? "met" : "NOT met");
    if (guest.eax != nativeEax) {
        fmt::print(stderr, "result mismatch: guest eax {:#x}, native {:#x}\n", guest.eax, nativeEax);
        return 1;
    }
    return 0;
}
