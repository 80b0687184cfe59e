/* shell.h - the shell's commands, one group per file. Each gets the words of the command
 * line (argv[0] is the command name) and returns nothing: errors are printed. */
#pragma once
#include <stdint.h>

void cmd_disk(int argc, char **argv);  /* user/cmd_disk.c */
void cmd_ping(int argc, char **argv);  /* user/cmd_net.c */
void cmd_ip(int argc, char **argv);    /* user/cmd_net.c */
void cmd_bench(int argc, char **argv); /* user/cmd_bench.c */

/* Helpers shared by the command files (user/shell.c). */
uint64_t own_page_faults(void);
uint64_t own_ticks_used(void);
uint32_t tsc_khz(void);
