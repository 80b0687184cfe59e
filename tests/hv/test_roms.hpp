// Firmware images for the VM tests: the built test ROMs, and a ROM that spins forever.
#pragma once

#include <memory>

#include <functional>

#include <string>
#include <vector>

#include "hv/firmware_image.hpp"
#include "hv/vm.hpp"

namespace hvlab::test {

// firmware/<name>.bin from the build (HVLAB_FIRMWARE_DIR).
inline hv::FirmwareImage loadTestImage(const std::string& name) {
    return hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/" + name + ".bin");
}

// A test ROM run to its end on a VM configured by `configure`, with its serial output.
struct RomRun {
    std::string serial;
    std::unique_ptr<hv::Vm> vm;
    hv::RunOutcome outcome;
};
inline RomRun runTestRom(const std::string& name, const std::function<void(hv::VmConfig&)>& configure = {}) {
    RomRun r;
    hv::VmConfig config;
    config.firmware = loadTestImage(name);
    config.serialOut = [serial = &r.serial](uint8_t b) { serial->push_back(static_cast<char>(b)); };
    if (configure) configure(config);
    r.vm = std::make_unique<hv::Vm>(std::move(config));
    r.outcome = r.vm->run();
    return r;
}

// A 4 KiB ROM whose reset vector is `jmp $`: runs forever.
inline hv::FirmwareImage spinningRom() {
    std::vector<uint8_t> rom(4096, 0xff);
    rom[4096 - 16] = 0xeb;
    rom[4096 - 15] = 0xfe;
    return {"spin", rom, {}};
}

}  // namespace hvlab::test
