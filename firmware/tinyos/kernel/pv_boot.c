/* pv_boot.c - from hvlab's PV entry (boot/pv_entry.asm) to kmain().
 *
 * hvlab hands over a start-info (docs/hypercalls.md, "The PV MMU"): Xen's struct hvm_start_info
 * (version 1), as a PVH boot gets, followed by two words of hvlab's: the L4 it built, pinned and
 * entered with (an identity map of all RAM in 4 KiB pages), and the first physical address it
 * did not use (the kernel, the start-info, those page tables and the boot stack lie below it,
 * from the kernel's first byte up). kernel/start_info.c turns the start-info into a struct
 * boot_info as for PVH; the two words go to the PV MMU code and the page allocator.
 */
#include "kernel/pv_boot.h"
#include "kernel/pv_mmu.h"
#include "kernel/start_info.h"

struct pv_start_info {
    struct hvm_start_info xen;
    uint64_t l4;         /* offset 56 */
    uint64_t first_free; /* everything from the kernel's start up to here is in use */
};

void kmain(struct boot_info *boot);

static uint64_t in_use_end;

uint64_t pv_boot_in_use_end(void) { return in_use_end; }

void pv_kmain(const struct pv_start_info *start)
{
    pv_mmu_init(start->l4);
    in_use_end = start->first_free;
    struct boot_info *boot = start_info_convert(&start->xen); /* a bad magic: pmm_init says so */
    boot->load_method = BOOT_LOAD_PV;
    kmain(boot);
}
