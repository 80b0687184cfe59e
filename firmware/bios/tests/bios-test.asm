; bios-test.asm - a self-checking test disk for the hvlab BIOS.
;
; A 4 MiB raw disk image (8192 sectors, CHS 8/16/63 as the BIOS sees it):
;   LBA 0          boot sector: loads LBA 1-62 with INT 13h AH=02h, jumps
;   LBA 1-62       the test program (at 0000:7E00)
;   LBA 64-4095    test data: dword i of sector n = n << 16 | i
;   LBA 5000-5002  scratch sectors the write tests overwrite
;
; It exercises the BIOS services a boot sector and a small OS use and
; prints one line per group on the console (INT 10h, so it also appears on
; COM1):  "PASS <group>"  or  "FAIL <group>" preceded by "    failed: ..."
; lines.  At the end it writes to QEMU's isa-debug-exit port 0xF4:
;   0x10 all groups passed   -> exit status 33
;   0x11 some group failed   -> exit status 35
;
; Optional inputs, which the run script provides:
;   * a second disk (drive 81h) whose LBA 0 starts with "hvlab data disk",
;     whose last sector starts with "hvlab last sector" and, if it has more
;     than 2^28 sectors, LBA 10000010h starts with "hvlab lba48 sector";
;   * the bytes "hv" typed on COM1 after the line "waiting 5 s for 'hv' on
;     COM1..." appears;
;   * an e1000 NIC (8086:100E) for the PCI BAR checks.
; Without them those checks say "skipped" and do not fail.
;
; Build: nasm -f bin -o bios-test.img bios-test.asm
; Run:   qemu-system-x86_64 -machine pc -bios bios.bin -drive
;        file=bios-test.img,format=raw,if=ide -device isa-debug-exit,iobase=0xf4,iosize=4
;        (firmware/bios/tests/run-qemu.sh does that and more)

        org 0x7C00
        bits 16

DISK_SECTORS    equ 8192
PROG_SECTORS    equ 62
PATTERN_FIRST   equ 64
PATTERN_END     equ 4096
SCRATCH_LBA     equ 5000
EXIT_PASS       equ 0x10
EXIT_FAIL       equ 0x11
BUF_SEG         equ 0x1000          ; 0x10000: read buffers
BUF2_SEG        equ 0x3000          ; 0x30000: write data
BUF3_SEG        equ 0x4000          ; 0x40000: read-back

; ================================================================ LBA 0

boot:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        cld
        mov [boot_drive], dl
        ; LBA 1..62 = cylinder 0, head 0, sectors 2..63 -> 0000:7E00
        mov ax, 0x0200 | PROG_SECTORS
        mov cx, 0x0002
        xor dh, dh
        mov bx, 0x7E00
        int 0x13
        jc .load_failed
        cmp al, PROG_SECTORS
        jne .load_failed
        cmp dword [program_magic], 'HVT!'
        jne .load_failed
        jmp main
.load_failed:
        mov si, .msg
.print:
        lodsb
        test al, al
        jz .exit
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        jmp .print
.exit:
        mov al, EXIT_FAIL
        out 0xF4, al
        cli
        hlt
.msg:   db "FAIL boot: INT 13h AH=02h could not load the test program", 13, 10, 0

boot_drive: db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55

; ================================================================ LBA 1..62

program_magic:
        dd 'HVT!'

; ------------------------------------------------------------ printing ---

%macro MSG 1+
        jmp %%after
%%text: db %1, 0
%%after:
        push si
        mov si, %%text
        call print_str
        pop si
%endmacro

%macro MSGLN 1+
        MSG %1, 13, 10
%endmacro

; CHECK cc, "text": if the condition cc does NOT hold (after a cmp/test),
; print "    failed: text" and mark the current group failed.
%macro CHECK 2+
        j%1 %%ok
        MSG "    failed: ", %2, 13, 10
        mov byte [group_failed], 1
%%ok:
%endmacro

; RUN routine, "group name"
%macro RUN 2+
        mov byte [group_failed], 0
        call %1
        jmp %%after
%%name: db %2, 0
%%after:
        cmp byte [group_failed], 0
        jne %%fail
        MSG "PASS "
        jmp %%print
%%fail:
        MSG "FAIL "
        inc word [groups_failed]
%%print:
        push si
        mov si, %%name
        call print_str
        pop si
        MSG 13, 10
        inc word [groups_run]
%endmacro

print_str:                              ; DS:SI
        push ax
        push bx
        push si
.next:
        lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        jmp .next
.done:
        pop si
        pop bx
        pop ax
        ret

print_char:
        push ax
        push bx
        mov ah, 0x0E
        xor bx, bx
        int 0x10
        pop bx
        pop ax
        ret

print_hex4:
        push ax
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .p
        add al, 7
.p:     call print_char
        pop ax
        ret
print_hex8:
        push ax
        shr al, 4
        call print_hex4
        pop ax
        call print_hex4
        ret
print_hex16:
        xchg al, ah
        call print_hex8
        xchg al, ah
        call print_hex8
        ret
print_hex32:
        ror eax, 16
        call print_hex16
        ror eax, 16
        call print_hex16
        ret
print_dec:                              ; EAX
        pushad
        mov ebx, 10
        xor cx, cx
.d:     xor edx, edx
        div ebx
        push dx
        inc cx
        test eax, eax
        jnz .d
.p:     pop ax
        add al, '0'
        call print_char
        loop .p
        popad
        ret

; ================================================================ main

main:
        MSGLN "bios-test: the hvlab BIOS test disk is running"
        RUN test_video, "int10 video (modes, cursor, 09h, 13h, scrolling, text buffer)"
        RUN test_disk_info, "int13 reset and drive parameters (00h 0Dh 08h 15h 41h 48h)"
        RUN test_chs_read, "int13 02h CHS reads across head and cylinder boundaries"
        RUN test_ext_read, "int13 42h extended read across a 64 KiB boundary"
        RUN test_write, "int13 03h/43h writes read back"
        RUN test_disk_errors, "int13 errors (past the end, bad parameters, no drive)"
        RUN test_e820, "int15 e820/e801/88h memory map"
        RUN test_bda, "int11 int12 BDA EBDA"
        RUN test_time, "int1a ticks, int15 86h wait, RTC"
        RUN test_pci, "int1a b1xx PCI BIOS"
        RUN test_keyboard, "int16 keyboard (buffer, i8042 IRQ 1, COM1)"
        RUN test_int15_misc, "int15 A20 (2400h-2403h), C0h, C1h, unsupported"
        RUN test_mp, "MP tables"
        RUN test_acpi, "ACPI tables"
        RUN test_second_disk, "second disk (81h)"
        MSG "bios-test: "
        movzx eax, word [groups_run]
        call print_dec
        MSG " groups, "
        movzx eax, word [groups_failed]
        call print_dec
        MSGLN " failed"
        cmp word [groups_failed], 0
        jne .failed
        MSGLN "bios-test: PASS"
        mov al, EXIT_PASS
        out 0xF4, al
        jmp .halt
.failed:
        MSGLN "bios-test: FAIL"
        mov al, EXIT_FAIL
        out 0xF4, al
.halt:
        cli
        hlt
        jmp .halt

groups_run:     dw 0
groups_failed:  dw 0
group_failed:   db 0
mp_cpus:        dw 0
disk_count:     db 0

