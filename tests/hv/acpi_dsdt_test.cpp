// The hvlab BIOS's DSDT as an OS finds it after the POST (RSDP -> RSDT -> FADT -> DSDT): a PCI
// root bridge PCI0 whose _PRT sends every PCI function's interrupt pin, through an interrupt link,
// to the IRQ the BIOS routed that pin to and wrote into its Interrupt Line register (the PIIX4 PM
// function's pin, the SCI, to IRQ 9 through LNKS, as QEMU's DSDT does).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "devices/i440fx.hpp"
#include "devices/pci_function.hpp"
#include "devices/virtual_switch.hpp"
#include "hv/firmware_image.hpp"
#include "hv/vm.hpp"

using namespace hvlab;

namespace {

std::vector<uint8_t> readGuest(hv::Vm& vm, uint64_t gpa, uint64_t length) {
    std::vector<uint8_t> bytes(length);
    REQUIRE(vm.memory().read(gpa, bytes.data(), length));
    return bytes;
}

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
    uint32_t v = 0;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}

size_t find(const std::vector<uint8_t>& haystack, const std::string& needle, size_t from = 0) {
    for (size_t i = from; i + needle.size() <= haystack.size(); ++i)
        if (std::memcmp(haystack.data() + i, needle.data(), needle.size()) == 0) return i;
    return std::string::npos;
}

// The table at `gpa` whose signature is `signature`, checksum verified.
std::vector<uint8_t> acpiTable(hv::Vm& vm, uint64_t gpa, const char* signature) {
    const auto header = readGuest(vm, gpa, 36);
    REQUIRE(std::string(header.begin(), header.begin() + 4) == signature);
    auto table = readGuest(vm, gpa, le32(header, 4));
    uint8_t sum = 0;
    for (uint8_t b : table) sum = static_cast<uint8_t>(sum + b);
    CHECK(sum == 0);
    return table;
}

std::vector<uint8_t> findDsdt(hv::Vm& vm) {
    const auto rom = readGuest(vm, 0xE0000, 0x20000);
    std::optional<uint32_t> rsdt;
    for (size_t at = 0; at + 20 <= rom.size(); at += 16)
        if (std::memcmp(rom.data() + at, "RSD PTR ", 8) == 0) rsdt = le32(rom, at + 16);
    REQUIRE(rsdt);
    const auto root = acpiTable(vm, *rsdt, "RSDT");
    for (size_t at = 36; at + 4 <= root.size(); at += 4) {
        const uint32_t entry = le32(root, at);
        if (readGuest(vm, entry, 4) == std::vector<uint8_t>{'F', 'A', 'C', 'P'})
            return acpiTable(vm, le32(acpiTable(vm, entry, "FACP"), 40), "DSDT");
    }
    FAIL("no FADT in the RSDT");
    return {};
}

// _PRT entries as dsdt.asm encodes them: Package (4) { DWord address, Byte pin, LNKx, Zero }.
std::map<std::pair<int, int>, char> routingTable(const std::vector<uint8_t>& dsdt) {
    const size_t prt = find(dsdt, std::string("_PRT\x12", 5));
    REQUIRE(prt != std::string::npos);
    const int count = dsdt.at(prt + 7);  // after the two-byte PkgLength
    std::map<std::pair<int, int>, char> routes;
    size_t at = prt + 8;
    for (int k = 0; k < count; ++k, at += 15) {
        REQUIRE(dsdt.at(at) == 0x12);
        REQUIRE(dsdt.at(at + 3) == 0x0C);
        const uint32_t address = le32(dsdt, at + 4);
        CHECK((address & 0xFFFF) == 0xFFFF);  // any function of the slot
        REQUIRE(dsdt.at(at + 8) == 0x0A);
        REQUIRE(std::string(dsdt.begin() + static_cast<long>(at) + 10, dsdt.begin() + static_cast<long>(at) + 13) ==
                "LNK");
        routes[{static_cast<int>(address >> 16), dsdt.at(at + 9) + 1}] = static_cast<char>(dsdt.at(at + 13));
    }
    return routes;
}

// The IRQ in LNKx's _CRS (an Extended Interrupt descriptor: level, active high, shared).
int linkIrq(const std::vector<uint8_t>& dsdt, char letter) {
    const size_t device = find(dsdt, std::string("LNK") + letter + "\x08_HID");
    REQUIRE(device != std::string::npos);
    const size_t crs = find(dsdt, "_CRS", device);
    REQUIRE(crs != std::string::npos);
    const size_t descriptor = find(dsdt, std::string("\x89\x06\x00", 3), crs);
    REQUIRE(descriptor != std::string::npos);
    CHECK(dsdt.at(descriptor + 3) == 0x09);  // consumer, level, active high, shared
    return static_cast<int>(le32(dsdt, descriptor + 5));
}

}  // namespace

TEST_CASE("the BIOS's DSDT routes every PCI interrupt pin through PCI0's _PRT to the BIOS's IRQ",
          "[boot][acpi]") {
    const std::string kernel = std::string(HVLAB_FIRMWARE_DIR) + "/multiboot-hello.elf";
    if (!std::filesystem::exists(kernel)) {
        WARN("skipped: " << kernel << " is not built");
        return;
    }
    devices::VirtualSwitch network;
    hv::VmConfig config;
    config.memoryBytes = 32ull << 20;
    config.firmware = hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/bios.bin");
    config.network = &network;
    config.nicModel = hv::NicModel::Virtio;
    config.virtioConsole = true;
    config.directBoot = hv::boot::DirectBootRequest{kernel, "", ""};
    config.directBootAfterPost = true;  // the POST builds the tables; the kernel just ends the run
    hv::Vm vm(std::move(config));
    const hv::RunOutcome outcome = vm.run();
    REQUIRE(outcome.kind == hv::StopKind::DebugExit);

    const auto dsdt = findDsdt(vm);
    CHECK(find(dsdt, std::string("\x08_S5_\x12", 6)) != std::string::npos);
    CHECK(find(dsdt, std::string("PCI0\x08_HID\x0C\x41\xD0\x0A\x03", 13)) != std::string::npos);  // PNP0A03
    const auto routes = routingTable(dsdt);
    CHECK(routes.size() == 31 * 4);

    auto* isa = dynamic_cast<devices::Piix3IsaBridge*>(vm.board().pci().functionAt(1, 0));
    REQUIRE(isa != nullptr);
    int checked = 0;
    for (const auto& f : vm.board().pci().functions()) {
        const int pin = static_cast<int>(f.pci->configRead(devices::pci::kInterruptPin, 1));
        if (pin == 0) continue;
        INFO(f.name << " at 00:" << f.device << "." << f.function << " pin " << pin);
        const char link = routes.at({f.device, pin});
        const int line = static_cast<int>(f.pci->configRead(devices::pci::kInterruptLine, 1));
        CHECK(linkIrq(dsdt, link) == line);
        if (f.device == 1 && f.function == 3) {  // the PIIX4 PM function: its pin is the SCI (IRQ 9)
            CHECK(link == 'S');
            CHECK(line == 9);
        } else {
            CHECK(link == 'A' + devices::i440fx::pirqFor(f.device, pin));
            CHECK(line == isa->pirqToIsaIrq(devices::i440fx::pirqFor(f.device, pin)));
        }
        ++checked;
    }
    CHECK(checked >= 2);  // virtio-net and virtio-console at least
}
