; memory.asm - how much RAM there is and where: QEMU's fw_cfg interface,
; the CMOS memory fields, the A20 gate, the E820 memory map and INT 15h.
;
; Where the memory map comes from
; -------------------------------
; 1. fw_cfg (ports 0x510 selector / 0x511 data) when its signature reads
;    "QEMU": the file "etc/e820" holds the machine's RAM ranges as 20-byte
;    entries (u64 base, u64 length, u32 type, little-endian).  QEMU lists
;    all low RAM as one range from 0, so the BIOS cuts the EBDA and the
;    legacy area 0x9F000-0xFFFFF out of RAM ranges.
; 2. Otherwise the CMOS fields, as QEMU and the PC/AT BIOS fill them:
;    0x34/0x35 = RAM above 16 MiB (below 4 GiB) in 64 KiB units, or, when
;    zero, 0x30/0x31 = RAM above 1 MiB in KiB; 0x5B-0x5D = RAM above
;    4 GiB in 64 KiB units.
; Either way these reserved ranges are added: the EBDA, 0xA0000-0xFFFFF
; (VGA memory and ROMs), the IOAPIC and local APIC pages and this ROM's
; high alias.  The table is kept sorted by address in the EBDA.

        bits 16

; ----------------------------------------------------------------- A20 ---
;
; The A20 gate: with it closed, address bit 20 is forced to 0 and memory
; wraps at 1 MiB like on an 8086.  Port 0x92 bit 1 ("fast A20") opens it;
; bit 0 of the same port resets the CPU, so it is always written as 0.
; If the gate still looks closed (a byte at 0x100500 is the same as the one
; at 0x000500), the 8042 way is tried: command D1h ("write output port")
; with DFh (A20 bit set).
a20_enable:
        push ax
        in al, PORT_SYS_CTRL_A
        or al, 0x02
        and al, 0xFE
        out PORT_SYS_CTRL_A, al
        call a20_is_on
        jnc .done
        mov al, 0xD1
        call kbc_command
        mov al, 0xDF
        call kbc_data
        call kbc_write_ready
.done:
        pop ax
        ret

; a20_is_on: CF = 0 if 0x100500 and 0x000500 are different memory.
a20_is_on:
        push ax
        push ds
        push es
        xor ax, ax
        mov ds, ax
        mov ax, 0xFFFF
        mov es, ax                      ; FFFF:0510 = 0x100500
        mov al, [0x0500]
        push ax
        mov byte [0x0500], 0x00
        mov byte [es:0x0510], 0xA5
        cmp byte [0x0500], 0xA5         ; did the write wrap to 0x500?
        pop ax
        mov [0x0500], al
        clc
        jne .out
        stc
.out:
        pop es
        pop ds
        pop ax
        ret

; -------------------------------------------------------------- fw_cfg ---

fwcfg_select:                           ; AX = item key
        push dx
        mov dx, PORT_FWCFG_SEL
        out dx, ax
        pop dx
        ret

fwcfg_read:                             ; CX bytes of the item -> ES:DI
        push ax
        push cx
        push dx
        push di
        mov dx, PORT_FWCFG_DATA
        test cx, cx
        jz .done
.next:
        in al, dx
        mov [es:di], al
        inc di
        dec cx
        jnz .next
.done:
        pop di
        pop dx
        pop cx
        pop ax
        ret

fwcfg_read_dword:                       ; -> EAX = next 4 bytes (little-endian)
        push dx
        push cx
        mov dx, PORT_FWCFG_DATA
        mov cx, 4
.next:
        in al, dx
        ror eax, 8                      ; bytes arrive low first
        dec cx
        jnz .next
        pop cx
        pop dx
        ret

; fwcfg_detect: EB_FWCFG = 1 if the signature item reads "QEMU".  FS = EBDA.
fwcfg_detect:
        push eax
        mov byte [fs:EB_FWCFG], 0
%ifdef HVLAB_BIOS_NO_FWCFG
        ; (test build: behave as if there were no fw_cfg, to exercise the
        ;  CMOS fallbacks; see tests/run-qemu.sh)
        jmp .out
