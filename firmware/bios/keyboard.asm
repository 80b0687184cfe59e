; keyboard.asm - the i8042 keyboard controller, IRQ 1, COM1 input, INT 16h.
;
; Keys reach the BDA keyboard buffer (16 words at 0040:001E, a ring with
; head and tail pointers at 0040:001A/001C) from two sources:
;
;   1. the PS/2 keyboard: IRQ 1 reads a scancode from port 0x60 (set 1,
;      because the controller translates), updates the shift states and
;      stores (scancode << 8) | ASCII;
;   2. COM1: every timer tick, and whenever INT 16h looks for a key, bytes
;      waiting in the UART are taken and stored as keys (the ASCII byte
;      with the scancode of the key that types it), so a user on a serial
;      terminal - or `hvlab run` on stdin - can type.  Enter arrives as CR
;      or LF, Backspace as BS or DEL.  Escape sequences (arrow keys on a
;      terminal) are not decoded: each byte becomes a key of its own.
;
; INT 16h: 00h/10h wait for a key, 01h/11h check for a key (ZF = 1: none),
; 02h/12h shift flags, 03h typematic (accepted, ignored), 05h store a key,
; 0Ah keyboard ID.
;
; Not implemented: keyboard LEDs, Alt+keypad ASCII entry, Ctrl-Break,
; SysRq, the INT 15h AH=4Fh intercept, Print Screen.  Ctrl-Alt-Del resets
; the machine through the keyboard controller.

        bits 16

; -------------------------------------------------------- i8042 helpers ---

; kbc_write_ready: wait until the controller can take a byte (input buffer
; empty, status bit 1 = 0).  CF = 1 on timeout (50 ms).
kbc_write_ready:
        push ax
        push bx
        push ecx
        push dx
        mov dx, PORT_KBD_STATUS
        mov ah, KBC_STAT_IBF
        mov bl, 0
        mov ecx, 50000
        call wait_port
        pop dx
        pop ecx
        pop bx
        pop ax
        ret

; kbc_read: wait for a byte from the controller (output buffer full,
; status bit 0 = 1) and read it into AL.  CF = 1 on timeout (ECX us).
kbc_read:
        push bx
        push dx
        push ax
        mov dx, PORT_KBD_STATUS
        mov ah, KBC_STAT_OBF
        mov bl, KBC_STAT_OBF
        call wait_port
        pop ax
        jc .out
        in al, PORT_KBD_DATA
        clc
.out:
        pop dx
        pop bx
        ret

kbc_command:                            ; AL = controller command (port 0x64)
        call kbc_write_ready
        jc .out
        out PORT_KBD_CMD, al
.out:
        ret

kbc_data:                               ; AL = byte for port 0x60
        call kbc_write_ready
        jc .out
        out PORT_KBD_DATA, al
.out:
        ret

kbc_flush:                              ; throw away pending output (max 32 bytes)
        push ax
        push cx
        mov cx, 32
.next:
        in al, PORT_KBD_STATUS
        test al, KBC_STAT_OBF
        jz .done
        in al, PORT_KBD_DATA
        dec cx
        jnz .next
.done:
        pop cx
        pop ax
        ret

; keyboard_init: bring up the 8042 and the keyboard (with interrupts off;
; every wait is bounded, so a missing controller only costs a few 100 ms
; and a line on the console).
;   1. flush, then controller self-test (command AAh, answer 55h);
;   2. command byte (60h): 65h = keyboard interrupt on, system flag
;      (POST passed), mouse clock off, scancode translation to set 1 on;
;   3. keyboard reset (FFh): ACK FAh, then BAT result AAh;
;   4. enable scanning (F4h), ACK FAh.
; Returns CF = 1 if something did not answer.
keyboard_init:
        push ax
        push ecx
        call kbc_flush
        mov al, 0xAA
        call kbc_command
        mov ecx, 200000
        call kbc_read
        jc .fail
        cmp al, 0x55
        jne .fail
        mov al, 0x60                    ; "write command byte"
        call kbc_command
        mov al, 0x65
        call kbc_data
        mov al, 0xFF                    ; keyboard: reset and self-test
        call kbc_data
        mov ecx, 200000
        call kbc_read
        jc .fail
        cmp al, 0xFA
        jne .fail
        mov ecx, 500000
        call kbc_read                   ; BAT completion code
        jc .fail
        cmp al, 0xAA
        jne .fail
        mov al, 0xF4                    ; keyboard: enable scanning
        call kbc_data
        mov ecx, 200000
        call kbc_read
        jc .fail
        cmp al, 0xFA
        jne .fail
        call kbc_flush
        clc
        jmp .out
