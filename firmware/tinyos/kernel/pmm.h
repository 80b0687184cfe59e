/* pmm.h - physical memory manager: hands out 4 KiB page frames. */
#pragma once
#include <stdint.h>

struct boot_info;

void pmm_init(const struct boot_info *info);
/* Physical address of a zero-filled page, or 0 when memory is exhausted. Physical memory is
 * identity-mapped in the kernel, so the address can be used as a pointer directly. */
uint64_t pmm_alloc_page(void);
void pmm_free_page(uint64_t phys);
uint64_t pmm_free_pages(void);
uint64_t pmm_total_pages(void);
