/* abi.h - the contract between the kernel and user programs.
 *
 * Both sides include this file: system call numbers, the structures system calls fill in,
 * the address-space layout of a process and the header of the user program image.
 */
#pragma once
#include <stdint.h>

/* ---- Virtual address layout of every process ------------------------------------------
 * The first GiB (and the third and fourth) belong to the kernel and are shared by all
 * processes but marked supervisor-only; the second GiB is private to each process.      */
#define USER_BASE 0x40000000ull       /* the program image is copied here */
#define USER_HEAP_BASE 0x50000000ull  /* sbrk() grows the heap up from here ... */
#define USER_HEAP_LIMIT 0x70000000ull /* ... to at most here; pages appear on first touch */
#define USER_STACK_TOP 0x80000000ull  /* the stack grows down from here ... */
#define USER_STACK_SIZE 0x00100000ull /* ... by at most 1 MiB; pages appear on first touch */
#define USER_TOP 0x80000000ull        /* end of user space */

/* ---- System calls ---------------------------------------------------------------------
 * User code puts the number in RAX and arguments in RDI, RSI, RDX, R10 (RCX is taken by
 * the SYSCALL instruction itself), then executes SYSCALL. The result comes back in RAX;
 * a negative result is one of the errors below.                                          */
enum syscall_number {
    SYS_WRITE = 0,       /* write(fd, buf, len) -> bytes written; fd 1 and 2 go to COM1 */
    SYS_READ = 1,        /* read(fd, buf, len) -> bytes read (>= 1); waits for serial input */
    SYS_EXIT = 2,        /* exit(code) */
    SYS_YIELD = 3,       /* yield(): let the next ready process run */
    SYS_SLEEP = 4,       /* sleep(milliseconds) */
    SYS_GETPID = 5,      /* getpid() */
    SYS_TICKS = 6,       /* ticks() -> timer ticks since boot */
    SYS_SBRK = 7,        /* sbrk(delta) -> old end of the heap */
    SYS_PROCINFO = 8,    /* procinfo(slot, struct proc_info *) -> 0, or ERR_NOT_FOUND */
    SYS_SPAWN = 9,       /* spawn(program name, arg) -> pid */
    SYS_WAIT = 10,       /* wait(pid) -> exit code of that child */
    SYS_CLOCKINFO = 11,  /* clockinfo(struct clock_info *) */
    SYS_TIMERCHECK = 12, /* timercheck(rtc seconds, struct timer_check *): ticks vs RTC vs TSC */
    SYS_DISKINFO = 13,   /* diskinfo(struct disk_info *) */
    SYS_DISKREAD = 14,   /* diskread(data LBA, buf, sectors, enum disk_mode) */
    SYS_DISKWRITE = 15,  /* diskwrite(data LBA, buf, sectors, enum disk_mode) */
    SYS_NETINFO = 16,    /* netinfo(struct net_info *) */
    SYS_PING = 17,       /* ping(ip, seq, timeout ms, struct ping_result *) */
    SYS_ARPPROBE = 18,   /* arpprobe(ip, timeout ms, struct ping_result *): ARP round trip */
    SYS_REBOOT = 19,     /* reboot() */
    SYS_POWEROFF = 20,   /* poweroff() */
    SYS_PVINFO = 21,     /* pvinfo(struct pv_info *): hypervisor, PV paths in use, counters */
    SYS_UDPSTREAM = 22,  /* udpstream(ip, frames, payload bytes, struct udp_stream_result *) */
    SYS_COUNT
};

enum syscall_error {
    ERR_INVALID = -1,   /* bad argument or bad pointer */
    ERR_NOT_FOUND = -2, /* no such process, program, slot */
    ERR_NO_MEMORY = -3,
    ERR_NO_DEVICE = -4, /* no disk / no network card */
    ERR_IO = -5,        /* the device reported an error */
    ERR_TIMEOUT = -6,
    ERR_AGAIN = -7, /* e.g. the process table is full */
};

/* ---- Structures system calls fill in ---------------------------------------------------*/
enum proc_state { PROC_UNUSED, PROC_READY, PROC_RUNNING, PROC_SLEEPING, PROC_ZOMBIE };

struct proc_info {
    int32_t pid;
    int32_t parent;
    uint32_t state; /* enum proc_state */
    char name[16];
    uint64_t ticks_used; /* timer ticks during which it was the running process */
    uint64_t page_faults;
    uint64_t syscalls;
};

struct clock_info {
    uint64_t ticks;      /* timer interrupts since boot */
    uint64_t idle_ticks; /* ticks during which no process was ready */
    uint32_t hz;         /* ticks per second (the PIT or the PV timer runs at this) */
    uint32_t tsc_khz;    /* TSC cycles per millisecond, measured at boot against the tick */
    uint8_t rtc_hour, rtc_minute, rtc_second;
    uint8_t timer_pv;    /* 1: the tick comes from hvlab's PV timer, 0: from the PIT */
    uint8_t rtc_present; /* 0: no RTC (a deprivileged kernel cannot reach its ports) */
};

