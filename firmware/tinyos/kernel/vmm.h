/* vmm.h - virtual memory: 4-level page tables and per-process address spaces. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Page table entry bits (Intel SDM vol. 3, section 4.5, tables 4-15 ... 4-20). */
enum {
    PTE_PRESENT = 1 << 0,
    PTE_WRITABLE = 1 << 1,
    PTE_USER = 1 << 2, /* U/S: ring 3 may access */
    PTE_WRITE_THROUGH = 1 << 3,
    PTE_CACHE_DISABLE = 1 << 4,
    PTE_LARGE = 1 << 7, /* PS: this PD entry maps a 2 MiB page */
};
#define PTE_ADDRESS_MASK 0x000FFFFFFFFFF000ull

/* Build the kernel's page tables and switch to them. */
void vmm_init(void);
/* Physical address of the kernel's PML4 (used when no process is running). */
uint64_t vmm_kernel_cr3(void);

/* A new address space: the kernel part shared, the user GiB empty. Returns the PML4's
 * physical address (= CR3 value) or 0. */
uint64_t vmm_create_address_space(void);
void vmm_destroy_address_space(uint64_t pml4);

/* Map one 4 KiB user page. Returns false when out of memory. Under PV the last write may still
 * be queued: call vmm_commit() before the page is used through `virt`. */
bool vmm_map_user_page(uint64_t pml4, uint64_t virt, uint64_t phys);
/* Send the page-table writes still queued for hvlab (PV MMU); nothing to do otherwise. */
void vmm_commit(void);
/* Unmap one user page and free its frame; returns false if it was not mapped. */
bool vmm_unmap_user_page(uint64_t pml4, uint64_t virt);
/* Physical address `virt` maps to, or 0. */
uint64_t vmm_translate(uint64_t pml4, uint64_t virt);
/* Make device registers at [phys, phys + size) reachable at the same address in every address
 * space (uncached). False if they lie where the kernel cannot map them. */
bool vmm_map_device(uint64_t phys, uint64_t size);
