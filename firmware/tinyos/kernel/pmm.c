/* pmm.c - the physical page allocator.
 *
 * The BIOS told us (E820 map, via boot/stage2.asm; hvlab's start-info on the PV entry, see
 * kernel/pv_boot.c) which ranges of physical memory are usable RAM. We take every usable
 * 4 KiB page above the kernel's end and below KERNEL_RAM_LIMIT and thread them into a singly
 * linked "free list": the first 8 bytes of each free page hold the address of the next one.
 * Allocating pops the head, freeing pushes. Both are O(1).
 *
 * Memory below 1 MiB is left alone: it holds the BIOS data area, our boot structures and the
 * EBDA, and legacy devices (VGA) live there.
 */
#include "kernel/pmm.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pv_boot.h"
#include "lib/string.h"
#include <tinyos/boot_info.h>

static uint64_t free_list; /* physical address of the first free page, 0 = none */
static uint64_t free_count, total_count;

static const char *e820_type_name(uint32_t type)
{
    switch (type) {
    case E820_USABLE: return "usable";
    case E820_RESERVED: return "reserved";
    case E820_ACPI_RECLAIMABLE: return "ACPI reclaimable";
    case E820_ACPI_NVS: return "ACPI NVS";
    case E820_BAD: return "bad";
    default: return "unknown";
    }
}

void pmm_init(const struct boot_info *info)
{
    if (info->magic != BOOT_INFO_MAGIC)
        panic("boot_info at %p has a bad magic number %x", (const void *)info, info->magic);
    if (info->e820_count == 0)
        panic("the BIOS gave no E820 memory map");

    /* Entered by hvlab's PV loader, more than the kernel is in use above it: the start-info,
     * the page tables hvlab built (read-only) and its boot stack (kernel/pv_boot.c). */
    uint64_t in_use_end = (uint64_t)__kernel_end;
    if (pv_boot_in_use_end() > in_use_end)
        in_use_end = pv_boot_in_use_end();
    uint64_t first_free = (in_use_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    kprintf("E820 memory map (%u entries):\n", info->e820_count);
    for (unsigned i = 0; i < info->e820_count; i++) {
        const struct e820_entry *e = &info->e820[i];
        kprintf("  %016lx - %016lx  %s\n", e->base, e->base + e->length - 1, e820_type_name(e->type));
        if (e->type != E820_USABLE)
            continue;
        uint64_t start = (e->base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        uint64_t end = (e->base + e->length) & ~(PAGE_SIZE - 1);
        if (start < first_free)
            start = first_free;
        if (end > KERNEL_RAM_LIMIT)
            end = KERNEL_RAM_LIMIT;
        /* Push from the top down so the list hands out low addresses first. */
        for (uint64_t page = end; page > start; page -= PAGE_SIZE) {
            pmm_free_page(page - PAGE_SIZE);
            total_count++;
        }
    }
    kprintf("physical memory: %lu KiB free for pages (kernel ends at %p)\n", free_count * 4,
            (void *)__kernel_end);
}

uint64_t pmm_alloc_page(void)
{
    uint64_t flags = irq_save();
    uint64_t page = free_list;
    if (page) {
        free_list = *(uint64_t *)page;
        free_count--;
    }
    irq_restore(flags);
    if (page)
        memset((void *)page, 0, PAGE_SIZE);
    return page;
}

void pmm_free_page(uint64_t phys)
{
    uint64_t flags = irq_save();
    *(uint64_t *)phys = free_list;
    free_list = phys;
    free_count++;
    irq_restore(flags);
}

uint64_t pmm_free_pages(void) { return free_count; }
uint64_t pmm_total_pages(void) { return total_count; }
