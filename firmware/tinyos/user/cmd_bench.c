/* cmd_bench.c - `bench ...`: small measurements of what the machine and the kernel cost.
 * Times come from the tick counter (1 ms) and the TSC (cycles; converted with the TSC
 * frequency the kernel measured at boot). No floating point: everything is integers. */
#include "lib/string.h"
#include "user/shell.h"
#include "user/syscalls.h"
#include "user/ulib.h"

#define BENCH_TICKS 200 /* run each loop for about 200 ms */

static uint64_t cycles_to_us(uint64_t cycles)
{
    uint32_t khz = tsc_khz();
    return khz ? cycles * 1000 / khz : 0;
}

/* Wait for the start of a fresh tick so measurements do not begin mid-tick. */
static uint64_t next_tick(void)
{
    uint64_t t = ticks();
    while (ticks() == t)
        ;
    return t + 1;
}

static void bench_cpu(void)
{
    uint64_t x = 1, iterations = 0;
    uint64_t own0 = own_ticks_used();
    uint64_t start = next_tick(), end;
    do {
        for (int i = 0; i < 100000; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull; /* an LCG step */
            __asm__ volatile("" : "+r"(x)); /* keep the compiler from folding the loop */
        }
        iterations += 100000;
        end = ticks();
    } while (end - start < BENCH_TICKS);
    uint64_t elapsed = end - start, own = own_ticks_used() - own0;
    printf("cpu: %lu loop iterations in %lu ticks = %lu per tick (wall clock)\n", iterations, elapsed,
           iterations / elapsed);
    if (own)
        printf("cpu: this process ran %lu of those ticks: %lu iterations per tick of CPU time\n", own,
               iterations / own);
}

static void bench_syscall(void)
{
    uint64_t calls = 0;
    uint64_t start = next_tick(), end;
    uint64_t tsc0 = rdtsc();
    do {
        for (int i = 0; i < 1000; i++)
            getpid();
        calls += 1000;
        end = ticks();
    } while (end - start < BENCH_TICKS);
    uint64_t cycles = rdtsc() - tsc0, elapsed = end - start;
    uint64_t us = cycles_to_us(cycles);
    printf("syscall: %lu getpid() calls in %lu ticks = %lu per second", calls, elapsed, calls * 1000 / elapsed);
    if (us)
        printf(", %lu ns and %lu TSC cycles each", us * 1000 / calls, cycles / calls);
    printf("\n");
}

static void bench_pagefault(void)
{
    const long pages = 1024; /* 4 MiB per round */
    uint64_t faults0 = own_page_faults(), touched = 0;
    uint64_t start = next_tick(), tsc0 = rdtsc();
    for (int round = 0; round < 16 && ticks() - start < BENCH_TICKS; round++) {
        volatile uint8_t *heap = sbrk(pages * 4096);
        if ((long)heap < 0) {
            printf("pagefault: sbrk failed\n");
            return;
        }
        for (long i = 0; i < pages; i++)
            heap[i * 4096] = 1; /* first touch: #PF, the kernel maps a zeroed page */
        touched += (uint64_t)pages;
        sbrk(-pages * 4096); /* give the pages back */
    }
    uint64_t us = cycles_to_us(rdtsc() - tsc0), elapsed = ticks() - start;
    uint64_t faults = own_page_faults() - faults0;
    printf("pagefault: touched %lu new pages, %lu page faults in %lu ticks", touched, faults, elapsed);
    if (us && faults)
        printf(" = %lu faults per second, %lu us each (incl. freeing)", faults * 1000000 / us, us / faults);
    printf("\n");
}

/* Read `total` sectors in chunks of `chunk` with `mode`; print sectors/s under `name`. */
static void time_disk_reads(const char *name, enum disk_mode mode, uint8_t *buf, unsigned chunk, unsigned total)
{
    uint64_t t0 = ticks(), tsc0 = rdtsc();
    long err = 0;
    for (unsigned lba = 0; lba < total && err >= 0; lba += chunk)
        err = diskread(lba, buf, chunk, mode);
    uint64_t us = cycles_to_us(rdtsc() - tsc0), elapsed = ticks() - t0;
    if (err < 0)
        printf("disk %s: %s\n", name, error_name(err));
    else if (us)
        printf("disk %s: read %u sectors in %lu ticks (%lu us) = %lu sectors/s, %lu KiB/s\n", name, total, elapsed, us,
               (uint64_t)total * 1000000 / us, (uint64_t)total * 512 * 1000000 / 1024 / us);
}

