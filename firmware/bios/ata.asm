; ata.asm - the ATA disk driver: PIO transfers, polled, on the two legacy
; IDE channels of the PIIX (primary 0x1F0-0x1F7 / 0x3F6, IRQ 14; secondary
; 0x170-0x177 / 0x376, IRQ 15).
;
; How a PIO command goes (ATA/ATAPI-6, "PIO data-in/data-out" protocols):
;   1. wait until the device is not busy (status bit 7, BSY = 0);
;   2. write the sector count and the LBA to the command block registers,
;      the device register (master/slave, LBA mode, LBA bits 27:24) and
;      finally the command;
;   3. for each sector: wait for BSY = 0, check ERR (bit 0) and DF (bit 5),
;      expect DRQ (bit 3), then move 256 words through the data register
;      (REP INSW / REP OUTSW);
;   4. after a write: wait for BSY = 0 and check the status, and at the
;      end of the request FLUSH CACHE so the data is on the medium.
; LBA28 commands (READ/WRITE SECTORS) address the first 2^28 sectors
; (128 GiB); beyond that the LBA48 "EXT" commands are used, which take
; each register twice (high-order byte first).
;
; Interrupts are not used: nIEN is set in the device control register
; and the status register is polled.  Every wait has a timeout (3 s per
; sector, 10 s for a cache flush); when one expires the BIOS prints
; "disk timeout", resets the channel and returns status 80h.
;
; Drives are described by records in the EBDA (DRV_* in defs.inc); the
; routines take FS = EBDA and SI = the record's offset.  ATAPI devices
; (CD-ROMs) are recognised by their signature and skipped.

        bits 16

ATA_TIMEOUT_US       equ 3000000
ATA_FLUSH_TIMEOUT_US equ 10000000

; ata_port: DX = the drive's command block base + AL
%macro ATA_PORT 1
        mov dx, [fs:si + DRV_IOBASE]
        add dx, %1
%endmacro

; ata_delay400: the device needs 400 ns after a command or a device
; selection before its status is valid; four reads of the alternate status
; register (which, unlike the status register, acknowledge nothing) take
; at least that long on an ISA-speed bus.
ata_delay400:
        push ax
        push dx
        mov dx, [fs:si + DRV_CTRL]
        in al, dx
        in al, dx
        in al, dx
        in al, dx
        pop dx
        pop ax
        ret

; ata_wait_not_busy: ECX = timeout in us -> AL = status, CF = 1 on timeout.
ata_wait_not_busy:
        push bx
        push dx
        push ax
        ATA_PORT ATA_STATUS
        mov ah, ATA_ST_BSY
        mov bl, 0
        call wait_port
        mov bl, al
        pop ax
        mov al, bl
        pop dx
        pop bx
        ret

; ata_select: AL = value for the device register (master/slave, LBA
; mode, LBA 27:24).  The device selection protocol of ATA/ATAPI-6: wait
; until the channel is not busy, write the device register, wait 400 ns,
; wait until the selected device is not busy.  CF = 1 on timeout.  Keeps
; all registers (including AL: callers build addresses in EAX).
ata_select:
        push eax
        push ecx
        push dx
        push ax
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        pop ax
        jc .out
        ATA_PORT ATA_DEVICE
        out dx, al
        call ata_delay400
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
.out:
        pop dx
        pop ecx
        pop eax
        ret

; ata_reset_channel: software reset of the channel the drive is on
; (device control SRST = 1 for at least 5 us, then 0), then wait until the
; master is ready.  nIEN stays set.  CF = 1 if the channel stays busy.
ata_reset_channel:
        push ax
        push ecx
        push dx
        mov dx, [fs:si + DRV_CTRL]
        mov al, ATA_CTL_SRST | ATA_CTL_NIEN
        out dx, al
        mov ecx, 10
        call delay_us
        mov al, ATA_CTL_NIEN
        out dx, al
        mov ecx, 2000                   ; the device sets BSY within 2 ms
        call delay_us
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        pop dx
        pop ecx
        pop ax
        ret

