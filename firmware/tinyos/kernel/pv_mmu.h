/* pv_mmu.h - page-table writes through hvlab's PV MMU, for a kernel running deprivileged. */
#pragma once
#include <stdint.h>

/* The L4 hvlab built and entered with (its identity map of all RAM in 4 KiB pages). */
void pv_mmu_init(uint64_t boot_l4);
uint64_t pv_mmu_boot_l4(void);

/* Queue `*entry = value` (validated by hvlab when the queue is sent). */
void pv_mmu_queue(uint64_t *entry, uint64_t value);
/* Send the queued writes in one mmu_update call (panics if hvlab refuses one). */
void pv_mmu_flush(void);

/* Queue: map `page` read-only in the identity map, before it becomes a page table. */
void pv_mmu_make_table(uint64_t page);
/* Queue: map `page` writable again, once it is no longer a page table. */
void pv_mmu_release_table(uint64_t page);

/* Pin a table (flushes the queue first): an L4 must be pinned to be loaded into CR3. */
void pv_mmu_pin(unsigned level, uint64_t table);
/* Drop the pin (flushes first); tables only it kept alive become ordinary pages. */
void pv_mmu_unpin(uint64_t table);

/* Entries written and mmu_update calls made (for `pv`). */
uint64_t pv_mmu_updates(void);
uint64_t pv_mmu_batches(void);