.fail:
        call kbc_flush
        stc
.out:
        pop ecx
        pop ax
        ret

; --------------------------------------------------------- the buffer ---

; kbd_buffer_put: store AX (scancode << 8 | ASCII) at the tail of the BDA
; ring.  DS = BDA.  A full buffer drops the key (CF = 1).
kbd_buffer_put:
        push bx
        push si
        mov bx, [BDA_KBD_TAIL]
        mov si, bx
        add si, 2
        cmp si, [BDA_KBD_BUF_END]
        jb .no_wrap
        mov si, [BDA_KBD_BUF_START]
.no_wrap:
        cmp si, [BDA_KBD_HEAD]
        je .full                        ; tail + 1 == head: full
        mov [bx], ax
        mov [BDA_KBD_TAIL], si
        clc
        jmp .out
.full:
        stc
.out:
        pop si
        pop bx
        ret

; kbd_buffer_peek: ZF = 1 if empty, else AX = the key at the head.  DS = BDA.
kbd_buffer_peek:
        push bx
        mov bx, [BDA_KBD_HEAD]
        cmp bx, [BDA_KBD_TAIL]
        je .out
        mov ax, [bx]
.out:
        pop bx
        ret

; kbd_buffer_drop: remove the key at the head.  DS = BDA.
kbd_buffer_drop:
        push bx
        mov bx, [BDA_KBD_HEAD]
        add bx, 2
        cmp bx, [BDA_KBD_BUF_END]
        jb .no_wrap
        mov bx, [BDA_KBD_BUF_START]
.no_wrap:
        mov [BDA_KBD_HEAD], bx
        pop bx
        ret

; ----------------------------------------------------------------- COM1 ---

; serial_to_keyboard: move the bytes waiting in the COM1 receiver (line
; status bit 0, "data ready") into the keyboard buffer, at most 16 per call.
; A line status of FFh means no UART answers on the bus: nothing to read.
; Keeps all registers (called from the IRQ 0 handler).
serial_to_keyboard:
        push ds
        push ax
        push cx
        push dx
        mov ax, BDA_SEG
        mov ds, ax
        mov cx, 16
.next:
        mov dx, UART_LSR
        in al, dx
        cmp al, 0xFF
        je .done
        test al, 0x01
        jz .done
        mov dx, UART_THR                ; (receive buffer register, same port)
        in al, dx
        call ascii_to_key
        call kbd_buffer_put
        dec cx
        jnz .next
.done:
        pop dx
        pop cx
        pop ax
        pop ds
        ret

; ascii_to_key: AL = a byte from the terminal -> AX = key (scan << 8 | ASCII).
; The scancode is the one of the key that types the byte on a US keyboard
; (looked up in the keymap tables), 0 if there is none.
ascii_to_key:
        cmp al, 0x0A                    ; LF -> Enter
        je .enter
        cmp al, 0x7F                    ; DEL -> Backspace
        je .backspace
        cmp al, 0x20
        jae .lookup
        cmp al, 0x08                    ; BS, Tab, CR, Esc are in the tables
        je .lookup
        cmp al, 0x09
        je .lookup
        cmp al, 0x0D
        je .lookup
        cmp al, 0x1B
        je .lookup
        ; another control character, i.e. Ctrl+letter: the letter's scancode
        push ax
        add al, 'a' - 1
        call keymap_find
        mov al, ah
        pop cx
        mov ah, al
        mov al, cl
        ret
.lookup:
        jmp keymap_find
.enter:
        mov ax, 0x1C0D
        ret
.backspace:
        mov ax, 0x0E08
        ret

; keymap_find: AL = ASCII -> AH = the first scancode whose unshifted or
; shifted character is AL, 0 if none.  Keeps AL.
keymap_find:
        push bx
        xor bx, bx