struct timer_check {
    uint32_t rtc_seconds; /* RTC seconds the measurement spanned (edge to edge) */
    uint64_t ticks;       /* PIT ticks counted meanwhile */
    uint64_t tsc;         /* TSC cycles meanwhile */
    uint64_t pv_clock_ns; /* hvlab's PV clock meanwhile (0 without it) */
    uint32_t timer_pv;    /* 1: the ticks came from the PV timer, 0: from the PIT */
};

/* What `pv` shows: which paravirtual interfaces hvlab offers and which paths the kernel took. */
struct pv_info {
    uint32_t hypervisor;    /* CPUID.1:ECX bit 31 */
    char signature[13];     /* CPUID 0x40000000 ("hvlabhvlabhv") */
    uint32_t version;       /* hvlab hypercall ABI version, 0 = none offered */
    uint32_t features;      /* bit 0 console, 1 clock, 2 events, 3 pv_mmu */
    char console[8], console_input[8], timer[8], interrupts[16]; /* "uart"/"pv", "pit"/"pv", ... */
    char privileged[8];     /* "native" (ring 0) or "pv" (ring 1 under hvlab's PV MMU) */
    uint32_t pic_unmasked;  /* bit n: PIC line n open (devices that still use INTx) */
    uint64_t hypercalls, upcalls, timer_events, console_events;
    uint64_t timer_catch_ups; /* PV timer upcalls that made up for more than one tick */
    uint64_t mmu_updates, mmu_batches; /* PV MMU: page-table entries written, mmu_update calls */
    char boot[8];             /* "bios" (boot sector, stage2), "pvh" (PVH direct boot) or "pv" (PV entry) */
    char idle[8];             /* "hlt" or "block" */
    uint32_t pic_present;     /* an 8259 PIC answered (none on a PVH machine) */
    uint32_t irq_events;      /* bit n: interrupt line n arrives as an event (event_bind_irq) */
};

enum disk_mode { DISK_AUTO = 0, DISK_PIO = 1, DISK_DMA = 2 };

struct disk_info {
    uint32_t present;
    uint32_t dma;          /* IDE bus-master DMA usable */
    uint32_t virtio;       /* the disk is a virtio-blk device (only DISK_AUTO applies) */
    uint64_t data_lba;     /* absolute LBA of data-area sector 0 */
    uint64_t data_sectors; /* size of the data area */
    uint32_t max_sectors;  /* largest transfer per call */
    char model[41];
};

struct arp_entry_info {
    uint32_t ip;
    uint8_t mac[6];
};

struct net_info {
    uint32_t present;
    uint32_t ip; /* host byte order: 10.0.0.2 is 0x0A000002 */
    uint32_t netmask;
    uint32_t irq; /* PIC line of the NIC, or 0xFF when polled */
    char driver[12]; /* "e1000" or "virtio-net" */
    uint8_t mac[6];
    uint16_t arp_count;
    struct arp_entry_info arp[8];
    uint64_t rx_packets, tx_packets;
};

/* What udpstream() did: `frames` UDP datagrams to the discard port as fast as the card takes them. */
struct udp_stream_result {
    uint64_t frames;    /* frames handed to the card */
    uint64_t bytes;     /* their Ethernet bytes (headers and payload, no CRC) */
    uint64_t us;        /* TSC time from the first frame queued to the last */
    uint64_t ticks;     /* the same in timer ticks */
    uint64_t doorbells; /* writes to the card's transmit register meanwhile (e1000 TDT, virtio notify) */
    uint64_t ring_full; /* times the transmit ring was full and we waited for the card */
    char driver[12];
};

struct ping_result {
    uint64_t rtt_us;    /* round trip measured with the TSC */
    uint64_t rtt_ticks; /* the same in timer ticks */
    uint32_t ttl;
};

/* ---- The user program image --------------------------------------------------------------
 * user.bin is linked at USER_BASE and starts with this header (user/programs.c). One image
 * holds every program; each process gets its own copy and starts at `start` with the chosen
 * program's main() in RDI and its argument in RSI.                                          */
#define USER_IMAGE_MAGIC 0x4753524F5954494Eull /* "NITYORSG" */
#define USER_MAX_PROGRAMS 8

struct user_program {
    char name[16];
    uint64_t main; /* long main(long arg) */
};

struct user_image_header {
    uint64_t magic;
    uint64_t image_end; /* end of .bss, page aligned */
    uint64_t start;     /* user/crt0.asm: user_start */
    uint32_t program_count;
    uint32_t reserved;
    struct user_program programs[USER_MAX_PROGRAMS];
};
