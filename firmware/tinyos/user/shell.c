/* shell.c - the command interpreter on the serial console (runs in ring 3 as process 1).
 * Read a line, split it into words, look the first word up in the command table. */
#include "user/shell.h"
#include "lib/string.h"
#include "user/programs.h"
#include "user/syscalls.h"
#include "user/ulib.h"

#define MAX_WORDS 16

struct command {
    const char *name;
    const char *usage;
    void (*run)(int argc, char **argv);
};

static void cmd_help(int argc, char **argv);

static const char *state_name(uint32_t state)
{
    static const char *const names[] = {"unused", "ready", "running", "sleeping", "zombie"};
    return state < 5 ? names[state] : "?";
}

static bool own_info(struct proc_info *out)
{
    int pid = getpid();
    for (int slot = 0; procinfo(slot, out) == 0; slot++)
        if (out->pid == pid)
            return true;
    return false;
}

uint64_t own_page_faults(void)
{
    struct proc_info p;
    return own_info(&p) ? p.page_faults : 0;
}

uint64_t own_ticks_used(void)
{
    struct proc_info p;
    return own_info(&p) ? p.ticks_used : 0;
}

uint32_t tsc_khz(void)
{
    struct clock_info c;
    clockinfo(&c);
    return c.tsc_khz;
}

static void cmd_ps(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("  PID  PPID  STATE      TICKS  FAULTS  SYSCALLS  NAME\n");
    struct proc_info p;
    for (int slot = 0; procinfo(slot, &p) == 0; slot++)
        if (p.pid)
            printf("%5d %5d  %-9s %6lu %7lu %9lu  %s\n", p.pid, p.parent, state_name(p.state), p.ticks_used,
                   p.page_faults, p.syscalls, p.name);
}

static void cmd_uptime(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct clock_info c;
    clockinfo(&c);
    uint64_t ms = c.ticks * 1000 / c.hz, idle_ms = c.idle_ticks * 1000 / c.hz;
    printf("up %lu.%03lu s, idle %lu.%03lu s (%lu%%), ", ms / 1000, ms % 1000, idle_ms / 1000, idle_ms % 1000,
           c.ticks ? c.idle_ticks * 100 / c.ticks : 0);
    if (c.rtc_present)
        printf("RTC time %02u:%02u:%02u\n", c.rtc_hour, c.rtc_minute, c.rtc_second);
    else
        printf("no RTC\n");
}

static void cmd_ticks(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct clock_info c;
    clockinfo(&c);
    printf("%lu ticks at %u Hz from the %s (TSC %u.%03u MHz)\n", c.ticks, c.hz, c.timer_pv ? "PV timer" : "PIT",
           c.tsc_khz / 1000, c.tsc_khz % 1000);
}

static void cmd_pv(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct pv_info p;
    if (pvinfo(&p) < 0) {
        printf("pv: failed\n");
        return;
    }
    if (p.version)
        printf("hypervisor: %s, hypercall ABI v%u, offers:%s%s%s%s\n", p.signature, p.version,
               p.features & 1 ? " console" : "", p.features & 2 ? " clock" : "", p.features & 4 ? " events" : "",
               p.features & 8 ? " pv_mmu" : "");
    else if (p.hypervisor)
        printf("hypervisor: %s, no hypercall interfaces offered (hvlab run --pv all offers them)\n", p.signature);
    else
        printf("hypervisor: none\n");
    printf("paths: boot %s, console %s (input %s), timer %s, interrupts %s, idle %s, privileged %s\n", p.boot,
           p.console, p.console_input, p.timer, p.interrupts, p.idle, p.privileged);
    if (p.pic_present) {
        printf("PIC lines unmasked:");
        for (int irq = 0; irq < 16; irq++)
            if (p.pic_unmasked & (1u << irq))
                printf(" %d", irq);
        puts(p.pic_unmasked ? "\n" : " none\n");
    } else {
        printf("no PIC; interrupt lines as events:");
        for (int irq = 0; irq < 16; irq++)
            if (p.irq_events & (1u << irq))
                printf(" %d->port %d", irq, irq + 2);
        puts(p.irq_events ? "\n" : " none\n");
    }
    if (p.version)
        printf("hypercalls %lu, upcalls %lu, timer events %lu, console input events %lu, late timer upcalls %lu\n",
               p.hypercalls, p.upcalls, p.timer_events, p.console_events, p.timer_catch_ups);
    if (p.mmu_batches)
        printf("PV MMU: %lu page-table entries written in %lu mmu_update calls\n", p.mmu_updates, p.mmu_batches);
}

static void cmd_run(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: run PROGRAM [ARG]   programs: hello, crash, counter, spinner, shell\n");
        return;
    }
    uint64_t arg = 0;
    if (argc > 2 && !parse_u64(argv[2], &arg)) {
        printf("run: bad argument %s\n", argv[2]);
        return;
    }
    int pid = spawn(argv[1], (long)arg);
    if (pid < 0) {
        printf("run: %s: %s\n", argv[1], error_name(pid));
        return;
    }
    int code = wait(pid);
    printf("[process %d (%s) exited with code %d]\n", pid, argv[1], code);
}

static void cmd_exit(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (getpid() == 1) {
        printf("exit: the first shell keeps running (use poweroff)\n");
        return;
    }
    exit(0);
}

static void cmd_reboot(int argc, char **argv)
{
    (void)argc, (void)argv;
    reboot();
}

static void cmd_poweroff(int argc, char **argv)
{
    (void)argc, (void)argv;
    poweroff();
}

static const struct command commands[] = {
    {"help", "help                    this list", cmd_help},
    {"ps", "ps                      processes: pid, state, ticks used", cmd_ps},
    {"uptime", "uptime                  time since boot", cmd_uptime},
    {"ticks", "ticks                   timer ticks since boot", cmd_ticks},
    {"disk", "disk read N [pio|dma] | disk write N TEXT | disk info", cmd_disk},
    {"ping", "ping IP [COUNT]         ICMP echo", cmd_ping},
    {"ip", "ip                      address, MAC, ARP cache", cmd_ip},
    {"bench", "bench cpu|syscall|pagefault|disk|net [IP]|udp [IP] [N] [BYTES]|timer", cmd_bench},
    {"pv", "pv                      hypervisor interfaces and the paths in use", cmd_pv},
    {"run", "run PROGRAM [ARG]       start a program and wait for it", cmd_run},
    {"exit", "exit                    leave a shell started with 'run shell'", cmd_exit},
    {"reboot", "reboot                  reset through the 8042", cmd_reboot},
    {"poweroff", "poweroff                stop (hvlab/QEMU debug-exit port)", cmd_poweroff},
};

static void cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (unsigned i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %s\n", commands[i].usage);
}

long shell_main(long arg)
{
    (void)arg;
    char line[160];
    char *words[MAX_WORDS];
    printf("\ntinyos shell, process %d. Type 'help'.\n", getpid());
    for (;;) {
        puts("tinyos> ");
        readline(line, sizeof line);
        int argc = split_words(line, words, MAX_WORDS);
        if (argc == 0)
            continue;
        bool found = false;
        for (unsigned i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(words[0], commands[i].name) == 0) {
                commands[i].run(argc, words);
                found = true;
            }
        if (!found)
            printf("%s: unknown command (try 'help')\n", words[0]);
    }
}
