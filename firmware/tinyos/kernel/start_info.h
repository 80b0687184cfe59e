/* start_info.h - Xen's struct hvm_start_info (version 1), what a PVH boot hands the kernel
 * (docs/hypercalls.md "PVH boot"; Xen's public/arch-x86/hvm/start_info.h), and its conversion
 * into tinyos's own struct boot_info (include/tinyos/boot_info.h), so the rest of the kernel
 * does not care how it was booted. Any entry path that gets a start-info (boot/pvh_entry.asm,
 * a PV entry) can call start_info_convert(). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <tinyos/boot_info.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
    uint32_t magic;         /* HVM_START_MAGIC */
    uint32_t version;       /* 1: with the memory map */
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr; /* struct hvm_modlist_entry[nr_modules] */
    uint64_t cmdline_paddr; /* NUL-terminated, 0 = none */
    uint64_t rsdp_paddr;    /* ACPI RSDP, 0 = none */
    uint64_t memmap_paddr;  /* struct hvm_memmap_entry[memmap_entries] */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
    uint64_t addr, size;
    uint32_t type; /* 1 RAM, 2 reserved, ... (the E820 types) */
    uint32_t reserved;
};

/* Fills a boot_info (in the kernel's .bss) from `si` (the memory map becomes the E820 map,
 * load_method BOOT_LOAD_PVH), keeps the command line and module count, and returns it. A start-info with a bad magic or version gives a boot_info with magic 0 (kmain's
 * pmm_init then says so). Call after .bss is zeroed, before anything allocates memory: the
 * start-info lies in RAM the page allocator may hand out later. */
struct boot_info *start_info_convert(const struct hvm_start_info *si);

/* Whether the kernel came in through PVH, and what the start-info said. */
bool start_info_booted_pvh(void);
/* "bios" (boot sector and stage2), "pvh" or "pv" (hvlab's PV entry, boot/pv_entry.asm). */
const char *start_info_boot_path(void);
/* True if the kernel came in through the PVH entry with something that is not a start-info
 * version 1 or later; `magic` and `version` say what was there. */
bool start_info_refused(uint32_t *magic, uint32_t *version);
uint64_t start_info_address(void);
const char *start_info_cmdline(void); /* "" without one */
unsigned start_info_module_count(void);
