; unimplemented.asm - test guest: an instruction the hvlab interpreter does
; not implement.
;
; Prints one line, then executes the x87 instruction fld1 (D9 E8, push +1.0
; on the FPU stack).  hvlab's interpreter has no x87 unit and must stop with
; an "unimplemented instruction" error at this point.
;
; A real CPU (KVM, QEMU) executes fld1 fine - the FPU is usable after reset
; (CR0.EM=0) - so the image then prints a second line and ends with
; `cli; hlt` (status 0).

%include "rom.inc"

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test unimplemented: executing the x87 instruction fld1"
        fld1                    ; x87: ST(0) = +1.0
        PRINTLN_RM "unimplemented: fld1 executed (this CPU has an x87 FPU)"
.halt:
        cli
        hlt
        jmp .halt

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
