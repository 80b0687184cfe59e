/* demos.c - small programs that show the kernel at work. */
#include "user/programs.h"
#include "user/syscalls.h"
#include "user/ulib.h"

/* Counts up forever, sleeping between steps: a process that is mostly asleep. */
long counter_main(long arg)
{
    (void)arg;
    volatile uint64_t count = 0;
    for (;;) {
        count++;
        sleep_ms(100);
    }
}

/* Busy for 30 ms, asleep for 300 ms: it gets preempted by the timer while busy. */
long spinner_main(long arg)
{
    (void)arg;
    for (;;) {
        uint64_t until = ticks() + 30;
        while (ticks() < until)
            ;
        sleep_ms(300);
    }
}

long hello_main(long arg)
{
    printf("hello from process %d (argument %ld)\n", getpid(), arg);
    return arg;
}

/* Each of these makes the CPU raise an exception in ring 3; the kernel reports it and
 * ends this process, and everything else keeps running. */
long crash_main(long arg)
{
    switch (arg) {
    case 0:
        puts("crash: writing to kernel memory at 0x100000 (page is supervisor-only)\n");
        *(volatile uint64_t *)0x100000 = 0;
        break;
    case 1:
        puts("crash: executing UD2 (invalid opcode)\n");
        __asm__ volatile("ud2");
        break;
    case 2: {
        puts("crash: dividing by zero\n");
        volatile int zero = 0, one = 1;
        volatile int x = one / zero;
        (void)x;
        break;
    }
    case 3:
        puts("crash: reading unmapped user memory at 0x60000000 (beyond the heap)\n");
        (void)*(volatile uint64_t *)0x60000000;
        break;
    default:
        puts("crash: executing CLI in ring 3 (privileged: #GP)\n");
        __asm__ volatile("cli");
        break;
    }
    puts("crash: still alive?!\n");
    return 1;
}
