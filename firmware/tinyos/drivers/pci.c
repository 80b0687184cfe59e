/* pci.c - PCI configuration space through "configuration mechanism #1".
 *
 * Every PCI function has 256 bytes of configuration registers (IDs, class, BARs, interrupt
 * line). On PCs they are reached through two I/O ports (PCI Local Bus Spec 3.0, 3.2.2.3.2):
 * write an address to 0xCF8 -- bit 31 enable, bits 23-16 bus, 15-11 device, 10-8 function,
 * 7-2 register -- then read or write the 32-bit register at 0xCFC.
 *
 * We find devices by walking the tree from bus 0: every device/function of a bus (vendor 0xFFFF
 * means empty), and behind each PCI-to-PCI bridge (class 06.04) the bus its secondary bus number
 * register names. Trying all 256 buses would cost 16,000 configuration reads, each a VM exit.
 */
#include "drivers/pci.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"

enum { CONFIG_ADDRESS = 0xCF8, CONFIG_DATA = 0xCFC, MAX_FOUND = 32 };

static struct pci_device found[MAX_FOUND];
static int found_count;

static void select_register(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t offset)
{
    outl(CONFIG_ADDRESS, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (offset & 0xFC));
}

static uint32_t read_config(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t offset)
{
    select_register(bus, dev, fn, offset);
    return inl(CONFIG_DATA);
}

uint32_t pci_read32(const struct pci_device *d, uint8_t offset)
{
    return read_config(d->bus, d->device, d->function, offset);
}
uint16_t pci_read16(const struct pci_device *d, uint8_t offset)
{
    return (uint16_t)(pci_read32(d, offset) >> ((offset & 2) * 8));
}
uint8_t pci_read8(const struct pci_device *d, uint8_t offset)
{
    return (uint8_t)(pci_read32(d, offset) >> ((offset & 3) * 8));
}
void pci_write32(const struct pci_device *d, uint8_t offset, uint32_t value)
{
    select_register(d->bus, d->device, d->function, offset);
    outl(CONFIG_DATA, value);
}
void pci_write16(const struct pci_device *d, uint8_t offset, uint16_t value)
{
    uint32_t old = pci_read32(d, offset & 0xFC);
    int shift = (offset & 2) * 8;
    pci_write32(d, offset & 0xFC, (old & ~(0xFFFFu << shift)) | (uint32_t)value << shift);
}

uint64_t pci_bar(const struct pci_device *d, int n)
{
    uint32_t bar = pci_read32(d, (uint8_t)(PCI_BAR0 + 4 * n));
    if (bar & 1) /* bit 0 = 1: I/O space; bits 1:0 are flags */
        return bar & ~3u;
    uint64_t base = bar & ~0xFu; /* memory space: bits 3:0 are flags */
    if (((bar >> 1) & 3) == 2)   /* type 10b: 64-bit BAR, the next BAR holds the high half */
        base |= (uint64_t)pci_read32(d, (uint8_t)(PCI_BAR0 + 4 * (n + 1))) << 32;
    return base;
}

void pci_enable(const struct pci_device *d, uint16_t command_bits)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | command_bits);
}

static struct pci_device probe_function(uint8_t bus, uint8_t dev, uint8_t fn)
{
    struct pci_device d = {.bus = bus, .device = dev, .function = fn};
    d.vendor_id = pci_read16(&d, PCI_VENDOR_ID);
    d.device_id = pci_read16(&d, PCI_DEVICE_ID);
    d.class_code = pci_read8(&d, PCI_CLASS);
    d.subclass = pci_read8(&d, PCI_SUBCLASS);
    d.prog_if = pci_read8(&d, PCI_PROG_IF);
    d.irq_line = pci_read8(&d, PCI_INTERRUPT_LINE);
    kprintf("  pci %02x:%02x.%x  %04x:%04x  class %02x.%02x.%02x  irq %u\n", bus, dev, fn, d.vendor_id,
            d.device_id, d.class_code, d.subclass, d.prog_if, d.irq_line);
    if (found_count < MAX_FOUND)
        found[found_count++] = d;
    return d;
}

enum { PCI_SECONDARY_BUS = 0x19, CLASS_BRIDGE = 0x06, SUBCLASS_PCI_TO_PCI = 0x04 };

static void scan_bus(uint8_t bus, unsigned depth)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        if ((read_config(bus, dev, 0, PCI_VENDOR_ID) & 0xFFFF) == 0xFFFF)
            continue; /* nothing in this slot */
        /* Header type bit 7: multi-function device, look at functions 1-7 too. */
        uint8_t header = (uint8_t)(read_config(bus, dev, 0, PCI_HEADER_TYPE & 0xFC) >> 16);
        uint8_t functions = (header & 0x80) ? 8 : 1;
        for (uint8_t fn = 0; fn < functions; fn++) {
            if ((read_config(bus, dev, fn, PCI_VENDOR_ID) & 0xFFFF) == 0xFFFF)
                continue;
            struct pci_device d = probe_function(bus, dev, fn);
            if (d.class_code != CLASS_BRIDGE || d.subclass != SUBCLASS_PCI_TO_PCI)
                continue;
            /* A bridge leads to a higher-numbered bus; the depth bound stops a bad loop. */
            uint8_t secondary = pci_read8(&d, PCI_SECONDARY_BUS);
            if (secondary > bus && depth < 8)
                scan_bus(secondary, depth + 1);
        }
    }
}

void pci_scan(void)
{
    found_count = 0;
    scan_bus(0, 0);
}

bool pci_find_device(uint16_t vendor, uint16_t device, struct pci_device *out)
{
    for (int i = 0; i < found_count; i++)
        if (found[i].vendor_id == vendor && found[i].device_id == device) {
            *out = found[i];
            return true;
        }
    return false;
}

bool pci_find_class(uint8_t class_code, uint8_t subclass, struct pci_device *out)
{
    for (int i = 0; i < found_count; i++)
        if (found[i].class_code == class_code && found[i].subclass == subclass) {
            *out = found[i];
            return true;
        }
    return false;
}
