/* programs.c - the header of the user image: which programs it contains.
 *
 * All user programs are linked into one image (user.bin), like a "multi-call" binary.
 * The kernel copies the whole image into each new process and starts it at user_start
 * (user/crt0.asm) with the chosen program's main function. The linker script
 * (user/user.ld) puts this header first, at USER_BASE.
 */
#include "user/programs.h"
#include <tinyos/abi.h>

extern char __user_image_end[]; /* user/user.ld */
extern void user_start(void);    /* user/crt0.asm */

__attribute__((section(".user_header"), used)) const struct user_image_header user_image_header = {
    .magic = USER_IMAGE_MAGIC,
    .image_end = (uint64_t)__user_image_end,
    .start = (uint64_t)user_start,
    .program_count = 5,
    .programs =
        {
            {"shell", (uint64_t)shell_main},
            {"counter", (uint64_t)counter_main},
            {"spinner", (uint64_t)spinner_main},
            {"hello", (uint64_t)hello_main},
            {"crash", (uint64_t)crash_main},
        },
};