%endif
        mov ax, FWCFG_SIGNATURE
        call fwcfg_select
        call fwcfg_read_dword
        cmp eax, 'QEMU'
        jne .out
        mov byte [fs:EB_FWCFG], 1
.out:
        pop eax
        ret

; fwcfg_find_file: CS:SI = name -> AX = item key, ECX = size; CF = 1 if
; there is no such file.  The file directory is a big-endian u32 count
; followed by 64-byte entries: u32 size, u16 key, u16 reserved, name[56]
; (all big-endian).  Each entry is read into the POST scratch buffer.
fwcfg_find_file:
        push ebx
        push dx
        push di
        push es
        mov ax, SCRATCH_SEG
        mov es, ax
        mov ax, FWCFG_FILE_DIR
        call fwcfg_select
        call fwcfg_read_dword
        bswap eax
        mov ebx, eax                    ; EBX = number of files
.entry:
        test ebx, ebx
        jz .missing
        dec ebx
        xor di, di
        mov cx, 64
        call fwcfg_read                 ; ES:0 = the entry
        ; compare the name (ES:8) with CS:SI, including the final NUL
        push si
        mov di, 8
.cmp:
        mov al, [cs:si]
        cmp al, [es:di]
        jne .differ
        inc si
        inc di
        test al, al
        jnz .cmp
        pop si
        mov ecx, [es:0]
        bswap ecx
        mov ax, [es:4]
        xchg al, ah
        clc
        jmp .out
.differ:
        pop si
        jmp .entry
.missing:
        stc
.out:
        pop es
        pop di
        pop dx
        pop ebx
        ret

fwcfg_e820_name:
        db "etc/e820", 0

; --------------------------------------------------------- E820 table ---

; e820_add: add one range to the sorted table.  EDX:EAX = base,
; EDI:ESI = length, EBX = type.  FS = EBDA.  Zero lengths are ignored,
; a full table drops the range.  Keeps all registers.
e820_add:
        pushad
        push es
        push ds
        mov ecx, esi
        or ecx, edi
        jz .out                         ; length 0
        movzx ecx, word [fs:EB_E820_COUNT]
        cmp cx, E820_MAX
        jae .out
        ; find the first entry with a larger base (64-bit compare)
        push fs
        pop es
        push fs
        pop ds
        xor bp, bp                      ; BP = index
        push bx
.find:
        cmp bp, cx
        jae .insert
        imul bx, bp, 20
        cmp edx, [EB_E820 + bx + 4]
        jb .insert
        ja .later
        cmp eax, [EB_E820 + bx]
        jb .insert
.later:
        inc bp
        jmp .find
.insert:
        pop bx
        ; move entries BP .. count-1 up by one, last first
        push esi
        push edi
        push ecx
        imul si, cx, 20
        add si, EB_E820 - 1             ; last byte of the last entry
        mov di, si
        add di, 20
        imul cx, cx, 20
        push dx
        imul dx, bp, 20
        sub cx, dx                      ; bytes to move
        pop dx
        std
        rep movsb
        cld
        pop ecx
        pop edi
        pop esi
        ; write the new entry at index BP
        push ax
        imul ax, bp, 20
        mov bp, ax
        pop ax
        mov [ds:EB_E820 + bp], eax      ; (ds: because BP would imply SS)
        mov [ds:EB_E820 + bp + 4], edx
        mov [ds:EB_E820 + bp + 8], esi
        mov [ds:EB_E820 + bp + 12], edi
        mov [ds:EB_E820 + bp + 16], ebx
        inc word [EB_E820_COUNT]
.out:
        pop ds
        pop es
        popad
        ret

; e820_add_ram: add a RAM range (EDX:EAX base, EDI:ESI length), leaving out
; the part that overlaps EBDA_LINEAR .. 1 MiB.  FS = EBDA.  Keeps registers.
e820_add_ram:
        pushad
        mov ebx, 1                      ; type 1 = usable RAM
        test edx, edx
        jnz .as_is                      ; starts above 4 GiB
        ; ECX:EBP = end = base + length
        mov ebp, eax
        add ebp, esi
        mov ecx, edx
        adc ecx, edi
        ; the part below the EBDA
        cmp eax, EBDA_LINEAR
        jae .high_part
        push esi
        push edi
        mov esi, EBDA_LINEAR            ; part end = min(end, EBDA)
        test ecx, ecx
        jnz .low_clipped
        cmp ebp, esi
        jae .low_clipped
        mov esi, ebp
