; pci.asm - PCI configuration space, enumeration of bus 0, interrupt
; routing, and the PCI BIOS services of INT 1Ah (AH = B1h).
;
; Configuration mechanism #1: write 0x80000000 | bus << 16 | device << 11 |
; function << 8 | register (dword aligned) to port 0xCF8, then read or
; write the data at 0xCFC + (register & 3).  In this file BX always holds
; bus << 8 | device << 3 | function ("bdf") and DI the register number.
;
; What pci_init does, for every function on bus 0:
;   * sizes each BAR (write all ones, read back: the bits that stay zero
;     are the size) and gives it an address: I/O BARs from 0xC000 upwards,
;     memory BARs from 0xE0000000 upwards (natural alignment), which is
;     above the RAM of the PC memory map and below the IOAPIC at
;     0xFEC00000; 64-bit BARs get an address below 4 GiB; expansion ROM
;     BARs are left disabled (option ROMs are not run);
;   * enables I/O space, memory space and bus mastering (command bits 0-2);
;   * writes the interrupt line register: INTx of device d goes to PIRQ
;     ((pin - 1) + (d - 1)) mod 4 on the PIIX, the same swizzle QEMU wires,
;     and PIRQA-D are routed to IRQ 10, 10, 11, 11 (PIIX3 registers
;     0x60-0x63), as SeaBIOS does on QEMU;
;   * the PIIX4 power-management function (8086:7113, present on QEMU's pc
;     machine) gets its ACPI registers at I/O 0x600 (PMBA, register 0x40,
;     enabled by register 0x80 bit 0); its SCI is IRQ 9.
; Then IRQ 10, 11 (and 9 with the PM function) are made level-triggered in
; the ELCR (ports 0x4D0/0x4D1), because PCI interrupts are shared levels.
; PCI-to-PCI bridges are not followed: only bus 0 is configured.

        bits 16

; pci_select: BX = bdf, DI = register -> address latched, DX = data port
pci_select:
        push eax
        movzx eax, bx
        shl eax, 8
        or eax, 0x80000000
        mov dx, di
        and dx, 0xFC
        or ax, dx
        mov dx, PORT_PCI_ADDR
        out dx, eax
        pop eax
        mov dx, di
        and dx, 3
        add dx, PORT_PCI_DATA
        ret

pci_read32:
        push dx
        call pci_select
        in eax, dx
        pop dx
        ret
pci_read16:
        push dx
        call pci_select
        in ax, dx
        pop dx
        ret
pci_read8:
        push dx
        call pci_select
        in al, dx
        pop dx
        ret
pci_write32:
        push dx
        call pci_select
        out dx, eax
        pop dx
        ret
pci_write16:
        push dx
        call pci_select
        out dx, ax
        pop dx
        ret
pci_write8:
        push dx
        call pci_select
        out dx, al
        pop dx
        ret

