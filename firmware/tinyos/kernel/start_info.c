/* start_info.c - a PVH start-info turned into tinyos's boot_info (see start_info.h).
 *
 * The BIOS path fills boot_info in stage2 from INT 15h E820; here the hypervisor's memory map
 * (the same types: 1 RAM, 2 reserved) is copied entry by entry. The start-info, its memory map
 * and its strings are in RAM that is free as far as the E820 map is concerned, so everything
 * worth keeping is copied into the kernel's own memory now. */
#include "kernel/start_info.h"
#include "kernel/cpu.h"
#include "kernel/layout.h"
#include "lib/string.h"

enum { CMDLINE_MAX = 256 };

static struct boot_info info; /* in kernel memory: the start-info's pages are free RAM */
static bool booted_pvh;
static uint64_t address;
static char cmdline[CMDLINE_MAX];
static unsigned modules;
static uint32_t bad_magic, bad_version; /* of a start-info that was refused */

struct boot_info *start_info_convert(const struct hvm_start_info *si)
{
    address = kernel_phys(si);
    if (si->magic != HVM_START_MAGIC || si->version < 1) {
        bad_magic = si->magic;
        bad_version = si->version;
        return &info; /* magic 0: kmain says why, pmm_init stops */
    }
    booted_pvh = true;
    info.load_method = BOOT_LOAD_PVH;
    const struct hvm_memmap_entry *map = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
    unsigned count = si->memmap_entries < BOOT_INFO_MAX_E820 ? si->memmap_entries : BOOT_INFO_MAX_E820;
    for (unsigned i = 0; i < count; i++) {
        info.e820[i].base = map[i].addr;
        info.e820[i].length = map[i].size;
        info.e820[i].type = map[i].type;
    }
    info.e820_count = (uint16_t)count;
    if (si->cmdline_paddr)
        strlcpy(cmdline, (const char *)(uintptr_t)si->cmdline_paddr, sizeof cmdline);
    modules = si->nr_modules;
    info.magic = BOOT_INFO_MAGIC;
    return &info;
}

bool start_info_booted_pvh(void) { return booted_pvh && !cpu_pv; }

const char *start_info_boot_path(void) { return cpu_pv ? "pv" : booted_pvh ? "pvh" : "bios"; }

bool start_info_refused(uint32_t *magic, uint32_t *version)
{
    *magic = bad_magic;
    *version = bad_version;
    return address && !booted_pvh;
}

uint64_t start_info_address(void) { return address; }
const char *start_info_cmdline(void) { return cmdline; }
unsigned start_info_module_count(void) { return modules; }
