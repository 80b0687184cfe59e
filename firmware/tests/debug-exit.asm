; debug-exit.asm - test guest: leave the VM through QEMU's isa-debug-exit.
;
; Prints one line, then writes 0x2A to port 0xF4.  With an isa-debug-exit
; device at 0xF4 the VM stops and the emulator exits with status
; (0x2A << 1) | 1 = 85.
;
; If the write does not stop the VM (no such device), it says so and ends
; with `cli; hlt` (status 0), which a test then reports as a mismatch.

%include "rom.inc"

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test debug-exit: writing 0x2A to port 0xF4 (expect exit status 85)"
        mov al, 0x2A
        out DEBUG_EXIT_PORT, al ; the VM stops here
        PRINTLN_RM "debug-exit: still running after the write (no debug-exit device?)"
.halt:
        cli
        hlt
        jmp .halt

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
