/* vmm.c - page tables.
 *
 * x86-64 translates a 48-bit virtual address through four tables (SDM vol. 3, section 4.5):
 *
 *   bits 47-39 index the PML4, 38-30 the PDPT, 29-21 the page directory (PD),
 *   20-12 the page table (PT), 11-0 are the offset inside the 4 KiB page.
 *
 * A PD entry with the PS bit maps a whole 2 MiB page and the walk stops there.
 *
 * tinyos's address spaces (see include/tinyos/abi.h):
 *   GiB 0       all RAM the kernel uses, identity-mapped with 2 MiB pages, supervisor only
 *   GiB 1       user space: 4 KiB pages with the U/S bit, private to each process
 *   GiB 2, 3    identity-mapped, uncached: PCI device registers (e1000) live up there
 * Every process has its own PML4 and PDPT; PDPT entries 0, 2 and 3 point to the kernel's
 * shared page directories, entry 1 to the process's own.
 *
 * Deprivileged under hvlab's PV MMU (cpu_pv) the same address spaces are built differently:
 *   - GiB 0 is hvlab's identity map (4 KiB pages: large pages are refused), shared as it is;
 *   - GiBs 2 and 3 start empty; a driver maps its device's registers there page by page
 *     (vmm_map_device);
 *   - every write to a page table goes through kernel/pv_mmu.c (set_entry below), a new table
 *     page is made read-only before it is linked, an L4 is pinned before it is loaded, and the
 *     tables of a dead process become writable pages again only after their L4 is unpinned.
 */
#include "kernel/vmm.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include "kernel/pv_mmu.h"
#include <tinyos/abi.h>

#define ENTRIES 512
#define USER_GIB 1 /* PDPT index of user space */
#define DEVICE_GIB_FIRST 2 /* GiBs 2 and 3: device registers */

static uint64_t kernel_pml4[ENTRIES] __attribute__((aligned(4096)));
static uint64_t kernel_pdpt[ENTRIES] __attribute__((aligned(4096)));
static uint64_t kernel_pd[4][ENTRIES] __attribute__((aligned(4096))); /* [USER_GIB] unused */

/* The kernel's own address space: the tables above, or under PV hvlab's boot tables. */
static uint64_t *kernel_root, *kernel_gibs;

static uint64_t *table_at(uint64_t entry) { return (uint64_t *)(entry & PTE_ADDRESS_MASK); }

/* Write one entry of a live page table: directly, or queued for hvlab's mmu_update. */
static void set_entry(uint64_t *entry, uint64_t value)
{
    if (cpu_pv)
        pv_mmu_queue(entry, value);
    else
        *entry = value;
}

/* Send what set_entry queued (PV); entries read back after this are up to date. */
static void commit(void)
{
    if (cpu_pv)
        pv_mmu_flush();
}

/* A zeroed page that is about to become a page table (PV: read-only from now on). */
static uint64_t new_table(void)
{
    uint64_t page = pmm_alloc_page();
    if (page && cpu_pv)
        pv_mmu_make_table(page);
    return page;
}

/* A page from new_table() that never became a table: back to the allocator. */
static void discard_new_table(uint64_t page)
{
    if (cpu_pv) {
        pv_mmu_release_table(page);
        pv_mmu_flush();
    }
    pmm_free_page(page);
}

/* A table of a dead address space: freed, or under PV first made writable again (queued; the
 * caller frees it once that is sent). */
static void free_table(uint64_t page)
{
    if (cpu_pv)
        pv_mmu_release_table(page);
    else
        pmm_free_page(page);
}

