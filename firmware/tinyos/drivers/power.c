/* power.c - restarting and stopping the machine without ACPI.
 *
 * Reboot: the 8042 keyboard controller's command 0xFE pulses its output bit 0, which is wired
 * to the CPU's reset line on every PC since the IBM AT. A machine without an 8042 (a PVH
 * machine: its status port reads 0xFF) has the chipset's reset control register, port 0xCF9
 * (PIIX3 and later: bit 1 hard reset, bit 2 do it). If neither works we force a triple fault:
 * with an empty IDT any exception becomes a double fault, then a triple fault, and the chipset
 * resets the CPU.
 *
 * Deprivileged (hvlab's PV MMU) the 8042 is out of reach, but hvlab's TSS opens the PCI ports
 * (0xCF9 among them) and the debug-exit port to ring 1: reset and power-off work the same.
 *
 * Power off: real PCs need ACPI for that (not implemented). Under hvlab and QEMU (with
 * -device isa-debug-exit,iobase=0xf4) a write to port 0xF4 ends the emulator, with exit
 * status (value << 1) | 1. On other machines the write goes nowhere and we just halt.
 */
#include "drivers/power.h"
#include <stdbool.h>
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"

enum {
    KBC_STATUS = 0x64,
    KBC_COMMAND = 0x64,
    KBC_INPUT_FULL = 0x02,
    KBC_PULSE_RESET = 0xFE,
    DEBUG_EXIT = 0xF4,
    RESET_CONTROL = 0xCF9,
    RESET_HARD = 0x02,
    RESET_NOW = 0x04,
};

void power_reboot(void)
{
    /* Deprivileged (hvlab's PV MMU) only the PCI ports (0xCF8-0xCFF, 0xCF9 among them) and 0xF4
     * are open to us: no 8042 to ask. */
    bool have_8042 = !cpu_pv && inb(KBC_STATUS) != 0xFF;
    kprintf("reboot: resetting the CPU through %s\n",
            have_8042 ? "the 8042 keyboard controller" : "the chipset's reset control (port 0xCF9)");
    console_drain();
    cli();
    if (have_8042) {
        for (int i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
            ;
        outb(KBC_COMMAND, KBC_PULSE_RESET);
        for (int i = 0; i < 10000000; i++)
            io_wait();
    }
    outb(RESET_CONTROL, RESET_HARD);
    outb(RESET_CONTROL, RESET_HARD | RESET_NOW);
    if (cpu_pv) { /* no port 0x80 delay and no LIDT in ring 1: if that did not reset, stop */
        kprintf("reboot: the reset control did not reset the machine; powering off\n");
        power_off();
    }
    for (int i = 0; i < 1000000; i++)
        io_wait();
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty_idt = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
    halt_forever();
}

void power_off(void)
{
    kprintf("poweroff: writing 0 to the debug-exit port 0xF4, then halting\n");
    console_drain();
    cli();
    outb(DEBUG_EXIT, 0);
    halt_forever(); /* HLT with interrupts off: hvlab also treats this as a clean stop */
}