; ============================================================== video

test_video:
        push es
        mov ax, 0x0003                  ; set mode 3 (clears the screen)
        int 0x10
        mov ah, 0x0F
        int 0x10
        cmp ax, 0x5003
        CHECK e, "AH=0Fh: not mode 3 with 80 columns"
        mov ax, 0xB800
        mov es, ax
        cmp word [es:0], 0x0720
        CHECK e, "mode 3 did not clear the screen to grey blanks"
        ; cursor to row 5, column 10; teletype "HVLAB"
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x050A
        int 0x10
        mov si, .hvlab
.tt:    lodsb
        test al, al
        jz .tt_done
        mov ah, 0x0E
        int 0x10
        jmp .tt
.tt_done:
        mov ah, 0x03
        xor bh, bh
        int 0x10
        cmp dx, 0x050F
        CHECK e, "AH=03h: cursor not at row 5, column 15 after 5 characters"
        cmp word [es:(5 * 80 + 10) * 2], 0x0748
        CHECK e, "text buffer: no 'H' at row 5, column 10"
        cmp word [es:(5 * 80 + 14) * 2], 0x0742
        CHECK e, "text buffer: no 'B' at row 5, column 14"
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x050B
        int 0x10
        mov ah, 0x08
        xor bh, bh
        int 0x10
        cmp ax, 0x0756
        CHECK e, "AH=08h: not 'V' with attribute 07h at row 5, column 11"
        ; 09h: 'X' in yellow on blue three times at row 6, column 0
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x0600
        int 0x10
        mov ax, 0x0958
        mov bx, 0x001E
        mov cx, 3
        int 0x10
        cmp word [es:(6 * 80 + 2) * 2], 0x1E58
        CHECK e, "AH=09h: third 'X' missing"
        cmp word [es:(6 * 80 + 3) * 2], 0x0720
        CHECK e, "AH=09h wrote more than CX cells"
        mov ah, 0x03
        xor bh, bh
        int 0x10
        cmp dx, 0x0600
        CHECK e, "AH=09h moved the cursor"
        ; 06h: scroll rows 5-6 up by one: row 5 <- row 6, row 6 blank
        mov ax, 0x0601
        mov bh, 0x07
        mov cx, 0x0500
        mov dx, 0x064F
        int 0x10
        cmp word [es:(5 * 80 + 0) * 2], 0x1E58
        CHECK e, "AH=06h: row 6 did not move to row 5"
        cmp word [es:(6 * 80 + 0) * 2], 0x0720
        CHECK e, "AH=06h: row 6 not blanked"
        ; 07h: scroll rows 5-6 down by one: row 6 <- row 5
        mov ax, 0x0701
        mov bh, 0x07
        mov cx, 0x0500
        mov dx, 0x064F
        int 0x10
        cmp word [es:(6 * 80 + 1) * 2], 0x1E58
        CHECK e, "AH=07h: row 5 did not move to row 6"
        ; 13h: "STR" in attribute 2Fh at row 7, cursor moved
        push es
        push ds
        pop es
        mov ax, 0x1301
        mov bx, 0x002F
        mov cx, 3
        mov dx, 0x0700
        push bp
        mov bp, .str
        int 0x10
        pop bp
        pop es
        cmp word [es:(7 * 80 + 2) * 2], 0x2F52
        CHECK e, "AH=13h: no 'R' with attribute 2Fh at row 7, column 2"
        mov ah, 0x03
        xor bh, bh
        int 0x10
        cmp dx, 0x0703
        CHECK e, "AH=13h with AL=1 did not leave the cursor after the string"
        ; teletype at the last row: LF scrolls the screen up
        mov ah, 0x02
        xor bh, bh
        mov dx, 0x1800
        int 0x10
        mov ax, 0x0E5A                  ; 'Z'
        int 0x10
        mov ax, 0x0E0D
        int 0x10
        mov ax, 0x0E0A
        int 0x10
        cmp byte [es:(23 * 80 + 0) * 2], 'Z'
        CHECK e, "teletype LF on row 24 did not scroll the screen"
        mov ah, 0x03
        xor bh, bh
        int 0x10
        cmp dx, 0x1800
        CHECK e, "cursor not at row 24, column 0 after CR LF on the last row"
        ; 12h BL=10h: EGA/VGA information
        mov ah, 0x12
        mov bl, 0x10
        int 0x10
        cmp bl, 0x10
        CHECK ne, "AH=12h BL=10h: not answered"
        mov ax, 0x0003                  ; clean screen for the rest
        int 0x10
        pop es
        ret
.hvlab: db "HVLAB", 0
.str:   db "STR"

; ============================================================== disks

; int13 AH=48h into edd_buf (size 42h) for drive DL; CF from the BIOS
get_edd:
        mov word [edd_buf], 0x42
        mov si, edd_buf
        mov ah, 0x48
        int 0x13
        ret

edd_buf: times 0x42 db 0

test_disk_info:
        mov dl, [boot_drive]
        cmp dl, 0x80
        CHECK e, "boot drive (DL at 7C00h) is not 80h"
        mov ah, 0x08
        int 0x13
        CHECK nc, "AH=08h: CF set"
        mov [disk_count], dl
        cmp dh, 15
        CHECK e, "AH=08h: last head is not 15 (16 heads)"
        mov al, cl
        and al, 0x3F
        cmp al, 63
        CHECK e, "AH=08h: not 63 sectors per track"
        movzx ax, cl
        shl ax, 2
        mov al, ch                      ; AX = last cylinder
        cmp ax, DISK_SECTORS / (16 * 63) - 1
        CHECK e, "AH=08h: last cylinder is not 7 for 8192 sectors"
        cmp byte [disk_count], 1
        CHECK ae, "AH=08h: DL (number of disks) is 0"
        ; 00h and 0Dh: reset the drive (the channel)
        mov ah, 0x00
        mov dl, 0x80
        int 0x13
        CHECK nc, "AH=00h reset: CF set"
        mov ah, 0x0D
        mov dl, 0x80
        int 0x13
        CHECK nc, "AH=0Dh reset: CF set"
        ; 15h: fixed disk, CX:DX sectors
        mov ah, 0x15
        mov dl, 0x80
        int 0x13
        CHECK nc, "AH=15h: CF set"
        cmp ah, 0x03
        CHECK e, "AH=15h: AH is not 03h (fixed disk)"
        cmp cx, 0
        CHECK e, "AH=15h: CX is not 0"
        cmp dx, 8 * 16 * 63
        CHECK e, "AH=15h: DX is not 8064 (the CHS capacity)"
        ; 41h: EDD 3.0, extended access
        mov ah, 0x41
        mov bx, 0x55AA
        mov dl, 0x80
        int 0x13
        CHECK nc, "AH=41h: CF set"
        cmp bx, 0xAA55
        CHECK e, "AH=41h: BX is not AA55h"
        cmp ah, 0x30
        CHECK e, "AH=41h: version is not 30h (EDD 3.0)"
        test cx, 1
        CHECK nz, "AH=41h: CX bit 0 (extended access) clear"
        ; 48h: parameters
        mov dl, 0x80
        call get_edd
        CHECK nc, "AH=48h: CF set"
        cmp word [edd_buf], 0x42
        CHECK e, "AH=48h: result size is not 42h"
        cmp dword [edd_buf + 0x10], DISK_SECTORS
        CHECK e, "AH=48h: total sectors is not 8192"
        cmp dword [edd_buf + 0x14], 0
        CHECK e, "AH=48h: total sectors high dword not 0"
        cmp word [edd_buf + 0x18], 512
        CHECK e, "AH=48h: bytes per sector not 512"
        cmp word [edd_buf + 0x1E], 0xBEDD
        CHECK e, "AH=48h: no EDD 3.0 key BEDDh"
        mov si, edd_buf + 0x1E
        mov cx, 0x41 - 0x1E + 1
        call sum_bytes
        cmp al, 0
        CHECK e, "AH=48h: device path checksum wrong"
        ; the DPTE it points to
        push es
        les si, [edd_buf + 0x1A]
        mov cx, 16
        xor al, al
