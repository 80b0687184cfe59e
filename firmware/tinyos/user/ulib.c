/* ulib.c - printf, line input and small parsing helpers for user programs. */
#include "user/ulib.h"
#include "lib/format.h"
#include "lib/string.h"
#include "user/syscalls.h"

struct out_buffer {
    char data[256];
    size_t used;
};

static void flush(struct out_buffer *b)
{
    if (b->used)
        write(1, b->data, b->used);
    b->used = 0;
}

static void buffer_char(char c, void *context)
{
    struct out_buffer *b = context;
    b->data[b->used++] = c;
    if (b->used == sizeof b->data)
        flush(b);
}

/* Format into a buffer and write it with as few system calls as possible. */
int printf(const char *fmt, ...)
{
    struct out_buffer b = {.used = 0};
    va_list args;
    va_start(args, fmt);
    int n = format(buffer_char, &b, fmt, args);
    va_end(args);
    flush(&b);
    return n;
}

void puts(const char *s) { write(1, s, strlen(s)); }

size_t readline(char *buf, size_t size)
{
    static bool last_was_cr;
    size_t len = 0;
    for (;;) {
        char c;
        if (read(0, &c, 1) != 1)
            continue;
        if (c == '\n' && last_was_cr) { /* "\r\n" from a terminal: the \r ended the line */
            last_was_cr = false;
            continue;
        }
        last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            puts("\n");
            buf[len] = '\0';
            return len;
        }
        if (c == '\b' || c == 0x7F) { /* backspace / delete: erase on screen too */
            if (len > 0) {
                len--;
                puts("\b \b");
            }
            continue;
        }
        if ((unsigned char)c < ' ' || len + 1 >= size)
            continue; /* other control characters, or the line is full */
        buf[len++] = c;
        write(1, &c, 1); /* echo */
    }
}

int split_words(char *line, char **words, int max)
{
    int n = 0;
    while (*line && n < max) {
        while (*line == ' ')
            *line++ = '\0';
        if (!*line)
            break;
        words[n++] = line;
        while (*line && *line != ' ')
            line++;
    }
    return n;
}

bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

bool parse_ip(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || v > 255 || *s != (part < 3 ? '.' : '\0'))
            return false;
        if (part < 3)
            s++;
        ip = ip << 8 | v;
    }
    *out = ip;
    return true;
}

void format_ip(char *buf, uint32_t ip)
{
    int n = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned byte = (ip >> shift) & 0xFF;
        if (byte >= 100)
            buf[n++] = (char)('0' + byte / 100);
        if (byte >= 10)
            buf[n++] = (char)('0' + byte / 10 % 10);
        buf[n++] = (char)('0' + byte % 10);
        if (shift)
            buf[n++] = '.';
    }
    buf[n] = '\0';
}

const char *error_name(long err)
{
    switch (err) {
    case ERR_INVALID: return "invalid argument";
    case ERR_NOT_FOUND: return "not found";
    case ERR_NO_MEMORY: return "out of memory";
    case ERR_NO_DEVICE: return "no such device";
    case ERR_IO: return "I/O error";
    case ERR_TIMEOUT: return "timeout";
    case ERR_AGAIN: return "busy, try again";
    default: return "unknown error";
    }
}
