/* cmd_disk.c - `disk read`, `disk write`, `disk info`: sectors of the disk's data area. */
#include "lib/string.h"
#include "user/shell.h"
#include "user/syscalls.h"
#include "user/ulib.h"

static uint8_t sector[512];

static void hexdump(const uint8_t *data, unsigned len)
{
    unsigned last = len; /* stop after the last line that is not all zero */
    while (last > 0 && data[last - 1] == 0)
        last--;
    for (unsigned off = 0; off < len && off < last; off += 16) {
        printf("%03x: ", off);
        for (unsigned i = 0; i < 16; i++)
            printf("%02x ", data[off + i]);
        puts(" |");
        for (unsigned i = 0; i < 16; i++) {
            char c = (char)data[off + i];
            printf("%c", c >= ' ' && c < 127 ? c : '.');
        }
        puts("|\n");
    }
    unsigned shown = (last + 15) / 16 * 16;
    if (shown < len)
        printf("(%u more zero bytes)\n", len - shown);
}

static enum disk_mode parse_mode(const char *s)
{
    if (s && strcmp(s, "pio") == 0)
        return DISK_PIO;
    if (s && strcmp(s, "dma") == 0)
        return DISK_DMA;
    return DISK_AUTO;
}

void cmd_disk(int argc, char **argv)
{
    struct disk_info info;
    diskinfo(&info);
    if (!info.present) {
        printf("disk: no disk\n");
        return;
    }
    uint64_t n;
    if (argc >= 2 && strcmp(argv[1], "info") == 0) {
        printf("disk: \"%s\", data area = LBA %lu..%lu (%lu sectors), %s\n", info.model, info.data_lba,
               info.data_lba + info.data_sectors - 1, info.data_sectors,
               info.virtio ? "virtio-blk" : info.dma ? "IDE, PIO and DMA" : "IDE, PIO only");
    } else if (argc >= 3 && strcmp(argv[1], "read") == 0 && parse_u64(argv[2], &n)) {
        enum disk_mode mode = parse_mode(argc > 3 ? argv[3] : 0);
        long r = diskread(n, sector, 1, mode);
        if (r < 0) {
            printf("disk read: %s\n", error_name(r));
            return;
        }
        printf("data sector %lu (LBA %lu):\n", n, info.data_lba + n);
        hexdump(sector, sizeof sector);
    } else if (argc >= 4 && strcmp(argv[1], "write") == 0 && parse_u64(argv[2], &n)) {
        memset(sector, 0, sizeof sector);
        size_t len = 0; /* the text is every word after N, joined by single spaces */
        for (int i = 3; i < argc; i++) {
            size_t w = strlen(argv[i]);
            if (len + w + 1 > sizeof sector)
                break;
            if (i > 3)
                sector[len++] = ' ';
            memcpy(sector + len, argv[i], w);
            len += w;
        }
        long r = diskwrite(n, sector, 1, DISK_AUTO);
        if (r < 0)
            printf("disk write: %s\n", error_name(r));
        else
            printf("wrote %lu bytes to data sector %lu (LBA %lu)\n", (uint64_t)len, n, info.data_lba + n);
    } else {
        printf("usage: disk read N [pio|dma] | disk write N TEXT | disk info\n");
    }
}
