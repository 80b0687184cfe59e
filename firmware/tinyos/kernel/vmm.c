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
 */
#include "kernel/vmm.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include <tinyos/abi.h>

#define ENTRIES 512
#define USER_GIB 1 /* PDPT index of user space */

static uint64_t kernel_pml4[ENTRIES] __attribute__((aligned(4096)));
static uint64_t kernel_pdpt[ENTRIES] __attribute__((aligned(4096)));
static uint64_t kernel_pd[4][ENTRIES] __attribute__((aligned(4096))); /* [USER_GIB] unused */

void vmm_init(void)
{
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
    write_cr3((uint64_t)kernel_pml4); /* also flushes the TLB */
}

uint64_t vmm_kernel_cr3(void) { return (uint64_t)kernel_pml4; }

uint64_t vmm_create_address_space(void)
{
    uint64_t pml4 = pmm_alloc_page();
    uint64_t pdpt = pmm_alloc_page();
    if (!pml4 || !pdpt) {
        if (pml4)
            pmm_free_page(pml4);
        if (pdpt)
            pmm_free_page(pdpt);
        return 0;
    }
    uint64_t *p = (uint64_t *)pdpt;
    for (int gib = 0; gib < 4; gib++)
        if (gib != USER_GIB)
            p[gib] = kernel_pdpt[gib]; /* shared, and supervisor-only (no PTE_USER) */
    /* The U/S bit must be set at every level for ring 3 to reach a page; the kernel PDPT
     * entries above lack it, so the kernel's memory stays out of reach. */
    ((uint64_t *)pml4)[0] = pdpt | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
    return pml4;
}

/* Returns the PT entry for a user address, creating missing tables if `create`. */
static uint64_t *walk(uint64_t pml4, uint64_t virt, bool create)
{
    if (virt < USER_BASE || virt >= USER_TOP)
        return 0;
    uint64_t *table = (uint64_t *)pml4;
    for (int shift = 39; shift > 12; shift -= 9) { /* PML4, PDPT, PD */
        uint64_t *entry = &table[(virt >> shift) & (ENTRIES - 1)];
        if (!(*entry & PTE_PRESENT)) {
            if (!create)
                return 0;
            uint64_t next = pmm_alloc_page(); /* zeroed: all entries "not present" */
            if (!next)
                return 0;
            *entry = next | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
        }
        table = (uint64_t *)(*entry & PTE_ADDRESS_MASK);
    }
    return &table[(virt >> 12) & (ENTRIES - 1)];
}

bool vmm_map_user_page(uint64_t pml4, uint64_t virt, uint64_t phys)
{
    uint64_t *pte = walk(pml4, virt, true);
    if (!pte)
        return false;
    *pte = phys | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
    return true;
}

bool vmm_unmap_user_page(uint64_t pml4, uint64_t virt)
{
    uint64_t *pte = walk(pml4, virt, false);
    if (!pte || !(*pte & PTE_PRESENT))
        return false;
    pmm_free_page(*pte & PTE_ADDRESS_MASK);
    *pte = 0;
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

void vmm_destroy_address_space(uint64_t pml4)
{
    uint64_t pdpt = ((uint64_t *)pml4)[0] & PTE_ADDRESS_MASK;
    uint64_t pd_entry = ((uint64_t *)pdpt)[USER_GIB];
    if (pd_entry & PTE_PRESENT) {
        uint64_t *pd = (uint64_t *)(pd_entry & PTE_ADDRESS_MASK);
        for (int i = 0; i < ENTRIES; i++) {
            if (!(pd[i] & PTE_PRESENT))
                continue;
            uint64_t *pt = (uint64_t *)(pd[i] & PTE_ADDRESS_MASK);
            for (int j = 0; j < ENTRIES; j++)
                if (pt[j] & PTE_PRESENT)
                    pmm_free_page(pt[j] & PTE_ADDRESS_MASK);
            pmm_free_page((uint64_t)pt);
        }
        pmm_free_page((uint64_t)pd);
    }
    pmm_free_page(pdpt);
    pmm_free_page(pml4);
}
