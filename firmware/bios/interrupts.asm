; interrupts.asm - the interrupt vector table, the 8259A pair, the 8254
; timer, the hardware interrupt handlers, and the small services INT 11h,
; 12h and 1Ah (time of day, RTC, and the PCI BIOS in pci.asm).
;
; Vectors (real mode: the IVT at 0000:0000 holds 256 offset:segment pairs)
;   00h divide error, 06h invalid opcode -> message and halt (returning
;        would re-run the faulting instruction for ever)
;   08h-0Fh IRQ 0-7 (master PIC)        70h-77h IRQ 8-15 (slave PIC)
;   10h video  11h equipment  12h memory size  13h disk  15h system
;   16h keyboard  18h no boot device  19h bootstrap  1Ah time/PCI
;   1Ch user timer hook (IRET)   1Eh -> diskette parameter table
;   41h/46h -> fixed disk parameter tables of drives 80h/81h
;   everything else -> a plain IRET.

        bits 16

; ------------------------------------------------------------------- IVT ---

; ivt_init: every vector -> default_iret, then the ones we implement.
ivt_init:
        pushad
        push es
        xor ax, ax
        mov es, ax
        xor di, di
        mov cx, 256
.fill:
        mov word [es:di], default_iret
        mov word [es:di + 2], ROM_SEGMENT
        add di, 4
        dec cx
        jnz .fill
        ; the implemented vectors, from the table below
        mov si, ivt_table
.set:
        movzx di, byte [cs:si]
        mov ax, [cs:si + 1]
        test ax, ax
        jz .done
        shl di, 2
        mov [es:di], ax
        add si, 3
        jmp .set
.done:
        ; 1Dh (video parameters), 1Fh and 43h (graphics fonts): no tables
        mov dword [es:0x1D * 4], 0
        mov dword [es:0x1F * 4], 0
        mov dword [es:0x43 * 4], 0
        ; 1Eh: diskette parameter table (no floppy drives, but old code reads it)
        mov word [es:0x1E * 4], diskette_param_table
        pop es
        popad
        ret

%macro VECTOR 2
        db %1
        dw %2
%endmacro

ivt_table:
        VECTOR 0x00, exception_divide
        VECTOR 0x06, exception_invalid_opcode
        VECTOR 0x08, irq0_handler
        VECTOR 0x09, irq1_handler
        VECTOR 0x0A, irq_master_unexpected
        VECTOR 0x0B, irq_master_unexpected
        VECTOR 0x0C, irq_master_unexpected
        VECTOR 0x0D, irq_master_unexpected
        VECTOR 0x0E, irq_master_unexpected
        VECTOR 0x0F, irq_master_unexpected
        VECTOR 0x10, int10_handler
        VECTOR 0x11, int11_handler
        VECTOR 0x12, int12_handler
        VECTOR 0x13, int13_handler
        VECTOR 0x15, int15_handler
        VECTOR 0x16, int16_handler
        VECTOR 0x18, int18_handler
        VECTOR 0x19, int19_handler
        VECTOR 0x1A, int1a_handler
        VECTOR 0x70, irq8_rtc_handler
        VECTOR 0x71, irq_slave_unexpected
        VECTOR 0x72, irq_slave_unexpected
        VECTOR 0x73, irq_slave_unexpected
        VECTOR 0x74, irq_slave_unexpected
        VECTOR 0x75, irq_slave_unexpected
        VECTOR 0x76, irq_slave_unexpected
        VECTOR 0x77, irq_slave_unexpected
        dw 0, 0                         ; end (handler offset 0)

; An 11-byte diskette parameter table with the usual 1.44 MB values.
diskette_param_table:
        db 0xAF, 0x02, 0x25, 0x02, 0x12, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

default_iret:
        iret

exception_divide:
        PRINTLN 13, 10, "hvlab BIOS: divide error (INT 00h) in real mode - halted"
        jmp halt_forever
exception_invalid_opcode:
        PRINTLN 13, 10, "hvlab BIOS: invalid opcode (INT 06h) in real mode - halted"
halt_forever:
        cli
        hlt
        jmp halt_forever

