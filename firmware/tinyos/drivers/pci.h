/* pci.h - PCI configuration space access and device discovery. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct pci_device {
    uint8_t bus, device, function;
    uint16_t vendor_id, device_id;
    uint8_t class_code, subclass, prog_if;
    uint8_t irq_line; /* config offset 0x3C, written by the BIOS: the PIC input it routed INTx to */
};

/* Standard configuration header offsets (PCI Local Bus Specification 3.0, section 6.1). */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_PROG_IF = 0x09,
    PCI_SUBCLASS = 0x0A,
    PCI_CLASS = 0x0B,
    PCI_HEADER_TYPE = 0x0E,
    PCI_BAR0 = 0x10,
    PCI_INTERRUPT_LINE = 0x3C,
    PCI_COMMAND_IO = 1 << 0,         /* respond to I/O-space BARs */
    PCI_COMMAND_MEMORY = 1 << 1,     /* respond to memory-space BARs */
    PCI_COMMAND_BUS_MASTER = 1 << 2, /* may start DMA */
};

uint32_t pci_read32(const struct pci_device *d, uint8_t offset);
uint16_t pci_read16(const struct pci_device *d, uint8_t offset);
uint8_t pci_read8(const struct pci_device *d, uint8_t offset);
void pci_write32(const struct pci_device *d, uint8_t offset, uint32_t value);
void pci_write16(const struct pci_device *d, uint8_t offset, uint16_t value);
/* BAR n's base address (I/O port or physical memory address), type bits removed. */
uint64_t pci_bar(const struct pci_device *d, int n);
void pci_enable(const struct pci_device *d, uint16_t command_bits);

/* Scan every bus; print what is there. */
void pci_scan(void);
bool pci_find_device(uint16_t vendor, uint16_t device, struct pci_device *out);
bool pci_find_class(uint8_t class_code, uint8_t subclass, struct pci_device *out);