.scan:
        cmp al, [cs:keymap_normal + bx]
        je .hit
        cmp al, [cs:keymap_shift + bx]
        je .hit
        inc bx
        cmp bx, KEYMAP_SIZE
        jb .scan
        xor bx, bx
.hit:
        mov ah, bl
        pop bx
        ret

; ------------------------------------------------------------ scancodes ---
; Scancode set 1 (what the 8042 delivers with translation on), US layout:
; the character of keys 00h-39h without and with Shift.  0 = no character
; (modifier keys).  Keypad and function keys are handled in translate_key.

keymap_normal:
        db 0, 0x1B, "1234567890-=", 0x08, 0x09
        db "qwertyuiop[]", 0x0D, 0
        db "asdfghjkl;'`", 0, "\"
        db "zxcvbnm,./", 0, "*", 0, " "
keymap_shift:
        db 0, 0x1B, "!@#$%^&*()_+", 0x08, 0
        db "QWERTYUIOP{}", 0x0D, 0
        db 'ASDFGHJKL:"~', 0, "|"
        db "ZXCVBNM<>?", 0, "*", 0, " "
KEYMAP_SIZE equ keymap_shift - keymap_normal    ; 3Ah keys
keypad_digits:
        db "789-456+1230."                     ; keys 47h-53h with Num Lock

; ------------------------------------------------------------------ IRQ 1 ---

; IRQ 1: a byte from the keyboard.  Prefix bytes: E0 (the next key is one
; of the "grey" duplicates) sets a flag; E1 (Pause) is followed by two more
; bytes that are ignored.  Bit 7 set = key released ("break" code).
irq1_handler:
        push ds
        push es
        pushad
        mov ax, BDA_SEG
        mov ds, ax
        mov es, [BDA_EBDA_SEG]
        in al, PORT_KBD_DATA
        cmp byte [es:EB_KBD_SKIP], 0
        je .no_skip
        dec byte [es:EB_KBD_SKIP]
        jmp .eoi
.no_skip:
        cmp al, 0xE1
        jne .not_e1
        mov byte [es:EB_KBD_SKIP], 2
        jmp .eoi
.not_e1:
        cmp al, 0xE0
        jne .not_e0
        or byte [BDA_KBD_FLAGS3], KF3_LAST_E0
        jmp .eoi
.not_e0:
        mov bl, [BDA_KBD_FLAGS3]        ; BL = the E0 flag for this key
        and bl, KF3_LAST_E0
        and byte [BDA_KBD_FLAGS3], ~KF3_LAST_E0 & 0xFF
        mov ah, al
        and ah, 0x7F                    ; AH = the key, AL bit 7 = released
        ; ---- modifier keys: they change the flags, they are not stored
        mov dh, KF1_LSHIFT
        cmp ah, 0x2A
        je .shift
        mov dh, KF1_RSHIFT
        cmp ah, 0x36
        je .shift
        mov dh, KF1_CTRL
        cmp ah, 0x1D
        je .hold
        mov dh, KF1_ALT
        cmp ah, 0x38
        je .hold
        mov dx, (KF1_CAPS << 8) | KF2_CAPS_DOWN
        cmp ah, 0x3A
        je .toggle
        mov dx, (KF1_SCROLL << 8) | KF2_SCROLL_DOWN
        cmp ah, 0x46
        je .toggle
        mov dx, (KF1_NUM << 8) | KF2_NUM_DOWN
        cmp ah, 0x45
        jne .not_modifier
        test bl, bl                     ; E0 45 does not exist; 45 is Num Lock
        jz .toggle
