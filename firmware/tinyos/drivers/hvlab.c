/* hvlab.c - detecting hvlab and calling it (docs/hypercalls.md).
 *
 * A hypervisor sets bit 31 of CPUID.1:ECX ("hypervisor present"; real CPUs leave it 0) and
 * answers the leaves from 0x40000000 up: 0x40000000 gives its signature in EBX, ECX, EDX.
 * hvlab's is "hvlabhvlabhv"; its leaf 0x40000001 gives the ABI version, the features this VM
 * offers and the I/O port a call writes to. hvlab offers nothing unless it was started with
 * `--pv console,clock,events` (or `--pv all`): that is how the user picks the paths.
 */
#include "drivers/hvlab.h"
#include "kernel/kprintf.h"
#include "lib/string.h"

enum {
    CPUID_HYPERVISOR_BIT = 1u << 31,
    LEAF_SIGNATURE = 0x40000000,
    LEAF_FEATURES = 0x40000001,
};

static struct hvlab_info info;
static uint64_t calls;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

void hvlab_detect(void)
{
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    info.hypervisor = (c & CPUID_HYPERVISOR_BIT) != 0;
    if (!info.hypervisor)
        return;
    uint32_t highest;
    cpuid(LEAF_SIGNATURE, &highest, &b, &c, &d);
    memcpy(info.signature, &b, 4);
    memcpy(info.signature + 4, &c, 4);
    memcpy(info.signature + 8, &d, 4);
    info.signature[12] = 0;
    if (strcmp(info.signature, "hvlabhvlabhv") != 0 || highest < LEAF_FEATURES)
        return;
    cpuid(LEAF_FEATURES, &a, &b, &c, &d);
    if (a != 1)
        return; /* version 0: nothing offered; a later version: we only speak version 1 */
    info.version = a;
    info.features = b;
    info.port = (uint16_t)c;
}

const struct hvlab_info *hvlab_info(void) { return &info; }

bool hvlab_offers(uint32_t features) { return info.version == 1 && (info.features & features) == features; }

void hvlab_log(void)
{
    if (info.version == 1 && info.features) {
        kprintf("hvlab hypercalls v%u:%s%s%s%s\n", info.version,
                info.features & HVLAB_FEATURE_CONSOLE ? " console" : "",
                info.features & HVLAB_FEATURE_CLOCK ? " clock" : "",
                info.features & HVLAB_FEATURE_EVENTS ? " events" : "",
                info.features & HVLAB_FEATURE_PV_MMU ? " pv_mmu" : "");
    } else if (info.hypervisor && strcmp(info.signature, "hvlabhvlabhv") == 0) {
        kprintf("no hypervisor interfaces (hvlab offers none; try hvlab run --pv all)\n");
    } else if (info.hypervisor) {
        kprintf("no hypervisor interfaces (hypervisor \"%s\" is not hvlab)\n", info.signature);
    } else {
        kprintf("no hypervisor interfaces\n");
    }
}

int64_t hvlab_call(uint32_t call, uint64_t arg1, uint64_t arg2, uint64_t arg3)
{
    int64_t result;
    calls++;
    __asm__ volatile("outl %%eax, %%dx"
                     : "=a"(result)
                     : "a"((uint64_t)call), "b"(arg1), "c"(arg2), "S"(arg3), "d"(info.port)
                     : "memory");
    return result;
}

int64_t hvlab_call_sti(uint32_t call)
{
    int64_t result;
    calls++;
    __asm__ volatile("sti; outl %%eax, %%dx" : "=a"(result) : "a"((uint64_t)call), "d"(info.port) : "memory");
    return result;
}

uint64_t hvlab_call_count(void) { return calls; }
