; util.asm - small routines used by every part of the BIOS:
;
;   serial_putc         AL -> COM1 (bounded wait for the transmitter)
;   con_putc            AL -> screen (teletype) and COM1
;   con_puts            CS:SI NUL-terminated string -> con_putc
;   print_hex8/16/32    AL / AX / EAX in hex
;   print_dec           EAX as an unsigned decimal number
;   cmos_read           AL = index -> AL = value
;   cmos_write          AL = index, AH = value
;   pit_read            -> AX = current count of PIT channel 0
;   delay_us            wait ECX microseconds (busy, watching the PIT)
;   wait_port           poll a port until (value AND mask) == expected, with a timeout
;   flat_read32/write32 read/write a dword anywhere in the 4 GiB space (MMIO)
;   checksum8           sum of CX bytes at ES:DI
;
; Every routine keeps all registers except its documented outputs; flags
; are not kept.

        bits 16

; ------------------------------------------------------------------ COM1 ---

; serial_putc: send AL on COM1.  The transmitter is polled for "holding
; register empty" (LSR bit 5); the wait is bounded, so a missing or stuck
; UART can never hang the BIOS (the byte is then dropped).
serial_putc:
        push cx
        push dx
        push ax
        mov dx, UART_LSR
        mov cx, 0xFFFF
.wait:
        in al, dx
        test al, UART_LSR_THRE
        jnz .ready
        dec cx
        jnz .wait
.ready:
        pop ax
        mov dx, UART_THR
        out dx, al
        pop dx
        pop cx
        ret

; con_putc: the console - one character to the screen (teletype rules: CR,
; LF, BS, BEL, wrap, scroll) and the same byte to COM1, so a headless run
; sees everything the screen shows.
con_putc:
        call tty_putc
        call serial_putc
        ret

con_puts:
        push ax
        push si
.next:
        mov al, [cs:si]
        test al, al
        jz .done
        call con_putc
        inc si
        jmp .next
.done:
        pop si
        pop ax
        ret

; ---------------------------------------------------------------- numbers ---

print_hexdigit:                 ; low nibble of AL
        push ax
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '9' - 1
.out:
        call con_putc
        pop ax
        ret

print_hex8:
        push ax
        shr al, 4
        call print_hexdigit
        pop ax
        call print_hexdigit
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

; print_dec: EAX as unsigned decimal.  Digits are produced least
; significant first by repeated division by 10, pushed, then popped.
print_dec:
        push eax
        push ebx
        push ecx
        push edx
        mov ebx, 10
        xor cx, cx
.divide:
        xor edx, edx
        div ebx                 ; EAX = EAX / 10, EDX = remainder
        push dx
        inc cx
        test eax, eax
        jnz .divide
.print:
        pop ax
        add al, '0'
        call con_putc
        dec cx
        jnz .print
        pop edx
        pop ecx
        pop ebx
        pop eax
        ret

; ------------------------------------------------------------- CMOS / RTC ---

; The MC146818 is reached through an index port (0x70) and a data port
; (0x71): write the register number, then read or write the data.
cmos_read:                      ; AL = index -> AL = value
        out PORT_CMOS_INDEX, al
        in al, PORT_CMOS_DATA
        ret

cmos_write:                     ; AL = index, AH = value
        out PORT_CMOS_INDEX, al
        xchg al, ah
        out PORT_CMOS_DATA, al
        xchg al, ah
        ret

; ------------------------------------------------------------------- time ---
;
; Timeouts and delays are measured with PIT channel 0, which the BIOS runs
; in mode 3 (square wave) with the divisor 65536: its counter goes down by
; 2 at every input clock (1.193182 MHz) from 65536 to 0, twice per period.
; Reading the counter twice and subtracting (modulo 65536) gives the time
; between the reads in "half clocks" of 0.419 us, as long as the reads are
; less than 27 ms apart.  This works with interrupts disabled (no need for
; the tick count to advance) and on any speed of CPU.  If an OS reprograms
; the PIT, delays just become longer or shorter: they are approximate.

PIT_UNITS_PER_MS equ 2386       ; half clocks per millisecond (2 * 1193.182)

pit_read:                       ; -> AX = channel 0 count
        mov al, 0x00            ; control word: channel 0, "counter latch"
        out PORT_PIT_CMD, al    ;   (freezes a copy of the count for reading)
        in al, PORT_PIT_CH0     ; low byte
        mov ah, al
        in al, PORT_PIT_CH0     ; high byte
        xchg al, ah
        ret

; us_to_units: ECX = microseconds -> ESI = PIT half clocks, EDI = a
; backstop number of polls (4 per microsecond, at least 4096) after which
; the wait ends even if the PIT never moves.
us_to_units:
        push eax
        push edx
        push ebx
        cmp ecx, 0x60000000     ; keep the product below 2^32 * 1000
        jbe .ok
        mov ecx, 0x60000000
.ok:
        mov eax, ecx
        mov ebx, PIT_UNITS_PER_MS
        mul ebx                 ; EDX:EAX = us * 2386
        mov ebx, 1000
        div ebx                 ; EAX = us * 2.386
        mov esi, eax
        mov edi, ecx
        shl edi, 2
        cmp edi, 4096
        jae .done
        mov edi, 4096
