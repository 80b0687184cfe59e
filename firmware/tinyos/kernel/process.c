/* process.c - creating and ending processes, sleeping and waking.
 *
 * A process is: an address space (its own PML4, kernel/vmm.c), a kernel stack (used while it
 * runs kernel code: system calls, interrupts), and a slot in this table. A new process gets
 * a private copy of the user image (user.bin, embedded into the kernel by
 * kernel/user_image.asm) at USER_BASE. Its heap and stack pages are not allocated up front:
 * the page-fault handler adds them when first touched (kernel/page_fault.c).
 */
#include "kernel/process.h"
#include "kernel/cpu.h"
#include "kernel/gdt.h"
#include "kernel/kprintf.h"
#include "kernel/layout.h"
#include "kernel/pmm.h"
#include "kernel/sched.h"
#include "kernel/vmm.h"
#include "lib/string.h"

struct process processes[MAX_PROCESSES];
struct process *current;

static uint8_t kernel_stacks[MAX_PROCESSES][KERNEL_STACK_SIZE] __attribute__((aligned(16)));
static int next_pid = 1;

extern const uint8_t user_image_start[], user_image_end[]; /* kernel/user_image.asm */
extern void process_first_entry(void);                     /* kernel/switch.asm */

static const struct user_image_header *user_image(void)
{
    return (const struct user_image_header *)user_image_start;
}

static const struct user_program *find_program(const char *name)
{
    const struct user_image_header *h = user_image();
    for (uint32_t i = 0; i < h->program_count && i < USER_MAX_PROGRAMS; i++)
        if (strcmp(h->programs[i].name, name) == 0)
            return &h->programs[i];
    return 0;
}

/* Copy user.bin into fresh pages at USER_BASE; the part past the file (.bss) stays zero. */
static bool load_user_image(uint64_t cr3)
{
    uint64_t file_size = (uint64_t)(user_image_end - user_image_start);
    uint64_t image_end = user_image()->image_end;
    for (uint64_t offset = 0; USER_BASE + offset < image_end; offset += PAGE_SIZE) {
        uint64_t page = pmm_alloc_page();
        if (!page || !vmm_map_user_page(cr3, USER_BASE + offset, page)) {
            if (page)
                pmm_free_page(page);
            vmm_commit();
            return false;
        }
        if (offset < file_size) {
            uint64_t n = file_size - offset < PAGE_SIZE ? file_size - offset : PAGE_SIZE;
            memcpy((void *)page, user_image_start + offset, n); /* through the 1:1 map */
        }
    }
    vmm_commit(); /* PV: the page-table writes go to hvlab in batches */
    return true;
}

/* Prepare the kernel stack so that the scheduler's first context_switch() to this process
 * "returns" into process_first_entry, which drops to ring 3 (see kernel/switch.asm for the
 * order in which context_switch pops these values). */
static void prepare_kernel_stack(struct process *p, uint64_t entry, uint64_t main, long arg)
{
    uint64_t *sp = (uint64_t *)p->kernel_stack_top;
    *--sp = (uint64_t)process_first_entry; /* return address */
    *--sp = 0x002;                         /* RFLAGS: interrupts off until IRETQ */
    *--sp = 0;                             /* rbp */
    *--sp = 0;                             /* rbx */
    *--sp = entry;                         /* r12: user RIP */
    *--sp = USER_STACK_TOP - 8;            /* r13: user RSP (as if a return address was pushed) */
    *--sp = main;                          /* r14: -> RDI for user_start */
    *--sp = (uint64_t)arg;                 /* r15: -> RSI for user_start */
    p->saved_rsp = (uint64_t)sp;
}

int process_spawn(const char *program, long arg, int parent)
{
    const struct user_program *prog = find_program(program);
    if (!prog)
        return ERR_NOT_FOUND;

    uint64_t flags = irq_save();
    int slot = -1;
    for (int i = 0; i < MAX_PROCESSES; i++)
        if (processes[i].state == PROC_UNUSED && processes[i].pid == 0) {
            slot = i;
            break;
        }
    if (slot < 0) {
        irq_restore(flags);
        return ERR_AGAIN;
    }
    struct process *p = &processes[slot];
    memset(p, 0, sizeof *p);
    p->pid = next_pid++; /* claims the slot */
    irq_restore(flags);

    strlcpy(p->name, prog->name, sizeof p->name);
    p->parent = parent;
    p->heap_end = USER_HEAP_BASE;
    p->kernel_stack_top = (uint64_t)(kernel_stacks[slot] + KERNEL_STACK_SIZE);
    p->cr3 = vmm_create_address_space();
    if (!p->cr3 || !load_user_image(p->cr3)) {
        if (p->cr3)
            vmm_destroy_address_space(p->cr3);
        p->pid = 0;
        return ERR_NO_MEMORY;
    }
    prepare_kernel_stack(p, user_image()->start, prog->main, arg);
    p->state = PROC_READY; /* the scheduler may pick it from now on */
    return p->pid;
}

void process_exit(int code)
{
    cli();
    struct process *p = current;
    p->exit_code = code;
    /* Our children lose their parent; the ones already dead can go. */
    for (int i = 0; i < MAX_PROCESSES; i++) {
        struct process *child = &processes[i];
        if (child->pid && child->parent == p->pid) {
            child->parent = 0;
            if (child->state == PROC_ZOMBIE) {
                child->state = PROC_UNUSED;
                child->pid = 0;
            }
        }
    }
    p->state = PROC_ZOMBIE;
    process_wakeup(p); /* a parent in process_wait() sleeps on the child's slot */
    schedule();        /* the scheduler frees our memory; we never come back */
    panic("zombie process %d was scheduled", p->pid);
}

void process_reap(struct process *p)
{
    vmm_destroy_address_space(p->cr3);
    p->cr3 = 0;
    process_wakeup(p); /* the parent may be waiting for the memory to be gone */
    if (p->parent == 0) { /* nobody will wait() for it */
        p->state = PROC_UNUSED;
        p->pid = 0;
    }
}

int process_wait(int pid)
{
    struct process *child = 0;
    for (int i = 0; i < MAX_PROCESSES; i++)
        if (processes[i].pid == pid && processes[i].parent == current->pid)
            child = &processes[i];
    if (!child)
        return ERR_NOT_FOUND;
    uint64_t flags = irq_save();
    while (child->state != PROC_ZOMBIE || child->cr3)
        process_sleep(child, 0);
    int code = child->exit_code;
    child->state = PROC_UNUSED;
    child->pid = 0;
    irq_restore(flags);
    return code;
}

void process_sleep(const volatile void *channel, uint64_t wake_tick)
{
    current->state = PROC_SLEEPING;
    current->wait_channel = channel;
    current->wake_tick = wake_tick;
    schedule();
    current->wait_channel = 0;
    current->wake_tick = 0;
}

void process_wakeup(const volatile void *channel)
{
    for (int i = 0; i < MAX_PROCESSES; i++)
        if (processes[i].state == PROC_SLEEPING && processes[i].wait_channel == channel)
            processes[i].state = PROC_READY;
}

void process_wake_expired(uint64_t now)
{
    for (int i = 0; i < MAX_PROCESSES; i++)
        if (processes[i].state == PROC_SLEEPING && processes[i].wake_tick && now >= processes[i].wake_tick)
            processes[i].state = PROC_READY;
}