; ------------------------------------------------------------- detection ---

ata_channels:                           ; command block, control block, IRQ
        dw 0x1F0, 0x3F6, 14
        dw 0x170, 0x376, 15

; ata_detect: find the ATA disks on both channels and fill the drive
; records, the BDA disk count, the fixed disk parameter tables (INT 41h,
; 46h) and the EDD device parameter table extensions.  FS = EBDA.
ata_detect:
        pushad
        push es
        mov byte [fs:EB_DRIVE_COUNT], 0
        xor bx, bx                      ; BX = channel * 6 (table offset)
.channel:
        movzx si, byte [fs:EB_DRIVE_COUNT]
        cmp si, MAX_DRIVES
        jae .done
        imul si, si, DRV_SIZE
        add si, EB_DRIVES               ; the next free record
        mov ax, [cs:ata_channels + bx]
        mov [fs:si + DRV_IOBASE], ax
        mov ax, [cs:ata_channels + bx + 2]
        mov [fs:si + DRV_CTRL], ax
        ; nothing on the bus reads as FFh ("floating bus"): no channel
        ATA_PORT ATA_STATUS
        in al, dx
        cmp al, 0xFF
        je .next_channel
        call ata_reset_channel
        jc .next_channel
        mov byte [fs:si + DRV_SELECT], 0x00     ; master
        call .try_drive
        movzx si, byte [fs:EB_DRIVE_COUNT]
        cmp si, MAX_DRIVES
        jae .done
        imul si, si, DRV_SIZE
        add si, EB_DRIVES
        mov ax, [cs:ata_channels + bx]
        mov [fs:si + DRV_IOBASE], ax
        mov ax, [cs:ata_channels + bx + 2]
        mov [fs:si + DRV_CTRL], ax
        mov byte [fs:si + DRV_SELECT], 0x10     ; slave
        call .try_drive
.next_channel:
        add bx, 6
        cmp bx, 12
        jb .channel
.done:
        pop es
        popad
        ret

; .try_drive: FS:SI = record with base, control and select filled; BX =
; channel table offset.  Adds the drive if IDENTIFY works.
.try_drive:
        mov ax, [cs:ata_channels + bx + 4]
        mov [fs:si + DRV_IRQ], al
        mov ax, bx
        mov cl, 6
        div cl
        mov [fs:si + DRV_CHANNEL], al
        call ata_identify
        jc .not_added
        inc byte [fs:EB_DRIVE_COUNT]
.not_added:
        ret

; ata_identify: FS:SI = record (base, control, select set).  Sends
; IDENTIFY DEVICE, and on success fills in the rest of the record, prints
; the drive and returns CF = 0.
ata_identify:
        pushad
        push es
        ; select the device: bit 4 = slave, bits 7 and 5 set (obsolete, but
        ; older devices expect them)
        ATA_PORT ATA_DEVICE
        mov al, 0xA0
        or al, [fs:si + DRV_SELECT]
        out dx, al
        call ata_delay400
        ATA_PORT ATA_STATUS
        in al, dx
        cmp al, 0xFF                    ; floating bus: nothing there
        je .absent
        ; (a status of 0 may be an absent device - the other device answers
        ; the register reads, status reads 00h - or an ATAPI device, whose
        ; DRDY stays 0 after a reset: IDENTIFY tells them apart)
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        jc .absent
        ATA_PORT ATA_COMMAND
        mov al, ATA_CMD_IDENTIFY
        out dx, al
        call ata_delay400
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        jc .absent
        test al, ATA_ST_ERR
        jnz .aborted
        test al, al                     ; an absent device ignores commands
        jz .absent
        test al, ATA_ST_DRQ
        jz .absent
        ; read the 256 words of IDENTIFY data into the scratch buffer
        mov ax, SCRATCH_SEG
        mov es, ax
        xor di, di
        ATA_PORT ATA_DATA
        mov cx, 256
        rep insw
        ; word 49 bit 9: LBA supported (we only drive LBA devices)
        test word [es:49 * 2], 1 << 9
        jz .no_lba
        ; size: words 100-103 if LBA48 (word 83 bit 10), else words 60-61
        mov byte [fs:si + DRV_FLAGS], 0
        test word [es:83 * 2], 1 << 10
        jz .lba28
        mov eax, [es:100 * 2]
        mov edx, [es:102 * 2]
        or byte [fs:si + DRV_FLAGS], DRVF_LBA48
        jmp .have_size
