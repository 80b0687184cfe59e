// Decoder-level checks for the instructions added to the opcode tables: LOCK validity
// (InvalidOpcode unless a lockable form has a memory destination), lengths of the new forms,
// and the remaining unimplemented instructions.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "cpu/decoder.hpp"
#include "tests/cpu/harness.hpp"

using namespace hvlab::cpu;

namespace {

struct Decoded {
    DecodeStatus status;
    DecodedInsn d;
};

Decoded dec(const std::vector<uint8_t>& bytes, CodeSize size = CodeSize::Bits32) {
    Decoded r;
    r.status = decode(bytes.data(), bytes.size(), size, r.d);
    return r;
}

}  // namespace

TEST_CASE("decoder more: LOCK is valid only on lockable forms with a memory destination", "[decoder][lock]") {
    const std::vector<std::vector<uint8_t>> valid = {
        {0xf0, 0x01, 0x03},                    // add [ebx], eax
        {0xf0, 0x80, 0x0b, 0x01},              // or byte [ebx], 1
        {0xf0, 0x83, 0x33, 0x01},              // xor dword [ebx], 1
        {0xf0, 0x86, 0x03},                    // xchg [ebx], al
        {0xf0, 0xf7, 0x13},                    // not dword [ebx]
        {0xf0, 0xf6, 0x1b},                    // neg byte [ebx]
        {0xf0, 0xfe, 0x03},                    // inc byte [ebx]
        {0xf0, 0xff, 0x0b},                    // dec dword [ebx]
        {0xf0, 0x0f, 0xab, 0x03},              // bts [ebx], eax
        {0xf0, 0x0f, 0xb3, 0x03},              // btr
        {0xf0, 0x0f, 0xbb, 0x03},              // btc
        {0xf0, 0x0f, 0xba, 0x2b, 0x01},        // bts dword [ebx], 1
        {0xf0, 0x0f, 0xb1, 0x0b},              // cmpxchg [ebx], ecx
        {0xf0, 0x0f, 0xc1, 0x0b},              // xadd [ebx], ecx
        {0xf0, 0x0f, 0xc7, 0x0b},              // cmpxchg8b [ebx]
        {0x66, 0xf0, 0x11, 0x03},              // adc [ebx], ax (prefix order does not matter)
    };
    for (const auto& b : valid) {
        INFO("bytes " << std::hex << int(b[1]) << " " << int(b[2]));
        const Decoded r = dec(b);
        CHECK(r.status == DecodeStatus::Ok);
        CHECK(r.d.lock);
    }
    const std::vector<std::vector<uint8_t>> invalid = {
        {0xf0, 0x03, 0x03},              // add eax, [ebx]: register destination
        {0xf0, 0x01, 0xc3},              // add ebx, eax
        {0xf0, 0x05, 1, 0, 0, 0},        // add eax, imm32
        {0xf0, 0x39, 0x03},              // cmp [ebx], eax
        {0xf0, 0x83, 0x3b, 0x01},        // cmp dword [ebx], 1 (group 1 /7)
        {0xf0, 0x89, 0x03},              // mov [ebx], eax
        {0xf0, 0x85, 0x03},              // test
        {0xf0, 0xf7, 0x23},              // mul dword [ebx]
        {0xf0, 0xf7, 0x03, 1, 0, 0, 0},  // test dword [ebx], imm32 (group 3 /0)
        {0xf0, 0xff, 0x33},              // push dword [ebx]
        {0xf0, 0xd1, 0x23},              // shl dword [ebx], 1
        {0xf0, 0x0f, 0xa3, 0x03},        // bt [ebx], eax
        {0xf0, 0x0f, 0xba, 0x23, 0x01},  // bt dword [ebx], 1
        {0xf0, 0x0f, 0xbc, 0x03},        // bsf
        {0xf0, 0x0f, 0xa4, 0x03, 0x01},  // shld
        {0xf0, 0x0f, 0xc7, 0xc8},        // cmpxchg8b with a register operand
        {0xf0, 0x90},                    // nop
        {0xf0, 0x93},                    // xchg eax, ebx (short form)
        {0xf0, 0xa5},                    // movsd
        {0xf0, 0x0f, 0xa2},              // cpuid
        {0xf0, 0x27},                    // daa
        {0xf0, 0xd9, 0xe8},              // fld1 (x87: invalid, not unimplemented, with LOCK)
    };
    for (const auto& b : invalid) {
        INFO("bytes " << std::hex << int(b[1]) << " " << int(b[2 % b.size()]));
        CHECK(dec(b).status == DecodeStatus::InvalidOpcode);
    }
    // The same in 64-bit code, with REX.
    CHECK(dec({0xf0, 0x48, 0x0f, 0xc7, 0x0b}, CodeSize::Bits64).status == DecodeStatus::Ok);  // cmpxchg16b
    CHECK(dec({0xf0, 0x48, 0x01, 0xc3}, CodeSize::Bits64).status == DecodeStatus::InvalidOpcode);
}

