; boot_sector.asm - stage 1: the 512 bytes the BIOS loads from LBA 0 to 0000:7C00.
;
; Its only job is to copy stage2 (LBA 1..8) and the kernel (LBA 9..) from the boot disk to
; physical 0x8000 and jump to stage2. It still runs in 16-bit real mode, so it uses the BIOS
; disk services (INT 13h):
;
;   1. INT 13h AH=41h "check extensions present": if the BIOS has the EDD extensions we read
;      with AH=42h "extended read", which takes a 64-bit LBA in a Disk Address Packet (DAP).
;   2. Otherwise (old BIOSes, some USB sticks) we fall back to AH=02h "read sectors" with
;      cylinder/head/sector addresses, computed from the geometry AH=08h reports.
;
; Both paths share the same three variables (next LBA, destination segment, sectors left),
; so if an extended read fails half way, the CHS loop simply continues where it stopped.
;
; Registers handed to stage2: DL = BIOS drive number, DH = 1 (loaded with LBA) or 2 (CHS).

        bits 16
        org 0x7C00

%include "layout.inc"

LOAD_SECTORS    equ STAGE2_SECTORS + KERNEL_SECTORS
LBA_CHUNK       equ 64                  ; sectors per AH=42h call (32 KiB, some BIOSes cap at 127)

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, REAL_MODE_STACK_TOP
        jmp 0x0000:flat_cs              ; some BIOSes jump to 07C0:0000; make CS = 0 like DS
flat_cs:
        sti
        cld
        mov [boot_drive], dl            ; the BIOS passes the drive it booted from in DL

        mov si, msg_hello
        call print

%ifdef FORCE_CHS                        ; testing aid: nasm -DFORCE_CHS exercises the fallback
        jmp chs_load
%endif
        ; ---- 1. try the EDD extensions (INT 13h AH=41h, BX=55AAh) ----
        mov ah, 0x41
        mov bx, 0x55AA
        mov dl, [boot_drive]
        int 0x13
        jc chs_load                     ; CF set: no extensions
        cmp bx, 0xAA55                  ; BX is byte-swapped when they are present
        jne chs_load
        test cl, 1                      ; CX bit 0: "fixed disk access" subset = AH=42h works
        jz chs_load

lba_load:
        mov ax, [sectors_left]
        test ax, ax
        jz loaded
        cmp ax, LBA_CHUNK
        jbe .count_ok
        mov ax, LBA_CHUNK
.count_ok:
        mov [dap.count], ax
        mov si, dap                     ; DS:SI -> Disk Address Packet
        mov dl, [boot_drive]
        mov ah, 0x42                    ; extended read
        int 0x13
        jc chs_load                     ; fall back to CHS for the rest
        mov ax, [dap.count]
        sub [sectors_left], ax
        add [dap.lba], ax               ; the kernel area is far below LBA 65536
        shl ax, 5                       ; sectors * 512 bytes / 16 = paragraphs
        add [dap.segment], ax
        jmp lba_load

        ; ---- 2. CHS fallback: INT 13h AH=08h geometry, then AH=02h one sector at a time ----
chs_load:
        mov byte [load_method], 2
        mov ah, 0x08                    ; get drive parameters
        mov dl, [boot_drive]
        xor di, di                      ; ES:DI = 0:0 works around a known BIOS bug
        int 0x13
        jc disk_error
        and cx, 0x3F                    ; CL bits 0-5: sectors per track
        mov [sectors_per_track], cx
        movzx ax, dh                    ; DH: highest head number
        inc ax
        mov [heads], ax
.next:
        cmp word [sectors_left], 0
        je loaded
        mov ax, [dap.lba]               ; LBA -> C/H/S:
        xor dx, dx
        div word [sectors_per_track]    ;   sector = LBA % spt + 1
        mov cl, dl
        inc cl
        xor dx, dx
        div word [heads]                ;   head = (LBA / spt) % heads, cylinder = (LBA / spt) / heads
        mov dh, dl
        mov ch, al                      ; CH = cylinder bits 0-7
        shl ah, 6
        or cl, ah                       ; CL bits 6-7 = cylinder bits 8-9
        mov dl, [boot_drive]
        mov es, [dap.segment]
        xor bx, bx                      ; ES:BX = destination
        mov di, 3                       ; three tries per sector (floppies and old disks fail spuriously)
.retry:
        mov ax, 0x0201                  ; AH=02h read, AL=1 sector
        pusha
        int 0x13
        popa
        jnc .read_ok
        dec di
        jnz .retry
        jmp disk_error
.read_ok:
        dec word [sectors_left]
        inc word [dap.lba]
        add word [dap.segment], 512 / 16
        jmp .next

loaded:
        mov dl, [boot_drive]
        mov dh, [load_method]
        jmp 0x0000:STAGE2_ADDR

disk_error:
        mov si, msg_disk_error
        call print
.halt:
        hlt
        jmp .halt

; print: write the zero-terminated string at DS:SI to the BIOS screen (INT 10h AH=0Eh, teletype).
; A headless PC shows it where its BIOS copies the screen (the hvlab BIOS mirrors INT 10h to COM1).
print:
        lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        xor bx, bx                      ; BH = page 0
        int 0x10
        jmp print
.done:
        ret

msg_hello       db "tinyos boot sector: loading", 13, 10, 0
msg_disk_error  db "disk read error", 13, 10, 0

boot_drive          db 0
load_method         db 1                ; 1 = extended (LBA) reads, 2 = CHS
sectors_per_track   dw 0
heads               dw 0
sectors_left        dw LOAD_SECTORS

; Disk Address Packet for INT 13h AH=42h (EDD 3.0 specification).
dap:
                db 16                   ; size of this packet
                db 0                    ; reserved
.count          dw 0                    ; sectors to transfer
.offset         dw 0                    ; destination offset ...
.segment        dw STAGE2_ADDR / 16     ; ... and segment
.lba            dq 1                    ; first sector: LBA 1, right after this boot sector

%if LOAD_SECTORS * 512 > 0x80000 - STAGE2_ADDR
  %error "stage2 + kernel do not fit below 0x80000"
%endif
        ; Bytes 446-509 would hold an MBR partition table; tinyos's disk has none, but we keep
        ; the code out of that area so a partitioning tool could add one.
        times 446 - ($ - $$) db 0
        times 510 - ($ - $$) db 0
        dw 0xAA55                       ; boot signature the BIOS checks