.lba28:
        mov eax, [es:60 * 2]
        xor edx, edx
.have_size:
        mov [fs:si + DRV_SECTORS], eax
        mov [fs:si + DRV_SECTORS + 4], edx
        mov ax, [es:1 * 2]
        mov [fs:si + DRV_PCYLS], ax
        mov ax, [es:3 * 2]
        mov [fs:si + DRV_PHEADS], ax
        mov ax, [es:6 * 2]
        mov [fs:si + DRV_PSPT], ax
        call ata_geometry
        call ata_print_drive
        call ata_build_tables
        pop es
        popad
        clc
        ret
.aborted:
        ; a packet (ATAPI) device aborts IDENTIFY DEVICE and leaves its
        ; signature in the LBA mid/high registers: 14h/EBh (SATAPI: 69h/96h)
        ATA_PORT ATA_LBA1
        in al, dx
        mov ah, al
        ATA_PORT ATA_LBA2
        in al, dx
        cmp ax, 0x14EB
        je .atapi
        cmp ax, 0x6996
        jne .absent
.atapi:
        PRINTLN "ATAPI device (CD-ROM) found: not supported, skipped"
        jmp .absent
.no_lba:
        PRINTLN "ATA device without LBA support: skipped"
.absent:
        pop es
        popad
        stc
        ret

; ata_geometry: the logical CHS geometry INT 13h reports (AH=08h) and
; translates with.  63 sectors per track; 16 heads while that gives at
; most 1024 cylinders (504 MiB), else "LBA-assisted" translation doubles
; the heads (32, 64, 128, 255) until the cylinders fit in 1024.
; Cylinders = sectors / (heads * 63), at least 1, at most 1024.
ata_geometry:
        pushad
        mov eax, [fs:si + DRV_SECTORS]
        cmp dword [fs:si + DRV_SECTORS + 4], 0
        je .small
        mov eax, 0xFFFFFFFF
.small:
        mov byte [fs:si + DRV_SPT], 63
        mov bx, 16
.try:
        cmp bx, 255
        jae .fits                       ; 255 heads is the most there is
        mov ecx, ebx
        imul ecx, ecx, 63 * 1024        ; sectors that 1024 cylinders hold
        cmp eax, ecx
        jbe .fits
        shl bx, 1
        cmp bx, 256
        jb .try
        mov bx, 255
.fits:
        mov [fs:si + DRV_HEADS], bl
        movzx ecx, bx
        imul ecx, ecx, 63
        xor edx, edx
        div ecx                         ; EAX = cylinders
        cmp eax, 1024
        jbe .cyl_max_ok
        mov eax, 1024
.cyl_max_ok:
        test eax, eax
        jnz .cyl_ok
        inc eax
.cyl_ok:
        mov [fs:si + DRV_CYLS], ax
        popad
        ret

; ata_print_drive: "disk 80h: <model> <n> MiB, LBA48, CHS c/h/s"
ata_print_drive:
        pushad
        PRINT "disk "
        mov ax, si
        sub ax, EB_DRIVES
        shr ax, 5                       ; / DRV_SIZE
        add al, 0x80
        call print_hex8
        PRINT "h: "
        ; model: IDENTIFY words 27-46, two characters per word, high byte
        ; first; trailing blanks are not printed
        mov bx, 27 * 2 + 40
.trim:
        cmp bx, 27 * 2
        je .model_done
        mov di, bx
        dec di
        xor di, 1                       ; byte-swapped position
        cmp byte [es:di], ' '
        jne .model
        dec bx
        jmp .trim