.dpte:  add al, [es:si]
        inc si
        loop .dpte
        pop es
        cmp al, 0
        CHECK e, "AH=48h: DPTE checksum wrong"
        ret

sum_bytes:                              ; DS:SI, CX -> AL
        xor al, al
.s:     add al, [si]
        inc si
        loop .s
        ret

; verify_pattern: ES = buffer segment (offset 0), EAX = first LBA, CX = sectors.
; CF = 1 and a message if a dword differs from LBA << 16 | index.
verify_pattern:
        pushad
        push es
.sector:
        xor di, di
        mov ebx, eax
        shl ebx, 16
.dword:
        cmp [es:di], ebx
        jne .bad
        inc ebx
        add di, 4
        cmp di, 512
        jb .dword
        mov dx, es
        add dx, 0x20
        mov es, dx
        inc eax
        loop .sector
        pop es
        popad
        clc
        ret
.bad:
        MSG "    data mismatch: sector "
        call print_dec
        MSG " offset "
        mov ax, di
        call print_hex16
        MSG " read "
        mov eax, [es:di]
        call print_hex32
        MSG " expected "
        mov eax, ebx
        call print_hex32
        MSG 13, 10
        pop es
        popad
        stc
        ret

; chs_read: AL = count, CX/DH = CHS as INT 13h wants it -> BUF_SEG:0
chs_read:
        push es
        push bx
        mov bx, BUF_SEG
        mov es, bx
        xor bx, bx
        mov ah, 0x02
        mov dl, 0x80
        int 0x13
        pop bx
        pop es
        ret

test_chs_read:
        ; LBA 123-130: C0 H1 S61 .. C0 H2 S5 (crosses a head boundary)
        mov al, 8
        mov cx, 0x003D
        mov dh, 1
        call chs_read
        CHECK nc, "AH=02h C0/H1/S61 x8: CF set"
        cmp al, 8
        CHECK e, "AH=02h: AL is not 8 sectors"
        push es
        mov ax, BUF_SEG
        mov es, ax
        mov eax, 123
        mov cx, 8
        call verify_pattern
        pop es
        CHECK nc, "AH=02h: wrong data for LBA 123-130"
        ; LBA 1005-1012: C0 H15 S61 .. C1 H0 S4 (crosses a cylinder)
        mov al, 8
        mov cx, 0x003D
        mov dh, 15
        call chs_read
        CHECK nc, "AH=02h C0/H15/S61 x8: CF set"
        push es
        mov ax, BUF_SEG
        mov es, ax
        mov eax, 1005
        mov cx, 8
        call verify_pattern
        pop es
        CHECK nc, "AH=02h: wrong data for LBA 1005-1012"
        ; cylinder 3 (bits in CL 7:6 are 0), head 2, sector 1: LBA 3150
        mov al, 1
        mov cx, 0x0301
        mov dh, 2
        call chs_read
        CHECK nc, "AH=02h C3/H2/S1: CF set"
        push es
        mov ax, BUF_SEG
        mov es, ax
        mov eax, 3 * 1008 + 2 * 63
        mov cx, 1
        call verify_pattern
        pop es
        CHECK nc, "AH=02h: wrong data for LBA 3150"
        ret

; ext_io_packet: INT 13h function AH with the packet `dap` on drive [ext_drive]
ext_io_packet:
        mov si, dap
        mov dl, [ext_drive]
        mov al, 0
        int 0x13
        ret
dap:    times 16 db 0
ext_drive: db 0x80

test_ext_read:
        ; 10 sectors from LBA 2000 to 1000:F000 - the buffer runs from
        ; 0x1F000 to 0x20400, across the 64 KiB boundary at 0x20000
        mov eax, 2000
        mov cx, 10
        mov bx, BUF_SEG
        mov di, 0xF000
        call .call
        CHECK nc, "AH=42h LBA 2000 x10: CF set"
        cmp word [dap + 2], 10
        CHECK e, "AH=42h: the packet's count is not 10 afterwards"
        push es
        mov ax, BUF_SEG + 0xF00
        mov es, ax
        mov eax, 2000
        mov cx, 10
        call verify_pattern
        pop es
        CHECK nc, "AH=42h: wrong data for LBA 2000-2009"
        ; the last sector with pattern, LBA 4095
        mov eax, PATTERN_END - 1
        mov cx, 1
        mov bx, BUF_SEG
        xor di, di
        call .call
        CHECK nc, "AH=42h LBA 4095: CF set"
        push es
        mov ax, BUF_SEG
        mov es, ax
        mov eax, PATTERN_END - 1
        mov cx, 1
        call verify_pattern
        pop es
        CHECK nc, "AH=42h: wrong data for LBA 4095"
        ret
.call:                                  ; EAX = LBA, CX, BX:DI -> 42h
        mov [dap + 8], eax
        mov byte [dap], 0x10
        mov byte [dap + 1], 0
        mov [dap + 2], cx
        mov [dap + 4], di
        mov [dap + 6], bx
        mov dword [dap + 12], 0
        mov ah, 0x42
        jmp ext_io_packet

; fill BUF2_SEG: CX bytes of AL
fill_buf2:
        push es
        push di
        push cx
        mov di, BUF2_SEG
        mov es, di
        xor di, di
        rep stosb
        pop cx
        pop di
        pop es
        ret

; compare BUF2_SEG:0 and BUF3_SEG:0, CX bytes -> ZF = 1 if equal
compare_bufs:
        push ds
        push es
        push si
        push di
        push cx
        mov si, BUF2_SEG
        mov ds, si
        mov di, BUF3_SEG
        mov es, di
        xor si, si
        xor di, di
        repe cmpsb
        pop cx
        pop di
        pop si
        pop es
        pop ds
        ret

clear_buf3:
        push es
        push di
        push cx
        push ax
        mov di, BUF3_SEG
        mov es, di
        xor di, di
        mov cx, 2048
        xor al, al
        rep stosb
        pop ax
        pop cx
        pop di
        pop es
        ret

