/* ulib.h - a tiny C library for user programs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...);
void puts(const char *s); /* no newline added */

/* Read a line from the console with echo and backspace editing; returns its length. */
size_t readline(char *buf, size_t size);

/* Split `line` at spaces in place; returns the number of words (at most max). */
int split_words(char *line, char **words, int max);
bool parse_u64(const char *s, uint64_t *out);
bool parse_ip(const char *s, uint32_t *out);
void format_ip(char *buf, uint32_t ip);
const char *error_name(long err);