.not_modifier:
        test al, 0x80                   ; other keys: releases are ignored
        jnz .eoi
        ; Ctrl-Alt-Del: reset the machine (pulse the 8042's reset line)
        cmp ah, 0x53
        jne .translate
        mov dl, [BDA_KBD_FLAGS1]
        and dl, KF1_CTRL | KF1_ALT
        cmp dl, KF1_CTRL | KF1_ALT
        jne .translate
        mov word [BDA_RESET_FLAG], 0x1234
        mov al, 0xFE
        call kbc_command
.translate:
        call translate_key
        jc .eoi
        call kbd_buffer_put
        jmp .eoi
.shift:
        test bl, bl                     ; E0 2A / E0 36: "fake shifts" sent
        jnz .eoi                        ;   around grey keys - ignore them
.hold:
        test al, 0x80
        jnz .release
        or [BDA_KBD_FLAGS1], dh
        jmp .eoi
.release:
        not dh
        and [BDA_KBD_FLAGS1], dh
        jmp .eoi
.toggle:
        ; DH = the lock bit in flags 1, DL = its "key held" bit in flags 2;
        ; the lock toggles on the first make code only (not on auto-repeat)
        test al, 0x80
        jnz .toggle_release
        test [BDA_KBD_FLAGS2], dl
        jnz .eoi
        or [BDA_KBD_FLAGS2], dl
        xor [BDA_KBD_FLAGS1], dh
        jmp .eoi
.toggle_release:
        not dl
        and [BDA_KBD_FLAGS2], dl
.eoi:
        mov al, PIC_EOI
        out PORT_PIC1_CMD, al
        popad
        pop es
        pop ds
        iret

; translate_key: AH = scancode of a pressed key, BL = E0 flag, DS = BDA
; -> AX = (scan << 8) | ASCII for the buffer, or CF = 1 for "no key".
translate_key:
        mov cl, [BDA_KBD_FLAGS1]
        movzx si, ah
        ; E0 1C: keypad Enter, E0 35: keypad '/', E0 37: Print Screen
        test bl, bl
        jz .not_grey
        cmp ah, 0x1C
        jne .not_kp_enter
        mov ax, 0xE00D
        jmp .ok
.not_kp_enter:
        cmp ah, 0x35
        jne .not_kp_slash
        mov ax, 0xE02F
        jmp .ok
.not_kp_slash:
        cmp ah, 0x47                    ; grey cursor/editing keys: ASCII E0h
        jb .none
        cmp ah, 0x53
        ja .none
        mov al, 0xE0
        jmp .ok
.not_grey:
        ; F1-F10: 3Bh-44h, with Shift +19h, Ctrl +23h, Alt +2Dh; no ASCII
        cmp ah, 0x3B
        jb .main
        cmp ah, 0x44
        ja .not_f1_f10
        mov al, 0x19
        mov ch, 0x23
        mov dl, 0x2D
        jmp .function_key
.not_f1_f10:
        cmp ah, 0x57                    ; F11, F12: 85h/86h, +2 / +4 / +6
        jb .keypad
        cmp ah, 0x58
        ja .none
        add ah, 0x85 - 0x57
        mov al, 2
        mov ch, 4
        mov dl, 6
.function_key:
        test cl, KF1_ALT
        jz .fk_ctrl
        add ah, dl
        jmp .fk_done
.fk_ctrl:
        test cl, KF1_CTRL
        jz .fk_shift
        add ah, ch
        jmp .fk_done
.fk_shift:
        test cl, KF1_LSHIFT | KF1_RSHIFT
        jz .fk_done
        add ah, al
.fk_done:
        xor al, al
        jmp .ok
.keypad:
        ; 47h-53h: digits when Num Lock xor Shift, editing keys otherwise
        cmp ah, 0x47
        jb .none
        cmp ah, 0x53
        ja .none
        mov al, [cs:keypad_digits + si - 0x47]
        cmp ah, 0x4A                    ; '-' and '+' always type themselves
        je .ok
        cmp ah, 0x4E
        je .ok
        mov dl, 0
        test cl, KF1_NUM
        jz .kp_shift
        xor dl, 1
.kp_shift:
        test cl, KF1_LSHIFT | KF1_RSHIFT
        jz .kp_decide
        xor dl, 1
.kp_decide:
        test dl, dl
        jnz .ok
        xor al, al
        jmp .ok
.main:
        cmp ah, KEYMAP_SIZE
        jae .none
        test cl, KF1_ALT                ; Alt+key: scancode only
        jz .not_alt
        xor al, al
        jmp .ok
.not_alt:
        mov al, [cs:keymap_normal + si]
        test cl, KF1_CTRL
        jz .not_ctrl
        ; Ctrl: letters give 01h-1Ah, and a few others their control code
        cmp al, 'a'
        jb .ctrl_other
        cmp al, 'z'
        ja .ctrl_other
        sub al, 0x60
        jmp .ok
.ctrl_other:
        mov dl, al
        xor al, al
        cmp dl, 0x0D
        jne .c1
        mov al, 0x0A                    ; Ctrl+Enter = LF
.c1:
        cmp dl, 0x08
        jne .c2
        mov al, 0x7F                    ; Ctrl+Backspace = DEL
.c2:
        cmp dl, '['
        jne .c3
        mov al, 0x1B
.c3:
        cmp dl, '\'
        jne .c4
        mov al, 0x1C
.c4:
        cmp dl, ']'
        jne .ok
        mov al, 0x1D
        jmp .ok
.not_ctrl:
        test cl, KF1_LSHIFT | KF1_RSHIFT
        jz .caps
        mov al, [cs:keymap_shift + si]
.caps:
        test cl, KF1_CAPS               ; Caps Lock swaps the case of letters
        jz .check
        mov dl, al
        or dl, 0x20
        cmp dl, 'a'
        jb .check
        cmp dl, 'z'
        ja .check
        xor al, 0x20
.check:
        test al, al                     ; a key without a character (e.g.
        jz .none                        ;   a modifier we did not catch)
.ok:
        clc
        ret
.none:
        stc
        ret

; ---------------------------------------------------------------- INT 16h ---

int16_handler:
        HANDLER_ENTER
        mov ax, BDA_SEG
        mov ds, ax
        mov ah, [bp + R_AH]
        cmp ah, 0x00
        je .read
        cmp ah, 0x10
        je .read
        cmp ah, 0x01
        je .check
        cmp ah, 0x11
        je .check
        cmp ah, 0x02
        je .flags
        cmp ah, 0x12
        je .ext_flags
        cmp ah, 0x05
        je .store
        cmp ah, 0x09
        je .capabilities
        cmp ah, 0x0A
        je .keyboard_id
        jmp .done                       ; 03h and unknown: nothing to do

.read:                                  ; wait for a key and remove it
        cli
        call serial_to_keyboard
        call kbd_buffer_peek
        jnz .got_key
        sti                             ; STI; HLT: sleep until the next
        hlt                             ;   interrupt (the tick, IRQ 1)
        jmp .read
.got_key:
        call kbd_buffer_drop
        sti
        cmp byte [bp + R_AH], 0x10
        je .read_done
        call key_to_basic
.read_done:
        mov [bp + R_AX], ax
        jmp .done

.check:                                 ; ZF = 1: no key; else AX = key, kept
        cli
        call serial_to_keyboard
        call kbd_buffer_peek
        sti
        jz .no_key
        cmp byte [bp + R_AH], 0x11
        je .check_done
        call key_to_basic
.check_done:
        mov [bp + R_AX], ax
        CLEAR_ZF
        jmp .done
.no_key:
        SET_ZF
        jmp .done

.flags:
        mov al, [BDA_KBD_FLAGS1]
        mov [bp + R_AL], al
        jmp .done

.ext_flags:
        mov al, [BDA_KBD_FLAGS1]
        mov ah, [BDA_KBD_FLAGS2]
        and ah, 0x73                    ; left Ctrl/Alt, Scroll/Num/Caps held
        mov [bp + R_AX], ax
        jmp .done

.store:                                 ; CX = key -> AL = 0 stored, 1 full
        cli
        mov ax, [bp + R_CX]
        call kbd_buffer_put
        sti
        mov al, 0
        adc al, 0
        mov [bp + R_AL], al
        jmp .done

.capabilities:
        mov byte [bp + R_AL], 0x60      ; functions 0Ah and 10h-12h exist
        jmp .done

.keyboard_id:
        mov word [bp + R_BX], 0x41AB    ; MF2 keyboard, translated
.done:
        HANDLER_LEAVE

; key_to_basic: AX = key as stored -> AX as the original functions 00h/01h
; report it: grey keys lose their E0h ASCII, keypad Enter and '/' get the
; scancodes of the main Enter and '/' keys.
key_to_basic:
        cmp ah, 0xE0
        jne .ascii
        mov ah, 0x1C
        cmp al, 0x0D
        je .ascii
        mov ah, 0x35
.ascii:
        cmp al, 0xE0
        jne .out
        test ah, ah
        jz .out
        xor al, al
.out:
        ret
