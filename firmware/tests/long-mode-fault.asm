; long-mode-fault.asm - test guest: a fault in 64-bit mode with no IDT.
;
; Enters long mode exactly like firstboot (ENTER_LONG_MODE in longmode.inc),
; prints one line, loads IDTR with limit 0 and reads from the non-canonical
; address 0x0000800000000000 (bit 47 set but bits 63..48 clear: not a sign
; extension of bit 47, so it is not a valid 48-bit virtual address).  The
; access raises #GP; no IDT entry is usable, so #GP escalates to a double
; fault and then a triple fault (shutdown).  QEMU with -no-reboot exits;
; hvlab reports the triple fault.

%include "rom.inc"
%include "longmode.inc"

        bits 16
entry:
        ROM_RM_PROLOGUE
        ENTER_LONG_MODE lm_entry

        bits 64
lm_entry:
        mov esp, STACK_TOP
        PRINTLN_LM "hvlab test long-mode-fault: 64-bit mode, reading non-canonical 0x0000800000000000 with no IDT (expect a triple fault)"
        mov eax, FLAT(null_idt)
        lidt [rax]              ; IDTR: limit 0 - no usable vector
        mov rax, 0x0000800000000000
        mov rax, [rax]          ; #GP (non-canonical) -> #DF -> triple fault
        PRINTLN_LM "long-mode-fault: the read did not fault (it must)"
.halt:
        cli
        hlt
        jmp .halt

        ROM_ROUTINES_RM
        ROM_ROUTINES_LM
        PAGE_TABLE_ROUTINE_PM
        HVLAB_GDT
        NULL_IDT
        ROM_RESET_VECTOR entry
