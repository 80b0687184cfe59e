/* format.c - a small printf engine (see format.h for what it understands). */
#include "lib/format.h"
#include <stdbool.h>
#include <stdint.h>

struct spec {
    int width;
    bool zero_pad;
    bool left;
};

static int pad(format_sink sink, void *ctx, int count, char c)
{
    int n = 0;
    for (; count > 0; count--, n++)
        sink(c, ctx);
    return n;
}

/* Emits `text` (length len) padded to the field width. */
static int emit(format_sink sink, void *ctx, const char *text, int len, struct spec s, bool numeric)
{
    int n = 0;
    int fill = s.width > len ? s.width - len : 0;
    if (!s.left) {
        if (numeric && s.zero_pad && *text == '-') { /* "-0042", not "00-42" */
            sink('-', ctx);
            text++;
            len--;
            n++;
        }
        n += pad(sink, ctx, fill, numeric && s.zero_pad ? '0' : ' ');
    }
    for (int i = 0; i < len; i++, n++)
        sink(text[i], ctx);
    if (s.left)
        n += pad(sink, ctx, fill, ' ');
    return n;
}

/* Writes `value` in `base` into the end of buf; returns the start. */
static char *number(char *end, uint64_t value, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[value % base];
        value /= base;
    } while (value);
    return p;
}

int format(format_sink sink, void *ctx, const char *fmt, va_list args)
{
    int n = 0;
    char buf[24]; /* 2^64 has 20 decimal digits, plus sign */
    char *end = buf + sizeof buf;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink(*fmt, ctx);
            n++;
            continue;
        }
        fmt++;
        struct spec s = {0, false, false};
        for (;; fmt++) {
            if (*fmt == '0')
                s.zero_pad = true;
            else if (*fmt == '-')
                s.left = true;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            s.width = s.width * 10 + (*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(args, int64_t) : va_arg(args, int);
            char *p = number(end, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false);
            if (v < 0)
                *--p = '-';
            n += emit(sink, ctx, p, (int)(end - p), s, true);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs ? va_arg(args, uint64_t) : va_arg(args, unsigned);
            char *p = number(end, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
            n += emit(sink, ctx, p, (int)(end - p), s, true);
            break;
        }
        case 'p': {
            char *p = number(end, (uint64_t)(uintptr_t)va_arg(args, void *), 16, false);
            *--p = 'x';
            *--p = '0';
            n += emit(sink, ctx, p, (int)(end - p), s, false);
            break;
        }
        case 's': {
            const char *str = va_arg(args, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while (str[len])
                len++;
            n += emit(sink, ctx, str, len, s, false);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            n += emit(sink, ctx, &c, 1, s, false);
            break;
        }
        case '%':
            sink('%', ctx);
            n++;
            break;
        case '\0':
            return n;
        default: /* unknown conversion: print it as is */
            sink('%', ctx);
            sink(*fmt, ctx);
            n += 2;
        }
    }
    return n;
}

struct buffer_sink {
    char *buf;
    size_t size, used;
};

static void buffer_put(char c, void *context)
{
    struct buffer_sink *b = context;
    if (b->used + 1 < b->size)
        b->buf[b->used++] = c;
}

int format_to_buffer(char *buf, size_t size, const char *fmt, va_list args)
{
    struct buffer_sink b = {buf, size, 0};
    int n = format(buffer_put, &b, fmt, args);
    if (size)
        buf[b.used] = '\0';
    return n;
}