test_write:
        ; 43h: two sectors (A5h, then 5Ah) to LBA 5000-5001
        mov al, 0xA5
        mov cx, 512
        call fill_buf2
        push es
        mov ax, BUF2_SEG
        mov es, ax
        mov di, 512
        mov al, 0x5A
        mov cx, 512
        rep stosb
        pop es
        mov eax, SCRATCH_LBA
        mov cx, 2
        mov bx, BUF2_SEG
        xor di, di
        mov byte [dap], 0x10
        mov [dap + 2], cx
        mov [dap + 4], di
        mov [dap + 6], bx
        mov [dap + 8], eax
        mov dword [dap + 12], 0
        mov ah, 0x43
        call ext_io_packet
        CHECK nc, "AH=43h LBA 5000 x2: CF set"
        call clear_buf3
        mov byte [dap], 0x10
        mov word [dap + 2], 2
        mov word [dap + 4], 0
        mov word [dap + 6], BUF3_SEG
        mov dword [dap + 8], SCRATCH_LBA
        mov ah, 0x42
        call ext_io_packet
        CHECK nc, "AH=42h read-back of LBA 5000 x2: CF set"
        mov cx, 1024
        call compare_bufs
        CHECK e, "AH=43h: the data read back differs from what was written"
        ; 03h: one sector (3Ch) by CHS to LBA 5002 = C4/H15/S26
        mov al, 0x3C
        mov cx, 512
        call fill_buf2
        push es
        mov ax, BUF2_SEG
        mov es, ax
        xor bx, bx
        mov ax, 0x0301
        mov cx, (4 << 8) | 26
        mov dx, (15 << 8) | 0x80
        int 0x13
        pop es
        CHECK nc, "AH=03h C4/H15/S26: CF set"
        cmp al, 1
        CHECK e, "AH=03h: AL is not 1"
        call clear_buf3
        mov byte [dap], 0x10
        mov word [dap + 2], 1
        mov word [dap + 4], 0
        mov word [dap + 6], BUF3_SEG
        mov dword [dap + 8], SCRATCH_LBA + 2
        mov ah, 0x42
        call ext_io_packet
        CHECK nc, "AH=42h read-back of LBA 5002: CF set"
        mov cx, 512
        call compare_bufs
        CHECK e, "AH=03h: CHS 4/15/26 is not LBA 5002, or the data differs"
        ret

test_disk_errors:
        ; past the end of the disk
        mov byte [dap], 0x10
        mov word [dap + 2], 1
        mov word [dap + 4], 0
        mov word [dap + 6], BUF_SEG
        mov dword [dap + 8], DISK_SECTORS
        mov ah, 0x42
        call ext_io_packet
        CHECK c, "AH=42h past the end: CF clear"
        cmp ah, 0x04
        CHECK e, "AH=42h past the end: AH is not 04h (sector not found)"
        ; AH=01h: the status of the last operation
        mov ah, 0x01
        mov dl, 0x80
        int 0x13
        cmp ah, 0x04
        CHECK e, "AH=01h: last status is not 04h"
        ; a count of 0
        mov ax, 0x0200
        mov cx, 0x0001
        xor dh, dh
        call chs_read
        CHECK c, "AH=02h with AL=0: CF clear"
        cmp ah, 0x01
        CHECK e, "AH=02h with AL=0: AH is not 01h"
        ; sector 0 does not exist in CHS
        mov al, 1
        mov cx, 0x0000
        xor dh, dh
        call chs_read
        CHECK c, "AH=02h sector 0: CF clear"
        ; a drive that is not there
        mov ah, 0x08
        mov dl, 0x80
        add dl, [disk_count]
        int 0x13
        CHECK c, "AH=08h for a missing drive: CF clear"
        mov ah, 0x15
        mov dl, 0x9F
        int 0x13
        CHECK nc, "AH=15h for a missing drive: CF set"
        cmp ah, 0
        CHECK e, "AH=15h for a missing drive: AH is not 0"
        ; no floppy drives
        mov ax, 0x0201
        mov cx, 0x0001
        xor dx, dx
        push es
        mov bx, BUF_SEG
        mov es, bx
        xor bx, bx
        int 0x13
        pop es
        CHECK c, "AH=02h on floppy drive 00h: CF clear"
        ; an unknown function
        mov ah, 0x33
        mov dl, 0x80
        int 0x13
        CHECK c, "AH=33h: CF clear"
        ret

; ============================================================== memory

e820_buf:   times 24 db 0
ram_total:  dd 0                        ; KiB of type-1 memory
ram_1m_end: dd 0                        ; end of the range that contains 1 MiB

test_e820:
        xor ebx, ebx
        xor bp, bp                      ; entries
        mov dword [ram_total], 0
        mov dword [ram_1m_end], 0
        xor esi, esi                    ; previous base (low dword; bases < 4G
        xor edi, edi                    ;   compared with the high dword too)