.done:
        pop ebx
        pop edx
        pop eax
        ret

; pit_elapsed: BX = previous count -> BX = current count, EDX = half
; clocks elapsed since the previous read (0..65535).
pit_elapsed:
        push ax
        call pit_read
        mov dx, bx
        sub dx, ax              ; previous - current, modulo 65536: counts
        mov bx, ax              ;   down, so this is the time that passed
        movzx edx, dx
        pop ax
        ret

; delay_us: busy-wait ECX microseconds (at least; approximate).
delay_us:
        push eax
        push ebx
        push edx
        push esi
        push edi
        call us_to_units
        call pit_read
        mov bx, ax
.loop:
        call pit_elapsed
        sub esi, edx
        jbe .done               ; borrow or zero: the time is up
        dec edi
        jnz .loop
.done:
        pop edi
        pop esi
        pop edx
        pop ebx
        pop eax
        ret

; wait_port: read port DX until (value AND AH) == BL, for at most ECX us.
; Out: AL = the last value read, CF = 1 if the time ran out.
wait_port:
        push ebx
        push edx
        push esi
        push edi
        push ecx
        call us_to_units
        push dx
        push ax
        call pit_read
        mov cx, ax              ; CX = previous PIT count
        pop ax
        pop dx
.poll:
        in al, dx
        mov bh, al
        and al, ah
        cmp al, bl
        je .match
        ; not yet: how much time has passed?
        push bx
        push dx
        mov bx, cx
        call pit_elapsed
        mov cx, bx
        sub esi, edx
        pop dx
        pop bx
        jbe .timeout
        dec edi
        jnz .poll
.timeout:
        mov al, bh
        stc
        jmp .out
.match:
        mov al, bh
        clc
.out:
        pop ecx
        pop edi
        pop esi
        pop edx
        pop ebx
        ret

; --------------------------------------------------- flat memory access ---
;
; Real-mode addresses stop at 1 MiB (+64 KiB), but the local APIC and the
; IOAPIC live just below 4 GiB.  flat_read32/flat_write32 make a short
; trip into 16-bit protected mode to reach them:
;
;   1. load GDTR with bios_gdt (below) and set CR0.PE;
;   2. far-jump to selector 0x08, a 16-bit code segment whose base is
;      0xF0000 - the same base CS had in real mode, so every label keeps
;      its offset and this code keeps running;
;   3. load GS with selector 0x10: base 0, limit 4 GiB; do the access
;      with a 32-bit address (nasm adds the 0x67 address-size prefix);
;   4. load GS with selector 0x18 (base 0, limit 64 KiB, like a real-mode
;      segment), clear CR0.PE, far-jump back to F000, restore GS.
;
; Step 4 matters: a segment register keeps its hidden limit until it is
; reloaded in protected mode, so leaving GS with a 4 GiB limit would give
; the caller "unreal mode" by accident.  Interrupts are off during the
; trip (the real-mode IVT is not a valid IDT).  Used during POST only: it
; replaces GDTR.
;
; flat_read32:  EBX = physical address -> EAX
; flat_write32: EBX = physical address, EAX = value

        align 8
bios_gdt:
        dq 0                    ; 0x00: null descriptor
        dq 0x00009B0F0000FFFF   ; 0x08: 16-bit code, base 0xF0000, limit 64 KiB
        dq 0x00CF93000000FFFF   ; 0x10: 32-bit data, base 0, limit 4 GiB
        dq 0x000093000000FFFF   ; 0x18: 16-bit data, base 0, limit 64 KiB
bios_gdt_end:
bios_gdt_desc:
        dw bios_gdt_end - bios_gdt - 1
        dd ROM_LINEAR + bios_gdt
        ; (the "accessed" bit is preset in every descriptor: the CPU would
        ;  otherwise try to set it, i.e. write to the ROM, on first use)

flat_read32:
        push dx
        mov dl, 0
        jmp flat_access
flat_write32:
        push dx
        mov dl, 1
flat_access:
        pushf
        cli
        push gs
        push eax
        o32 lgdt [cs:bios_gdt_desc]
        mov eax, cr0
        or al, 1                ; CR0.PE = 1: protected mode
        mov cr0, eax
        jmp 0x08:.pm            ; reload CS with the 16-bit code selector
.pm:
        mov ax, 0x10
        mov gs, ax              ; GS = flat 4 GiB data
        pop eax
        test dl, dl
        jnz .write
        mov eax, [gs:ebx]
        jmp .leave
.write:
        mov [gs:ebx], eax
.leave:
        push eax
        mov ax, 0x18
        mov gs, ax              ; GS limit back to 64 KiB
        mov eax, cr0
        and al, 0xFE            ; CR0.PE = 0: real mode again
        mov cr0, eax
        jmp ROM_SEGMENT:.rm     ; reload CS the real-mode way (base F0000)
.rm:
        pop eax
        pop gs
        popf
        pop dx
        ret

; checksum8: AL = sum of the CX bytes at ES:DI (modulo 256).  A table is
; valid when the sum of all its bytes, checksum byte included, is 0.
checksum8:
        push cx
        push di
        xor al, al
        test cx, cx
        jz .done
.add:
        add al, [es:di]
        inc di
        dec cx
        jnz .add
.done:
        pop di
        pop cx
        ret