.low_clipped:
        sub esi, eax                    ; length = part end - base
        xor edi, edi
        call e820_add
        pop edi
        pop esi
.high_part:
        ; the part above 1 MiB, if the range ends there
        test ecx, ecx
        jnz .has_high
        cmp ebp, 0x100000
        jbe .out
.has_high:
        cmp eax, 0x100000
        jae .start_ok
        mov eax, 0x100000
.start_ok:
        mov esi, ebp                    ; length = end - start (64-bit)
        mov edi, ecx
        sub esi, eax
        sbb edi, 0
.as_is:
        call e820_add
.out:
        popad
        ret

; e820_add_reserved: EAX = base (< 4 GiB), ESI = length, type 2.
e820_add_reserved:
        pushad
        xor edx, edx
        xor edi, edi
        mov ebx, 2
        call e820_add
        popad
        ret

; memory_init: build the E820 table and the RAM totals.  FS = EBDA.
memory_init:
        pushad
        push es
        mov word [fs:EB_E820_COUNT], 0
        cmp byte [fs:EB_FWCFG], 1
        jne .from_cmos
        mov si, fwcfg_e820_name
        call fwcfg_find_file
        jc .from_cmos
        call fwcfg_select
        ; ECX = file size; read the entries one by one (20 bytes each)
        mov ax, SCRATCH_SEG
        mov es, ax
        mov eax, ecx
        xor edx, edx
        mov ebx, 20
        div ebx
        mov bp, ax                      ; BP = number of entries
        cmp bp, 32
        jbe .fw_next
        mov bp, 32
.fw_next:
        test bp, bp
        jz .fixed
        dec bp
        xor di, di
        mov cx, 20
        call fwcfg_read
        mov eax, [es:0]
        mov edx, [es:4]
        mov esi, [es:8]
        mov edi, [es:12]
        mov ebx, [es:16]
        cmp ebx, 1
        jne .fw_other
        call e820_add_ram
        jmp .fw_next
.fw_other:
        call e820_add
        jmp .fw_next

.from_cmos:
        ; RAM below 4 GiB: 16 MiB + (34h/35h) * 64 KiB, or 1 MiB + (30h/31h) KiB
        mov al, 0x35
        call cmos_read
        mov ah, al
        mov al, 0x34
        call cmos_read
        movzx eax, ax
        test eax, eax
        jz .small
        shl eax, 16
        add eax, 16 << 20
        jmp .low_known
.small:
        mov al, 0x31
        call cmos_read
        mov ah, al
        mov al, 0x30
        call cmos_read
        movzx eax, ax
        shl eax, 10
        add eax, 1 << 20
.low_known:
        mov esi, eax                    ; RAM from 0 to that end
        xor edi, edi
        xor eax, eax
        xor edx, edx
        call e820_add_ram
        ; RAM above 4 GiB: 5Bh-5Dh in 64 KiB units (24 bits)
        mov al, 0x5D
        call cmos_read
        movzx esi, al
        shl esi, 16
        mov al, 0x5C
        call cmos_read
        mov ah, al
        mov al, 0x5B
        call cmos_read
        or si, ax
        test esi, esi
        jz .fixed
        mov edi, esi                    ; length = units << 16 (64-bit)
        shr edi, 16
        shl esi, 16
        xor eax, eax
        mov edx, 1                      ; base = 4 GiB
        call e820_add_ram

.fixed:
        ; the ranges that are always reserved
        mov eax, EBDA_LINEAR
        mov esi, 0xA0000 - EBDA_LINEAR
        call e820_add_reserved          ; the EBDA
        mov eax, 0xA0000
        mov esi, 0x100000 - 0xA0000
        call e820_add_reserved          ; VGA memory, option ROMs, this BIOS
        mov eax, IOAPIC_BASE
        mov esi, 0x1000
        call e820_add_reserved
        mov eax, LAPIC_BASE
        mov esi, 0x1000
        call e820_add_reserved
        mov eax, 0x100000000 - ROM_SIZE
        mov esi, ROM_SIZE
        call e820_add_reserved          ; this ROM at the top of 4 GiB
        call e820_totals
        pop es
        popad
        ret

