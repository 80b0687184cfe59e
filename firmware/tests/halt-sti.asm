; halt-sti.asm - test guest: HLT with interrupts enabled and nothing to wake
; the CPU.
;
; Prints one line, then `sti; hlt`.  The machine has no interrupt controller
; and no timer (under QEMU the PIC is not wired to the CPU until firmware
; programs the local APIC's LINT0, which this image never does), so no
; interrupt can ever arrive: the CPU waits forever.  A VMM can recognise this
; (IF=1 but no interrupt source) instead of hanging; QEMU just hangs.

%include "rom.inc"

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test halt-sti: sti; hlt with no interrupt source (expect a hang)"
.wait:
        sti                     ; IF=1: interrupts would be accepted ...
        hlt                     ; ... but none can come
        jmp .wait               ; (a spurious wake-up just halts again)

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
