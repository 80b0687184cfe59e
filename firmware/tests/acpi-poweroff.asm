; acpi-poweroff.asm - test guest: ACPI soft-off through the PIIX4 PM block.
;
; Does what an ACPI OS does after reading the FADT and \_S5 (SLP_TYP 0): it
; maps the PIIX4 power-management function's I/O block (PCI 00:01.3, PMBA at
; config 0x40 = 0x600, PMREGMISC at 0x80 bit 0 = I/O enable), then writes
; PM1_CNT (0x604) with SLP_TYP = 0 and SLP_EN = 1.  The VM must power off
; (hvlab: exit status 0, "powered off").  If it does not, the image reports a
; failure through isa-debug-exit (0x11 -> exit status 35).

%include "rom.inc"

PCI_ADDRESS     equ 0xCF8
PCI_DATA        equ 0xCFC
PM_FUNCTION     equ 0x80000000 | (1 << 11) | (3 << 8)   ; bus 0, device 1, function 3
PM_BASE         equ 0x600
PM1_CNT         equ PM_BASE + 4
SLP_EN          equ 1 << 13

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test acpi-poweroff: PM1_CNT SLP_TYP=0 SLP_EN=1 (expect power-off)"
        mov dx, PCI_ADDRESS             ; PMBA = 0x600 (bit 0: I/O space)
        mov eax, PM_FUNCTION | 0x40
        out dx, eax
        mov dx, PCI_DATA
        mov eax, PM_BASE | 1
        out dx, eax
        mov dx, PCI_ADDRESS             ; PMREGMISC bit 0: PM I/O space enabled
        mov eax, PM_FUNCTION | 0x80
        out dx, eax
        mov dx, PCI_DATA
        mov al, 1
        out dx, al
        mov dx, PM1_CNT                 ; S5: SLP_TYP 0, SLP_EN
        mov ax, SLP_EN
        out dx, ax
        PRINTLN_RM "acpi-poweroff: still running after SLP_EN: FAIL"
        mov dx, DEBUG_EXIT_PORT
        mov al, 0x11
        out dx, al
        cli
        hlt

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
