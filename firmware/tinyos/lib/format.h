/* format.h - printf-style formatting, shared by kprintf (kernel) and printf (user).
 *
 * Supported: %d %i %u %x %X %p %s %c %%, the length modifiers l and ll (both 64-bit),
 * a field width, the flags '0' (pad with zeros) and '-' (left-justify). No floating point:
 * tinyos never uses the FPU (the code is compiled with -mno-sse -mno-80387).
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>

/* Called once per output character. */
typedef void (*format_sink)(char c, void *context);

/* Returns the number of characters produced. */
int format(format_sink sink, void *context, const char *fmt, va_list args);

/* Formats into buf (always terminated), like vsnprintf. */
int format_to_buffer(char *buf, size_t size, const char *fmt, va_list args);
