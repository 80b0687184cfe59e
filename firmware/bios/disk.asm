; disk.asm - INT 13h, the disk services, on the ATA disks of ata.asm.
;
; Drive numbers: 80h, 81h, ... are the ATA disks in the order they were
; found (primary master, primary slave, secondary master, secondary slave).
; There are no floppy drives: DL < 80h answers "no such drive", except
; reset (success) and AH=15h (AH = 0: not present).
;
;   00h reset                 01h status of the last operation
;   02h read, 03h write       CHS: CH = cylinder 7:0, CL bits 7:6 = cylinder
;                             9:8, CL bits 5:0 = sector (1-based), DH = head,
;                             AL = count, ES:BX = buffer -> AL = transferred
;   04h verify (CHS)          05h format: not supported
;   08h drive parameters      CH/CL = last cylinder and sectors per track,
;                             DH = last head, DL = number of disks
;   09h, 0Ch, 0Dh, 10h, 11h, 14h  (init, seek, reset, ready, recalibrate,
;                             diagnostics): nothing to do, success
;   15h disk type             AH = 03h (fixed disk), CX:DX = sectors
;   41h extensions check      BX = 55AAh -> BX = AA55h, AH = 30h (EDD 3.0),
;                             CX = 0005h (extended access, EDD)
;   42h/43h extended read/write with the disk address packet at DS:SI:
;                             byte size (10h or 18h), byte 0, word count
;                             (<= 127), dword buffer (offset:segment),
;                             qword LBA; count is updated with what was done
;   44h verify, 47h seek      (range check only)
;   48h drive parameters      the EDD 3.0 result buffer at DS:SI (1Ah, 1Eh
;                             or 42h bytes, by the size the caller gives)
; On error CF = 1 and AH = the status: 01h bad command/parameter, 03h write
; protected, 04h sector not found, 10h read error, 20h controller failure,
; 80h timeout.  BDA 0x474 keeps the last status.
;
; CHS addresses are translated with the logical geometry of AH=08h:
;   LBA = (cylinder * heads + head) * sectors_per_track + sector - 1

        bits 16

int13_handler:
        HANDLER_ENTER
        sti                             ; transfers take a while: let the
                                        ;   timer tick meanwhile
        mov ax, BDA_SEG
        mov ds, ax
        mov fs, [BDA_EBDA_SEG]
        mov ah, [bp + R_AH]
        mov dl, [bp + R_DL]
        cmp dl, 0x80
        jb .no_such_drive
        movzx si, dl
        sub si, 0x80
        movzx di, byte [fs:EB_DRIVE_COUNT]
        cmp si, di
        jae .no_such_drive
        shl si, 5                       ; * DRV_SIZE
        add si, EB_DRIVES               ; FS:SI = the drive record
        ; dispatch on AH
        movzx bx, ah
        cmp bx, 0x15
        ja .extended
        shl bx, 1
        jmp [cs:int13_table + bx]
.extended:
        cmp ah, 0x41
        jb disk_bad_command
        cmp ah, 0x48
        ja disk_bad_command
        sub bx, 0x41
        shl bx, 1
        jmp [cs:int13_ext_table + bx]
.no_such_drive:
        cmp ah, 0x00
        je disk_success                 ; reset: nothing to reset
        cmp ah, 0x15
        jne disk_bad_command
        mov byte [bp + R_AH], 0         ; type: no such drive
        CLEAR_CF
        jmp disk_done

int13_table:
        dw disk_reset                   ; 00h reset
        dw disk_status                  ; 01h
        dw disk_read_chs                ; 02h
        dw disk_write_chs               ; 03h
        dw disk_verify_chs              ; 04h
        dw disk_bad_command             ; 05h format track
        dw disk_bad_command             ; 06h
        dw disk_bad_command             ; 07h
        dw disk_parameters              ; 08h
        dw disk_success                 ; 09h initialise drive parameters
        dw disk_bad_command             ; 0Ah read long
        dw disk_bad_command             ; 0Bh write long
        dw disk_success                 ; 0Ch seek
        dw disk_reset                   ; 0Dh alternate reset
        dw disk_bad_command             ; 0Eh
        dw disk_bad_command             ; 0Fh
        dw disk_success                 ; 10h test drive ready
        dw disk_success                 ; 11h recalibrate
        dw disk_bad_command             ; 12h
        dw disk_bad_command             ; 13h
        dw disk_success                 ; 14h controller diagnostic
        dw disk_type                    ; 15h

