/* main.c - kmain(), the kernel's first C function: bring up everything in order.
 *
 * boot/kernel_entry.asm calls kmain() on the boot stack with interrupts disabled.
 * The order matters: we need the console to report anything, the GDT and IDT before an
 * interrupt or exception can be taken, the page allocator before page tables or processes,
 * and the timer running before drivers that wait with timeouts.
 *
 * Under hvlab the kernel first asks CPUID which paravirtual interfaces the VM offers
 * (drivers/hvlab.c) and takes the P path for each one offered: the PV console instead of the
 * UART, the PV timer instead of the PIT, the event channel instead of the PIC. One image does
 * both; the user picks with `hvlab run --pv ...`.
 *
 * The same kernel.elf also boots through PVH (boot/pvh_entry.asm, kernel/start_info.c): no BIOS
 * and no legacy devices. Finding no PIC, it takes device interrupts as events
 * (event_bind_irq) and idles with the `block` hypercall (kernel/idle.c).
 *
 * And it runs deprivileged, in ring 1 under hvlab's PV MMU (`hvlab run --preset pv --kernel
 * kernel.elf`): hvlab enters it at boot/pv_entry.asm, and from there every privileged step below
 * takes its hypercall path (kernel/cpu.h, cpu_pv).
 */
#include "drivers/disk.h"
#include "drivers/hvlab.h"
#include "drivers/pci.h"
#include "drivers/pic.h"
#include "drivers/rtc.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/gdt.h"
#include "kernel/idt.h"
#include "kernel/kprintf.h"
#include "kernel/pmm.h"
#include "kernel/process.h"
#include "kernel/pv_events.h"
#include "kernel/idle.h"
#include "kernel/sched.h"
#include "kernel/start_info.h"
#include "kernel/syscall.h"
#include "kernel/timer.h"
#include "kernel/vmm.h"
#include "net/net.h"
#include <tinyos/boot_info.h>

static void start_process(const char *program)
{
    int pid = process_spawn(program, 0, 0);
    if (pid < 0)
        panic("cannot start %s (error %d)", program, pid);
    kprintf("started process %d: %s\n", pid, program);
}

static void log_boot_path(const struct boot_info *boot)
{
    if (boot->load_method == BOOT_LOAD_PV)
        kprintf("entered by hvlab at ring 1 (PV MMU): no privileged instruction from here on\n");
    else if (boot->load_method == BOOT_LOAD_PVH)
        kprintf("booted through PVH: hvm_start_info at %lx, %u module(s), command line \"%s\"\n",
                start_info_address(), start_info_module_count(), start_info_cmdline());
    else
        kprintf("booted from drive %x with %s reads\n", boot->boot_drive,
                boot->load_method == BOOT_LOAD_CHS ? "CHS (INT 13h AH=02h)" : "LBA (INT 13h AH=42h)");
}

void kmain(struct boot_info *boot)
{
    hvlab_detect(); /* CPUID only: decides whether the console starts on the UART or PV */
    console_init();
    kprintf("\ntinyos 0.1 -- a small x86-64 teaching kernel\n");
    uint32_t bad_magic, bad_version;
    if (start_info_refused(&bad_magic, &bad_version))
        panic("%s entry: the start-info at %lx has magic %x and version %u, not an hvm_start_info (magic %x, "
              "version 1)",
              cpu_pv ? "PV" : "PVH", start_info_address(), bad_magic, bad_version, HVM_START_MAGIC);
    log_boot_path(boot);
    hvlab_log();
    if (cpu_pv && !hvlab_offers(HVLAB_FEATURE_PV_MMU | HVLAB_FEATURE_EVENTS | HVLAB_FEATURE_CLOCK))
        panic("entered deprivileged, but hvlab offers no PV MMU, events or clock");

    gdt_init();     /* kernel + user segments, TSS with RSP0 and the double-fault IST (PV: hvlab's) */
    idt_init();     /* handlers for exceptions 0-31 and IRQs 32-47 (PV: set_trap_table) */
    if (!pic_init()) /* 8259s remapped to vectors 0x20-0x2F, all lines masked */
        kprintf("no 8259 PIC (a machine without legacy devices): device interrupts come as events\n");
    pv_events_init(); /* hvlab's event page and upcall vector, if offered */
    idle_init();      /* HLT, or `block` when every interrupt is an event */
    pmm_init(boot); /* free page list from the E820 map */
    vmm_init();     /* the kernel's own page tables (PV: hvlab's, plus the device window) */
    syscall_init(); /* SYSCALL/SYSRET MSRs (PV: set_syscall_entry) */
    timer_init();   /* PIT at TIMER_HZ on IRQ 0, or the PV timer */
    console_start_input(); /* UART receive interrupt (IRQ 4), or PV console input (event 1) */
    sti();          /* PV: the virtual IF, upcall_mask in the event page */
    kprintf("paths: boot %s, console %s (input %s), timer %s, interrupts %s, idle %s, privileged %s\n",
            start_info_boot_path(), console_output_path(), console_input_path(), timer_is_pv() ? "pv" : "pit",
            interrupts_path(), idle_path(), cpu_pv ? "pv" : "native");

    timer_calibrate_tsc();
    struct rtc_time now;
    rtc_read(&now);
    if (rtc_present())
        kprintf("timer: %s at %u Hz, TSC %u.%03u MHz, RTC time %02u:%02u:%02u\n",
                timer_is_pv() ? "PV one-shot timer (hvlab clock)" : "PIT", TIMER_HZ, timer_tsc_khz() / 1000,
                timer_tsc_khz() % 1000, now.hour, now.minute, now.second);
    else
        kprintf("timer: %s at %u Hz, TSC %u.%03u MHz, no RTC\n",
                timer_is_pv() ? "PV one-shot timer (hvlab clock)" : "PIT", TIMER_HZ, timer_tsc_khz() / 1000,
                timer_tsc_khz() % 1000);

    kprintf("PCI devices:\n");
    pci_scan();
    console_probe_virtio(); /* a virtio console, if any, gets the output from now on */
    disk_init();            /* virtio-blk if present, else IDE */
    net_init();             /* virtio-net if present, else e1000 */

    start_process("shell");
    start_process("counter");
    start_process("spinner");
    scheduler_run(); /* never returns: the boot stack becomes the scheduler's */
}
