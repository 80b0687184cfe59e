// Registers: general, RIP and RFLAGS (decoded), segments with their hidden parts, descriptor
// tables, control registers and EFER (decoded), a few MSRs.
#include <array>
#include <fmt/format.h>
#include <imgui.h>

#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

constexpr std::array<NamedBit, 16> kRflags = {{
    {cpu::rflag::CF, "CF"}, {cpu::rflag::PF, "PF"}, {cpu::rflag::AF, "AF"}, {cpu::rflag::ZF, "ZF"},
    {cpu::rflag::SF, "SF"}, {cpu::rflag::TF, "TF"}, {cpu::rflag::IF, "IF"}, {cpu::rflag::DF, "DF"},
    {cpu::rflag::OF, "OF"}, {cpu::rflag::NT, "NT"}, {cpu::rflag::RF, "RF"}, {cpu::rflag::VM, "VM"},
    {cpu::rflag::AC, "AC"}, {cpu::rflag::VIF, "VIF"}, {cpu::rflag::VIP, "VIP"}, {cpu::rflag::ID, "ID"},
}};
constexpr std::array<NamedBit, 11> kCr0 = {{
    {cpu::cr0::PE, "PE"}, {cpu::cr0::MP, "MP"}, {cpu::cr0::EM, "EM"}, {cpu::cr0::TS, "TS"},
    {cpu::cr0::ET, "ET"}, {cpu::cr0::NE, "NE"}, {cpu::cr0::WP, "WP"}, {cpu::cr0::AM, "AM"},
    {cpu::cr0::NW, "NW"}, {cpu::cr0::CD, "CD"}, {cpu::cr0::PG, "PG"},
}};
constexpr std::array<NamedBit, 13> kCr4 = {{
    {cpu::cr4::VME, "VME"}, {cpu::cr4::PVI, "PVI"}, {cpu::cr4::TSD, "TSD"}, {cpu::cr4::DE, "DE"},
    {cpu::cr4::PSE, "PSE"}, {cpu::cr4::PAE, "PAE"}, {cpu::cr4::MCE, "MCE"}, {cpu::cr4::PGE, "PGE"},
    {cpu::cr4::PCE, "PCE"}, {cpu::cr4::OSFXSR, "OSFXSR"}, {cpu::cr4::OSXMMEXCPT, "OSXMMEXCPT"},
    {cpu::cr4::UMIP, "UMIP"}, {cpu::cr4::FSGSBASE, "FSGSBASE"},
}};
constexpr std::array<NamedBit, 4> kEfer = {{
    {cpu::efer::SCE, "SCE"}, {cpu::efer::LME, "LME"}, {cpu::efer::LMA, "LMA"}, {cpu::efer::NXE, "NXE"},
}};

// "code ER, DPL 0, P, L" from the VMX access-rights layout.
std::string describeSegment(const cpu::Segment& s) {
    if (!s.present()) return "not present";
    std::string text;
    if (s.system()) {
        text = fmt::format("system type {:#x}", s.type());
    } else if (s.isCode()) {
        text = fmt::format("code {}{}{}", "X", (s.type() & 2) ? "R" : "", (s.type() & 4) ? " conforming" : "");
    } else {
        text = fmt::format("data R{}{}", (s.type() & 2) ? "W" : "", (s.type() & 4) ? " down" : "");
    }
    text += fmt::format(", DPL {}", s.dpl());
    if (s.longMode()) text += ", L";
    if (s.defaultBig()) text += ", D/B";
    if (s.granularity()) text += ", G";
    return text;
}

void segmentRow(const char* name, const cpu::Segment& s) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextColored(colour::kAccent, "%s", name);
    ImGui::TableNextColumn();
    ImGui::Text("%04x", s.selector);
    ImGui::TableNextColumn();
    ImGui::Text("%016llx", static_cast<unsigned long long>(s.base));
    ImGui::TableNextColumn();
    ImGui::Text("%08x", s.limit);
    ImGui::TableNextColumn();
    ImGui::Text("%04x", s.attributes);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(describeSegment(s).c_str());
}