; e820_totals: EB_RAM_LOW = end of the RAM range that contains 1 MiB
; (below 4 GiB), EB_RAM_HIGH = RAM above 4 GiB in 64 KiB units.
e820_totals:
        pushad
        mov dword [fs:EB_RAM_LOW], 0x100000
        mov dword [fs:EB_RAM_HIGH], 0
        mov cx, [fs:EB_E820_COUNT]
        mov bx, EB_E820
.next:
        test cx, cx
        jz .done
        cmp dword [fs:bx + 16], 1
        jne .skip
        mov eax, [fs:bx]
        mov edx, [fs:bx + 4]
        test edx, edx
        jnz .high
        cmp eax, 0x100000
        ja .skip
        ; end = base + length; does the range reach past 1 MiB?
        mov esi, eax
        add esi, [fs:bx + 8]
        mov edi, [fs:bx + 12]
        adc edi, 0
        test edi, edi
        jz .end_ok
        mov esi, 0xFFFFF000             ; (cannot happen on a PC: 4 GiB hole)
.end_ok:
        cmp esi, 0x100000
        jbe .skip
        mov [fs:EB_RAM_LOW], esi
        jmp .skip
.high:
        mov eax, [fs:bx + 8]            ; length / 64 KiB
        mov edx, [fs:bx + 12]
        shrd eax, edx, 16
        add [fs:EB_RAM_HIGH], eax
.skip:
        add bx, 20
        dec cx
        jmp .next
.done:
        popad
        ret

; ram_total_mib: -> EAX = all RAM in the E820 table, in MiB.  FS = EBDA.
ram_total_mib:
        push ebx
        push cx
        push edx
        push si
        xor ebx, ebx                    ; KiB
        mov cx, [fs:EB_E820_COUNT]
        mov si, EB_E820
.next:
        test cx, cx
        jz .done
        cmp dword [fs:si + 16], 1
        jne .skip
        mov eax, [fs:si + 8]
        mov edx, [fs:si + 12]
        shrd eax, edx, 10
        add ebx, eax
.skip:
        add si, 20
        dec cx
        jmp .next
.done:
        mov eax, ebx
        add eax, 1023
        shr eax, 10
        pop si
        pop edx
        pop cx
        pop ebx
        ret

; ---------------------------------------------------------------- INT 15h ---
;
;   AX=E820h  memory map: EDX = 534D4150h ("SMAP"), EBX = continuation
;             (0 first), ES:DI = buffer, ECX >= 20 -> 20 bytes, EAX = 534D4150h,
;             ECX = 20, EBX = next (0 after the last entry)
;   AX=E801h  AX = CX = KiB between 1 and 16 MiB, BX = DX = 64 KiB blocks
;             above 16 MiB (below 4 GiB)
;   AH=88h    AX = KiB above 1 MiB (at most FFFFh)
;   AX=2400h/2401h disable/enable A20, 2402h AL = A20 state, 2403h BX = 3
;             (8042 and port 92h supported)
;   AH=C0h    ES:BX = the system configuration table
;   AH=C1h    ES = EBDA segment
;   AH=86h    wait CX:DX microseconds (interrupts on)
;   AH=90h/91h device busy/post hooks: AH = 0
;   anything else (87h block move, 89h protected mode, 53h APM, C2h mouse,
;   4Fh keyboard intercept, ...): CF = 1, AH = 86h "not supported".

; The E820 signature is the number 534D4150h: the letters S, M, A, P read
; as a big-endian number.  (nasm's 'SMAP' would be 50414D53h - the bytes
; S, M, A, P in memory order - which is not what callers pass.)
E820_SMAP       equ 0x534D4150

int15_handler:
        HANDLER_ENTER
        mov ax, BDA_SEG
        mov ds, ax
        mov fs, [BDA_EBDA_SEG]
        mov ax, [bp + R_AX]
        cmp ax, 0xE820
        je int15_e820
        cmp ax, 0xE801
        je int15_e801
        cmp ah, 0x88
        je int15_88
        cmp ah, 0x24
        je int15_a20
        cmp ah, 0xC0
        je int15_config
        cmp ah, 0xC1
        je int15_ebda
        cmp ah, 0x86
        je int15_wait
        cmp ah, 0x90
        je int15_ok
        cmp ah, 0x91
        je int15_ok
