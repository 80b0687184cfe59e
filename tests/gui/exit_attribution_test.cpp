#include <catch2/catch.hpp>

#include "cpu/hypercall_abi.hpp"
#include "frontend/gui/exit_attribution.hpp"

using namespace hvlab;
using frontend::gui::attributeExit;
using frontend::gui::Concern;
using frontend::gui::PciPlacement;

namespace {

cpu::VmExit portExit(uint16_t port) {
    cpu::VmExit e;
    e.reason = cpu::ExitReason::PortIo;
    e.io = {port, 1, true, 0};
    return e;
}

cpu::VmExit mmioExit(uint64_t gpa) {
    cpu::VmExit e;
    e.reason = cpu::ExitReason::Mmio;
    e.mmio = {gpa, 4, false, 0};
    return e;
}

cpu::VmExit reasonExit(cpu::ExitReason reason) {
    cpu::VmExit e;
    e.reason = reason;
    return e;
}

}  // namespace

TEST_CASE("the interrupt controllers and timers are the interrupts concern", "[gui][taxonomy]") {
    for (uint16_t port : {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x43, 0x61, 0x70, 0x71})
        CHECK(attributeExit(portExit(port)) == Concern::Interrupts);
    CHECK(attributeExit(mmioExit(0xfee000b0)) == Concern::Interrupts);  // LAPIC EOI
    CHECK(attributeExit(mmioExit(0xfec00010)) == Concern::Interrupts);  // IOAPIC window
    CHECK(attributeExit(reasonExit(cpu::ExitReason::InterruptWindow)) == Concern::Interrupts);
    CHECK(attributeExit(reasonExit(cpu::ExitReason::Hlt)) == Concern::Interrupts);
}

TEST_CASE("IDE and the e1000 are the disk and network concern", "[gui][taxonomy]") {
    for (uint16_t port : {0x1f0, 0x1f7, 0x3f6, 0x170, 0x177, 0x376})
        CHECK(attributeExit(portExit(port)) == Concern::DiskNet);
    SECTION("at the places the guest gave their BARs") {
        const PciPlacement pci{0xc040, 0xfebc0000, 0xc000};
        CHECK(attributeExit(portExit(0xc040), pci) == Concern::DiskNet);  // bus-master command
        CHECK(attributeExit(portExit(0xc04f), pci) == Concern::DiskNet);
        CHECK(attributeExit(portExit(0xc050), pci) == Concern::Other);
        CHECK(attributeExit(mmioExit(0xfebc0000 + 0x3818), pci) == Concern::DiskNet);  // TDT
        CHECK(attributeExit(mmioExit(0xfebe0000), pci) == Concern::Other);             // past the 128 KiB BAR
    }
    SECTION("in the windows the hvlab BIOS assigns from, when the BARs are not known") {
        CHECK(attributeExit(portExit(0xc000)) == Concern::DiskNet);
        CHECK(attributeExit(mmioExit(0xe0000000)) == Concern::DiskNet);
        CHECK(attributeExit(mmioExit(0xfebfffff)) == Concern::DiskNet);
    }
}

TEST_CASE("privileged instructions are the privileged concern", "[gui][taxonomy]") {
    for (auto reason : {cpu::ExitReason::CrAccess, cpu::ExitReason::MsrRead, cpu::ExitReason::MsrWrite,
                        cpu::ExitReason::Invlpg, cpu::ExitReason::Cpuid})
        CHECK(attributeExit(reasonExit(reason)) == Concern::Privileged);
}

TEST_CASE("chipset and firmware ports are the motherboard concern; the rest is other", "[gui][taxonomy]") {
    for (uint16_t port : {0xcf8, 0xcfc, 0xcf9, 0x80, 0x92, 0x510, 0x60, 0x64, 0x3d4})
        CHECK(attributeExit(portExit(port)) == Concern::Boot);
    CHECK(attributeExit(portExit(0x3f8)) == Concern::Other);  // COM1
    CHECK(attributeExit(portExit(0xf4)) == Concern::Other);   // isa-debug-exit
    CHECK(attributeExit(mmioExit(0xa0000)) == Concern::Other);
    CHECK(attributeExit(reasonExit(cpu::ExitReason::Kicked)) == Concern::Other);
    CHECK(attributeExit(reasonExit(cpu::ExitReason::Shutdown)) == Concern::Other);
}

TEST_CASE("hypercalls: the clock, timer and events are interrupts; the console is other", "[gui][taxonomy]") {
    cpu::VmExit e = reasonExit(cpu::ExitReason::Hypercall);
    for (uint64_t call : {cpu::hypercall::kTimeNow, cpu::hypercall::kTimerSet, cpu::hypercall::kEventInit,
                          cpu::hypercall::kEventBindIrq, cpu::hypercall::kBlock}) {
        e.hypercall.number = call;
        CHECK(attributeExit(e) == Concern::Interrupts);
    }
    e.hypercall.number = cpu::hypercall::kConsoleWrite;
    CHECK(attributeExit(e) == Concern::Other);
}

TEST_CASE("hypercalls: the PV MMU's calls and the SYSCALL bounce are privileged", "[gui][taxonomy]") {
    cpu::VmExit e = reasonExit(cpu::ExitReason::Hypercall);
    for (uint64_t call : {cpu::hypercall::kMmuUpdate, cpu::hypercall::kMmuSetCr3, cpu::hypercall::kMmuInvlpg,
                          cpu::hypercall::kSetTrapTable, cpu::hypercall::kStackSwitch, cpu::hypercall::kReadCr2,
                          cpu::hypercall::kSyscallBounce}) {
        e.hypercall.number = call;
        CHECK(attributeExit(e) == Concern::Privileged);
    }
}
