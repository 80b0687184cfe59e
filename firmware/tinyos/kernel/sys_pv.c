/* sys_pv.c - pvinfo(): what hvlab offers and which paths (BIOS, PVH or PV boot, UART or PV
 * console, PIT or PV timer, PIC or event channel, HLT or block, ring 0 or the PV MMU) the kernel
 * took at boot. */
#include "drivers/hvlab.h"
#include "drivers/pic.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/idle.h"
#include "kernel/pv_mmu.h"
#include "kernel/start_info.h"
#include "kernel/pv_events.h"
#include "kernel/syscalls.h"
#include "kernel/timer.h"
#include "kernel/uaccess.h"
#include "lib/string.h"

SYSCALL(sys_pvinfo)
{
    struct pv_info *out = (struct pv_info *)a0;
    if (!user_range_ok(a0, sizeof *out))
        return ERR_INVALID;
    const struct hvlab_info *hv = hvlab_info();
    memset(out, 0, sizeof *out);
    out->hypervisor = hv->hypervisor;
    memcpy(out->signature, hv->signature, sizeof out->signature);
    out->version = hv->version;
    out->features = hv->features;
    strlcpy(out->console, console_output_path(), sizeof out->console);
    strlcpy(out->console_input, console_input_path(), sizeof out->console_input);
    strlcpy(out->timer, timer_is_pv() ? "pv" : "pit", sizeof out->timer);
    strlcpy(out->interrupts, interrupts_path(), sizeof out->interrupts);
    strlcpy(out->privileged, cpu_pv ? "pv" : "native", sizeof out->privileged);
    out->pic_unmasked = pic_unmasked_lines();
    out->hypercalls = hvlab_call_count();
    out->upcalls = pv_events_upcalls();
    out->timer_events = pv_events_count(HVLAB_EVENT_TIMER);
    out->console_events = pv_events_count(HVLAB_EVENT_CONSOLE_INPUT);
    out->timer_catch_ups = timer_pv_catch_ups();
    strlcpy(out->boot, start_info_boot_path(), sizeof out->boot);
    strlcpy(out->idle, idle_path(), sizeof out->idle);
    out->pic_present = pic_present();
    out->irq_events = pv_events_irq_lines();
    out->mmu_updates = pv_mmu_updates();
    out->mmu_batches = pv_mmu_batches();
    return 0;
}