TEST_CASE("decoder more: the new instructions decode with their lengths", "[decoder]") {
    struct Case {
        std::vector<uint8_t> bytes;
        CodeSize size;
        unsigned length;
        const char* mnemonic;
    };
    const Case cases[] = {
        {{0x0f, 0xba, 0xe0, 0x05}, CodeSize::Bits32, 4, "bt"},      // bt eax, 5
        {{0x0f, 0xba, 0xf8, 0x05}, CodeSize::Bits32, 4, "btc"},
        {{0x0f, 0xa4, 0xd8, 0x03}, CodeSize::Bits32, 4, "shld"},    // shld eax, ebx, 3
        {{0x0f, 0xad, 0xd8}, CodeSize::Bits32, 3, "shrd"},          // shrd eax, ebx, cl
        {{0x0f, 0xc7, 0x0b}, CodeSize::Bits32, 3, "cmpxchg8b"},
        {{0x48, 0x0f, 0xc7, 0x0b}, CodeSize::Bits64, 4, "cmpxchg8b"},  // cmpxchg16b: the same entry
        {{0xc8, 0x10, 0x00, 0x02}, CodeSize::Bits16, 4, "enter"},
        {{0xd4, 0x0a}, CodeSize::Bits16, 2, "aam"},
        {{0x62, 0x03}, CodeSize::Bits32, 2, "bound"},
        {{0x0f, 0xb2, 0x03}, CodeSize::Bits32, 3, "lss"},
        {{0x0f, 0x00, 0x23}, CodeSize::Bits32, 3, "verr"},
        {{0x0f, 0x21, 0xc0}, CodeSize::Bits32, 3, "mov dr"},
        {{0x0f, 0x05}, CodeSize::Bits64, 2, "syscall"},
        {{0x0f, 0x34}, CodeSize::Bits32, 2, "sysenter"},
        {{0xf1}, CodeSize::Bits32, 1, "int1"},
        {{0xd6}, CodeSize::Bits32, 1, "salc"},                     // decodes; executes as #UD
    };
    for (const Case& c : cases) {
        INFO(c.mnemonic);
        const Decoded r = dec(c.bytes, c.size);
        REQUIRE(r.status == DecodeStatus::Ok);
        CHECK(r.d.length == c.length);
        CHECK(std::string(r.d.entry->mnemonic) == c.mnemonic);
    }
    // Undefined members of the new groups are #UD at execution.
    for (const std::vector<uint8_t>& b : std::vector<std::vector<uint8_t>>{
             {0x0f, 0xba, 0xc0, 0x01}, {0x0f, 0xba, 0xd8, 0x01}, {0x0f, 0xc7, 0x03}, {0x0f, 0xc7, 0xf0}}) {
        const Decoded r = dec(b);
        REQUIRE(r.status == DecodeStatus::Ok);
        CHECK(std::string(r.d.entry->mnemonic) == "(bad)");
    }
}

TEST_CASE("decoder more: SALC and the undefined group members execute as #UD", "[decoder][exception]") {
    using namespace hvlab::test;
    for (const char* code : {"db 0xd6", "db 0x0f, 0xba, 0xc0, 0x01", "db 0x0f, 0xc7, 0x33", "db 0x0f, 0xc7, 0xf0"}) {
        INFO(code);
        Machine m(Mode::Protected);
        m.run(code);
        CHECK(m.lastVector() == kUD);
    }
}
