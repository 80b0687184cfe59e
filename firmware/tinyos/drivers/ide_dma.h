/* ide_dma.h - bus-master DMA for the IDE disk (used by drivers/ide.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct pci_device;

/* Set up the bus-master registers of this PCI IDE controller. */
bool ide_dma_init(const struct pci_device *controller);
/* Move `count` sectors between the disk and `buffer` (physical address, 64 KiB aligned,
 * count * 512 <= 64 KiB) by DMA. Returns 0 or a negative error. */
int ide_dma_transfer(uint32_t lba, uint32_t count, bool write, uint64_t buffer);
/* Called by the IRQ 14 handler. */
void ide_dma_interrupt(void);
