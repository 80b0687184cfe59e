/* pv_boot.c - from hvlab's PV entry (boot/pv_entry.asm) to kmain().
 *
 * Instead of stage2's struct boot_info, hvlab hands over a start-info (docs/hypercalls.md, "The
 * PV MMU"): Xen's struct hvm_start_info (version 1), whose memory map has the same layout as an
 * E820 entry, followed by two words of hvlab's: the L4 it built and entered with, and the first
 * physical address it did not use (kernel, start-info, page tables and boot stack lie below it,
 * from the kernel's first byte up). We copy the memory map into a struct boot_info, so the page
 * allocator reads one format whichever way the kernel came in.
 */
#include "kernel/pv_boot.h"
#include "kernel/pv_boot.h"
#include "kernel/pv_mmu.h"
#include <stdint.h>
#include <tinyos/boot_info.h>

#define START_INFO_MAGIC 0x336ec578u /* Xen's XEN_HVM_START_MAGIC_VALUE */

struct pv_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;   /* version 1: struct e820_entry-shaped entries */
    uint32_t memmap_entries;
    uint32_t reserved;
    /* hvlab's PV additions, at offset 56 */
    uint64_t l4;          /* the L4 it built, pinned and loaded */
    uint64_t first_free;  /* everything from the kernel's start up to here is in use */
};

void kmain(struct boot_info *boot);

static struct boot_info info;
static uint64_t in_use_end;

uint64_t pv_boot_in_use_end(void) { return in_use_end; }

void pv_kmain(const struct pv_start_info *start)
{
    pv_mmu_init(start->l4);
    in_use_end = start->first_free;
    info.load_method = BOOT_LOAD_PV;
    /* A bad start-info leaves the map empty: pmm_init() reports it once the console works. */
    if (start->magic == START_INFO_MAGIC && start->version >= 1) {
        info.magic = BOOT_INFO_MAGIC;
        const struct e820_entry *map = (const struct e820_entry *)start->memmap_paddr;
        uint32_t n = start->memmap_entries;
        if (n > BOOT_INFO_MAX_E820)
            n = BOOT_INFO_MAX_E820;
        for (uint32_t i = 0; i < n; i++)
            info.e820[i] = map[i];
        info.e820_count = (uint16_t)n;
    }
    kmain(&info);
}