; ------------------------------------------------------------- 8259A pair ---
;
; pic_init: the initialisation sequence of the 8259A datasheet, for both
; controllers of the PC/AT cascade:
;   ICW1 0x11: edge triggered, cascade mode, ICW4 follows
;   ICW2: vector base (master 08h, slave 70h, as the IBM PC/AT BIOS)
;   ICW3: master: a slave on IR2 (bit mask 0x04); slave: its ID is 2
;   ICW4 0x01: 8086 mode, normal (not automatic) EOI
; then OCW1 (interrupt masks): IRQ 0 (timer), 1 (keyboard) and 2 (the
; cascade) are enabled; everything else is masked until an OS wants it.
pic_init:
        push ax
        mov al, 0x11
        out PORT_PIC1_CMD, al
        out PORT_PIC2_CMD, al
        mov al, PIC1_VECTOR
        out PORT_PIC1_DATA, al
        mov al, PIC2_VECTOR
        out PORT_PIC2_DATA, al
        mov al, 0x04
        out PORT_PIC1_DATA, al
        mov al, 0x02
        out PORT_PIC2_DATA, al
        mov al, 0x01
        out PORT_PIC1_DATA, al
        out PORT_PIC2_DATA, al
        mov al, 0xF8                    ; master: IRQ 0, 1, 2 unmasked
        out PORT_PIC1_DATA, al
        mov al, 0xFF                    ; slave: all masked
        out PORT_PIC2_DATA, al
        pop ax
        ret

; --------------------------------------------------------------- 8254 PIT ---
;
; pit_init: channel 0 in mode 3 (square wave) with the divisor 0, which
; means 65536: 1193182 Hz / 65536 = 18.2 interrupts per second on IRQ 0,
; the PC's timer tick.  Control word 0x36 = channel 0, access low byte then
; high byte, mode 3, binary counting.
pit_init:
        push ax
        mov al, 0x36
        out PORT_PIT_CMD, al
        xor al, al
        out PORT_PIT_CH0, al            ; divisor low byte
        out PORT_PIT_CH0, al            ; divisor high byte
        pop ax
        ret

; ---------------------------------------------------------------- the RTC ---
;
; rtc_init: register A = 0x26 (32.768 kHz time base, 1024 Hz periodic rate),
; register B = 0x02 (24-hour, BCD, no interrupts enabled), then read
; register C and D to clear any pending flags.  The time itself is left
; alone: it is the host's clock.
rtc_init:
        push ax
        mov ax, 0x260A
        call cmos_write
        mov ax, 0x020B
        call cmos_write
        mov al, 0x0C
        call cmos_read
        mov al, 0x0D
        call cmos_read
        pop ax
        ret

; ----------------------------------------------------- hardware interrupts ---

; IRQ 0, the timer tick (18.2 Hz): count it in the BDA, wrap at midnight,
; move any bytes waiting on COM1 into the keyboard buffer (so a headless
; user can type), call the user hook INT 1Ch, then acknowledge the PIC.
irq0_handler:
        push ds
        push ax
        mov ax, BDA_SEG
        mov ds, ax
        add word [BDA_TICKS], 1
        adc word [BDA_TICKS + 2], 0
        cmp word [BDA_TICKS + 2], TICKS_PER_DAY >> 16
        jb .no_wrap
        cmp word [BDA_TICKS], TICKS_PER_DAY & 0xFFFF
        jb .no_wrap
        mov dword [BDA_TICKS], 0
        mov byte [BDA_MIDNIGHT], 1
.no_wrap:
        call serial_to_keyboard
        int 0x1C
        mov al, PIC_EOI
        out PORT_PIC1_CMD, al
        pop ax
        pop ds
        iret

; IRQ 8, the RTC: reading register C acknowledges the RTC (it keeps its
; interrupt line asserted until then).  Nothing here enables it.
irq8_rtc_handler:
        push ax
        mov al, 0x0C
        call cmos_read
        mov al, PIC_EOI
        out PORT_PIC2_CMD, al
        out PORT_PIC1_CMD, al
        pop ax
        iret

; Any other IRQ: nobody asked for it.  Mask the line (so a device that
; keeps its level-triggered line asserted cannot stop the machine with an
; endless stream of interrupts) and acknowledge it.  The in-service
; register tells which line it was.
irq_master_unexpected:
        push ax
        mov al, 0x0B                    ; OCW3: next read of port 0x20 = ISR
        out PORT_PIC1_CMD, al
        in al, PORT_PIC1_CMD
        and al, 0xFB                    ; never mask the cascade (IRQ 2)
        mov ah, al
        in al, PORT_PIC1_DATA
        or al, ah
        out PORT_PIC1_DATA, al
        mov al, PIC_EOI
        out PORT_PIC1_CMD, al
        pop ax
        iret

irq_slave_unexpected:
        push ax
        mov al, 0x0B
        out PORT_PIC2_CMD, al
        in al, PORT_PIC2_CMD
        mov ah, al
        in al, PORT_PIC2_DATA
        or al, ah
        out PORT_PIC2_DATA, al
        mov al, PIC_EOI
        out PORT_PIC2_CMD, al
        out PORT_PIC1_CMD, al
        pop ax
        iret

; ------------------------------------------------------------ INT 11h/12h ---

int11_handler:                          ; -> AX = equipment word
        push ds
        mov ax, BDA_SEG
        mov ds, ax
        mov ax, [BDA_EQUIPMENT]
        pop ds
        iret

int12_handler:                          ; -> AX = base memory in KiB
        push ds
        mov ax, BDA_SEG
        mov ds, ax
        mov ax, [BDA_MEM_KIB]
        pop ds
        iret

