/* boot_info.h - what the boot loader hands to the kernel.
 *
 * boot/stage2.asm fills this structure at physical address 0x500 (boot/layout.inc) and jumps
 * to the kernel with its address in RDI, so kmain() receives it as its argument. A PVH boot
 * (boot/pvh_entry.asm) has no stage2: kernel/start_info.c fills it from Xen's hvm_start_info, as
 * it does for hvlab's PV entry (boot/pv_entry.asm, kernel/pv_boot.c).
 */
#pragma once
#include <stdint.h>

#define BOOT_INFO_MAGIC 0x594E4954u /* the bytes "TINY" */
#define BOOT_INFO_MAX_E820 64

/* boot_info.load_method */
enum boot_load_method {
    BOOT_LOAD_LBA = 1, /* stage2 read the kernel with INT 13h extended reads */
    BOOT_LOAD_CHS = 2, /* ... with the CHS fallback */
    BOOT_LOAD_PVH = 3, /* no stage2: the hypervisor loaded kernel.elf (PVH direct boot) */
    BOOT_LOAD_PV = 4,  /* hvlab loaded kernel.elf and entered it at ring 1 (kernel/pv_boot.c) */
};

/* One entry of the BIOS memory map (INT 15h EAX=E820h, ACPI spec section 15). */
enum e820_type {
    E820_USABLE = 1,
    E820_RESERVED = 2,
    E820_ACPI_RECLAIMABLE = 3,
    E820_ACPI_NVS = 4,
    E820_BAD = 5,
};

struct e820_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t acpi_attributes;
} __attribute__((packed));

struct boot_info {
    uint32_t magic;      /* BOOT_INFO_MAGIC */
    uint8_t boot_drive;  /* BIOS drive number (0x80 = first hard disk) */
    uint8_t load_method; /* enum boot_load_method */
    uint16_t e820_count;
    struct e820_entry e820[BOOT_INFO_MAX_E820];
} __attribute__((packed));
