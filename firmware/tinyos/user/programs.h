/* programs.h - the main function of every user program (the table is in programs.c). */
#pragma once

long shell_main(long arg);   /* user/shell.c: the command interpreter */
long counter_main(long arg); /* user/demos.c: counts, sleeping 100 ms between steps */
long spinner_main(long arg); /* user/demos.c: burns CPU in bursts: watch it in `ps` */
long hello_main(long arg);   /* user/demos.c: prints a greeting, exits with code arg */
long crash_main(long arg);   /* user/demos.c: commits a fault chosen by arg */
