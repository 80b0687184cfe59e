/* hvlab.h - hvlab's hypercall interface (docs/hypercalls.md, ABI version 1): finding it through
 * CPUID and making calls. This is the guest side of the "P" column of the taxonomy: instead of
 * driving emulated hardware (PIT, PIC, UART) the kernel asks the hypervisor directly. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Feature bits (CPUID 0x40000001 EBX). */
enum {
    HVLAB_FEATURE_CONSOLE = 1u << 0, /* console_write / console_read */
    HVLAB_FEATURE_CLOCK = 1u << 1,   /* time_now / timer_set */
    HVLAB_FEATURE_EVENTS = 1u << 2,  /* event_init: the shared event page and the upcall vector */
    HVLAB_FEATURE_PV_MMU = 1u << 3,  /* a deprivileged (ring 1) kernel: the calls from 16 on */
};

/* Call numbers (EAX). */
enum {
    HVLAB_CONSOLE_WRITE = 1, /* (physical address, length <= 4096) -> bytes written */
    HVLAB_CONSOLE_READ = 2,  /* (physical address, capacity) -> bytes read, 0 if none wait */
    HVLAB_TIME_NOW = 3,      /* () -> ns of VM time since power-on */
    HVLAB_TIMER_SET = 4,     /* (absolute deadline in ns, 0 cancels): event 0 when it passes */
    HVLAB_EVENT_INIT = 5,    /* (physical page, vector): events arrive through them */
    HVLAB_EVENT_RAISE = 6,   /* (port): mark an event pending (for testing) */
    HVLAB_EVENT_BIND_IRQ = 7, /* (interrupt line 0-23, port 2-63): the line's rising edges raise the port */
    HVLAB_BLOCK = 8,         /* (): clear upcall_mask, sleep until an upcall is owed (idle without HLT) */
    /* The PV MMU (kernel/pv_mmu.c, kernel/pv_cpu.c): what a ring-1 kernel cannot do itself. */
    HVLAB_MMU_UPDATE = 16,   /* (list, count): {entry address, new value} pairs, validated */
    HVLAB_MMU_PIN = 17,      /* (level 1-4, table): validate and pin a page table */
    HVLAB_MMU_UNPIN = 18,    /* (table) */
    HVLAB_MMU_SET_CR3 = 19,  /* (pinned L4) */
    HVLAB_MMU_INVLPG = 20,   /* (linear address, or ~0 for all) */
    HVLAB_SET_TRAP_TABLE = 21, /* (list, count): {u8 vector, u8 dpl, u8[6] 0, u64 handler} */
    HVLAB_STACK_SWITCH = 22, /* (rsp): the ring-1 stack for interrupts from ring 3 (TSS.RSP1) */
    HVLAB_SET_SYSCALL_ENTRY = 23, /* (rip): where SYSCALL from ring 3 lands */
    HVLAB_READ_CR2 = 24,     /* () -> the address of the last page fault */
};

/* Event ports. */
enum {
    HVLAB_EVENT_TIMER = 0,         /* the timer_set deadline passed */
    HVLAB_EVENT_CONSOLE_INPUT = 1, /* console input waits for console_read */
    HVLAB_EVENT_FIRST_IRQ = 2,     /* tinyos binds interrupt line n to port 2 + n */
    HVLAB_EVENT_PORTS = 64,
};

struct hvlab_info {
    bool hypervisor;     /* CPUID.1:ECX bit 31: running under some hypervisor */
    char signature[13];  /* CPUID 0x40000000 EBX, ECX, EDX ("hvlabhvlabhv" for hvlab) */
    uint32_t version;    /* ABI version (1), 0 when hvlab offers nothing */
    uint32_t features;   /* HVLAB_FEATURE_* the VM offers */
    uint16_t port;       /* the hypercall port */
};

/* Look at CPUID once, before anything else uses the interface (prints nothing). */
void hvlab_detect(void);
const struct hvlab_info *hvlab_info(void);
/* Whether hvlab offers every feature in `features`. */
bool hvlab_offers(uint32_t features);
/* One line for the boot log: "hvlab hypercalls v1: console clock events" or why not. */
void hvlab_log(void);

/* A hypercall: `out dx, eax` with the number in EAX and arguments in RBX, RCX, RSI. The
 * result (>= 0, or a negated errno) comes back in RAX. */
int64_t hvlab_call(uint32_t call, uint64_t arg1, uint64_t arg2, uint64_t arg3);
/* A call without arguments made as `sti; out dx, eax`: STI's one-instruction shadow covers the
 * OUT, so interrupts come on exactly as the call is made (for `block`, as "sti; hlt" for HLT). */
int64_t hvlab_call_sti(uint32_t call);
/* Hypercalls made so far (for `pv`). */
uint64_t hvlab_call_count(void);
/* VM time in ns (HVLAB_FEATURE_CLOCK). */
static inline uint64_t hvlab_time_now(void) { return (uint64_t)hvlab_call(HVLAB_TIME_NOW, 0, 0, 0); }
