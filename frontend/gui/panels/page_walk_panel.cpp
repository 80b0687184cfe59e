// The translation of one linear address, level by level (mmu::WalkResult::steps), and the
// interpreter's shadow TLB counters.
#include <array>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/guest_memory_reader.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr std::array<NamedBit, 10> kEntryBits = {{
    {1ull << 0, "P"}, {1ull << 1, "RW"}, {1ull << 2, "US"}, {1ull << 3, "PWT"}, {1ull << 4, "PCD"},
    {1ull << 5, "A"}, {1ull << 6, "D"}, {1ull << 7, "PS"}, {1ull << 8, "G"}, {1ull << 63, "NX"},
}};
constexpr std::array<NamedBit, 5> kFaultBits = {{
    {mmu::kPfPresent, "P"}, {mmu::kPfWrite, "W"}, {mmu::kPfUser, "U"}, {mmu::kPfReserved, "RSVD"}, {mmu::kPfFetch, "I/D"},
}};

const char* levelName(uint8_t level) {
    switch (level) {
        case 4: return "PML4";
        case 3: return "PDPT";
        case 2: return "PD";
        case 1: return "PT";
    }
    return "?";
}

const char* pageSizeName(uint64_t size) {
    if (size >= (1ull << 30)) return "1 GiB";
    if (size >= (1ull << 22)) return "4 MiB";
    if (size >= (1ull << 21)) return "2 MiB";
    return "4 KiB";
}

mmu::PagingMode pagingModeOf(const cpu::CpuState& cpu) {
    if (!cpu.pagingEnabled()) return mmu::PagingMode::None;
    if (cpu.longModeActive()) return mmu::PagingMode::Long4;
    return (cpu.cr4 & cpu::cr4::PAE) ? mmu::PagingMode::Pae : mmu::PagingMode::Legacy32;
}

// Which bits of the linear address index this level.
std::string indexText(mmu::PagingMode mode, uint8_t level, uint64_t linear) {
    if (mode == mmu::PagingMode::Legacy32) return fmt::format("{}", (linear >> (level == 2 ? 22 : 12)) & 0x3ff);
    const unsigned shift = 12 + 9 * (level - 1u);
    return fmt::format("{}", (linear >> shift) & (mode == mmu::PagingMode::Pae && level == 3 ? 3 : 0x1ff));
}

void drawTlbCounters(const mmu::TlbCounters& tlb) {
    ImGui::TextColored(colour::kAccent, "shadow TLB (interpreter)");
    if (!ImGui::BeginTable("tlb", 5, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_Borders)) return;
    for (const char* h : {"fills", "flushes", "page invalidations", "PT write traps", "code write traps"})
        ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    ImGui::TableNextRow();
    for (uint64_t v : {tlb.fills, tlb.flushes, tlb.pageInvalidations, tlb.pageTableWriteTraps, tlb.codeWriteTraps}) {
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(v));
    }
    ImGui::EndTable();
}

}  // namespace

void drawPageWalkPanel(VmSlot& vm) {
    VmViewState& view = vm.view;
    const hv::SessionSnapshot& snapshot = vm.snapshot();
    const cpu::CpuState& cpu = snapshot.cpu;
    if (view.walkFollowsRip) {
        view.walkAddress = codeLinearAddress(cpu);
        view.walkAddressText = fmt::format("{:x}", view.walkAddress);
    }
    if (inputHexAddress("linear##walk", view.walkAddressText, view.walkAddress, 150)) view.walkFollowsRip = false;
    ImGui::SameLine();
    ImGui::Checkbox("follow RIP", &view.walkFollowsRip);

    const mmu::PagingMode mode = pagingModeOf(cpu);
    ImGui::TextColored(colour::kDim, "paging: %s, CR3 %llx", mmu::pagingModeName(mode),
                       static_cast<unsigned long long>(cpu.cr3));
    if (mode == mmu::PagingMode::None) {
        ImGui::TextUnformatted("paging is off: linear = physical");
    } else {
        const mmu::WalkResult walk = vm.session()->translate(view.walkAddress);
        if (ImGui::BeginTable("walk", 5, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
            for (const char* h : {"level", "index", "entry at", "entry", "flags"}) ImGui::TableSetupColumn(h);
            ImGui::TableHeadersRow();
            for (uint8_t k = 0; k < walk.stepCount; ++k) {
                const mmu::WalkStep& step = walk.steps[k];
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextColored(colour::kAccent, "%s", levelName(step.level));
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(indexText(mode, step.level, view.walkAddress).c_str());
                ImGui::TableNextColumn();
                ImGui::Text("%llx", static_cast<unsigned long long>(step.entryAddress));
                ImGui::TableNextColumn();
                ImGui::Text("%016llx", static_cast<unsigned long long>(step.entry));
                ImGui::TableNextColumn();
                drawBitNames(step.entry, kEntryBits);
            }
            ImGui::EndTable();
        }
        if (walk.ok) {
            ImGui::TextColored(colour::kGood, "-> physical %llx", static_cast<unsigned long long>(walk.physical));
            ImGui::SameLine();
            ImGui::Text("(%s page, %s%s%s%s)",
                        pageSizeName(walk.pageSize),
                        walk.writable ? "writable" : "read-only", walk.user ? ", user" : ", supervisor",
                        walk.executeDisable ? ", no-execute" : "", walk.global ? ", global" : "");
        } else {
            ImGui::TextColored(colour::kError, "page fault, error code %x:", walk.errorCode);
            ImGui::SameLine();
            drawBitNames(walk.errorCode, kFaultBits);
        }
    }
    if (snapshot.tlb) drawTlbCounters(*snapshot.tlb);
    else ImGui::TextColored(colour::kDim, "no shadow TLB: KVM translates with nested paging (EPT/NPT)");
}

}  // namespace hvlab::frontend::gui
