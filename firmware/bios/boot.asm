; boot.asm - INT 19h (bootstrap loader) and INT 18h (no boot device).
;
; INT 19h tries the hard disks in order (80h, 81h, ...): it reads sector 0
; (LBA 0) to 0000:7C00 and, if the sector ends with the boot signature
; 55h AAh (the word AA55h at 0000:7DFE), jumps to 0000:7C00 with
;   DL = the drive number, CS:IP = 0000:7C00, DS = ES = SS = 0, SP = 7C00h,
;   interrupts enabled.
; If no disk boots, INT 18h prints why and halts with interrupts disabled
; (on hvlab that ends the run with status 0; QEMU just stops).

        bits 16

int19_handler:
        cli
        cld
        xor ax, ax                      ; a known stack, whoever called us
        mov ss, ax
        mov sp, POST_STACK_TOP
        mov ax, BDA_SEG
        mov ds, ax
        mov fs, [BDA_EBDA_SEG]
        sti
        POST POST_BOOT
        xor si, si                      ; SI = drive index
.next_disk:
        movzx ax, byte [fs:EB_DRIVE_COUNT]
        cmp si, ax
        jae .nothing
        push si
        mov ax, si
        PRINT "Booting from disk "
        add al, 0x80
        call print_hex8
        PRINT "h... "
        shl si, 5
        add si, EB_DRIVES
        POST POST_BOOT_READ
        mov dword [fs:EB_REQ_LBA], 0
        mov dword [fs:EB_REQ_LBA + 4], 0
        mov word [fs:EB_REQ_COUNT], 1
        mov byte [fs:EB_REQ_WRITE], 0
        mov ax, BOOT_SEG
        mov bx, BOOT_OFF
        call set_buffer
        call ata_rw
        pop si
        jc .read_error
        xor ax, ax
        mov es, ax
        cmp word [es:BOOT_OFF + 510], 0xAA55
        jne .not_bootable
        PRINTLN "ok"
        POST POST_BOOT_JUMP
        mov dx, si
        add dl, 0x80                    ; DL = boot drive
        cli
        xor ax, ax
        mov ss, ax
        mov sp, BOOT_OFF
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        sti
        jmp BOOT_SEG:BOOT_OFF
.read_error:
        PRINT "read error, status "
        call print_hex8
        PRINTLN "h"
        inc si
        jmp .next_disk
.not_bootable:
        PRINTLN "no boot signature (55AAh) in sector 0"
        inc si
        jmp .next_disk
.nothing:
        int 0x18

int18_handler:
        POST POST_NO_BOOT
        PRINTLN "hvlab BIOS: no bootable disk found.  Attach a disk image whose first"
        PRINTLN "sector ends with 55AAh (e.g. qemu -drive file=disk.img,format=raw,if=ide)."
        PRINTLN "System halted."
.halt:
        cli
        hlt
        jmp .halt
