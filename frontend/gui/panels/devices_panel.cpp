// The emulated devices from the snapshot: PIC masks and IRR/ISR, PIT channels, LAPIC timer,
// UART registers, IDE drives and bus master, e1000 rings.
#include <fmt/format.h>
#include <imgui.h>

#include "devices/clock.hpp"
#include "frontend/gui/panels/panels.hpp"
#include "frontend/gui/ui_helpers.hpp"

namespace hvlab::frontend::gui {

namespace {

// Eight IRQ bits as a row of cells, IRQ 0 first; `base` numbers them (0 or 8).
void irqBits(const char* name, uint8_t value, unsigned base) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextColored(colour::kDim, "%s", name);
    for (unsigned bit = 0; bit < 8; ++bit) {
        ImGui::TableNextColumn();
        const bool set = value & (1u << bit);
        ImGui::TextColored(set ? colour::kBright : colour::kDim, set ? "%u" : ".", base + bit);
    }
}

void drawPic(const std::array<devices::PicChipState, 2>& pic) {
    for (unsigned chip = 0; chip < 2; ++chip) {
        const devices::PicChipState& p = pic[chip];
        ImGui::TextColored(colour::kAccent, "%s 8259", chip == 0 ? "master" : "slave");
        ImGui::SameLine();
        ImGui::TextColored(colour::kDim, "vectors %02x-%02x, %s, INT %s%s%s", p.vectorBase, p.vectorBase + 7,
                           p.levelTriggered ? "level" : "edge", p.intOutput ? "high" : "low", p.autoEoi ? ", auto-EOI" : "",
                           p.initializing ? ", initialising" : "");
        const std::string table = fmt::format("pic{}", chip);
        if (!ImGui::BeginTable(table.c_str(), 9, ImGuiTableFlags_SizingFixedFit)) continue;
        const unsigned base = chip * 8;
        irqBits("IMR (masked)", p.imr, base);
        irqBits("IRR (requested)", p.irr, base);
        irqBits("ISR (in service)", p.isr, base);
        irqBits("ELCR (level)", p.elcr, base);
        irqBits("input lines", p.lines, base);
        ImGui::EndTable();
    }
}

void drawPit(const std::array<devices::PitChannelState, 3>& pit) {
    ImGui::TextColored(colour::kAccent, "8254 PIT");
    if (!ImGui::BeginTable("pit", 7, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) return;
    for (const char* h : {"ch", "mode", "reload", "count", "out", "gate", "state"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (unsigned k = 0; k < 3; ++k) {
        const devices::PitChannelState& c = pit[k];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::Text("%u", k);
        ImGui::TableNextColumn();
        ImGui::Text("%u%s", c.mode, c.bcd ? " BCD" : "");
        ImGui::TableNextColumn();
        ImGui::Text("%04x", c.countRegister);
        ImGui::TableNextColumn();
        ImGui::Text("%04x", c.count);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(c.output ? "1" : "0");
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(c.gate ? "1" : "0");
        ImGui::TableNextColumn();
        ImGui::TextColored(c.counting ? colour::kGood : colour::kDim, "%s%s", c.counting ? "counting" : "idle",
                           c.nullCount ? ", null count" : "");
    }
    ImGui::EndTable();
}

void drawApic(const hv::DeviceView& d, uint64_t guestNs) {
    ImGui::TextColored(colour::kAccent, "local APIC");
    ImGui::SameLine();
    ImGui::TextColored(colour::kDim, "id %u, TPR %02x, SVR %03x (%s)", d.apicId, d.apicTpr, d.apicSvr,
                       (d.apicSvr & 0x100) ? "enabled" : "software-disabled");
    const devices::ApicTimerState& t = d.apicTimer;
    ImGui::Text("timer: vector %02x, %s, %s, divide by %u, initial %08x, current %08x", t.vector,
                t.periodic ? "periodic" : "one-shot", t.masked ? "masked" : "unmasked", t.divisor, t.initialCount,
                t.currentCount);
    if (t.nextFireNs != devices::kNoDeadline && t.nextFireNs >= guestNs)
        ImGui::TextColored(colour::kDim, "next expiry in %s of guest time", formatDuration(t.nextFireNs - guestNs).c_str());
}

void drawUart(const devices::UartState& u) {
    ImGui::TextColored(colour::kAccent, "16550 UART at %x", u.base);
    if (!ImGui::BeginTable("uart", 4, ImGuiTableFlags_SizingFixedFit)) return;
    const auto cell = [](const char* name, unsigned value) {
        ImGui::TableNextColumn();
        ImGui::TextColored(colour::kDim, "%s", name);
        ImGui::SameLine();
        ImGui::Text("%02x", value);
    };
    cell("IER", u.ier);
    cell("IIR", u.iir);
    cell("FCR", u.fcr);
    cell("LCR", u.lcr);
    cell("MCR", u.mcr);
    cell("LSR", u.lsr);
    cell("MSR", u.msr);
    cell("SCR", u.scr);
    ImGui::EndTable();
    const unsigned divisor = u.dll | (u.dlm << 8);
    ImGui::Text("divisor %u (%u baud), FIFO %s (trigger %u), RX %zu bytes, host queue %zu, IRQ %s", divisor,
                divisor ? 115200 / divisor : 0, u.fifoEnabled ? "on" : "off", u.rxTriggerLevel, u.rxCount, u.hostQueued,
                u.irqLevel ? "raised" : "low");
}

void drawIde(const hv::IdeView& ide) {
    ImGui::TextColored(colour::kAccent, "PIIX3 IDE");
    if (ImGui::BeginTable("ide", 5, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
        for (const char* h : {"drive", "model", "sectors", "status", "error"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        static constexpr const char* kNames[] = {"primary master", "primary slave", "secondary master", "secondary slave"};
        for (unsigned k = 0; k < 4; ++k) {
            const hv::IdeDriveView& d = ide.drives[k];
            if (!d.present) continue;
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(kNames[k]);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(d.model.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%llu", static_cast<unsigned long long>(d.sectors));
            ImGui::TableNextColumn();
            ImGui::Text("%02x%s%s%s", d.status, (d.status & 0x80) ? " BSY" : "", (d.status & 0x08) ? " DRQ" : "",
                        (d.status & 0x01) ? " ERR" : "");
            ImGui::TableNextColumn();
            ImGui::Text("%02x", d.error);
        }
        ImGui::EndTable();
    }
    for (unsigned ch = 0; ch < 2; ++ch)
        ImGui::Text("bus master %s: command %02x (%s), status %02x%s%s, PRD table %08x", ch ? "secondary" : "primary",
                    ide.busMasterCommand[ch], (ide.busMasterCommand[ch] & 1) ? "started" : "stopped",
                    ide.busMasterStatus[ch], (ide.busMasterStatus[ch] & 1) ? " active" : "",
                    (ide.busMasterStatus[ch] & 4) ? " interrupt" : "", ide.prdTable[ch]);
}

void drawE1000(const hv::E1000View& n) {
    ImGui::TextColored(colour::kAccent, "e1000");
    if (!n.present) {
        ImGui::SameLine();
        ImGui::TextColored(colour::kDim, "not fitted (--nic adds one)");
        return;
    }
    ImGui::SameLine();
    ImGui::Text("MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s", n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4], n.mac[5],
                (n.status & 2) ? "up" : "down");
    ImGui::Text("CTRL %08x STATUS %08x ICR %08x IMS %08x RCTL %08x TCTL %08x", n.ctrl, n.status, n.icr, n.ims, n.rctl, n.tctl);
    const auto ring = [](const char* name, uint64_t base, uint32_t length, uint32_t head, uint32_t tail) {
        const uint32_t slots = length / 16;
        ImGui::Text("%s ring at %llx: %u descriptors, head %u, tail %u", name, static_cast<unsigned long long>(base), slots,
                    head, tail);
        if (slots) {
            const uint32_t used = (tail + slots - head) % slots;
            ImGui::ProgressBar(static_cast<float>(used) / static_cast<float>(slots), ImVec2(-1, 0),
                               fmt::format("{} of {} between head and tail", used, slots).c_str());
        }
    };
    ring("RX", n.rdba, n.rdlen, n.rdh, n.rdt);
    ring("TX", n.tdba, n.tdlen, n.tdh, n.tdt);
    ImGui::Text("frames: %llu sent, %llu received, %llu dropped", static_cast<unsigned long long>(n.framesSent),
                static_cast<unsigned long long>(n.framesReceived), static_cast<unsigned long long>(n.framesDropped));
}

}  // namespace

void drawDevicesPanel(const hv::SessionSnapshot& snapshot) {
    const hv::DeviceView& d = snapshot.devices;
    if (d.kernelIrqchip)
        ImGui::TextColored(colour::kWarn, "--irqchip kernel: the PIC, PIT and LAPIC live in KVM (VH); hvlab's are idle");
    if (ImGui::CollapsingHeader("interrupt controllers (8259 pair)", ImGuiTreeNodeFlags_DefaultOpen)) drawPic(d.pic);
    if (ImGui::CollapsingHeader("timers (8254 PIT, LAPIC)", ImGuiTreeNodeFlags_DefaultOpen)) {
        drawPit(d.pit);
        drawApic(d, snapshot.guestNs);
    }
    if (ImGui::CollapsingHeader("serial (COM1)", ImGuiTreeNodeFlags_DefaultOpen)) drawUart(d.uart);
    if (ImGui::CollapsingHeader("disk (IDE)", ImGuiTreeNodeFlags_DefaultOpen)) drawIde(d.ide);
    if (ImGui::CollapsingHeader("network (e1000)", ImGuiTreeNodeFlags_DefaultOpen)) drawE1000(d.e1000);
}

}  // namespace hvlab::frontend::gui