static void vmm_init_pv(void)
{
    /* hvlab's L4 maps GiB 0 (all RAM here) through one PDPT; give it empty device GiBs. */
    kernel_root = (uint64_t *)pv_mmu_boot_l4();
    kernel_gibs = table_at(kernel_root[0]);
    for (int gib = DEVICE_GIB_FIRST; gib < 4; gib++) {
        if (kernel_gibs[gib] & PTE_PRESENT)
            continue; /* RAM up there (a big VM): device pages go into hvlab's tables */
        uint64_t pd = new_table();
        if (!pd)
            panic("vmm: no memory for the device window");
        set_entry(&kernel_gibs[gib], pd | PTE_PRESENT | PTE_WRITABLE);
    }
    commit();
}

void vmm_init(void)
{
    if (cpu_pv) {
        vmm_init_pv();
        return;
    }
    for (int gib = 0; gib < 4; gib++) {
        if (gib == USER_GIB)
            continue;
        uint64_t flags = PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
        if (gib >= 2)
            flags |= PTE_CACHE_DISABLE | PTE_WRITE_THROUGH; /* device registers: no caching */
        for (uint64_t i = 0; i < ENTRIES; i++)
            kernel_pd[gib][i] = ((uint64_t)gib << 30) + (i << 21) + flags;
        kernel_pdpt[gib] = (uint64_t)kernel_pd[gib] | PTE_PRESENT | PTE_WRITABLE;
    }
    kernel_pml4[0] = (uint64_t)kernel_pdpt | PTE_PRESENT | PTE_WRITABLE;
    kernel_root = kernel_pml4;
    kernel_gibs = kernel_pdpt;
    write_cr3((uint64_t)kernel_pml4); /* also flushes the TLB */
}

uint64_t vmm_kernel_cr3(void) { return (uint64_t)kernel_root; }

uint64_t vmm_create_address_space(void)
{
    uint64_t pml4 = new_table();
    uint64_t pdpt = new_table();
    if (!pml4 || !pdpt) {
        if (pml4)
            discard_new_table(pml4);
        if (pdpt)
            discard_new_table(pdpt);
        return 0;
    }
    if (cpu_pv)
        pv_mmu_pin(4, pml4); /* an L4 is a table once pinned: its entries can be set now */
    /* The U/S bit must be set at every level for ring 3 to reach a page; the kernel PDPT
     * entries lack it, so the kernel's memory stays out of reach. */
    set_entry(&((uint64_t *)pml4)[0], pdpt | PTE_PRESENT | PTE_WRITABLE | PTE_USER);
    uint64_t *p = (uint64_t *)pdpt;
    for (int gib = 0; gib < 4; gib++)
        if (gib != USER_GIB && (kernel_gibs[gib] & PTE_PRESENT))
            set_entry(&p[gib], kernel_gibs[gib] & ~(uint64_t)PTE_USER); /* shared, supervisor-only */
    commit();
    return pml4;
}

/* Returns the last-level entry for `virt` under `root`, creating missing tables (linked with
 * `table_flags`) if `create`. */
static uint64_t *walk_from(uint64_t *root, uint64_t virt, bool create, uint64_t table_flags)
{
    uint64_t *table = root;
    for (int shift = 39; shift > 12; shift -= 9) { /* PML4, PDPT, PD */
        uint64_t *entry = &table[(virt >> shift) & (ENTRIES - 1)];
        if (!(*entry & PTE_PRESENT)) {
            if (!create)
                return 0;
            uint64_t next = new_table(); /* zeroed: all entries "not present" */
            if (!next)
                return 0;
            set_entry(entry, next | table_flags);
            commit(); /* the next walk reads this entry */
        }
        if (*entry & PTE_LARGE)
            return 0; /* a 2 MiB page: no table below */
        table = table_at(*entry);
    }
    return &table[(virt >> 12) & (ENTRIES - 1)];
}

/* Returns the PT entry for a user address, creating missing tables if `create`. */
static uint64_t *walk(uint64_t pml4, uint64_t virt, bool create)
{
    if (virt < USER_BASE || virt >= USER_TOP)
        return 0;
    return walk_from((uint64_t *)pml4, virt, create, PTE_PRESENT | PTE_WRITABLE | PTE_USER);
}

