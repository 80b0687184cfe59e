/* pv_mmu.c - changing page tables through hvlab's PV MMU (docs/hypercalls.md, "The PV MMU").
 *
 * A deprivileged kernel reads its page tables directly but never writes them: hvlab maps them
 * read-only, and every change goes through the mmu_update call, which checks it first (no page
 * table mapped writable anywhere, no large pages, nothing of hvlab's mapped) and then writes it.
 * Each call is an exit, so kernel/vmm.c queues its writes here and sends them in one batch
 * (pv_mmu_flush) when it is done, or when it is about to read an entry it has just queued.
 *
 * A fresh page becomes a table in two steps: its identity mapping (the L1 entry that maps it in
 * the 1:1 map hvlab built with 4 KiB pages) becomes read-only, then a table above links it (or,
 * for an L4, it is pinned). Both go in the same batch, in that order. When it stops being a table
 * (its L4 unpinned, so nothing links it any more) its identity mapping becomes writable again,
 * before the page allocator gets it back and writes its free-list link into it.
 */
#include "kernel/pv_mmu.h"
#include "drivers/hvlab.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/vmm.h"

enum { QUEUE_SIZE = 32 };

struct mmu_update {
    uint64_t entry; /* guest-physical address of the page-table entry */
    uint64_t value;
};

static struct mmu_update queue[QUEUE_SIZE];
static unsigned queued;
static uint64_t boot_l4;
static uint64_t updates, batches;

void pv_mmu_init(uint64_t l4)
{
    boot_l4 = l4;
    pv_set_boot_cr3(l4);
}

uint64_t pv_mmu_boot_l4(void) { return boot_l4; }

void pv_mmu_flush(void)
{
    if (!queued)
        return;
    int64_t done = hvlab_call(HVLAB_MMU_UPDATE, kernel_phys(queue), queued, 0);
    batches++;
    if (done != (int64_t)queued)
        panic("mmu_update of %u entries refused (%ld); the first: [%lx] = %lx", queued, done, queue[0].entry,
              queue[0].value);
    updates += queued;
    queued = 0;
}

void pv_mmu_queue(uint64_t *entry, uint64_t value)
{
    if (queued == QUEUE_SIZE)
        pv_mmu_flush();
    queue[queued++] = (struct mmu_update){kernel_phys(entry), value};
}

/* The L1 entry that maps physical page `page` in hvlab's identity map. */
static uint64_t *identity_entry(uint64_t page)
{
    uint64_t *table = (uint64_t *)boot_l4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t entry = table[(page >> shift) & 511];
        if (!(entry & PTE_PRESENT) || (entry & PTE_LARGE))
            panic("pv_mmu: page %lx is not in hvlab's 4 KiB identity map", page);
        table = (uint64_t *)(entry & PTE_ADDRESS_MASK);
    }
    return &table[(page >> 12) & 511];
}

void pv_mmu_make_table(uint64_t page)
{
    uint64_t *entry = identity_entry(page);
    pv_mmu_queue(entry, *entry & ~(uint64_t)PTE_WRITABLE);
}

void pv_mmu_release_table(uint64_t page)
{
    uint64_t *entry = identity_entry(page);
    pv_mmu_queue(entry, *entry | PTE_WRITABLE);
}

void pv_mmu_pin(unsigned level, uint64_t table)
{
    pv_mmu_flush(); /* the page must be read-only first */
    int64_t r = hvlab_call(HVLAB_MMU_PIN, level, table, 0);
    if (r < 0)
        panic("mmu_pin(L%u, %lx) refused (%ld)", level, table, r);
}

void pv_mmu_unpin(uint64_t table)
{
    pv_mmu_flush();
    int64_t r = hvlab_call(HVLAB_MMU_UNPIN, table, 0, 0);
    if (r < 0)
        panic("mmu_unpin(%lx) refused (%ld)", table, r);
}

uint64_t pv_mmu_updates(void) { return updates; }
uint64_t pv_mmu_batches(void) { return batches; }