int15_unsupported:
        mov byte [bp + R_AH], 0x86
        SET_CF
        jmp int15_done
int15_ok:
        mov byte [bp + R_AH], 0
int15_ok_keep_ah:
        CLEAR_CF
int15_done:
        HANDLER_LEAVE

int15_e820:
        cmp dword [bp + R_EDX], E820_SMAP
        jne int15_unsupported
        cmp dword [bp + R_ECX], 20
        jb int15_unsupported
        mov ebx, [bp + R_EBX]
        movzx ecx, word [fs:EB_E820_COUNT]
        cmp ebx, ecx
        jae int15_unsupported
        ; copy entry EBX to the caller's ES:DI
        imul si, bx, 20
        add si, EB_E820
        mov es, [bp + R_ES]
        mov di, [bp + R_DI]
        mov cx, 20
.copy:
        mov al, [fs:si]
        mov [es:di], al
        inc si
        inc di
        dec cx
        jnz .copy
        inc ebx
        movzx ecx, word [fs:EB_E820_COUNT]
        cmp ebx, ecx
        jb .more
        xor ebx, ebx                    ; that was the last one
.more:
        mov [bp + R_EBX], ebx
        mov dword [bp + R_EAX], E820_SMAP
        mov dword [bp + R_ECX], 20
        jmp int15_ok_keep_ah

int15_e801:
        mov eax, [fs:EB_RAM_LOW]
        sub eax, 0x100000               ; bytes above 1 MiB
        cmp eax, 15 << 20
        jbe .below_16m
        sub eax, 15 << 20
        shr eax, 16                     ; 64 KiB blocks above 16 MiB
        mov [bp + R_BX], ax
        mov [bp + R_DX], ax
        mov ax, 15 * 1024
        jmp .store
.below_16m:
        shr eax, 10
        mov word [bp + R_BX], 0
        mov word [bp + R_DX], 0
.store:
        mov [bp + R_AX], ax
        mov [bp + R_CX], ax
        jmp int15_ok_keep_ah

int15_88:
        mov eax, [fs:EB_RAM_LOW]
        sub eax, 0x100000
        shr eax, 10
        cmp eax, 0xFFFF
        jbe .store
        mov ax, 0xFFFF
.store:
        mov [bp + R_AX], ax
        jmp int15_ok_keep_ah

int15_a20:
        mov al, [bp + R_AL]
        cmp al, 0x00
        je .disable
        cmp al, 0x01
        je .enable
        cmp al, 0x02
        je .status
        cmp al, 0x03
        je .support
        jmp int15_unsupported
.disable:
        in al, PORT_SYS_CTRL_A
        and al, 0xFC
        out PORT_SYS_CTRL_A, al
        jmp int15_ok
.enable:
        call a20_enable
        jmp int15_ok
.status:
        in al, PORT_SYS_CTRL_A
        shr al, 1
        and al, 1
        mov [bp + R_AL], al
        jmp int15_ok
.support:
        mov word [bp + R_BX], 3
        jmp int15_ok

int15_config:
        mov word [bp + R_ES], ROM_SEGMENT
        mov word [bp + R_BX], system_config_table
        jmp int15_ok

int15_ebda:
        mov ax, fs
        mov [bp + R_ES], ax
        jmp int15_ok_keep_ah

int15_wait:
        sti
        mov cx, [bp + R_CX]
        shl ecx, 16
        mov cx, [bp + R_DX]
        call delay_us
        jmp int15_ok

; The system configuration table (INT 15h AH=C0h).
system_config_table:
        dw 8                            ; bytes that follow
        db 0xFC                         ; model: PC/AT
        db 0x00                         ; submodel
        db 0x01                         ; BIOS revision
        db 0x64                         ; feature 1: second 8259 (40h), RTC (20h),
                                        ;   EBDA allocated (04h)
        db 0x40                         ; feature 2: INT 16h AH=09h supported
        db 0, 0, 0                      ; features 3-5
