#include "frontend/gui/guest_memory_reader.hpp"

#include <algorithm>

namespace hvlab::frontend::gui {

namespace {

constexpr uint64_t kPage = 4096;

// Reads [gpa, gpa + length) into `out`, marking what could be read; small pieces where the
// whole range is not backed (a range that crosses from RAM into MMIO).
void readPiece(const hv::VmSession& session, uint64_t gpa, uint8_t* out, std::vector<bool>::iterator valid, size_t length) {
    if (session.readPhysical(gpa, out, length)) {
        std::fill(valid, valid + static_cast<std::ptrdiff_t>(length), true);
        return;
    }
    constexpr size_t kPiece = 16;
    for (size_t at = 0; at < length; at += kPiece) {
        const size_t n = std::min(kPiece, length - at);
        const bool ok = session.readPhysical(gpa + at, out + at, n);
        std::fill(valid + static_cast<std::ptrdiff_t>(at), valid + static_cast<std::ptrdiff_t>(at + n), ok);
    }
}

}  // namespace

bool GuestBytes::allValid() const { return std::all_of(valid.begin(), valid.end(), [](bool v) { return v; }); }

GuestBytes readGuestPhysical(const hv::VmSession& session, uint64_t gpa, size_t length) {
    GuestBytes g{gpa, std::vector<uint8_t>(length), std::vector<bool>(length)};
    readPiece(session, gpa, g.bytes.data(), g.valid.begin(), length);
    return g;
}

GuestBytes readGuestLinear(const hv::VmSession& session, const cpu::CpuState& cpu, uint64_t linear, size_t length) {
    if (!cpu.pagingEnabled()) return readGuestPhysical(session, linear, length);
    GuestBytes g{linear, std::vector<uint8_t>(length), std::vector<bool>(length)};
    size_t done = 0;
    while (done < length) {
        const uint64_t at = linear + done;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(length - done, kPage - (at % kPage)));
        const mmu::WalkResult walk = session.translate(at);
        if (walk.ok) readPiece(session, walk.physical, g.bytes.data() + done, g.valid.begin() + static_cast<std::ptrdiff_t>(done), n);
        done += n;
    }
    return g;
}

uint64_t codeLinearAddress(const cpu::CpuState& cpu) {
    if (cpu.mode() == cpu::CpuMode::Long64) return cpu.rip;
    return (cpu.seg[cpu::CS].base + cpu.rip) & 0xffffffffull;
}

}  // namespace hvlab::frontend::gui
