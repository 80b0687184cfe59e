; video.asm - the text console and INT 10h (video services).
;
; The screen is the VGA text buffer at 0xB8000: 80 x 25 cells of two bytes
; (character, attribute).  The hardware cursor is set through the CRTC
; registers 0x0E/0x0F (ports 0x3D4 index / 0x3D5 data).  Only video mode 3
; (80x25, 16 colours) and display page 0 exist; requests for other modes
; set mode 3, other pages are ignored.
;
; vga_set_mode3 programs the standard VGA register set of mode 3 (the
; values every VGA reference lists), so that the memory at 0xB8000 really
; behaves as a text buffer on a VGA (QEMU's std VGA).  It does not load a
; font into plane 2: a display that draws glyphs from VGA memory shows
; empty cells; hvlab's console and the COM1 mirror show the text.
;
; Services (AH):
;   00h set mode (always mode 3; AL bit 7 = keep the screen)
;   01h set cursor shape        02h set cursor position   03h get cursor
;   05h select page (page 0 only)
;   06h scroll up, 07h scroll down (window, AL lines, 0 = clear, BH = fill attr)
;   08h read character and attribute at the cursor
;   09h write character and attribute CX times, 0Ah character only
;   0Eh teletype output (CR, LF, BS, BEL, wrap, scroll)  -> also COM1
;   0Fh get mode                 12h BL=10h EGA information
;   13h write string (AL bit 0 = move cursor, bit 1 = char/attr pairs) -> also COM1
;   1Ah get display combination (VGA colour)
; Anything else returns with all registers unchanged.
;
; Only 0Eh and 13h are mirrored to COM1: they are the "stream" outputs.
; 09h/0Ah paint cells without moving the cursor (boot loaders use 09h to
; colour a cell and then 0Eh to print it), so mirroring them too would
; print characters twice on the serial line.

        bits 16

; --------------------------------------------------- VGA mode 3 registers ---

vga_mode3_seq:                  ; sequencer 0..4
        db 0x03, 0x00, 0x03, 0x00, 0x02
vga_mode3_crtc:                 ; CRT controller 0x00..0x18
        db 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F
        db 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00
        db 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3
        db 0xFF
vga_mode3_gc:                   ; graphics controller 0..8
        db 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF
vga_mode3_atc:                  ; attribute controller 0x00..0x14
        db 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07
        db 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F
        db 0x0C, 0x00, 0x0F, 0x08, 0x00

; vga_set_mode3: program the VGA for 80x25 text, set the BDA video fields,
; clear the screen (unless AL bit 7 is set) and home the cursor.
vga_set_mode3:
        pushad
        push ds
        push es
        mov ah, al                      ; AH bit 7: keep screen contents
        push ax
        ; Miscellaneous output: colour I/O addresses (3Dx), 28 MHz clock
        ; (720 pixels), RAM enabled, sync polarities for 400 lines.
        mov dx, PORT_VGA_MISC_W
        mov al, 0x67
        out dx, al
        ; Sequencer: hold it in synchronous reset while changing the clocking
        ; and memory mode, then release the reset (SR0 = 3).
        mov dx, PORT_VGA_SEQ
        mov al, 0
        out dx, al
        inc dx
        mov al, 0x01
        out dx, al
        dec dx
        mov si, vga_mode3_seq + 1
        mov cl, 1
.seq:
        mov al, cl
        out dx, al
        inc dx
        mov al, [cs:si]
        out dx, al
        dec dx
        inc si
        inc cl
        cmp cl, 5
        jb .seq
        mov al, 0
        out dx, al
        inc dx
        mov al, 0x03
        out dx, al
        ; CRTC: registers 0-7 are write-protected while CR11 bit 7 is set,
        ; so clear that bit first.
        mov dx, PORT_VGA_CRTC
        mov al, 0x11
        out dx, al
        inc dx
        mov al, 0x0E
        out dx, al
        dec dx
        mov si, vga_mode3_crtc
        xor cl, cl
.crtc:
        mov al, cl
        out dx, al
        inc dx
        mov al, [cs:si]
        out dx, al
        dec dx
        inc si
        inc cl
        cmp cl, 0x19
        jb .crtc
        ; Graphics controller: odd/even addressing, memory at B8000-BFFFF.
        mov dx, PORT_VGA_GC
        mov si, vga_mode3_gc
        xor cl, cl
.gc:
        mov al, cl
        out dx, al
        inc dx
        mov al, [cs:si]
        out dx, al
        dec dx
        inc si
        inc cl
        cmp cl, 9
        jb .gc
        ; Attribute controller: one port for index and data; reading
        ; input status 1 (0x3DA) resets its flip-flop to "index".
        mov dx, PORT_VGA_STAT1
        in al, dx
        mov dx, PORT_VGA_ATC
        mov si, vga_mode3_atc
        xor cl, cl
.atc:
        mov al, cl
        out dx, al
        mov al, [cs:si]
        out dx, al
        inc si
        inc cl
        cmp cl, 0x15
        jb .atc
        mov al, 0x20                    ; index with bit 5 (PAS) set: the
        out dx, al                      ;   palette drives the display again
        ; DAC: the 64 EGA colours.  Bits 0-2 of the index give blue, green,
        ; red at 2/3 intensity; bits 3-5 add 1/3 of each (6-bit values).
        mov dx, PORT_VGA_DAC_W
        xor al, al
        out dx, al
        mov dx, PORT_VGA_DAC
        xor cl, cl
.dac:
        mov bl, cl
        shr bl, 2                       ; red: bit 2 (x42) and bit 5 (x21)
        call .dac_component
        mov bl, cl
        shr bl, 1                       ; green: bits 1 and 4
        call .dac_component
        mov bl, cl                      ; blue: bits 0 and 3
        call .dac_component
        inc cl
        cmp cl, 64
        jb .dac
        ; BIOS data area: what mode we are in.
        mov ax, BDA_SEG
        mov ds, ax
        mov byte [BDA_VIDEO_MODE], 3
        mov word [BDA_VIDEO_COLS], TEXT_COLS
        mov word [BDA_VIDEO_PAGESIZE], 0x1000
        mov word [BDA_VIDEO_PAGEOFF], 0
        mov byte [BDA_VIDEO_PAGE], 0
        mov word [BDA_CRTC_BASE], PORT_VGA_CRTC
        mov byte [BDA_VIDEO_MSR], 0x29
        mov byte [BDA_VIDEO_PAL], 0x30
        mov byte [BDA_VIDEO_ROWS], TEXT_ROWS - 1
        mov word [BDA_CHAR_HEIGHT], 16
        mov byte [BDA_VIDEO_CTL], 0x60
        mov byte [BDA_VIDEO_SWITCHES], 0xF9
        mov byte [BDA_VIDEO_FLAGS], 0x51
        mov word [BDA_CURSOR_SHAPE], 0x0607
        xor ax, ax
        mov di, BDA_CURSOR_POS
        mov cx, 8
.pages:
        mov [di], ax
        add di, 2
        dec cx
        jnz .pages
        ; clear page 0 (the one that is shown) with grey blanks; the other
        ; 7 pages of the 32 KiB text area are left alone: on a machine where
        ; the text buffer is emulated MMIO every write would cost an exit
        pop ax
        test ah, 0x80
        jnz .keep
        mov ax, VGA_TEXT_SEG
        mov es, ax
        xor di, di
        mov ax, (TEXT_ATTR << 8) | ' '
        mov cx, 0x1000 / 2
        rep stosw
.keep:
        xor dx, dx
        call set_hw_cursor
        pop es
        pop ds
        popad
        ret

.dac_component:                         ; BL bits 0 and 3 -> AL (0..63)
        xor al, al
        test bl, 0x01
        jz .no_hi
        add al, 42
.no_hi:
        test bl, 0x08
        jz .no_lo
        add al, 21
.no_lo:
        out dx, al
        ret

; set_hw_cursor: DH = row, DL = column -> CRTC cursor location registers
; (0x0E high byte, 0x0F low byte of row * 80 + column).
set_hw_cursor:
        push ax
        push bx
        push dx
        mov al, dh
        mov bl, TEXT_COLS
        mul bl                          ; AX = row * 80
        xor dh, dh
        add ax, dx
        mov bx, ax
        mov dx, PORT_VGA_CRTC
        mov al, 0x0E
        out dx, al
        inc dx
        mov al, bh
        out dx, al
        dec dx
        mov al, 0x0F
        out dx, al
        inc dx
        mov al, bl
        out dx, al
        pop dx
        pop bx
        pop ax
        ret

; cell_offset: DH = row, DL = column -> DI = byte offset in the text buffer
cell_offset:
        push ax
        push dx
        mov al, dh
        mov ah, TEXT_COLS
        mul ah
        xor dh, dh
        add ax, dx
        shl ax, 1
        mov di, ax
        pop dx
        pop ax
        ret

; scroll_window: scroll a window of the screen.
;   AL = lines (0 or more than the height: clear the window)
;   BH = attribute for the blank lines
;   CH, CL = top row, left column;  DH, DL = bottom row, right column
;   SI = 0: up (text moves up, blank lines at the bottom), 1: down
scroll_window:
        pushad
        push ds
        push es
        ; clip the window to the screen; an empty window does nothing
        cmp dh, TEXT_ROWS - 1
        jbe .rows_ok
        mov dh, TEXT_ROWS - 1
.rows_ok:
        cmp dl, TEXT_COLS - 1
        jbe .cols_ok
        mov dl, TEXT_COLS - 1
.cols_ok:
        cmp ch, dh
        ja .done
        cmp cl, dl
        ja .done
        mov di, VGA_TEXT_SEG
        mov ds, di
        mov es, di
        ; BP = width in cells, BL = height in rows
        movzx bp, dl
        sub bp, cx
        and bp, 0xFF                    ; (right - left) modulo 256
        inc bp
        mov bl, dh
        sub bl, ch
        inc bl
        test al, al                     ; 0 lines, or at least the height:
        jz .clear_all                   ;   blank the whole window
        cmp al, bl
        jb .lines_ok
.clear_all:
        mov al, bl
.lines_ok:
        mov ah, bl
        sub ah, al                      ; AH = rows that move, AL = rows blanked
        test si, si
        jnz .down
        ; ---- up: row top+i <- row top+i+lines, for i = 0 .. AH-1
        xor bl, bl
.up_loop:
        cmp bl, ah
        jae .up_fill
        push dx
        mov dh, ch
        add dh, bl
        mov dl, cl
        call cell_offset                ; DI = destination row
        mov si, di
        add dh, al
        call cell_offset                ; DI = source row (lines further down)
        xchg si, di
        pop dx
        push cx
        mov cx, bp
        rep movsw
        pop cx
        inc bl
        jmp .up_loop
.up_fill:
        mov bl, ch                      ; blank the AL rows below the moved ones
        add bl, ah
        jmp .fill
        ; ---- down: row bottom-i <- row bottom-i-lines, for i = 0 .. AH-1
.down:
        xor bl, bl
.down_loop:
        cmp bl, ah
        jae .down_fill
        push dx
        sub dh, bl
        mov dl, cl
        call cell_offset                ; DI = destination row
        mov si, di
        sub dh, al
        call cell_offset                ; DI = source row (lines further up)
        xchg si, di
        pop dx
        push cx
        mov cx, bp
        rep movsw
        pop cx
        inc bl
        jmp .down_loop
.down_fill:
        mov bl, ch                      ; blank the AL rows at the top
.fill:
        ; AL rows from row BL: columns CL .. CL+BP-1, blank with attribute BH
        test al, al
        jz .done
        push dx
        mov dh, bl
        mov dl, cl
        call cell_offset
        pop dx
        push ax
        push cx
        mov cx, bp
        mov ah, bh
        mov al, ' '
        rep stosw
        pop cx
        pop ax
        inc bl
        dec al
        jmp .fill
.done:
        pop es
        pop ds
        popad
        ret

; ------------------------------------------------------------- teletype ---

; tty_putc: AL -> the screen at the cursor of page 0, teletype rules:
;   CR   column 0            LF   next row (scrolls at the bottom)
;   BS   one column left (nothing is erased; stops at column 0)
;   BEL  nothing on screen (COM1 gets the byte, a terminal may beep)
;   else the character is stored (the attribute of the cell is kept) and
;        the cursor advances, wrapping to the next row after column 79.
; tty_putc_attr: the same, but AH is stored as the cell's attribute.
tty_putc:
        push bx
        xor bl, bl
        jmp tty_emit
tty_putc_attr:
        push bx
        mov bl, 1
tty_emit:
        push ax
        push cx
        push dx
        push si
        push di
        push ds
        push es
        mov cx, BDA_SEG
        mov ds, cx
        mov cx, VGA_TEXT_SEG
        mov es, cx
        mov dx, [BDA_CURSOR_POS]        ; DL = column, DH = row
        cmp al, 13
        je .cr
        cmp al, 10
        je .lf
        cmp al, 8
        je .bs
        cmp al, 7
        je .store
        call cell_offset
        mov [es:di], al
        test bl, bl
        jz .advance
        mov [es:di + 1], ah
.advance:
        inc dl
        cmp dl, TEXT_COLS
        jb .store
        xor dl, dl                      ; wrap: column 0 of the next row
        jmp .lf
.cr:
        xor dl, dl
        jmp .store
.bs:
        test dl, dl
        jz .store
        dec dl
        jmp .store
.lf:
        inc dh
        cmp dh, TEXT_ROWS
        jb .store
        ; past the last row: scroll the whole screen up one line
        push dx
        mov al, 1
        mov bh, TEXT_ATTR
        xor cx, cx
        mov dx, ((TEXT_ROWS - 1) << 8) | (TEXT_COLS - 1)
        xor si, si
        call scroll_window
        pop dx
        mov dh, TEXT_ROWS - 1
.store:
        mov [BDA_CURSOR_POS], dx
        call set_hw_cursor
        pop es
        pop ds
        pop di
        pop si
        pop dx
        pop cx
        pop ax
        pop bx
        ret

; ---------------------------------------------------------------- INT 10h ---

int10_handler:
        HANDLER_ENTER
        mov ax, BDA_SEG
        mov ds, ax
        movzx bx, byte [bp + R_AH]
        cmp bl, 0x13
        ja .high
        shl bx, 1
        jmp [cs:int10_table + bx]
.high:
        cmp bl, 0x1A
        je int10_display_combination
        jmp int10_done

int10_table:
        dw int10_set_mode               ; 00h
        dw int10_cursor_shape           ; 01h
        dw int10_set_cursor             ; 02h
        dw int10_get_cursor             ; 03h
        dw int10_done                   ; 04h light pen: not present
        dw int10_set_page               ; 05h
        dw int10_scroll_up              ; 06h
        dw int10_scroll_down            ; 07h
        dw int10_read_char              ; 08h
        dw int10_write_char_attr        ; 09h
        dw int10_write_char             ; 0Ah
        dw int10_done                   ; 0Bh palette (CGA): ignored
        dw int10_done                   ; 0Ch write pixel: no graphics modes
        dw int10_done                   ; 0Dh read pixel
        dw int10_teletype               ; 0Eh
        dw int10_get_mode               ; 0Fh
        dw int10_done                   ; 10h palette registers: ignored
        dw int10_done                   ; 11h fonts: ignored
        dw int10_alt_select             ; 12h
        dw int10_write_string           ; 13h

int10_done:
        HANDLER_LEAVE

int10_set_mode:                         ; AL = mode (bit 7: do not clear)
        mov al, [bp + R_AL]
        and al, 0x80                    ; any mode number -> mode 3
        call vga_set_mode3
        ; AL on return: some BIOSes return 30h ("mode set") here
        mov byte [bp + R_AL], 0x30
        jmp int10_done

int10_cursor_shape:                     ; CH = start line, CL = end line
        mov cx, [bp + R_CX]
        mov [BDA_CURSOR_SHAPE], cx
        mov dx, PORT_VGA_CRTC
        mov al, 0x0A                    ; cursor start (bit 5 = cursor off)
        out dx, al
        inc dx
        mov al, ch
        and al, 0x3F
        out dx, al
        dec dx
        mov al, 0x0B                    ; cursor end
        out dx, al
        inc dx
        mov al, cl
        and al, 0x1F
        out dx, al
        jmp int10_done

int10_set_cursor:                       ; BH = page, DH = row, DL = column
        movzx bx, byte [bp + R_BH]
        and bl, 7
        shl bx, 1
        mov dx, [bp + R_DX]
        mov [BDA_CURSOR_POS + bx], dx
        test bx, bx
        jnz int10_done                  ; only page 0 is shown
        call set_hw_cursor
        jmp int10_done

int10_get_cursor:                       ; BH = page -> DH/DL, CH/CL, AX = 0
        movzx bx, byte [bp + R_BH]
        and bl, 7
        shl bx, 1
        mov dx, [BDA_CURSOR_POS + bx]
        mov [bp + R_DX], dx
        mov cx, [BDA_CURSOR_SHAPE]
        mov [bp + R_CX], cx
        mov word [bp + R_AX], 0
        jmp int10_done

int10_set_page:                         ; only page 0 exists
        cmp byte [bp + R_AL], 0
        jne int10_done
        mov byte [BDA_VIDEO_PAGE], 0
        jmp int10_done

int10_scroll_up:
        xor si, si
        jmp int10_scroll
int10_scroll_down:
        mov si, 1
int10_scroll:
        mov al, [bp + R_AL]
        mov bh, [bp + R_BH]
        mov cx, [bp + R_CX]
        mov dx, [bp + R_DX]
        call scroll_window
        jmp int10_done

int10_read_char:                        ; -> AL = character, AH = attribute
        mov dx, [BDA_CURSOR_POS]
        call cell_offset
        mov ax, VGA_TEXT_SEG
        mov es, ax
        mov ax, [es:di]
        mov [bp + R_AX], ax
        jmp int10_done

int10_write_char_attr:                  ; AL = char, BL = attribute, CX = count
        mov ah, [bp + R_BL]
        mov bl, 1
        jmp int10_write_cells
int10_write_char:                       ; AL = char, CX = count (attribute kept)
        xor bl, bl
int10_write_cells:
        mov al, [bp + R_AL]
        mov cx, [bp + R_CX]
        mov dx, [BDA_CURSOR_POS]        ; the cursor does not move
        call cell_offset
        mov si, VGA_TEXT_SEG
        mov es, si
        ; never write past the end of the screen
        mov si, TEXT_COLS * TEXT_ROWS * 2
        sub si, di
        jbe int10_done
        shr si, 1                       ; cells left on the screen
        cmp cx, si
        jbe .loop
        mov cx, si
.loop:
        test cx, cx
        jz int10_done
        mov [es:di], al
        test bl, bl
        jz .next
        mov [es:di + 1], ah
.next:
        add di, 2
        dec cx
        jmp .loop

int10_teletype:                         ; AL = character
        mov al, [bp + R_AL]
        call con_putc
        jmp int10_done

int10_get_mode:                         ; -> AL = mode, AH = columns, BH = page
        mov al, [BDA_VIDEO_MODE]
        mov ah, [BDA_VIDEO_COLS]
        mov [bp + R_AX], ax
        mov al, [BDA_VIDEO_PAGE]
        mov [bp + R_BH], al
        jmp int10_done

int10_alt_select:                       ; BL = 10h: EGA/VGA information
        cmp byte [bp + R_BL], 0x10
        jne int10_done
        mov byte [bp + R_BH], 0         ; colour
        mov byte [bp + R_BL], 3         ; 256 KiB of video memory
        mov byte [bp + R_CH], 0         ; feature bits
        mov al, [BDA_VIDEO_SWITCHES]
        and al, 0x0F
        mov [bp + R_CL], al             ; switch settings
        jmp int10_done

int10_display_combination:              ; AL = 00h: get
        cmp byte [bp + R_AL], 0
        jne int10_done
        mov byte [bp + R_AL], 0x1A      ; "function supported"
        mov word [bp + R_BX], 0x0008    ; BL = VGA with colour display, BH = none
        jmp int10_done

; 13h: write string.  AL bit 0 = leave the cursor after the string, bit 1 =
; the string holds (character, attribute) pairs; BL = attribute otherwise;
; CX = number of characters; DH/DL = where to start; ES:BP = the string.
; Control characters act as in teletype mode.
int10_write_string:
        mov cx, [bp + R_CX]
        push word [BDA_CURSOR_POS]      ; to restore if AL bit 0 is clear
        mov dx, [bp + R_DX]
        mov [BDA_CURSOR_POS], dx
        mov es, [bp + R_ES]
        mov si, [bp + R_BP]
        mov ah, [bp + R_BL]
.next:
        test cx, cx
        jz .end
        mov al, [es:si]
        inc si
        test byte [bp + R_AL], 2
        jz .have_attr
        mov ah, [es:si]
        inc si
.have_attr:
        cmp al, 13
        je .control
        cmp al, 10
        je .control
        cmp al, 8
        je .control
        cmp al, 7
        je .control
        call tty_putc_attr
        jmp .mirror
.control:
        call tty_putc
.mirror:
        call serial_putc
        dec cx
        jmp .next
.end:
        pop dx
        test byte [bp + R_AL], 1
        jnz int10_done
        mov [BDA_CURSOR_POS], dx
        call set_hw_cursor
        jmp int10_done