.model:
        mov cx, 27 * 2
.model_char:
        cmp cx, bx
        jae .model_done
        mov di, cx
        xor di, 1
        mov al, [es:di]
        call con_putc
        inc cx
        jmp .model_char
.model_done:
        PRINT ", "
        mov eax, [fs:si + DRV_SECTORS]
        mov edx, [fs:si + DRV_SECTORS + 4]
        shrd eax, edx, 11               ; sectors / 2048 = MiB
        call print_dec
        PRINT " MiB ("
        mov eax, [fs:si + DRV_SECTORS]
        call print_dec
        PRINT " sectors"
        test byte [fs:si + DRV_FLAGS], DRVF_LBA48
        jz .no48
        PRINT ", LBA48"
.no48:
        PRINT "), CHS "
        movzx eax, word [fs:si + DRV_CYLS]
        call print_dec
        PRINT "/"
        movzx eax, byte [fs:si + DRV_HEADS]
        call print_dec
        PRINT "/"
        movzx eax, byte [fs:si + DRV_SPT]
        call print_dec
        NEWLINE
        popad
        ret

; ata_build_tables: the fixed disk parameter table (drives 80h and 81h,
; pointed to by INT 41h and 46h: what DOS-era software reads) and the EDD
; device parameter table extension (DPTE, returned by INT 13h AH=48h).
ata_build_tables:
        pushad
        push es
        mov ax, si
        sub ax, EB_DRIVES
        shr ax, 5                       ; drive index
        mov bx, ax
        ; ---- DPTE, 16 bytes
        mov di, bx
        shl di, 4
        add di, EB_DPTE
        mov ax, [fs:si + DRV_IOBASE]
        mov [fs:di + 0], ax             ; I/O base
        mov ax, [fs:si + DRV_CTRL]
        mov [fs:di + 2], ax             ; control port
        mov al, [fs:si + DRV_SELECT]
        or al, 0xE0                     ; head register upper nibble: LBA, slave bit
        mov [fs:di + 4], al
        mov byte [fs:di + 5], 0         ; BIOS vendor specific
        mov al, [fs:si + DRV_IRQ]
        mov [fs:di + 6], al             ; IRQ
        mov byte [fs:di + 7], 1         ; sectors per block (no READ MULTIPLE)
        mov byte [fs:di + 8], 0         ; DMA: not used
        mov byte [fs:di + 9], 0         ; PIO mode 0 timing
        mov word [fs:di + 10], 0x0010   ; flags: LBA translation enabled
        mov word [fs:di + 12], 0
        mov byte [fs:di + 14], 0x11     ; revision 1.1
        push fs
        pop es
        mov cx, 15
        call checksum8
        neg al
        mov [fs:di + 15], al
        ; ---- fixed disk parameter table, 16 bytes (drives 0 and 1 only)
        cmp bx, 2
        jae .out
        mov di, bx
        shl di, 4
        add di, EB_FDPT
        mov ax, [fs:si + DRV_CYLS]
        mov [fs:di + 0], ax             ; cylinders
        mov al, [fs:si + DRV_HEADS]
        mov [fs:di + 2], al             ; heads
        mov word [fs:di + 3], 0
        mov word [fs:di + 5], 0xFFFF    ; write precompensation: none
        mov byte [fs:di + 7], 0
        mov al, 0xC0                    ; control byte: bit 3 = more than 8 heads
        cmp byte [fs:si + DRV_HEADS], 8
        jbe .few_heads
        or al, 0x08
.few_heads:
        mov [fs:di + 8], al
        mov byte [fs:di + 9], 0
        mov word [fs:di + 10], 0
        mov ax, [fs:si + DRV_CYLS]
        mov [fs:di + 12], ax            ; landing zone
        mov al, [fs:si + DRV_SPT]
        mov [fs:di + 14], al            ; sectors per track
        mov byte [fs:di + 15], 0
        ; INT 41h (drive 80h) / INT 46h (drive 81h) -> the table
        xor ax, ax
        mov es, ax
        mov ax, 0x41 * 4
        test bx, bx
        jz .vector
        mov ax, 0x46 * 4