int13_ext_table:
        dw disk_ext_check               ; 41h
        dw disk_ext_read                ; 42h
        dw disk_ext_write               ; 43h
        dw disk_ext_verify              ; 44h
        dw disk_bad_command             ; 45h lock/unlock (removable only)
        dw disk_bad_command             ; 46h eject (removable only)
        dw disk_ext_verify              ; 47h seek: range check only
        dw disk_ext_parameters          ; 48h

; --- common exits: AL = status -> AH, BDA, CF
disk_success:
        mov al, DISK_OK
disk_return:
        mov [bp + R_AH], al
        mov [BDA_DISK_STATUS], al
        test al, al
        jnz .error
        CLEAR_CF
        jmp disk_done
.error:
        SET_CF
disk_done:
        HANDLER_LEAVE
disk_bad_command:
        mov al, DISK_EPARAM
        jmp disk_return

disk_status:
        mov al, [BDA_DISK_STATUS]
        jmp disk_return

disk_reset:
        call ata_reset_channel
        mov al, DISK_OK
        jnc disk_return
        mov al, DISK_ERESET
        jmp disk_return

; chs_to_lba: the CHS address in the frame (CH, CL, DH) -> EAX = LBA;
; CF = 1 if it is outside the logical geometry.
chs_to_lba:
        push ebx
        push ecx
        push edx
        mov cl, [bp + R_CL]
        movzx ebx, cl
        and bl, 0x3F                    ; EBX = sector (1-based)
        jz .bad
        cmp bl, [fs:si + DRV_SPT]
        ja .bad
        movzx eax, byte [bp + R_CH]
        shr cl, 6
        mov ah, cl                      ; EAX = cylinder (10 bits)
        cmp ax, [fs:si + DRV_CYLS]
        jae .bad
        movzx edx, byte [bp + R_DH]     ; EDX = head
        cmp dl, [fs:si + DRV_HEADS]
        jae .bad
        movzx ecx, byte [fs:si + DRV_HEADS]
        imul eax, ecx                   ; cylinder * heads
        add eax, edx                    ;   + head
        movzx ecx, byte [fs:si + DRV_SPT]
        imul eax, ecx                   ;   * sectors per track
        add eax, ebx                    ;   + sector - 1
        dec eax
        clc
        jmp .out
.bad:
        stc
.out:
        pop edx
        pop ecx
        pop ebx
        ret

; check_range: is [EB_REQ_LBA, EB_REQ_LBA + EB_REQ_COUNT) on the disk?
; CF = 1 if not.
check_range:
        push eax
        push edx
        movzx eax, word [fs:EB_REQ_COUNT]
        xor edx, edx
        add eax, [fs:EB_REQ_LBA]
        adc edx, [fs:EB_REQ_LBA + 4]    ; EDX:EAX = end of the request
        cmp edx, [fs:si + DRV_SECTORS + 4]
        ja .outside
        jb .inside
        cmp eax, [fs:si + DRV_SECTORS]
        ja .outside
.inside:
        clc
        jmp .out
.outside:
        stc
.out:
        pop edx
        pop eax
        ret

; set_buffer: AX = segment, BX = offset -> EB_REQ_BUF_*, normalised so the
; offset is 0..15 (then 512-byte steps only change the segment, and a
; buffer may cross 64 KiB boundaries).
set_buffer:
        push ax
        push bx
        push cx
        mov cx, bx
        shr cx, 4
        add ax, cx
        and bx, 0x000F
        mov [fs:EB_REQ_BUF_SEG], ax
        mov [fs:EB_REQ_BUF_OFF], bx
        pop cx
        pop bx
        pop ax
        ret

disk_read_chs:
        mov byte [fs:EB_REQ_WRITE], 0
        jmp disk_chs_transfer
disk_write_chs:
        mov byte [fs:EB_REQ_WRITE], 1