bool vmm_map_user_page(uint64_t pml4, uint64_t virt, uint64_t phys)
{
    uint64_t *pte = walk(pml4, virt, true);
    if (!pte)
        return false;
    set_entry(pte, phys | PTE_PRESENT | PTE_WRITABLE | PTE_USER);
    return true;
}

void vmm_commit(void) { commit(); }

bool vmm_unmap_user_page(uint64_t pml4, uint64_t virt)
{
    uint64_t *pte = walk(pml4, virt, false);
    if (!pte || !(*pte & PTE_PRESENT))
        return false;
    uint64_t page = *pte & PTE_ADDRESS_MASK;
    set_entry(pte, 0);
    commit();
    pmm_free_page(page);
    if (read_cr3() == pml4)
        invlpg(virt); /* the TLB may still hold the old translation */
    return true;
}

uint64_t vmm_translate(uint64_t pml4, uint64_t virt)
{
    uint64_t *pte = walk(pml4, virt, false);
    if (!pte || !(*pte & PTE_PRESENT))
        return 0;
    return (*pte & PTE_ADDRESS_MASK) | (virt & 0xFFF);
}

/* The device windows: GiB 0 and GiBs 2-3 are mapped 1:1 (uncached above 2 GiB) by vmm_init.
 * Under PV only what drivers ask for is mapped, uncached, in 4 KiB pages. */
bool vmm_map_device(uint64_t phys, uint64_t size)
{
    uint64_t end = phys + size;
    if (phys == 0 || end > (4ull << 30) || end < phys)
        return false;
    if (!cpu_pv)
        return !(end > (1ull << 30) && phys < (2ull << 30)); /* not in the user GiB */
    if (phys < ((uint64_t)DEVICE_GIB_FIRST << 30))
        return false;
    for (uint64_t page = phys & ~(PAGE_SIZE - 1); page < end; page += PAGE_SIZE) {
        uint64_t *pte = walk_from(kernel_root, page, true, PTE_PRESENT | PTE_WRITABLE);
        if (!pte)
            return false;
        set_entry(pte, page | PTE_PRESENT | PTE_WRITABLE | PTE_CACHE_DISABLE | PTE_WRITE_THROUGH);
    }
    commit();
    return true;
}

void vmm_destroy_address_space(uint64_t pml4)
{
    /* Under PV the tables stop being tables when their L4 loses its pin; only then may they be
     * made writable (free_table) and, once that is sent, go back to the page allocator. */
    if (cpu_pv)
        pv_mmu_unpin(pml4);
    uint64_t pdpt = ((uint64_t *)pml4)[0] & PTE_ADDRESS_MASK;
    uint64_t pd_entry = ((uint64_t *)pdpt)[USER_GIB];
    uint64_t *pd = (pd_entry & PTE_PRESENT) ? table_at(pd_entry) : 0;
    if (pd) {
        for (int i = 0; i < ENTRIES; i++) {
            if (!(pd[i] & PTE_PRESENT))
                continue;
            uint64_t *pt = table_at(pd[i]);
            for (int j = 0; j < ENTRIES; j++)
                if (pt[j] & PTE_PRESENT)
                    pmm_free_page(pt[j] & PTE_ADDRESS_MASK);
            free_table((uint64_t)pt);
        }
        free_table((uint64_t)pd);
    }
    free_table(pdpt);
    free_table(pml4);
    if (!cpu_pv)
        return;
    commit(); /* all of them writable again: now the allocator may have them */
    if (pd) {
        for (int i = 0; i < ENTRIES; i++)
            if (pd[i] & PTE_PRESENT)
                pmm_free_page(pd[i] & PTE_ADDRESS_MASK);
        pmm_free_page((uint64_t)pd);
    }
    pmm_free_page(pdpt);
    pmm_free_page(pml4);
}