void drawGeneralRegisters(const cpu::CpuState& cpu) {
    const bool wide = cpu.mode() == cpu::CpuMode::Long64 || (cpu.efer & cpu::efer::LMA);
    const unsigned count = wide ? 16 : 8;
    const unsigned size = wide ? 8 : 4;
    if (!ImGui::BeginTable("gpr", 3, ImGuiTableFlags_SizingFixedFit)) return;
    for (unsigned k = 0; k < count; ++k) {
        ImGui::TableNextColumn();
        ImGui::TextColored(colour::kAccent, "%-3s", cpu::gprName(k, size));
        ImGui::SameLine();
        if (wide)
            ImGui::Text("%016llx", static_cast<unsigned long long>(cpu.gpr[k]));
        else
            ImGui::Text("%08llx", static_cast<unsigned long long>(cpu.gpr[k] & 0xffffffff));
    }
    ImGui::EndTable();
}

}  // namespace

void drawRegistersPanel(const hv::SessionSnapshot& snapshot) {
    const cpu::CpuState& cpu = snapshot.cpu;
    ImGui::TextColored(colour::kBright, "%s", cpu::cpuModeName(cpu.mode()));
    ImGui::SameLine();
    ImGui::TextColored(colour::kDim, "CPL %u%s%s", cpu.cpl(), cpu.halted ? ", halted" : "",
                       cpu.interruptShadow ? ", interrupt shadow" : "");

    drawGeneralRegisters(cpu);
    ImGui::TextColored(colour::kAccent, "rip");
    ImGui::SameLine();
    ImGui::Text("%016llx", static_cast<unsigned long long>(cpu.rip));
    ImGui::SameLine(0, 24);
    ImGui::TextColored(colour::kAccent, "rflags");
    ImGui::SameLine();
    ImGui::Text("%08llx  IOPL %llu", static_cast<unsigned long long>(snapshot.rflags),
                static_cast<unsigned long long>((snapshot.rflags >> 12) & 3));
    drawBitNames(snapshot.rflags, kRflags);

    ImGui::Separator();
    if (ImGui::BeginTable("segments", 6, ImGuiTableFlags_SizingFixedFit)) {
        for (const char* h : {"seg", "sel", "base", "limit", "attr", "decoded"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        for (unsigned s = 0; s < cpu::kSegCount; ++s) segmentRow(cpu::segName(s), cpu.seg[s]);
        segmentRow("ldtr", cpu.ldtr);
        segmentRow("tr", cpu.tr);
        ImGui::EndTable();
    }
    ImGui::TextColored(colour::kAccent, "gdtr");
    ImGui::SameLine();
    ImGui::Text("%016llx/%04x", static_cast<unsigned long long>(cpu.gdtr.base), cpu.gdtr.limit);
    ImGui::SameLine(0, 24);
    ImGui::TextColored(colour::kAccent, "idtr");
    ImGui::SameLine();
    ImGui::Text("%016llx/%04x", static_cast<unsigned long long>(cpu.idtr.base), cpu.idtr.limit);

    ImGui::Separator();
    const auto controlRow = [](const char* name, uint64_t value, std::span<const NamedBit> bits) {
        ImGui::TextColored(colour::kAccent, "%-4s", name);
        ImGui::SameLine();
        ImGui::Text("%016llx ", static_cast<unsigned long long>(value));
        if (!bits.empty()) {
            ImGui::SameLine();
            drawBitNames(value, bits);
        }
    };
    controlRow("cr0", cpu.cr0, kCr0);
    controlRow("cr2", cpu.cr2, {});
    ImGui::SameLine(0, 24);
    controlRow("cr3", cpu.cr3, {});
    controlRow("cr4", cpu.cr4, kCr4);
    controlRow("cr8", cpu.cr8, {});
    ImGui::SameLine(0, 24);
    controlRow("efer", cpu.efer, kEfer);

    if (ImGui::TreeNode("MSRs")) {
        if (ImGui::BeginTable("msrs", 2, ImGuiTableFlags_SizingFixedFit)) {
            const cpu::ModelSpecificRegisters& m = cpu.msrs;
            tableRow("APIC_BASE", fmt::format("{:016x}", m.apicBase));
            tableRow("STAR", fmt::format("{:016x}", m.star));
            tableRow("LSTAR", fmt::format("{:016x}", m.lstar));
            tableRow("SFMASK", fmt::format("{:016x}", m.sfmask));
            tableRow("KERNEL_GS_BASE", fmt::format("{:016x}", m.kernelGsBase));
            tableRow("SYSENTER_CS/ESP/EIP", fmt::format("{:x} {:x} {:x}", m.sysenterCs, m.sysenterEsp, m.sysenterEip));
            tableRow("PAT", fmt::format("{:016x}", m.pat));
            ImGui::EndTable();
        }
        ImGui::TreePop();
    }
}

}  // namespace hvlab::frontend::gui