pirq_irqs:                              ; PIRQA, PIRQB, PIRQC, PIRQD (also in the DSDT's links)
        db PCI_PIRQ_IRQS & 0xFF, (PCI_PIRQ_IRQS >> 8) & 0xFF, (PCI_PIRQ_IRQS >> 16) & 0xFF, PCI_PIRQ_IRQS >> 24

; ------------------------------------------------------------ pci_init ---

; pci_init: configure every function of bus 0 (see the top of the file).
; FS = EBDA.  Prints one line per function.
pci_init:
        pushad
        mov word [fs:EB_IDE_BDF], 0xFFFF
        mov word [fs:EB_PCI_COUNT], 0
        mov byte [fs:EB_PM_PRESENT], 0
        mov dword [fs:EB_PCI_IO_NEXT], PCI_IO_START
        mov dword [fs:EB_PCI_MEM_NEXT], PCI_MEM_START
        xor eax, eax
        mov [fs:EB_PCI_PINMAP], eax
        mov [fs:EB_PCI_PINMAP + 4], eax
        mov [fs:EB_PCI_PINMAP + 8], eax
        mov [fs:EB_PCI_PINMAP + 12], eax
        xor bx, bx                      ; bus 0, device 0, function 0
.function:
        xor di, di
        call pci_read16                 ; vendor ID: FFFFh = nothing there
        cmp ax, 0xFFFF
        je .absent
        call pci_setup_function
        test bl, 7
        jnz .next_function
        mov di, 0x0E                    ; header type bit 7: multi-function
        call pci_read8
        test al, 0x80
        jnz .next_function
        add bx, 8                       ; single function: next device
        jmp .check_end
.absent:
        test bl, 7
        jnz .next_function
        add bx, 8                       ; no function 0: no device
        jmp .check_end
.next_function:
        inc bx
.check_end:
        cmp bx, 256
        jb .function
        ; the routed PCI interrupts are level-triggered
        mov al, 0x00
        mov dx, PORT_ELCR1
        out dx, al
        mov al, (1 << (10 - 8)) | (1 << (11 - 8))
        cmp byte [fs:EB_PM_PRESENT], 0
        je .elcr
        or al, 1 << (ACPI_SCI_IRQ - 8)
.elcr:
        mov dx, PORT_ELCR2
        out dx, al
        popad
        ret

; pci_setup_function: BX = bdf of a present function.  FS = EBDA.
pci_setup_function:
        pushad
        inc word [fs:EB_PCI_COUNT]
        xor di, di
        call pci_read32
        mov esi, eax                    ; ESI = device << 16 | vendor
        mov di, 0x08
        call pci_read32
        shr eax, 8
        mov ecx, eax                    ; ECX = class << 16 | subclass << 8 | prog-if
        ; the console line: "PCI 00:dd.f vvvv:dddd class cccccc"
        PRINT "PCI 00:"
        mov al, bl
        shr al, 3
        call print_hex8
        PRINT "."
        mov al, bl
        and al, 7
        add al, '0'
        call con_putc
        PRINT " "
        mov ax, si
        call print_hex16
        PRINT ":"
        mov eax, esi
        shr eax, 16
        call print_hex16
        PRINT " class "
        mov eax, ecx
        shr eax, 16
        call print_hex8
        mov ax, cx
        call print_hex16

        ; remember the IDE controller (for EDD device paths)
        mov eax, ecx
        shr eax, 8
        cmp ax, 0x0101
        jne .not_ide
        cmp word [fs:EB_IDE_BDF], 0xFFFF
        jne .not_ide
        mov [fs:EB_IDE_BDF], bx
.not_ide:
        ; the PIIX ISA bridge: route PIRQA-D
        cmp ax, 0x0601
        jne .not_isa_bridge
        cmp si, 0x8086
        jne .not_isa_bridge
        mov di, 0x60
.pirq:
        mov al, [cs:pirq_irqs + di - 0x60]
        call pci_write8
        inc di
        cmp di, 0x64
        jb .pirq
.not_isa_bridge:
        cmp esi, 0x71138086             ; PIIX4 power management
        jne .not_pm
        call pm_setup
.not_pm:
        ; decoding off while the BARs are sized and moved (not on the host
        ; bridge: it decodes the RAM we are running with)
        mov eax, ecx
        shr eax, 8
        cmp ax, 0x0600
        je .decode_on
        mov di, 0x04
        call pci_read16
        and ax, 0xFFFC
        call pci_write16
.decode_on:
        ; the BARs end at register 18h for a bridge (header type 1), at 28h
        ; for a device (type 0); other header types: none
        mov di, 0x0E
        call pci_read8
        and al, 0x7F
        mov cx, 0x10 + 6 * 4
        cmp al, 0
        je .bars
        mov cx, 0x10 + 2 * 4
        cmp al, 1
        je .bars
        mov cx, 0x10
.bars:
        mov di, 0x10
.bar:
        cmp di, cx
        jae .bars_done
        call pci_setup_bar              ; advances DI past a 64-bit BAR
        add di, 4
        jmp .bar
.bars_done:
        ; enable I/O space, memory space, bus master
        mov di, 0x04
        call pci_read16
        or ax, 0x0007
        call pci_write16
        ; interrupt routing
        cmp esi, 0x71138086
        je .pm_irq
        mov di, 0x3D
        call pci_read8                  ; interrupt pin: 0 none, 1-4 INTA-D
        cmp al, 1
        jb .line_done
        cmp al, 4
        ja .line_done
        dec al                          ; pin - 1
        mov dl, bl
        shr dl, 3                       ; device number
        ; mark (device, pin) in the pin map for the MP table:
        ; bit number device * 4 + pin - 1
        mov ah, dl
        shl ah, 2
        add ah, al
        push ax
        movzx si, ah
        mov cl, ah
        and cl, 7                       ; bit in the byte
        shr si, 3                       ; byte
        mov ch, 1
        shl ch, cl
        or [fs:EB_PCI_PINMAP + si], ch
        pop ax
        ; PIRQ = (pin - 1 + device - 1) mod 4
        add al, dl
        dec al
        and al, 3
        movzx si, al
        mov al, [cs:pirq_irqs + si]
        jmp .write_line
.pm_irq:
        mov al, ACPI_SCI_IRQ
.write_line:
        mov di, 0x3C
        call pci_write8
        PRINT " IRQ "
        movzx eax, al
        call print_dec
.line_done:
        NEWLINE
        popad
        ret

; pci_setup_bar: BX = bdf, DI = BAR register.  Sizes and assigns it; for a
; 64-bit memory BAR, also writes 0 to the upper half and adds 4 to DI.
pci_setup_bar:
        push eax
        push ecx
        push edx
        push esi
        call pci_read32
        mov esi, eax                    ; original value
        mov eax, 0xFFFFFFFF
        call pci_write32
        call pci_read32                 ; which bits can be set
        xchg eax, esi
        call pci_write32                ; put the original back
        test esi, esi
        jz .out                         ; 0: BAR not implemented
        test esi, 1
        jnz .io
        ; ---- memory BAR: bits 2:1 = type (10b = 64-bit), size = -(mask & ~15)
        mov edx, esi
        shr edx, 1
        and edx, 3                      ; EDX = type
        mov ecx, esi
        and ecx, 0xFFFFFFF0
        neg ecx                         ; ECX = size
        jz .mem_skip                    ; (4 GiB or more: not handled)
        mov eax, [fs:EB_PCI_MEM_NEXT]
        call align_up                   ; EAX = next, aligned to ECX
        push eax
        add eax, ecx
        jc .mem_full                    ; wrapped past 4 GiB
        cmp eax, PCI_MEM_END
        ja .mem_full
        mov [fs:EB_PCI_MEM_NEXT], eax
        pop eax
        call pci_write32
        PRINT " mem "
        call print_hex32
        jmp .mem_upper
.mem_full:
        pop eax
        PRINT " (no room for a BAR)"
.mem_skip:
.mem_upper:
        cmp dl, 2
        jne .out
        add di, 4                       ; the upper 32 bits: below 4 GiB
        xor eax, eax
        call pci_write32
        jmp .out
.io:
        ; ---- I/O BAR: size = -(mask & ~3), 16-bit I/O space
        mov ecx, esi
        and ecx, 0xFFFC
        neg cx
        movzx ecx, cx
        test ecx, ecx
        jz .out
        mov eax, [fs:EB_PCI_IO_NEXT]
        call align_up
        mov edx, eax
        add edx, ecx
        cmp edx, PCI_IO_END
        ja .io_full
        mov [fs:EB_PCI_IO_NEXT], edx
        call pci_write32
        PRINT " io "
        call print_hex16
        jmp .out
.io_full:
        PRINT " (no room for an I/O BAR)"
.out:
        pop esi
        pop edx
        pop ecx
        pop eax
        ret

; align_up: EAX rounded up to a multiple of ECX (a power of two)
align_up:
        push ecx
        dec ecx
        add eax, ecx
        not ecx
        and eax, ecx
        pop ecx
        ret

; pm_setup: BX = bdf of the PIIX4 PM function: its ACPI registers at
; PM_IO_BASE (PM1 event block +0, PM1 control +4, PM timer +8), enabled,
; and SCI_EN set in PM1 control: "ACPI mode" from the start (the FADT
; therefore has no SMI command port).
pm_setup:
        push eax
        push dx
        mov di, 0x40
        mov eax, PM_IO_BASE | 1
        call pci_write32
        mov di, 0x80
        call pci_read8
        or al, 0x01
        call pci_write8
        mov dx, PM_IO_BASE + 4
        in ax, dx
        or ax, 0x0001
        out dx, ax
        mov byte [fs:EB_PM_PRESENT], 1
        pop dx
        pop eax
        ret

; ----------------------------------------------------- INT 1Ah, AH = B1h ---
;
;   B101h installation check: AH = 0, AL = 01h (mechanism #1), BX = 0210h
;         (version 2.10), CL = 0 (last bus), EDX = "PCI ", EDI = 0 (no
;         protected-mode entry point)
;   B102h find device CX = device ID, DX = vendor ID, SI = index -> BX
;   B103h find class code ECX (bits 23:0), SI = index -> BX
;   B108h/B109h/B10Ah read byte/word/dword: BX = bdf, DI = register -> CL/CX/ECX
;   B10Bh/B10Ch/B10Dh write byte/word/dword from CL/CX/ECX
; AH on return: 00h success, 81h unsupported function, 83h bad vendor ID,
; 86h device not found, 87h bad register number; CF = 1 on error.
; (Entered from int1a_handler with the register frame set up.)

int1a_pci:
        mov al, [bp + R_AL]
        cmp al, 0x01
        je .check
        cmp al, 0x02
        je .find_device
        cmp al, 0x03
        je .find_class
        cmp al, 0x08
        jb .unsupported
        cmp al, 0x0D
        ja .unsupported
        ; config access: check the register number's alignment and range
        mov bx, [bp + R_BX]
        mov di, [bp + R_DI]
        cmp di, 0xFF
        ja .bad_register
        mov cl, al
        sub cl, 0x08                    ; 0/3 byte, 1/4 word, 2/5 dword
        cmp cl, 3
        jb .have_kind
        sub cl, 3
.have_kind:
        ; alignment: word -> bit 0 clear, dword -> bits 1:0 clear
        mov dx, di
        cmp cl, 1
        jne .not_word
        test dl, 1
        jnz .bad_register
.not_word:
        cmp cl, 2
        jne .aligned
        test dl, 3
        jnz .bad_register
.aligned:
        cmp al, 0x08
        je .read8
        cmp al, 0x09
        je .read16
        cmp al, 0x0A
        je .read32
        cmp al, 0x0B
        je .write8
        cmp al, 0x0C
        je .write16
        ; 0Dh
        mov eax, [bp + R_ECX]
        call pci_write32
        jmp .success
.read8:
        call pci_read8
        mov [bp + R_CL], al
        jmp .success
.read16:
        call pci_read16
        mov [bp + R_CX], ax
        jmp .success
.read32:
        call pci_read32
        mov [bp + R_ECX], eax
        jmp .success
.write8:
        mov al, [bp + R_CL]
        call pci_write8
        jmp .success
.write16:
        mov ax, [bp + R_CX]
        call pci_write16
        jmp .success

.check:
        mov dword [bp + R_EDX], 0x20494350  ; "PCI "
        mov word [bp + R_AX], 0x0001
        mov word [bp + R_BX], 0x0210
        mov byte [bp + R_CL], 0
        mov dword [bp + R_EDI], 0
        CLEAR_CF
        jmp int1a_done

.find_device:
        cmp word [bp + R_DX], 0xFFFF
        je .bad_vendor
        mov esi, [bp + R_ECX]           ; device << 16 | vendor, to compare
        shl esi, 16
        mov si, [bp + R_DX]
        xor edx, edx                    ; mask: the whole dword
        not edx
        xor di, di                      ; register 0
        jmp .search
.find_class:
        mov esi, [bp + R_ECX]
        shl esi, 8                      ; class code is bits 31:8 of reg 08h
        mov edx, 0xFFFFFF00
        mov di, 0x08
.search:
        mov cx, [bp + R_SI]             ; how many matches to skip
        xor bx, bx
.search_next:
        push di
        xor di, di
        call pci_read16
        pop di
        cmp ax, 0xFFFF
        je .search_skip
        call pci_read32
        and eax, edx
        cmp eax, esi
        jne .search_skip
        test cx, cx
        jz .found
        dec cx
.search_skip:
        inc bx
        cmp bx, 256
        jb .search_next
        mov byte [bp + R_AH], 0x86      ; device not found
        SET_CF
        jmp int1a_done
.found:
        mov [bp + R_BX], bx
        jmp .success
.bad_vendor:
        mov byte [bp + R_AH], 0x83
        SET_CF
        jmp int1a_done
.bad_register:
        mov byte [bp + R_AH], 0x87
        SET_CF
        jmp int1a_done
.unsupported:
        mov byte [bp + R_AH], 0x81
        SET_CF
        jmp int1a_done
.success:
        mov byte [bp + R_AH], 0
        CLEAR_CF
        jmp int1a_done
