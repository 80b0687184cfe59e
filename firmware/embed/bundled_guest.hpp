// The guest image compiled into hvlab: firmware/firstboot/firstboot.asm,
// assembled to a 64 KiB ROM (see firmware/include/rom.inc for the layout) and
// embedded at build time by firmware/embed/embed_binary.cmake.
//
// Link hvlab_firmware_embed and include "firmware/embed/bundled_guest.hpp".
#pragma once

#include <cstdint>
#include <span>

namespace hvlab::firmware {

// The ROM image: exactly 65536 bytes, to be mapped so its last byte is at
// 0xFFFFFFFF and aliased at 0xF0000-0xFFFFF.  The bytes have static storage
// duration; the span stays valid for the whole program.
std::span<const std::uint8_t> bundledGuest();

// Name of the bundled image ("firstboot").
const char* bundledGuestName();

// The hvlab BIOS (firmware/bios), a 64 KiB ROM mapped like the image above: what a VM with
// disks boots from unless --bios names another firmware.
std::span<const std::uint8_t> bundledBios();
const char* bundledBiosName();  // "bios"

}  // namespace hvlab::firmware