; ---------------------------------------------------------------- INT 1Ah ---
;
;   00h read tick count: CX:DX = ticks, AL = midnight flag (then cleared)
;   01h set tick count from CX:DX
;   02h read RTC time: CH = hours, CL = minutes, DH = seconds (BCD), DL = DST
;   03h set RTC time (same registers)
;   04h read RTC date: CH = century, CL = year, DH = month, DL = day (BCD)
;   05h set RTC date
;   B1h PCI BIOS (pci.asm)
; The RTC updates its registers once a second; while "update in progress"
; (register A bit 7) is set they must not be read, so we wait for it to
; clear (bounded: 10 ms).  Other functions: CF = 1.

int1a_handler:
        HANDLER_ENTER
        mov ax, BDA_SEG
        mov ds, ax
        mov al, [bp + R_AH]
        cmp al, 0xB1
        je int1a_pci
        cmp al, 0x00
        je .get_ticks
        cmp al, 0x01
        je .set_ticks
        cmp al, 0x02
        je .get_time
        cmp al, 0x03
        je .set_time
        cmp al, 0x04
        je .get_date
        cmp al, 0x05
        je .set_date
        SET_CF
        jmp int1a_done

.get_ticks:
        cli                             ; read the dword in one piece
        mov ax, [BDA_TICKS]
        mov [bp + R_DX], ax
        mov ax, [BDA_TICKS + 2]
        mov [bp + R_CX], ax
        mov al, 0
        xchg al, [BDA_MIDNIGHT]
        mov [bp + R_AL], al
        jmp int1a_ok

.set_ticks:
        cli
        mov ax, [bp + R_DX]
        mov [BDA_TICKS], ax
        mov ax, [bp + R_CX]
        mov [BDA_TICKS + 2], ax
        mov byte [BDA_MIDNIGHT], 0
        jmp int1a_ok

.get_time:
        call rtc_wait_update
        mov al, 0x04
        call cmos_read
        mov [bp + R_CH], al             ; hours
        mov al, 0x02
        call cmos_read
        mov [bp + R_CL], al             ; minutes
        mov al, 0x00
        call cmos_read
        mov [bp + R_DH], al             ; seconds
        mov al, 0x0B
        call cmos_read
        and al, 0x01                    ; register B bit 0: daylight saving
        mov [bp + R_DL], al
        jmp int1a_ok

.set_time:
        call rtc_set_begin
        mov al, 0x04
        mov ah, [bp + R_CH]
        call cmos_write
        mov al, 0x02
        mov ah, [bp + R_CL]
        call cmos_write
        mov al, 0x00
        mov ah, [bp + R_DH]
        call cmos_write
        call rtc_set_end
        jmp int1a_ok

.get_date:
        call rtc_wait_update
        mov al, 0x32
        call cmos_read
        mov [bp + R_CH], al             ; century (CMOS 32h, as IBM/QEMU)
        mov al, 0x09
        call cmos_read
        mov [bp + R_CL], al             ; year
        mov al, 0x08
        call cmos_read
        mov [bp + R_DH], al             ; month
        mov al, 0x07
        call cmos_read
        mov [bp + R_DL], al             ; day of month
        jmp int1a_ok

.set_date:
        call rtc_set_begin
        mov al, 0x32
        mov ah, [bp + R_CH]
        call cmos_write
        mov al, 0x09
        mov ah, [bp + R_CL]
        call cmos_write
        mov al, 0x08
        mov ah, [bp + R_DH]
        call cmos_write
        mov al, 0x07
        mov ah, [bp + R_DL]
        call cmos_write
        call rtc_set_end
        jmp int1a_ok

int1a_ok:
        mov byte [bp + R_AH], 0
        CLEAR_CF
int1a_done:
        HANDLER_LEAVE

; rtc_wait_update: wait (at most 10 ms) until register A bit 7 (UIP) is 0.
rtc_wait_update:
        push ax
        push bx
        push ecx
        push dx
        mov al, 0x0A
        out PORT_CMOS_INDEX, al
        mov dx, PORT_CMOS_DATA
        mov ah, 0x80
        mov bl, 0x00
        mov ecx, 10000
        call wait_port
        pop dx
        pop ecx
        pop bx
        pop ax
        ret

; Setting the clock: register B bit 7 (SET) stops the updates while we
; write, clearing it restarts the clock.
rtc_set_begin:
        push ax
        mov al, 0x0B
        call cmos_read
        or al, 0x80
        mov ah, al
        mov al, 0x0B
        call cmos_write
        pop ax
        ret

rtc_set_end:
        push ax
        mov al, 0x0B
        call cmos_read
        and al, 0x7F
        mov ah, al
        mov al, 0x0B
        call cmos_write
        pop ax
        ret
