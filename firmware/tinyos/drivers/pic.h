/* pic.h - the two cascaded Intel 8259A programmable interrupt controllers. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Looks for the 8259s (the mask register keeps what is written to it; with no PIC the port
 * reads 0xFF) and, if they are there, initializes them. False: no PIC (a PVH machine), and
 * every other function here does nothing. */
bool pic_init(void);
bool pic_present(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* Bit n set: IRQ n is unmasked (the cascade, IRQ 2, counts as a line). */
uint16_t pic_unmasked_lines(void);
void pic_send_eoi(unsigned irq);
/* IRQ 7 / 15 can be "spurious": raised and withdrawn before the CPU acknowledged it. */
bool pic_is_spurious(unsigned irq);
