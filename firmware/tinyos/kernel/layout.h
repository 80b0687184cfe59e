/* layout.h - physical memory facts the kernel relies on (boot/layout.inc has the full map). */
#pragma once

#define PAGE_SIZE 4096ull
#define KERNEL_PHYS_BASE 0x100000ull /* kernel.ld links the kernel at 1 MiB */
#define BOOT_INFO_PHYS 0x500ull      /* struct boot_info, written by boot/stage2.asm */

/* The kernel maps physical memory 1:1 in the first GiB and in the third and fourth GiB
 * (where PCI devices have their registers). It only uses RAM below this limit: */
#define KERNEL_RAM_LIMIT 0x40000000ull

/* The physical address of kernel memory (code, data, .bss, pages from the page allocator):
 * the same number, thanks to the identity map. What a device or the hypervisor is told. */
static inline unsigned long long kernel_phys(const void *p) { return (unsigned long long)(__UINTPTR_TYPE__)p; }

/* First sector of the data area on the boot disk: LBA 0 = boot sector, 1..8 = stage2,
 * 9.. = kernel, everything from 1 MiB on belongs to the `disk` commands. */
#define DISK_DATA_AREA_LBA 2048u

/* Symbols from kernel.ld */
extern char __kernel_start[], __kernel_end[];
