# embed_binary.cmake - run as
#   cmake -DINPUT=<file.bin> -DOUTPUT=<file.cpp> -DNAME=<name> -P embed_binary.cmake
# Writes a C++ source that implements firmware/embed/bundled_guest.hpp with
# the bytes of INPUT in a constant array.

# FUNC (default bundledGuest) names the accessor functions: FUNC() and FUNCName().
if(NOT FUNC)
  set(FUNC bundledGuest)
endif()
foreach(var INPUT OUTPUT NAME)
  if(NOT ${var})
    message(FATAL_ERROR "embed_binary.cmake: pass -D${var}=...")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
if(size EQUAL 0)
  message(FATAL_ERROR "embed_binary.cmake: ${INPUT} is empty")
endif()

# 16 bytes (32 hex digits) per line, then every byte as 0xNN.
string(REGEX REPLACE "([0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])"
       "    \\1\n" hex "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
get_filename_component(input_name "${INPUT}" NAME)

file(WRITE "${OUTPUT}.tmp" "\
// Generated from ${input_name} by firmware/embed/embed_binary.cmake. Do not edit.
#include \"firmware/embed/bundled_guest.hpp\"

namespace hvlab::firmware {
namespace {

constexpr std::uint8_t kImage[${size}] = {
${bytes}
};

constexpr char kImageName[] = \"${NAME}\";

}  // namespace

std::span<const std::uint8_t> ${FUNC}() { return kImage; }

const char* ${FUNC}Name() { return kImageName; }

}  // namespace hvlab::firmware
")
# Replace the output only when it changed, so an unchanged image does not
# force a recompile.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
