/* power.c - restarting and stopping the machine without ACPI.
 *
 * Reboot: the 8042 keyboard controller's command 0xFE pulses its output bit 0, which is wired
 * to the CPU's reset line on every PC since the IBM AT. If that does not work we force a
 * triple fault: with an empty IDT any exception becomes a double fault, then a triple fault,
 * and the chipset resets the CPU.
 *
 * Deprivileged (hvlab's PV MMU) the 8042 is out of reach; the debug-exit port is one of the
 * few hvlab's TSS opens to ring 1, so power-off works the same.
 *
 * Power off: real PCs need ACPI for that (not implemented). Under hvlab and QEMU (with
 * -device isa-debug-exit,iobase=0xf4) a write to port 0xF4 ends the emulator, with exit
 * status (value << 1) | 1. On other machines the write goes nowhere and we just halt.
 */
#include "drivers/power.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/kprintf.h"

enum { KBC_STATUS = 0x64, KBC_COMMAND = 0x64, KBC_INPUT_FULL = 0x02, KBC_PULSE_RESET = 0xFE, DEBUG_EXIT = 0xF4 };

void power_reboot(void)
{
    if (cpu_pv) { /* no 8042 in reach, and a triple fault is hvlab's to handle, not ours */
        kprintf("reboot: a deprivileged kernel cannot reset the machine; powering off instead\n");
        power_off();
    }
    kprintf("reboot: resetting the CPU through the 8042 keyboard controller\n");
    console_drain();
    cli();
    for (int i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
        ;
    outb(KBC_COMMAND, KBC_PULSE_RESET);
    for (int i = 0; i < 10000000; i++)
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