.vector:
        xchg ax, bx
        mov [es:bx], di
        mov [es:bx + 2], fs
.out:
        pop es
        popad
        ret

; --------------------------------------------------------------- transfers ---

; ata_rw: do the request in the EBDA (EB_REQ_*) on the drive FS:SI.
; Out: AL = INT 13h status (0 = success), CF = 1 on error;
;      EB_REQ_DONE = sectors transferred.
; The caller has checked the range against the disk size.
ata_rw:
        push ebx
        push ecx
        push edx
        push di
        push ds
        push es
        mov word [fs:EB_REQ_DONE], 0
        mov byte [fs:EB_ATA_ERRCODE], DISK_OK
.command:
        ; sectors left; at most 128 per ATA command
        mov cx, [fs:EB_REQ_COUNT]
        sub cx, [fs:EB_REQ_DONE]
        jz .flush
        cmp cx, 128
        jbe .chunk_ok
        mov cx, 128
.chunk_ok:
        mov [fs:EB_REQ_CHUNK], cx
        ; EDX:EAX = first sector of this command
        movzx eax, word [fs:EB_REQ_DONE]
        xor edx, edx
        add eax, [fs:EB_REQ_LBA]
        adc edx, [fs:EB_REQ_LBA + 4]
        ; LBA48 if the command reaches sector 2^28 or beyond
        test edx, edx
        jnz .lba48
        movzx ecx, word [fs:EB_REQ_CHUNK]
        mov ebx, eax
        add ebx, ecx
        jc .lba48
        cmp ebx, 0x10000000
        ja .lba48
        ; ---- LBA28: device register = E0h | slave | LBA 27:24
        push eax
        shr eax, 24
        and al, 0x0F
        or al, 0xE0
        or al, [fs:si + DRV_SELECT]
        call ata_select
        pop eax
        jc .timeout
        mov bl, ATA_CMD_READ
        mov bh, ATA_CMD_WRITE
        call .write_low_registers
        jmp .issue
.lba48:
        ; ---- LBA48: every register is written twice, the high-order
        ; ("previous") byte first: count 15:8, LBA 31:24, 39:32, 47:40
        test byte [fs:si + DRV_FLAGS], DRVF_LBA48
        jz .bad_address
        mov ebx, edx                    ; EBX = LBA 63:32
        push ax
        mov al, 0x40                    ; device register = LBA | slave
        or al, [fs:si + DRV_SELECT]
        call ata_select
        pop ax
        jc .timeout
        push eax
        ATA_PORT ATA_COUNT
        xor al, al
        out dx, al                      ; count 15:8 (a command is <= 128)
        pop eax
        push eax
        shr eax, 24
        ATA_PORT ATA_LBA0
        out dx, al                      ; LBA 31:24
        mov al, bl
        ATA_PORT ATA_LBA1
        out dx, al                      ; LBA 39:32
        mov al, bh
        ATA_PORT ATA_LBA2
        out dx, al                      ; LBA 47:40
        pop eax
        mov bl, ATA_CMD_READ48
        mov bh, ATA_CMD_WRITE48
        call .write_low_registers
.issue:
        ; BL/BH = read/write command
        mov al, bl
        cmp byte [fs:EB_REQ_WRITE], 0
        je .cmd
        mov al, bh
.cmd:
        ATA_PORT ATA_COMMAND
        out dx, al
        ; ---- one data block per sector
        mov cx, [fs:EB_REQ_CHUNK]
.sector:
        call ata_delay400
        push ecx
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        pop ecx
        jc .timeout
        test al, ATA_ST_ERR | ATA_ST_DF
        jnz .device_error
        test al, ATA_ST_DRQ
        jz .no_data
        push cx
        push si
        ATA_PORT ATA_DATA
        mov cx, 256
        cmp byte [fs:EB_REQ_WRITE], 0
        jne .out_data
        mov es, [fs:EB_REQ_BUF_SEG]
        mov di, [fs:EB_REQ_BUF_OFF]
        rep insw
        jmp .moved
