/* page_fault.h - demand paging. */
#pragma once
#include <stdbool.h>

struct trap_frame;

/* Try to resolve a page fault by mapping a fresh zeroed page (heap or stack). Returns true
 * if the faulting instruction can simply be retried. */
bool page_fault_handle(struct trap_frame *frame);
