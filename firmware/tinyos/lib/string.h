/* string.h - the few C library string/memory functions tinyos needs.
 * lib/ is compiled twice: once into the kernel and once into the user programs. */
#pragma once
#include <stddef.h>

void *memset(void *dst, int value, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 characters and always terminates dst (if size > 0). */
void strlcpy(char *dst, const char *src, size_t size);