.next:
        mov eax, 0xE820
        mov edx, 0x534D4150             ; "SMAP" (as a number, not nasm's 'SMAP')
        mov ecx, 24
        push di
        mov di, e820_buf
        int 0x15
        pop di
        jc .error
        cmp eax, 0x534D4150
        CHECK e, "E820: EAX is not 534D4150h (SMAP)"
        cmp ecx, 20
        CHECK e, "E820: ECX is not 20"
        inc bp
        ; print it
        MSG "    e820 "
        mov eax, [e820_buf + 4]
        call print_hex32
        mov eax, [e820_buf]
        call print_hex32
        MSG " +"
        mov eax, [e820_buf + 12]
        call print_hex32
        mov eax, [e820_buf + 8]
        call print_hex32
        MSG " type "
        mov eax, [e820_buf + 16]
        call print_dec
        MSG 13, 10
        ; sorted by base
        mov eax, [e820_buf + 4]
        cmp eax, edi
        jb .unsorted
        ja .sorted
        mov eax, [e820_buf]
        cmp eax, esi
        jae .sorted
.unsorted:
        MSGLN "    failed: E820 entries are not sorted"
        mov byte [group_failed], 1
.sorted:
        mov esi, [e820_buf]
        mov edi, [e820_buf + 4]
        cmp dword [e820_buf + 16], 1
        jne .not_ram
        mov eax, [e820_buf + 8]
        mov edx, [e820_buf + 12]
        shrd eax, edx, 10
        add [ram_total], eax
        ; the range containing 0x7C00 must be RAM
        cmp dword [e820_buf + 4], 0
        jne .not_ram
        cmp dword [e820_buf], 0x100000
        jne .not_1m
        mov eax, [e820_buf]
        add eax, [e820_buf + 8]
        mov [ram_1m_end], eax
.not_1m:
.not_ram:
        cmp dword [e820_buf + 16], 2
        jne .not_ebda
        cmp dword [e820_buf], 0x9F000
        jne .not_ebda
        or bp, 0x8000                   ; seen the EBDA as reserved
.not_ebda:
        cmp dword [e820_buf], 0
        jne .not_zero
        cmp dword [e820_buf + 16], 1
        jne .not_zero
        cmp dword [e820_buf + 8], 0x7E00
        jb .not_zero
        or bp, 0x4000                   ; 0x7C00 is in RAM
.not_zero:
        test ebx, ebx
        jz .end
        mov ax, bp
        and ax, 0x3FFF
        cmp ax, 32
        jb .next
        MSGLN "    failed: more than 32 E820 entries"
        mov byte [group_failed], 1
        jmp .end
.error:
        MSGLN "    failed: E820 call returned CF=1"
        mov byte [group_failed], 1
.end:
        test bp, 0x8000
        CHECK nz, "E820: no reserved range at 9F000h (EBDA)"
        test bp, 0x4000
        CHECK nz, "E820: 0-7E00h is not usable RAM"
        MSG "    usable RAM: "
        mov eax, [ram_total]
        shr eax, 10
        call print_dec
        MSGLN " MiB"
        cmp dword [ram_total], 100 * 1024
        CHECK ae, "E820: less than 100 MiB usable (run with -m 128)"
        cmp dword [ram_1m_end], 0x1000000
        CHECK a, "E820: no RAM range from 1 MiB beyond 16 MiB"
        ; E801 agrees: 16 MiB + BX * 64 KiB is the end of that range
        mov ax, 0xE801
        int 0x15
        CHECK nc, "E801: CF set"
        cmp ax, 0x3C00
        CHECK e, "E801: AX is not 3C00h (15 MiB) with more than 16 MiB"
        cmp ax, cx
        CHECK e, "E801: AX != CX"
        cmp bx, dx
        CHECK e, "E801: BX != DX"
        movzx eax, bx
        shl eax, 16
        add eax, 0x1000000
        cmp eax, [ram_1m_end]
        CHECK e, "E801: BX does not match the E820 range above 1 MiB"
        ; 88h: KiB above 1 MiB, at most FFFFh
        mov ah, 0x88
        int 0x15
        CHECK nc, "88h: CF set"
        mov edx, [ram_1m_end]
        sub edx, 0x100000
        shr edx, 10
        cmp edx, 0xFFFF
        jbe .cap_ok
        mov dx, 0xFFFF
.cap_ok:
        cmp ax, dx
        CHECK e, "88h: AX does not match the E820 map"
        ; a wrong signature is refused
        xor ebx, ebx
        mov eax, 0xE820
        mov edx, 'XXXX'
        mov ecx, 20
        mov di, e820_buf
        int 0x15
        CHECK c, "E820 with EDX != 534D4150h: CF clear"
        ret

test_bda:
        int 0x12
        cmp ax, 636
        CHECK e, "INT 12h: base memory is not 636 KiB"
        cmp word [0x413], 636
        CHECK e, "BDA 413h is not 636"
        int 0x11
        test ax, 2
        CHECK nz, "INT 11h: no x87 bit"
        and ax, 0x30
        cmp ax, 0x20
        CHECK e, "INT 11h: initial video mode bits are not 80x25 colour"
        cmp word [0x40E], 0x9F00
        CHECK e, "BDA 40Eh: EBDA segment is not 9F00h"
        push es
        mov ax, 0x9F00
        mov es, ax
        cmp byte [es:0], 4
        pop es
        CHECK e, "EBDA byte 0 (size in KiB) is not 4"
        mov al, [0x475]
        cmp al, [disk_count]
        CHECK e, "BDA 475h disagrees with AH=08h's disk count"
        cmp word [0x400], 0x3F8
        CHECK e, "BDA 400h: COM1 is not 3F8h"
        cmp byte [0x449], 3
        CHECK e, "BDA 449h: video mode is not 3"
        cmp word [0x44A], 80
        CHECK e, "BDA 44Ah: columns is not 80"
        ret

; ============================================================== time

test_time:
        mov ah, 0x00
        int 0x1A
        mov [.t0], dx
        mov [.t0 + 2], cx
        ; five HLTs: each one sleeps until an interrupt (at least the tick)
        mov cx, 5
.sleep:
        sti
        hlt
        loop .sleep
        mov ah, 0x00
        int 0x1A
        shl ecx, 16
        mov cx, dx
        sub ecx, [.t0]
        MSG "    ticks after 5 HLTs: +"
        mov eax, ecx
        call print_dec
        MSG 13, 10
        cmp ecx, 3
        CHECK ae, "tick count (INT 1Ah AH=00h) advanced by less than 3 in 5 HLTs"
        cmp ecx, 100
        CHECK b, "tick count jumped by 100 or more"
        ; INT 15h AH=86h: 110 ms is at least two ticks of 55 ms
        mov ah, 0x00
        int 0x1A
        mov [.t0], dx
        mov [.t0 + 2], cx
        mov ah, 0x86
        mov cx, 110000 >> 16
        mov dx, 110000 & 0xFFFF
        int 0x15
        CHECK nc, "INT 15h AH=86h: CF set"
        mov ah, 0x00
        int 0x1A
        shl ecx, 16
        mov cx, dx
        sub ecx, [.t0]
        MSG "    ticks during a 110 ms wait: +"
        mov eax, ecx
        call print_dec
        MSG 13, 10
        cmp ecx, 1
        CHECK ae, "INT 15h AH=86h 110 ms: not even one tick passed"
        cmp ecx, 10
        CHECK b, "INT 15h AH=86h 110 ms took more than 10 ticks"
        ; RTC time and date in BCD
        mov ah, 0x02
        int 0x1A
        CHECK nc, "INT 1Ah AH=02h: CF set"
        MSG "    RTC "
        mov al, ch
        call print_hex8
        mov al, ':'
        call print_char
        mov al, cl
        call print_hex8
        mov al, ':'
        call print_char
        mov al, dh
        call print_hex8
        mov al, ch
        call check_bcd
        cmp ch, 0x23
        CHECK be, "RTC hours not BCD 00-23"
        mov al, cl
        call check_bcd
        cmp cl, 0x59
        CHECK be, "RTC minutes not BCD 00-59"
        mov ah, 0x04
        int 0x1A
        CHECK nc, "INT 1Ah AH=04h: CF set"
        mov al, ' '
        call print_char
        mov al, ch
        call print_hex8
        mov al, cl
        call print_hex8
        mov al, '-'
        call print_char
        mov al, dh
        call print_hex8
        mov al, '-'
        call print_char
        mov al, dl
        call print_hex8
        MSG 13, 10
        cmp ch, 0x19
        CHECK ae, "RTC century below 19"
        cmp ch, 0x21
        CHECK be, "RTC century above 21"
        cmp dh, 0x12
        CHECK be, "RTC month above 12"
        cmp dh, 0x01
        CHECK ae, "RTC month 0"
        ret
.t0:    dd 0

check_bcd:                              ; AL must be BCD
        push ax
        mov ah, al
        and al, 0x0F
        cmp al, 9
        CHECK be, "not a BCD value"
        shr ah, 4
        cmp ah, 9
        CHECK be, "not a BCD value"
        pop ax
        ret

; ============================================================== PCI

test_pci:
        mov ax, 0xB101
        xor edi, edi
        int 0x1A
        CHECK nc, "B101h: CF set"
        cmp edx, 0x20494350
        CHECK e, "B101h: EDX is not 'PCI '"
        cmp ah, 0
        CHECK e, "B101h: AH is not 0"
        test al, 1
        CHECK nz, "B101h: configuration mechanism #1 not reported"
        ; the PIIX3 ISA bridge at 00:01.0
        mov ax, 0xB102
        mov cx, 0x7000
        mov dx, 0x8086
        xor si, si
        int 0x1A
        CHECK nc, "B102h 8086:7000 (PIIX3): not found"
        cmp bx, 0x0008
        CHECK e, "B102h: PIIX3 is not at 00:01.0"
        ; its PIRQ routing registers
        mov ax, 0xB10A
        mov di, 0x60
        int 0x1A
        cmp ecx, 0x0B0B0A0A
        CHECK e, "PIIX3 PIRQA-D (60h-63h) are not routed to IRQ 10, 10, 11, 11"
        ; the IDE controller by class code
        mov ax, 0xB103
        mov ecx, 0x010180
        xor si, si
        int 0x1A
        CHECK nc, "B103h class 010180h (IDE): not found"
        cmp bx, 0x0009
        CHECK e, "B103h: IDE is not at 00:01.1"
        ; errors
        mov ax, 0xB102
        mov cx, 0x1234
        mov dx, 0xFFFF
        xor si, si
        int 0x1A
        CHECK c, "B102h vendor FFFFh: CF clear"
        cmp ah, 0x83
        CHECK e, "B102h vendor FFFFh: AH is not 83h"
        mov ax, 0xB102
        mov cx, 0xDEAD
        mov dx, 0x1234
        xor si, si
        int 0x1A
        CHECK c, "B102h for a missing device: CF clear"
        cmp ah, 0x86
        CHECK e, "B102h for a missing device: AH is not 86h"
        mov ax, 0xB109
        mov bx, 0x0008
        mov di, 0x01
        int 0x1A
        CHECK c, "B109h at an odd register: CF clear"
        ; the e1000, if there is one
        mov ax, 0xB102
        mov cx, 0x100E
        mov dx, 0x8086
        xor si, si
        int 0x1A
        jnc .e1000
        MSGLN "    (no e1000 8086:100E: BAR checks skipped)"
        ret
.e1000:
        mov [.bdf], bx
        MSG "    e1000 at 00:"
        mov al, bl
        shr al, 3
        call print_hex8
        MSG ".0 BAR0 "
        mov ax, 0xB10A
        mov bx, [.bdf]
        mov di, 0x10
        int 0x1A
        mov eax, ecx
        call print_hex32
        and ecx, 0xFFFFFFF0
        cmp ecx, 0xE0000000
        CHECK ae, "e1000 BAR0 below E0000000h"
        cmp ecx, 0xFEC00000
        CHECK b, "e1000 BAR0 at or above the IOAPIC"
        test ecx, 0x1FFFF
        CHECK z, "e1000 BAR0 (128 KiB) not naturally aligned"
        MSG " BAR1 "
        mov ax, 0xB10A
        mov bx, [.bdf]
        mov di, 0x14
        int 0x1A
        mov eax, ecx
        call print_hex32
        test cl, 1
        CHECK nz, "e1000 BAR1 is not an I/O BAR"
        and ecx, 0xFFFC
        cmp ecx, 0xC000
        CHECK ae, "e1000 BAR1 below C000h"
        MSG " IRQ "
        mov ax, 0xB108
        mov bx, [.bdf]
        mov di, 0x3C
        int 0x1A
        movzx eax, cl
        call print_dec
        MSG 13, 10
        cmp cl, 10
        je .irq_ok
        cmp cl, 11
.irq_ok:
        CHECK e, "e1000 interrupt line is not 10 or 11"
        mov ax, 0xB109
        mov bx, [.bdf]
        mov di, 0x04
        int 0x1A
        and cx, 7
        cmp cx, 7
        CHECK e, "e1000 command register: I/O, memory, bus master not all on"
        ret
.bdf:   dw 0

; ============================================================== keyboard

; wait_key: up to CX ticks for INT 16h AH=01h to report a key -> ZF = 0, AX
wait_key:
        push dx
        push bx
        push cx
        mov ah, 0x00
        int 0x1A
        mov bx, dx
        pop cx
.poll:
        mov ah, 0x01
        int 0x16
        jnz .got
        sti
        hlt
        push cx
        mov ah, 0x00
        int 0x1A
        pop cx
        sub dx, bx
        cmp dx, cx
        jb .poll
        xor ax, ax                      ; ZF = 1: nothing
.got:
        pop bx
        pop dx
        ret

; kbc_inject: AL = a byte the 8042 presents as if the keyboard sent it
; (controller command D2h, "write keyboard output buffer") -> IRQ 1
kbc_inject:
        push ax
        push cx
        mov ah, al
        mov cx, 0xFFFF
.w1:    in al, 0x64
        test al, 2
        loopnz .w1
        mov al, 0xD2
        out 0x64, al
        mov cx, 0xFFFF
.w2:    in al, 0x64
        test al, 2
        loopnz .w2
        mov al, ah
        out 0x60, al
        pop cx
        pop ax
        ret

test_keyboard:
        ; drain anything typed so far
.drain:
        mov ah, 0x01
        int 0x16
        jz .drained
        mov ah, 0x00
        int 0x16
        jmp .drain
.drained:
        ; 05h stores a key; 01h sees it and keeps it; 00h takes it
        mov ah, 0x05
        mov cx, 0x2C7A
        int 0x16
        cmp al, 0
        CHECK e, "AH=05h: AL is not 0 (stored)"
        mov ah, 0x01
        int 0x16
        CHECK nz, "AH=01h: no key after AH=05h"
        cmp ax, 0x2C7A
        CHECK e, "AH=01h: not the stored key 2C7Ah"
        mov ah, 0x00
        int 0x16
        cmp ax, 0x2C7A
        CHECK e, "AH=00h: not the stored key 2C7Ah"
        mov ah, 0x01
        int 0x16
        CHECK z, "AH=01h: the buffer is not empty after AH=00h"
        ; the IRQ 1 path: scancodes through the 8042
        mov al, 0x1E                    ; 'a' pressed
        call kbc_inject
        mov cx, 9
        call wait_key
        CHECK nz, "no key after scancode 1Eh through the 8042 (IRQ 1)"
        mov ah, 0x00
        int 0x16
        cmp ax, 0x1E61
        CHECK e, "scancode 1Eh did not give 1E61h ('a')"
        mov al, 0x9E                    ; 'a' released
        call kbc_inject
        mov al, 0x2A                    ; left shift pressed
        call kbc_inject
        mov al, 0x30                    ; 'b' pressed
        call kbc_inject
        mov cx, 9
        call wait_key
        CHECK nz, "no key after Shift + scancode 30h"
        mov ah, 0x02
        int 0x16
        test al, 0x02
        CHECK nz, "AH=02h: left shift not held"
        mov ah, 0x10
        int 0x16
        cmp ax, 0x3042
        CHECK e, "Shift + 30h did not give 3042h ('B')"
        mov al, 0xB0
        call kbc_inject
        mov al, 0xAA                    ; left shift released
        call kbc_inject
        mov cx, 2
        call wait_key                   ; (let the IRQs run)
        mov ah, 0x02
        int 0x16
        test al, 0x02
        CHECK z, "AH=02h: left shift still held after its release"
        ; COM1 input, if anyone types (the run script sends "hv")
        MSGLN "    waiting 5 s for 'hv' on COM1..."
        mov cx, 91
        call wait_key
        jnz .typed
        MSGLN "    (nothing typed on COM1: serial input check skipped)"
        ret
.typed:
        mov ah, 0x00
        int 0x16
        cmp ax, 0x2368
        CHECK e, "COM1 'h' did not arrive as key 2368h"
        mov cx, 18
        call wait_key
        CHECK nz, "COM1: no second key"
        mov ah, 0x00
        int 0x16
        cmp ax, 0x2F76
        CHECK e, "COM1 'v' did not arrive as key 2F76h"
        ret

; ============================================================== INT 15h

test_int15_misc:
        mov ax, 0x2402
        int 0x15
        CHECK nc, "AX=2402h: CF set"
        cmp al, 1
        CHECK e, "AX=2402h: A20 is not on"
        ; A20 really on: 0x100500 is not 0x000500
        push es
        mov ax, 0xFFFF
        mov es, ax
        mov byte [0x500], 0x11
        mov byte [es:0x510], 0x22
        cmp byte [0x500], 0x11
        pop es
        CHECK e, "A20: memory wraps at 1 MiB"
        ; 2400h closes the gate: 0x100500 is 0x000500 again; 2401h opens it
        mov ax, 0x2400
        int 0x15
        CHECK nc, "AX=2400h: CF set"
        push es
        mov ax, 0xFFFF
        mov es, ax
        mov byte [0x500], 0x11
        mov byte [es:0x510], 0x33
        cmp byte [0x500], 0x33
        pop es
        CHECK e, "AX=2400h: memory does not wrap at 1 MiB with A20 off"
        mov ax, 0x2402
        int 0x15
        cmp al, 0
        CHECK e, "AX=2402h: A20 not reported off after 2400h"
        mov ax, 0x2401
        int 0x15
        CHECK nc, "AX=2401h: CF set"
        push es
        mov ax, 0xFFFF
        mov es, ax
        mov byte [0x500], 0x11
        mov byte [es:0x510], 0x44
        cmp byte [0x500], 0x11
        pop es
        CHECK e, "AX=2401h: memory still wraps at 1 MiB"
        mov ax, 0x2403
        int 0x15
        CHECK nc, "AX=2403h: CF set"
        cmp bx, 3
        CHECK e, "AX=2403h: BX is not 3"
        push es
        mov ah, 0xC0
        int 0x15
        CHECK nc, "AH=C0h: CF set"
        cmp byte [es:bx + 2], 0xFC
        CHECK e, "AH=C0h: model byte is not FCh"
        mov ah, 0xC1
        int 0x15
        mov ax, es
        pop es
        cmp ax, 0x9F00
        CHECK e, "AH=C1h: ES is not the EBDA"
        mov ah, 0x87
        int 0x15
        CHECK c, "AH=87h: CF clear (it is not implemented)"
        cmp ah, 0x86
        CHECK e, "AH=87h: AH is not 86h"
        ret

; ============================================================== MP

; find_in_fseg: EAX = signature -> ES:DI = the first 16-byte aligned match
; in F000:0000-FFF0, CF = 1 if none
find_in_fseg:
        mov di, 0xF000
        mov es, di
        xor di, di
.next:
        cmp [es:di], eax
        je .found
        add di, 16
        jnz .next
        stc
        ret
.found:
        clc
        ret

; es_sum: AL = sum of CX bytes at ES:DI
es_sum:
        push cx
        push di
        xor al, al
.s:     add al, [es:di]
        inc di
        loop .s
        pop di
        pop cx
        ret

; phys_to_esdi: EAX = physical address below 1 MiB -> ES:DI
phys_to_esdi:
        push eax
        mov di, ax
        and di, 0x0F
        shr eax, 4
        mov es, ax
        pop eax
        ret

test_mp:
        push es
        mov eax, '_MP_'
        call find_in_fseg
        CHECK nc, "no _MP_ floating pointer in F000h"
        jc .out
        mov cx, 16
        call es_sum
        cmp al, 0
        CHECK e, "MP floating pointer checksum"
        cmp byte [es:di + 9], 4
        CHECK e, "MP floating pointer: revision is not 1.4"
        mov eax, [es:di + 4]
        call phys_to_esdi
        cmp dword [es:di], 'PCMP'
        CHECK e, "no PCMP configuration table"
        mov cx, [es:di + 4]
        call es_sum
        cmp al, 0
        CHECK e, "MP configuration table checksum"
        cmp dword [es:di + 36], 0xFEE00000
        CHECK e, "MP: local APIC address is not FEE00000h"
        ; walk the entries
        mov cx, [es:di + 34]
        add di, 44
        xor bx, bx                      ; BL = CPUs, BH = IOAPICs
        xor dx, dx                      ; DL = ExtINT entries, DH = IRQ0->pin2
.entry:
        test cx, cx
        jz .walked
        mov al, [es:di]
        cmp al, 0
        jne .not_cpu
        inc bl
        add di, 20
        jmp .entry_next
.not_cpu:
        cmp al, 2
        jne .not_ioapic
        inc bh
        cmp dword [es:di + 4], 0xFEC00000
        CHECK e, "MP: IOAPIC address is not FEC00000h"
.not_ioapic:
        cmp al, 3
        jne .not_int
        cmp byte [es:di + 1], 3
        jne .not_extint
        inc dl
.not_extint:
        cmp byte [es:di + 1], 0
        jne .not_int
        cmp byte [es:di + 4], 1         ; ISA bus
        jne .not_int
        cmp byte [es:di + 5], 0         ; IRQ 0
        jne .not_int
        cmp byte [es:di + 7], 2         ; -> pin 2
        jne .not_int
        inc dh
.not_int:
        add di, 8
.entry_next:
        dec cx
        jmp .entry
.walked:
        MSG "    MP: "
        movzx eax, bl
        mov [mp_cpus], ax
        call print_dec
        MSG " CPU(s), "
        movzx eax, bh
        call print_dec
        MSGLN " IOAPIC"
        cmp bl, 1
        CHECK ae, "MP: no processor entry"
        cmp bh, 1
        CHECK e, "MP: not exactly one IOAPIC"
        cmp dl, 1
        CHECK ae, "MP: no ExtINT entry"
        cmp dh, 1
        CHECK e, "MP: ISA IRQ 0 is not on IOAPIC pin 2"
.out:
        pop es
        ret

; ============================================================== ACPI

; check_acpi_table: EAX = physical address -> ES:DI, CF = 1 + message if
; the checksum is wrong; prints the signature
check_acpi_table:
        call phys_to_esdi
        MSG " "
        push ax
        mov al, [es:di]
        call print_char
        mov al, [es:di + 1]
        call print_char
        mov al, [es:di + 2]
        call print_char
        mov al, [es:di + 3]
        call print_char
        pop ax
        mov cx, [es:di + 4]
        call es_sum
        cmp al, 0
        je .ok
        MSG "(bad checksum)"
        stc
        ret
.ok:
        clc
        ret

test_acpi:
        push es
        mov eax, 'RSD '
        call find_in_fseg
        jc .no_rsdp
        cmp dword [es:di + 4], 'PTR '
        je .rsdp
.no_rsdp:
        MSGLN "    failed: no RSD PTR in F000h"
        mov byte [group_failed], 1
        jmp .out
.rsdp:
        mov cx, 20
        call es_sum
        cmp al, 0
        CHECK e, "RSDP checksum"
        MSG "    ACPI:"
        mov eax, [es:di + 16]
        call check_acpi_table
        CHECK nc, "RSDT checksum"
        cmp dword [es:di], 'RSDT'
        CHECK e, "the RSDP does not point to an RSDT"
        mov cx, [es:di + 4]
        sub cx, 36
        shr cx, 2                       ; entries
        mov [.entries], cx
        mov [.rsdt], di
        mov [.rsdt + 2], es
        xor bp, bp                      ; bit 0 FACP, bit 1 APIC, bit 2 DSDT
.table:
        cmp word [.entries], 0
        je .tables_done
        les di, [.rsdt]
        mov eax, [es:di + 36]
        add word [.rsdt], 4
        dec word [.entries]
        call check_acpi_table
        CHECK nc, "table checksum"
        cmp dword [es:di], 'FACP'
        jne .not_fadt
        or bp, 1
        mov eax, [es:di + 40]           ; the DSDT
        push es
        push di
        call check_acpi_table
        CHECK nc, "DSDT checksum"
        cmp dword [es:di], 'DSDT'
        CHECK e, "FADT does not point to a DSDT"
        pop di
        pop es
        mov eax, [es:di + 36]           ; the FACS
        test al, 0x3F
        CHECK z, "the FACS is not 64-byte aligned"
        push es
        push di
        call phys_to_esdi
        cmp dword [es:di], 'FACS'
        CHECK e, "FADT does not point to a FACS"
        pop di
        pop es
        or bp, 4
        jmp .table
.not_fadt:
        cmp dword [es:di], 'APIC'
        jne .table
        or bp, 2
        ; count the processor local APIC entries
        mov cx, [es:di + 4]
        add cx, di                      ; end
        add di, 44
        xor bx, bx
.madt:
        cmp di, cx
        jae .madt_done
        cmp byte [es:di], 0
        jne .madt_next
        inc bx
.madt_next:
        movzx ax, byte [es:di + 1]
        test ax, ax
        jz .madt_done
        add di, ax
        jmp .madt
.madt_done:
        mov [.madt_cpus], bx
        jmp .table
.tables_done:
        MSG 13, 10
        test bp, 1
        CHECK nz, "no FACP (FADT) in the RSDT"
        test bp, 2
        CHECK nz, "no APIC (MADT) in the RSDT"
        test bp, 4
        CHECK nz, "no DSDT"
        mov ax, [.madt_cpus]
        cmp ax, [mp_cpus]
        CHECK e, "the MADT and the MP table list different numbers of CPUs"
.out:
        pop es
        ret
.entries:   dw 0
.rsdt:      dd 0
.madt_cpus: dw 0

; ============================================================== disk 81h

test_second_disk:
        cmp byte [disk_count], 2
        jae .present
        MSGLN "    (no drive 81h: skipped)"
        ret
.present:
        mov byte [ext_drive], 0x81
        mov dl, 0x81
        call get_edd
        CHECK nc, "AH=48h on 81h: CF set"
        MSG "    81h: "
        mov eax, [edd_buf + 0x10]
        mov edx, [edd_buf + 0x14]
        mov [.sectors], eax
        mov [.sectors + 4], edx
        shrd eax, edx, 11
        call print_dec
        MSG " MiB, CHS "
        mov ah, 0x08
        mov dl, 0x81
        int 0x13
        CHECK nc, "AH=08h on 81h: CF set"
        movzx ax, cl
        shl ax, 2
        mov al, ch
        inc ax
        movzx eax, ax
        mov [.cyls], ax
        call print_dec
        mov al, '/'
        call print_char
        movzx eax, dh
        inc ax
        mov [.heads], ax
        call print_dec
        mov al, '/'
        call print_char
        movzx eax, cl
        and al, 0x3F
        call print_dec
        MSG 13, 10
        ; the heads the BIOS should have chosen (16, 32, 64, 128, 255)
        mov eax, [.sectors]
        cmp dword [.sectors + 4], 0
        je .small
        mov eax, 0xFFFFFFFF
.small:
        mov bx, 16
.heads_loop:
        cmp bx, 255
        jae .heads_done
        movzx ecx, bx
        imul ecx, ecx, 63 * 1024
        cmp eax, ecx
        jbe .heads_done
        shl bx, 1
        cmp bx, 256
        jb .heads_loop
        mov bx, 255
.heads_done:
        cmp bx, [.heads]
        CHECK e, "81h: AH=08h heads are not what LBA-assisted translation gives"
        ; LBA 0 and the last sector carry markers
        mov eax, 0
        xor edx, edx
        call .read_one
        mov si, .marker0
        call .compare
        CHECK e, "81h LBA 0 does not start with 'hvlab data disk'"
        mov eax, [.sectors]
        mov edx, [.sectors + 4]
        sub eax, 1
        sbb edx, 0
        call .read_one
        mov si, .marker_last
        call .compare
        CHECK e, "81h last sector does not start with 'hvlab last sector'"
        ; beyond 2^28 sectors: LBA48
        cmp dword [.sectors + 4], 0
        jne .big
        cmp dword [.sectors], 0x10000040
        jae .big
        MSGLN "    (81h is smaller than 128 GiB: LBA48 checks skipped)"
        jmp .done
.big:
        mov eax, 0x10000010
        xor edx, edx
        call .read_one
        mov si, .marker48
        call .compare
        CHECK e, "81h LBA 10000010h does not start with 'hvlab lba48 sector'"
        ; write LBA 10000020h and read it back
        mov al, 0x77
        mov cx, 512
        call fill_buf2
        mov byte [dap], 0x10
        mov word [dap + 2], 1
        mov word [dap + 4], 0
        mov word [dap + 6], BUF2_SEG
        mov dword [dap + 8], 0x10000020
        mov dword [dap + 12], 0
        mov ah, 0x43
        call ext_io_packet
        CHECK nc, "AH=43h on 81h at LBA 10000020h: CF set"
        call clear_buf3
        mov byte [dap], 0x10
        mov word [dap + 2], 1
        mov word [dap + 4], 0
        mov word [dap + 6], BUF3_SEG
        mov dword [dap + 8], 0x10000020
        mov ah, 0x42
        call ext_io_packet
        CHECK nc, "AH=42h on 81h at LBA 10000020h: CF set"
        mov cx, 512
        call compare_bufs
        CHECK e, "81h LBA 10000020h: the data read back differs"
.done:
        mov byte [ext_drive], 0x80
        ret
; .read_one: EDX:EAX = LBA on 81h -> BUF_SEG:0
.read_one:
        mov byte [dap], 0x10
        mov word [dap + 2], 1
        mov word [dap + 4], 0
        mov word [dap + 6], BUF_SEG
        mov [dap + 8], eax
        mov [dap + 12], edx
        mov ah, 0x42
        call ext_io_packet
        CHECK nc, "AH=42h on 81h: CF set"
        ret
; .compare: DS:SI marker (NUL-terminated) vs BUF_SEG:0 -> ZF
.compare:
        push es
        mov di, BUF_SEG
        mov es, di
        xor di, di
.cmp:
        lodsb
        test al, al
        jz .same
        cmp al, [es:di]
        jne .differ
        inc di
        jmp .cmp
.same:
        cmp al, al
.differ:
        pop es
        ret
.sectors:   dq 0
.cyls:      dw 0
.heads:     dw 0
.marker0:   db "hvlab data disk", 0
.marker_last: db "hvlab last sector", 0
.marker48:  db "hvlab lba48 sector", 0

        times PATTERN_FIRST * 512 - ($ - $$) db 0

; ============================================================ test data
; dword i of sector n = n << 16 | i

%assign lba PATTERN_FIRST
%rep PATTERN_END - PATTERN_FIRST
%assign i (lba << 16)
%rep 16
        dd i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7
%assign i i + 8
%endrep
%assign lba lba + 1
%endrep

        times DISK_SECTORS * 512 - ($ - $$) db 0
