/* uaccess.h - checking pointers that come from user programs.
 *
 * A system call argument like "write these 100 bytes from address X" must not let a process
 * make the kernel read or write kernel memory: the range must lie in user space. The kernel
 * may then use the pointer directly (the process's page tables are loaded); a not-yet-mapped
 * heap or stack page is added by the page-fault handler, an unmapped address elsewhere kills
 * the process (kernel/trap.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <tinyos/abi.h>

static inline bool user_range_ok(uint64_t addr, uint64_t len)
{
    return addr >= USER_BASE && len <= USER_TOP - USER_BASE && addr <= USER_TOP - len;
}