disk_chs_transfer:
        movzx ax, byte [bp + R_AL]
        mov byte [bp + R_AL], 0         ; nothing transferred yet
        test ax, ax
        jz disk_bad_command
        mov [fs:EB_REQ_COUNT], ax
        call chs_to_lba
        jc disk_not_found
        mov [fs:EB_REQ_LBA], eax
        mov dword [fs:EB_REQ_LBA + 4], 0
        call check_range
        jc disk_not_found
        mov ax, [bp + R_ES]
        mov bx, [bp + R_BX]
        call set_buffer
        call ata_rw
        mov ah, [fs:EB_REQ_DONE]
        mov [bp + R_AL], ah
        jmp disk_return

disk_verify_chs:
        movzx ax, byte [bp + R_AL]
        test ax, ax
        jz disk_bad_command
        mov [fs:EB_REQ_COUNT], ax
        call chs_to_lba
        jc disk_not_found
        mov [fs:EB_REQ_LBA], eax
        mov dword [fs:EB_REQ_LBA + 4], 0
        call check_range
        jc disk_not_found
        jmp disk_success

disk_not_found:
        mov al, DISK_ENOTFOUND
        jmp disk_return

disk_parameters:
        mov ax, [fs:si + DRV_CYLS]
        dec ax                          ; last cylinder (0-based)
        mov [bp + R_CH], al
        shl ah, 6                       ; cylinder bits 9:8 -> CL bits 7:6
        or ah, [fs:si + DRV_SPT]
        mov [bp + R_CL], ah
        mov al, [fs:si + DRV_HEADS]
        dec al
        mov [bp + R_DH], al             ; last head
        mov al, [fs:EB_DRIVE_COUNT]
        mov [bp + R_DL], al
        mov byte [bp + R_AL], 0
        jmp disk_success

disk_type:
        movzx eax, word [fs:si + DRV_CYLS]
        movzx ecx, byte [fs:si + DRV_HEADS]
        imul eax, ecx
        movzx ecx, byte [fs:si + DRV_SPT]
        imul eax, ecx                   ; sectors the CHS geometry covers
        mov [bp + R_DX], ax
        shr eax, 16
        mov [bp + R_CX], ax
        mov byte [bp + R_AH], 0x03      ; fixed disk
        mov byte [BDA_DISK_STATUS], 0
        CLEAR_CF
        jmp disk_done

disk_ext_check:
        cmp word [bp + R_BX], 0x55AA
        jne disk_bad_command
        mov word [bp + R_BX], 0xAA55
        mov byte [bp + R_AH], 0x30      ; EDD version 3.0
        mov word [bp + R_CX], 0x0005    ; bit 0: 42h-44h, 47h, 48h; bit 2: EDD
        mov byte [BDA_DISK_STATUS], 0
        CLEAR_CF
        jmp disk_done

; read_packet: the disk address packet at the caller's DS:SI -> the
; request in the EBDA.  ES:DI = the packet afterwards.  CF = 1 if it is
; malformed (too small, count > 127, a 64-bit flat buffer address).
read_packet:
        mov es, [bp + R_DS]
        mov di, [bp + R_SI]
        cmp byte [es:di], 0x10
        jb .bad
        mov ax, [es:di + 2]
        cmp ax, 127
        ja .bad
        mov [fs:EB_REQ_COUNT], ax
        cmp dword [es:di + 4], 0xFFFFFFFF
        je .bad                         ; "use the 64-bit address at +10h"
        mov eax, [es:di + 8]
        mov [fs:EB_REQ_LBA], eax
        mov eax, [es:di + 12]
        mov [fs:EB_REQ_LBA + 4], eax
        push bx
        mov ax, [es:di + 6]
        mov bx, [es:di + 4]
        call set_buffer
        pop bx
        clc
        ret
.bad:
        stc
        ret

disk_ext_read:
        mov byte [fs:EB_REQ_WRITE], 0
        jmp disk_ext_transfer
disk_ext_write:
        mov byte [fs:EB_REQ_WRITE], 1
disk_ext_transfer:
        call read_packet
        jc .bad_packet
        mov word [es:di + 2], 0         ; nothing transferred yet
        call check_range
        jc disk_not_found
        cmp word [fs:EB_REQ_COUNT], 0
        je disk_success
        call ata_rw
        mov es, [bp + R_DS]
        mov di, [bp + R_SI]
        mov dx, [fs:EB_REQ_DONE]
        mov [es:di + 2], dx
        jmp disk_return
