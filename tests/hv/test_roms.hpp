// Firmware images for the VM tests: the built test ROMs, and a ROM that spins forever.
#pragma once

#include <string>
#include <vector>

#include "hv/firmware_image.hpp"

namespace hvlab::test {

// firmware/<name>.bin from the build (HVLAB_FIRMWARE_DIR).
inline hv::FirmwareImage loadTestImage(const std::string& name) {
    return hv::loadFirmwareFile(std::string(HVLAB_FIRMWARE_DIR) + "/" + name + ".bin");
}

// A 4 KiB ROM whose reset vector is `jmp $`: runs forever.
inline hv::FirmwareImage spinningRom() {
    std::vector<uint8_t> rom(4096, 0xff);
    rom[4096 - 16] = 0xeb;
    rom[4096 - 15] = 0xfe;
    return {"spin", rom, {}};
}

}  // namespace hvlab::test