static void bench_disk(void)
{
    struct disk_info info;
    diskinfo(&info);
    if (!info.present) {
        printf("disk: no disk\n");
        return;
    }
    const unsigned chunk = info.max_sectors, total = 1024; /* 512 KiB per mode */
    uint8_t *buf = sbrk(chunk * 512);
    if (info.virtio) { /* one way to move data: requests on a virtqueue */
        time_disk_reads("virtio-blk", DISK_AUTO, buf, chunk, total);
    } else {
        time_disk_reads("PIO", DISK_PIO, buf, chunk, total);
        if (info.dma)
            time_disk_reads("DMA", DISK_DMA, buf, chunk, total);
        else
            printf("disk: DMA not available\n");
    }
    sbrk(-(long)(chunk * 512));
}

static void print_stats(const char *what, uint64_t min, uint64_t sum, uint64_t max, unsigned n)
{
    uint64_t avg = sum / n;
    printf("%s: %u round trips, min %lu.%03lu ms, avg %lu.%03lu ms, max %lu.%03lu ms\n", what, n, min / 1000,
           min % 1000, avg / 1000, avg % 1000, max / 1000, max % 1000);
}

static void bench_net(int argc, char **argv)
{
    uint32_t ip = 0x0A000001; /* 10.0.0.1: QEMU's user-mode network host, or another VM */
    if (argc > 2 && !parse_ip(argv[2], &ip)) {
        printf("usage: bench net [IP]\n");
        return;
    }
    char name[16];
    format_ip(name, ip);
    for (int kind = 0; kind < 2; kind++) {
        unsigned n = 0, count = kind ? 10 : 5;
        uint64_t min = ~0ull, max = 0, sum = 0;
        for (unsigned i = 1; i <= count; i++) {
            struct ping_result r;
            long err = kind ? ping(ip, i, 1000, &r) : arpprobe(ip, 1000, &r);
            if (err < 0) {
                printf("%s %s: %s\n", kind ? "ping" : "arp", name, error_name(err));
                break;
            }
            n++;
            sum += r.rtt_us;
            min = r.rtt_us < min ? r.rtt_us : min;
            max = r.rtt_us > max ? r.rtt_us : max;
        }
        if (n)
            print_stats(kind ? "net ICMP echo" : "net ARP request", min, sum, max, n);
    }
}

/* `bench udp [IP] [FRAMES] [PAYLOAD]`: network throughput, frames/s and MB/s (10^6 bytes). */
static void bench_udp(int argc, char **argv)
{
    uint32_t ip = 0x0A000001;
    uint64_t frames = 4096, payload = 1472; /* full-size frames: 1514 bytes on the wire */
    if ((argc > 2 && !parse_ip(argv[2], &ip)) || (argc > 3 && !parse_u64(argv[3], &frames)) ||
        (argc > 4 && !parse_u64(argv[4], &payload)) || frames == 0 || frames > 1000000 || payload > 1472) {
        printf("usage: bench udp [IP] [FRAMES 1-1000000] [PAYLOAD 0-1472]\n");
        return;
    }
    struct udp_stream_result r = {0};
    long err = udpstream(ip, (uint32_t)frames, (uint32_t)payload, &r);
    if (err < 0 && !(err == ERR_TIMEOUT && r.frames)) { /* a timeout after some frames: report them */
        printf("net UDP stream: %s\n", error_name(err));
        return;
    }
    uint64_t us = r.us ? r.us : 1;
    uint64_t centi_mb = r.bytes * 100 / us; /* bytes per us = MB/s */
    printf("net UDP stream: %lu frames of %lu bytes in %lu us (%lu ticks) = %lu frames/s, %lu.%02lu MB/s\n",
           r.frames, r.frames ? r.bytes / r.frames : 0, r.us, r.ticks, r.frames * 1000000 / us, centi_mb / 100,
           centi_mb % 100);
    uint64_t per_bell = r.doorbells ? r.frames * 10 / r.doorbells : 0;
    printf("net UDP stream: %s doorbell (%s) rung %lu times, %lu.%lu frames each; ring full %lu times%s\n",
           r.driver, strcmp(r.driver, "e1000") == 0 ? "TDT write" : "queue notify", r.doorbells, per_bell / 10,
           per_bell % 10, r.ring_full, err < 0 ? "; then the card stopped taking frames" : "");
}