.bad_packet:
        jmp disk_bad_command

disk_ext_verify:
        call read_packet
        jc disk_bad_command
        call check_range
        jc disk_not_found
        jmp disk_success

; 48h: the result buffer.  Offsets: 00h size, 02h flags, 04h cylinders,
; 08h heads, 0Ch sectors per track, 10h total sectors (qword), 18h bytes
; per sector; 1Ah DPTE pointer (EDD 2.0+); 1Eh-41h device path (EDD 3.0).
disk_ext_parameters:
        mov es, [bp + R_DS]
        mov di, [bp + R_SI]
        mov ax, [es:di]
        cmp ax, 0x1A
        jb disk_bad_command
        mov bx, 0x1A
        cmp ax, 0x1E
        jb .size
        mov bx, 0x1E
        cmp ax, 0x42
        jb .size
        mov bx, 0x42
.size:
        mov [es:di], bx
        ; the default geometry from IDENTIFY is only meaningful for disks
        ; up to 16383 * 16 * 63 sectors (8.4 GB): flags bit 1 says "valid"
        mov word [es:di + 2], 0
        cmp dword [fs:si + DRV_SECTORS + 4], 0
        jne .geometry
        cmp dword [fs:si + DRV_SECTORS], 16383 * 16 * 63
        ja .geometry
        mov word [es:di + 2], 0x0002
.geometry:
        movzx eax, word [fs:si + DRV_PCYLS]
        mov [es:di + 4], eax
        movzx eax, word [fs:si + DRV_PHEADS]
        mov [es:di + 8], eax
        movzx eax, word [fs:si + DRV_PSPT]
        mov [es:di + 12], eax
        mov eax, [fs:si + DRV_SECTORS]
        mov [es:di + 16], eax
        mov eax, [fs:si + DRV_SECTORS + 4]
        mov [es:di + 20], eax
        mov word [es:di + 24], 512
        cmp bx, 0x1E
        jb disk_success
        ; DPTE pointer: EBDA segment : EB_DPTE + index * 16
        mov ax, si
        sub ax, EB_DRIVES
        shr ax, 1                       ; (index * 32) / 2 = index * 16
        add ax, EB_DPTE
        mov [es:di + 0x1A], ax
        mov [es:di + 0x1C], fs
        cmp bx, 0x42
        jb disk_success
        ; ---- EDD 3.0 device path
        mov word [es:di + 0x1E], 0xBEDD ; key
        mov byte [es:di + 0x20], 0x24   ; length of the path information
        mov byte [es:di + 0x21], 0
        mov word [es:di + 0x22], 0
        mov dword [es:di + 0x28], 'ATA '
        mov dword [es:di + 0x2C], '    '
        xor eax, eax
        mov [es:di + 0x30], eax
        mov [es:di + 0x34], eax
        mov [es:di + 0x38], eax
        mov [es:di + 0x3C], eax
        mov [es:di + 0x40], ax
        mov bx, [fs:EB_IDE_BDF]
        cmp bx, 0xFFFF
        je .isa
        mov dword [es:di + 0x24], 'PCI '
        mov [es:di + 0x30], bh          ; bus
        mov al, bl
        shr al, 3
        mov [es:di + 0x31], al          ; device ("slot")
        mov al, bl
        and al, 7
        mov [es:di + 0x32], al          ; function
        mov al, [fs:si + DRV_CHANNEL]
        mov [es:di + 0x33], al          ; channel
        jmp .device
.isa:
        mov dword [es:di + 0x24], 'ISA '
        mov ax, [fs:si + DRV_IOBASE]
        mov [es:di + 0x30], ax          ; base address
.device:
        mov al, [fs:si + DRV_SELECT]
        shr al, 4
        mov [es:di + 0x38], al          ; 0 master, 1 slave
        ; checksum: bytes 1Eh-41h sum to 0
        push di
        add di, 0x1E
        mov cx, 0x41 - 0x1E
        call checksum8
        neg al
        pop di
        mov [es:di + 0x41], al
        jmp disk_success
