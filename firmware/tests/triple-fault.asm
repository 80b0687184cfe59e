; triple-fault.asm - test guest: an exception that cannot be delivered.
;
; Prints one line, then in real mode loads IDTR with limit 0 and executes
; int3.  Vector 3's interrupt-vector-table entry (bytes 12..15) lies beyond
; the limit, so delivering #BP fails with #GP; #GP (vector 13) cannot be
; delivered either, which makes a double fault (#DF, vector 8); #DF cannot
; be delivered: triple fault.  The CPU enters shutdown, which a PC turns into
; a reset; QEMU with -no-reboot exits instead, and hvlab reports the triple
; fault.

%include "rom.inc"
%include "longmode.inc"         ; for NULL_IDT

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test triple-fault: real mode, lidt limit 0, int3 (expect a triple fault)"
        o32 lidt [cs:null_idt]  ; IDTR: base 0, limit 0 - no usable vector
        int3                    ; #BP -> #GP -> #DF -> triple fault
        PRINTLN_RM "triple-fault: int3 returned (it must not)"
.halt:
        cli
        hlt
        jmp .halt

        ROM_ROUTINES_RM
        NULL_IDT
        ROM_RESET_VECTOR entry
