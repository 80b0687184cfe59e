; user_image.asm - embeds the user programs (user.bin, built from user/) into the kernel.
; kernel/process.c copies it into every new process at USER_BASE.

        section .rodata
        align 4096
        global user_image_start
        global user_image_end
user_image_start:
        incbin "user.bin"
user_image_end:
