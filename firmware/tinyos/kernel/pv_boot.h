/* pv_boot.h - what hvlab's PV start-info told the kernel (kernel/pv_boot.c). */
#pragma once
#include <stdint.h>

/* The first physical address hvlab left unused above the kernel (0 on the disk boot). */
uint64_t pv_boot_in_use_end(void);