static void bench_timer(void)
{
    const unsigned seconds = 2;
    struct timer_check t;
    struct clock_info c;
    clockinfo(&c);
    const char *source = c.timer_pv ? "PV timer" : "PIT";
    printf("timer: counting %s ticks and TSC cycles over %u seconds...\n", source, seconds);
    if (timercheck(seconds, &t) < 0) {
        printf("timer: failed\n");
        return;
    }
    if (t.rtc_seconds == 0) { /* no RTC: measured against the PV clock */
        uint64_t expected = t.pv_clock_ns * c.hz / 1000000000ull;
        printf("timer: no RTC here (PVH or PV): %lu ticks in %lu.%06lu ms of PV clock (expected %lu at %u Hz)\n",
               t.ticks, t.pv_clock_ns / 1000000, t.pv_clock_ns % 1000000, expected, c.hz);
        printf("timer: TSC %lu kHz by the PV clock; %lu TSC cycles per tick\n",
               t.pv_clock_ns ? t.tsc * 1000000 / t.pv_clock_ns : 0, t.ticks ? t.tsc / t.ticks : 0);
        return;
    }
    uint64_t expected = (uint64_t)seconds * c.hz;
    int64_t ppm = ((int64_t)t.ticks - (int64_t)expected) * 1000000 / (int64_t)expected;
    printf("timer: %lu ticks in %u RTC seconds (expected %lu at %u Hz): %ld ppm off\n", t.ticks, seconds,
           expected, c.hz, ppm);
    printf("timer: TSC %lu kHz by the RTC, %u kHz by the %s at boot; %lu TSC cycles per tick\n",
           t.tsc / seconds / 1000, c.tsc_khz, c.timer_pv ? "PV clock" : "PIT", t.ticks ? t.tsc / t.ticks : 0);
    if (t.pv_clock_ns) {
        int64_t clock_ppm = ((int64_t)t.pv_clock_ns - (int64_t)seconds * 1000000000) / 1000 / (int64_t)seconds;
        printf("timer: PV clock %lu.%06lu ms in %u RTC seconds: %ld ppm off the RTC\n", t.pv_clock_ns / 1000000,
               t.pv_clock_ns % 1000000, seconds, clock_ppm);
    }
    if (c.timer_pv)
        printf("timer: (each tick re-arms a one-shot deadline a whole 1 ms later on the PV clock: no divisor\n"
               "        error and no drift; the RTC edges are found to within ~20 us)\n");
    else
        printf("timer: (the PIT divisor 1193 makes the true rate 1000.15 Hz, +152 ppm; the RTC edges are\n"
               "        found to within ~20 us; an emulator on a busy host may drop ticks)\n");
}

void cmd_bench(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "cpu") == 0)
        bench_cpu();
    else if (strcmp(what, "syscall") == 0)
        bench_syscall();
    else if (strcmp(what, "pagefault") == 0)
        bench_pagefault();
    else if (strcmp(what, "disk") == 0)
        bench_disk();
    else if (strcmp(what, "net") == 0)
        bench_net(argc, argv);
    else if (strcmp(what, "udp") == 0)
        bench_udp(argc, argv);
    else if (strcmp(what, "timer") == 0)
        bench_timer();
    else
        printf("usage: bench cpu|syscall|pagefault|disk|net [IP]|udp [IP] [FRAMES] [PAYLOAD]|timer\n");
}