.out_data:
        mov ds, [fs:EB_REQ_BUF_SEG]
        mov si, [fs:EB_REQ_BUF_OFF]
        rep outsw
.moved:
        pop si
        pop cx
        add word [fs:EB_REQ_BUF_SEG], 512 / 16
        inc word [fs:EB_REQ_DONE]
        dec cx
        jnz .sector
        ; after the last sector of a write, the device writes it and
        ; reports the outcome
        cmp byte [fs:EB_REQ_WRITE], 0
        je .command
        call ata_delay400
        mov ecx, ATA_TIMEOUT_US
        call ata_wait_not_busy
        jc .timeout
        test al, ATA_ST_ERR | ATA_ST_DF
        jnz .device_error
        jmp .command

.flush:
        ; writes are followed by FLUSH CACHE (EXT for LBA48 drives)
        cmp byte [fs:EB_REQ_WRITE], 0
        je .done
        cmp word [fs:EB_REQ_DONE], 0
        je .done
        mov al, ATA_CMD_FLUSH
        test byte [fs:si + DRV_FLAGS], DRVF_LBA48
        jz .flush_cmd
        mov al, ATA_CMD_FLUSH48
.flush_cmd:
        push ax
        mov al, 0xE0
        or al, [fs:si + DRV_SELECT]
        call ata_select
        pop ax
        jc .timeout
        ATA_PORT ATA_COMMAND
        out dx, al
        call ata_delay400
        mov ecx, ATA_FLUSH_TIMEOUT_US
        call ata_wait_not_busy
        jc .timeout
        ; (a device without a write cache may abort FLUSH: not an error)
.done:
        mov al, [fs:EB_ATA_ERRCODE]
        test al, al
        jz .ok
        stc
        jmp .out
.ok:
        clc
.out:
        pop es
        pop ds
        pop di
        pop edx
        pop ecx
        pop ebx
        ret

.timeout:
        PRINT "hvlab BIOS: disk timeout (drive "
        mov ax, si
        sub ax, EB_DRIVES
        shr ax, 5
        add al, 0x80
        call print_hex8
        PRINTLN "h), resetting the channel"
        call ata_reset_channel
        mov byte [fs:EB_ATA_ERRCODE], DISK_ETIMEOUT
        jmp .done
.no_data:
        mov byte [fs:EB_ATA_ERRCODE], DISK_ECTRL
        jmp .done
.bad_address:
        mov byte [fs:EB_ATA_ERRCODE], DISK_ENOTFOUND
        jmp .done
.device_error:
        ; the error register says why
        ATA_PORT ATA_ERROR
        in al, dx
        mov ah, DISK_ENOTFOUND
        test al, 0x10                   ; IDNF: no such sector
        jnz .error_code
        mov ah, DISK_EECC
        test al, 0x40                   ; UNC: uncorrectable data error
        jnz .error_code
        mov ah, DISK_ECTRL
        test al, 0x04                   ; ABRT: command aborted
        jz .error_code
        cmp byte [fs:EB_REQ_WRITE], 0
        je .error_code
        mov ah, DISK_EWPROT             ; an aborted write: read-only medium
.error_code:
        mov [fs:EB_ATA_ERRCODE], ah
        jmp .done

; .write_low_registers: sector count (low byte) and LBA 23:0 from EAX.
.write_low_registers:
        push eax
        ATA_PORT ATA_COUNT
        push ax
        mov al, [fs:EB_REQ_CHUNK]
        out dx, al
        pop ax
        ATA_PORT ATA_LBA0
        out dx, al                      ; LBA 7:0
        shr eax, 8
        ATA_PORT ATA_LBA1
        out dx, al                      ; LBA 15:8
        shr eax, 8
        ATA_PORT ATA_LBA2
        out dx, al                      ; LBA 23:16
        pop eax
        ret
