# check_rom.cmake - run as `cmake -DROM=<image.bin> -P check_rom.cmake` after
# nasm: an hvlab ROM image must be exactly 64 KiB and hold a far jump
# (opcode EA, ptr16:16) to segment F000 at the reset vector, offset 0xFFF0.
# A bad image is deleted so the next build assembles it again.

if(NOT ROM)
  message(FATAL_ERROR "check_rom.cmake: pass -DROM=<image.bin>")
endif()

file(SIZE "${ROM}" size)
if(NOT size EQUAL 65536)
  file(REMOVE "${ROM}")
  message(FATAL_ERROR "${ROM}: ${size} bytes, a ROM image must be exactly 65536")
endif()

# EA lo hi 00 F0 = jmp F000:hilo
file(READ "${ROM}" vector OFFSET 65520 LIMIT 5 HEX)
if(NOT vector MATCHES "^ea....00f0$")
  file(REMOVE "${ROM}")
  message(FATAL_ERROR "${ROM}: no far jump to F000 at the reset vector 0xFFF0 (bytes: ${vector})")
endif()
