; tables.asm - the tables an operating system reads to learn how the
; machine is built: the local APIC / IOAPIC setup they describe, the Intel
; MultiProcessor Specification 1.4 tables and the ACPI 1.0 tables.
;
; Where they are
; --------------
;   F-segment ROM (16-byte aligned, found by scanning 0xF0000-0xFFFFF):
;     "_MP_"      MP floating pointer  -> the MP configuration table
;     "RSD PTR "  ACPI RSDP (revision 0) -> the RSDT
;   EBDA (0x9F000, reserved in the E820 map), built at POST:
;     0x9F400  MP configuration table ("PCMP")
;     0x9FA00  RSDT -> FADT, MADT     0x9FA40  FACS
;     0x9FA80  FADT -> FACS, DSDT     0x9FB40  MADT ("APIC")
;   upper memory (RAM below the ROM's alias, reserved in the E820 map):
;     0xE0000  DSDT (dsdt.asm: too big for the EBDA)
; The two pointers in ROM are fixed at assembly time (the EBDA never moves
; during POST), so their checksums are computed by nasm; the tables in the
; EBDA depend on the machine (CPU count, PCI devices) and are checksummed
; when they are built.
;
; What they say
; -------------
; * one processor per CPU that fw_cfg reports (APIC IDs 0..n-1, the BSP
;   is 0; at most MAX_CPUS), with the BSP's CPUID signature and features;
; * the IOAPIC at 0xFEC00000 with ID = number of CPUs (we program it);
; * ISA IRQs on the IOAPIC pins of the same number, except IRQ 0 on pin 2
;   (as on real chipsets, where the PIT drives pin 2 and pin 0 is the
;   8259's ExtINT output); PCI interrupts on IRQ 10 and 11 (PIRQ routing,
;   pci.asm) are level-triggered, active high - the polarity QEMU's PIIX
;   presents to its IOAPIC, so that is what the ACPI MADT of QEMU says too;
; * LINT0 = ExtINT (the 8259 "virtual wire") and LINT1 = NMI on every CPU.
; * ACPI: FADT revision 1 with SCI on IRQ 9, no SMI command port (the
;   machine is in ACPI mode from the start), the PM1a event/control
;   blocks at 0x600/0x604 and, when the PIIX4 PM function exists, the PM
;   timer at 0x608 (24-bit); no GPE blocks.  A DSDT with \_S5 (soft off,
;   SLP_TYP 0 as the PIIX4 PM of QEMU expects) and the PCI root bridge PCI0
;   with its resources and a _PRT through four interrupt links (dsdt.asm),
;   so an OS that routes PCI interrupts by ACPI finds them.  A FACS
;   (required by ACPI 1.0; nothing in it is used).

        bits 16

MP_CONFIG_LINEAR equ EBDA_LINEAR + EB_MPTABLE
ACPI_RSDT_LINEAR equ EBDA_LINEAR + EB_ACPI_RSDT

; ------------------------------------------ checksums at assembly time ---
; SUM_STRING "text" / SUM_DWORD value: add the bytes to checksum_acc.
; (The accumulator has a fixed name: a macro parameter naming a variable
; would be expanded to the variable's value.)
%macro SUM_STRING 1
%strlen %%len %1
%assign %%i 1
%rep %%len
%substr %%c %1 %%i
%assign checksum_acc checksum_acc + %%c
%assign %%i %%i + 1
%endrep
%endmacro

%macro SUM_DWORD 1
%assign checksum_acc checksum_acc + ((%1) & 0xFF) + (((%1) >> 8) & 0xFF) + (((%1) >> 16) & 0xFF) + (((%1) >> 24) & 0xFF)
%endmacro

; ---- MP floating pointer structure (16 bytes)
%assign checksum_acc 0
SUM_STRING "_MP_"
SUM_DWORD MP_CONFIG_LINEAR
%assign checksum_acc checksum_acc + 1 + 4
        align 16
mp_floating_pointer:
        db "_MP_"
        dd MP_CONFIG_LINEAR             ; physical address of the configuration table
        db 1                            ; length in 16-byte units
        db 4                            ; specification revision 1.4
        db (0x100 - (checksum_acc & 0xFF)) & 0xFF   ; all 16 bytes sum to 0
        db 0                            ; feature 1: 0 = a configuration table exists
        db 0                            ; feature 2: bit 7 = 0, no IMCR: virtual wire mode
        db 0, 0, 0

; ---- ACPI root system description pointer, revision 0 (20 bytes)
%assign checksum_acc 0
SUM_STRING "RSD PTR "
SUM_STRING "HVLAB "
SUM_DWORD ACPI_RSDT_LINEAR
        align 16
acpi_rsdp:
        db "RSD PTR "
        db (0x100 - (checksum_acc & 0xFF)) & 0xFF   ; the 20 bytes sum to 0
        db "HVLAB "                     ; OEM ID
        db 0                            ; revision 0 = ACPI 1.0 (no XSDT)
        dd ACPI_RSDT_LINEAR

; ---------------------------------------------------------------- APICs ---

; apic_init: CPUID for the tables, then the BSP's local APIC in "virtual
; wire" mode and the IOAPIC's ID.  FS = EBDA, EB_CPUS set.
;   * SVR (offset F0h) = 1FFh: APIC software-enabled (bit 8), spurious
;     vector FFh (our default IRET);
;   * LVT LINT0 (350h) = 700h: ExtINT - the 8259's INTR passes through
;     the local APIC to the CPU, so the PIC works as on a PC without APIC;
;   * LVT LINT1 (360h) = 400h: NMI.
; After reset the LVT entries are masked, and a CPU whose local APIC is
; enabled would then not see the PIC at all; this is what a PC BIOS does.
apic_init:
        pushad
        mov eax, 1
        cpuid
        mov [fs:EB_CPUID_SIG], eax
        mov [fs:EB_CPUID_FEAT], edx
        mov byte [fs:EB_LAPIC_VER], 0x14
        mov byte [fs:EB_IOAPIC_VER], 0x11
        mov byte [fs:EB_IOAPIC_PINS], 24
        mov al, [fs:EB_CPUS]
        and al, 0x0F                    ; IOAPIC IDs are 4 bits
        mov [fs:EB_IOAPIC_ID], al
        test edx, 1 << 9                ; CPUID.1:EDX bit 9: local APIC present
        jz .no_apic
        mov ebx, LAPIC_VERSION
        call flat_read32
        mov [fs:EB_LAPIC_VER], al
        mov ebx, LAPIC_SVR
        call flat_read32
        or eax, 0x1FF
        call flat_write32
        mov ebx, LAPIC_LVT_LINT0
        mov eax, 0x700
        call flat_write32
        mov ebx, LAPIC_LVT_LINT1
        mov eax, 0x400
        call flat_write32
        ; IOAPIC: register 0 = ID (bits 27:24), register 1 = version (bits
        ; 7:0) and the number of redirection entries - 1 (bits 23:16).
        ; Registers are reached by writing the index to IOREGSEL and then
        ; reading or writing IOWIN.
        mov ebx, IOAPIC_REGSEL
        xor eax, eax
        call flat_write32
        mov ebx, IOAPIC_WIN
        movzx eax, byte [fs:EB_IOAPIC_ID]
        shl eax, 24
        call flat_write32
        mov ebx, IOAPIC_REGSEL
        mov eax, 1
        call flat_write32
        mov ebx, IOAPIC_WIN
        call flat_read32
        cmp eax, 0xFFFFFFFF             ; nothing there: keep the defaults
        je .out
        mov [fs:EB_IOAPIC_VER], al
        shr eax, 16
        inc al
        mov [fs:EB_IOAPIC_PINS], al
        jmp .out
.no_apic:
        PRINTLN "no local APIC (CPUID): the MP/ACPI tables describe one anyway"
.out:
        popad
        ret

; ------------------------------------------------------------ MP tables ---

; mp_build: the MP configuration table at EB_MPTABLE.  FS = ES = EBDA.
mp_build:
        pushad
        mov di, EB_MPTABLE
        ; header (44 bytes); length, count and checksum are filled at the end
        mov dword [es:di + 0], 'PCMP'
        mov byte [es:di + 6], 4         ; revision 1.4
        mov dword [es:di + 8], 'HVLA'   ; OEM ID "HVLAB   "
        mov dword [es:di + 12], 'B   '
        mov dword [es:di + 16], 'hvla'  ; product ID "hvlab PC    "
        mov dword [es:di + 20], 'b PC'
        mov dword [es:di + 24], '    '
        mov dword [es:di + 28], 0       ; OEM table: none
        mov word [es:di + 32], 0
        mov dword [es:di + 36], LAPIC_BASE
        mov word [es:di + 40], 0        ; extended table: none
        mov word [es:di + 42], 0
        add di, 44
        xor bp, bp                      ; BP = entry count
        ; ---- processors (type 0, 20 bytes)
        xor cx, cx                      ; CL = APIC ID
.cpu:
        cmp cl, [fs:EB_CPUS]
        jae .buses
        mov byte [es:di + 0], 0
        mov [es:di + 1], cl             ; local APIC ID
        mov al, [fs:EB_LAPIC_VER]
        mov [es:di + 2], al             ; local APIC version
        mov al, 0x01                    ; enabled
        test cl, cl
        jnz .not_bsp
        or al, 0x02                     ; the bootstrap processor
.not_bsp:
        mov [es:di + 3], al
        mov eax, [fs:EB_CPUID_SIG]
        mov [es:di + 4], eax
        mov eax, [fs:EB_CPUID_FEAT]
        mov [es:di + 8], eax
        mov dword [es:di + 12], 0
        mov dword [es:di + 16], 0
        add di, 20
        inc bp
        inc cl
        jmp .cpu
.buses:
        ; ---- buses (type 1, 8 bytes): 0 = PCI, 1 = ISA
        mov byte [es:di + 0], 1
        mov byte [es:di + 1], MP_BUS_PCI
        mov dword [es:di + 2], 'PCI '
        mov word [es:di + 6], '  '
        mov byte [es:di + 8], 1
        mov byte [es:di + 9], MP_BUS_ISA
        mov dword [es:di + 10], 'ISA '
        mov word [es:di + 14], '  '
        add di, 16
        add bp, 2
        ; ---- the IOAPIC (type 2, 8 bytes)
        mov byte [es:di + 0], 2
        mov al, [fs:EB_IOAPIC_ID]
        mov [es:di + 1], al
        mov al, [fs:EB_IOAPIC_VER]
        mov [es:di + 2], al
        mov byte [es:di + 3], 1         ; usable
        mov dword [es:di + 4], IOAPIC_BASE
        add di, 8
        inc bp
        ; ---- I/O interrupt assignments (type 3, 8 bytes)
        ; the 8259's output (ExtINT) on IOAPIC pin 0
        mov ax, (MP_INT_EXTINT << 8) | 3
        mov bx, 0x0000                  ; flags: conforming
        mov cx, (0 << 8) | MP_BUS_ISA   ; source bus ISA, IRQ 0
        mov dl, 0                       ; pin 0
        call mp_intsrc
        ; ISA IRQs 0-15 -> pins (IRQ 0 -> pin 2); not IRQ 2 (the cascade)
        ; and not 10/11 (PCI); IRQ 9 level/high when it is the ACPI SCI
        xor cx, cx
.isa_irq:
        cmp cl, 16
        jae .pci
        cmp cl, 2
        je .isa_next
        cmp cl, 10
        je .isa_next
        cmp cl, 11
        je .isa_next
        mov ax, (MP_INT_INT << 8) | 3
        xor bx, bx
        cmp cl, ACPI_SCI_IRQ
        jne .isa_flags
        cmp byte [fs:EB_PM_PRESENT], 0
        je .isa_flags
        mov bx, MP_FLAGS_LEVEL_HIGH
.isa_flags:
        mov dl, cl                      ; pin = IRQ
        test cl, cl
        jnz .isa_pin
        mov dl, 2                       ; IRQ 0 -> pin 2
.isa_pin:
        push cx
        mov ch, cl
        mov cl, MP_BUS_ISA
        call mp_intsrc
        pop cx
.isa_next:
        inc cl
        jmp .isa_irq
.pci:
        ; PCI interrupts: one entry per (device, INTx pin) in use; the
        ; source "IRQ" is device << 2 | (pin - 1), the destination the
        ; IOAPIC pin of the ISA IRQ the PIRQ is routed to
        xor si, si                      ; SI = device * 4 + pin - 1
.pci_next:
        cmp si, 128
        jae .local
        cmp di, EB_MPTABLE + EB_MPTABLE_MAX - 8 - 16
        ja .local                       ; (no room: stop listing)
        mov bx, si
        shr bx, 3
        mov al, [fs:EB_PCI_PINMAP + bx]
        mov cx, si
        and cl, 7
        shr al, cl
        test al, 1
        jz .pci_skip
        mov ax, si
        mov ch, al                      ; source bus IRQ = dev << 2 | pin - 1
        mov cl, MP_BUS_PCI
        ; destination: pirq_irqs[(pin - 1 + device - 1) & 3]
        mov bl, al
        and bl, 3                       ; pin - 1
        shr al, 2                       ; device
        add al, bl
        dec al
        and ax, 3
        mov bx, ax
        mov dl, [cs:pirq_irqs + bx]
        mov ax, (MP_INT_INT << 8) | 3
        mov bx, MP_FLAGS_LEVEL_HIGH
        call mp_intsrc
.pci_skip:
        inc si
        jmp .pci_next
.local:
        ; ---- local interrupt assignments (type 4): LINT0 ExtINT, LINT1
        ; NMI, on all local APICs (destination ID FFh)
        mov byte [es:di + 0], 4
        mov byte [es:di + 1], MP_INT_EXTINT
        mov word [es:di + 2], 0
        mov byte [es:di + 4], MP_BUS_ISA
        mov byte [es:di + 5], 0
        mov byte [es:di + 6], 0xFF
        mov byte [es:di + 7], 0         ; LINT0
        mov byte [es:di + 8], 4
        mov byte [es:di + 9], MP_INT_NMI
        mov word [es:di + 10], 0
        mov byte [es:di + 12], MP_BUS_ISA
        mov byte [es:di + 13], 0
        mov byte [es:di + 14], 0xFF
        mov byte [es:di + 15], 1        ; LINT1
        add di, 16
        add bp, 2
        ; ---- finish the header
        mov cx, di
        sub cx, EB_MPTABLE
        mov di, EB_MPTABLE
        mov [es:di + 4], cx             ; base table length
        mov [es:di + 34], bp            ; entry count
        mov byte [es:di + 7], 0
        call checksum8
        neg al
        mov [es:di + 7], al
        popad
        ret

MP_BUS_PCI      equ 0
MP_BUS_ISA      equ 1
MP_INT_INT      equ 0
MP_INT_NMI      equ 1
MP_INT_EXTINT   equ 3
MP_FLAGS_LEVEL_HIGH equ 0x000D          ; polarity 01 = high, trigger 11 = level

; mp_intsrc: one I/O interrupt entry at ES:DI (DI += 8, BP += 1).
;   AL = entry type (3), AH = interrupt type, BX = flags,
;   CL = source bus, CH = source bus IRQ, DL = destination IOAPIC pin
mp_intsrc:
        mov [es:di + 0], al
        mov [es:di + 1], ah
        mov [es:di + 2], bx
        mov [es:di + 4], cl
        mov [es:di + 5], ch
        mov al, [fs:EB_IOAPIC_ID]
        mov [es:di + 6], al
        mov [es:di + 7], dl
        add di, 8
        inc bp
        ret

; ---------------------------------------------------------------- ACPI ---

; acpi_header: ES:DI = table, EAX = signature, CL = revision.  The length
; and checksum are written later by acpi_finish.
acpi_header:
        mov [es:di + 0], eax
        mov dword [es:di + 4], 0
        mov [es:di + 8], cl
        mov byte [es:di + 9], 0
        mov dword [es:di + 10], 'HVLA'  ; OEM ID "HVLAB "
        mov word [es:di + 14], 'B '
        mov dword [es:di + 16], 'HVLA'  ; OEM table ID "HVLABPC "
        mov dword [es:di + 20], 'BPC '
        mov dword [es:di + 24], 1       ; OEM revision
        mov dword [es:di + 28], 'HVLB'  ; creator ID
        mov dword [es:di + 32], 1       ; creator revision
        ret

; acpi_finish: ES:DI = table, CX = length: store the length, then the
; checksum that makes all its bytes sum to 0.
acpi_finish:
        push ax
        mov [es:di + 4], cx
        mov word [es:di + 6], 0
        mov byte [es:di + 9], 0
        call checksum8
        neg al
        mov [es:di + 9], al
        pop ax
        ret

%include "dsdt.asm"

; acpi_build: all ACPI tables in the EBDA.  FS = ES = EBDA.
acpi_build:
        pushad
        ; ---- FACS (64 bytes, no checksum)
        mov di, EB_ACPI_FACS
        xor ax, ax
        mov cx, 32
        rep stosw
        mov di, EB_ACPI_FACS
        mov dword [es:di + 0], 'FACS'
        mov dword [es:di + 4], 64
        ; ---- DSDT: the header, then the AML from this ROM
        push es
        mov ax, ACPI_DSDT_LINEAR >> 4
        mov es, ax
        xor di, di
        mov eax, 'DSDT'
        mov cl, 1
        call acpi_header
        mov si, dsdt_aml
        mov di, 36
.aml:
        mov al, [cs:si]
        stosb
        inc si
        cmp si, dsdt_aml_end
        jb .aml
        xor di, di
        mov cx, 36 + dsdt_aml_end - dsdt_aml
        call acpi_finish
        pop es
        ; ---- FADT, revision 1 (116 bytes)
        mov di, EB_ACPI_FADT
        xor ax, ax
        mov cx, 116 / 2
        rep stosw
        mov di, EB_ACPI_FADT
        mov eax, 'FACP'
        mov cl, 1
        call acpi_header
        mov dword [es:di + 36], EBDA_LINEAR + EB_ACPI_FACS  ; FIRMWARE_CTRL
        mov dword [es:di + 40], ACPI_DSDT_LINEAR            ; DSDT
        mov byte [es:di + 44], 1        ; INT_MODEL: APIC
        mov word [es:di + 46], ACPI_SCI_IRQ                 ; SCI_INT
        mov dword [es:di + 48], 0       ; SMI_CMD: none, always in ACPI mode
        mov dword [es:di + 56], PM_IO_BASE                  ; PM1a_EVT_BLK
        mov dword [es:di + 64], PM_IO_BASE + 4              ; PM1a_CNT_BLK
        mov byte [es:di + 88], 4        ; PM1_EVT_LEN
        mov byte [es:di + 89], 2        ; PM1_CNT_LEN
        cmp byte [fs:EB_PM_PRESENT], 0
        je .no_pm_timer
        mov dword [es:di + 76], PM_IO_BASE + 8              ; PM_TMR_BLK
        mov byte [es:di + 91], 4        ; PM_TMR_LEN
.no_pm_timer:
        mov word [es:di + 96], 101      ; P_LVL2_LAT > 100: no C2
        mov word [es:di + 98], 1001     ; P_LVL3_LAT > 1000: no C3
        mov byte [es:di + 108], 0x32    ; CENTURY: CMOS register 32h
        ; flags: WBINVD works (0), C1 supported (2), no fixed-feature sleep
        ; button (5); the power button is the fixed-feature one in PM1 (PWRBTN_STS)
        ; when the PIIX4 PM function exists, otherwise there is none (4)
        mov dword [es:di + 112], (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5)
        cmp byte [fs:EB_PM_PRESENT], 0
        je .flags_done
        and dword [es:di + 112], ~(1 << 4)
.flags_done:
        mov cx, 116
        call acpi_finish
        ; ---- MADT
        mov di, EB_ACPI_MADT
        mov eax, 'APIC'
        mov cl, 1
        call acpi_header
        mov dword [es:di + 36], LAPIC_BASE      ; local APIC address
        mov dword [es:di + 40], 1       ; flags: PCAT_COMPAT (8259s present)
        add di, 44
        ; processor local APIC (type 0, 8 bytes) per CPU
        xor cx, cx
.madt_cpu:
        cmp cl, [fs:EB_CPUS]
        jae .madt_ioapic
        mov byte [es:di + 0], 0
        mov byte [es:di + 1], 8
        mov [es:di + 2], cl             ; ACPI processor ID
        mov [es:di + 3], cl             ; APIC ID
        mov dword [es:di + 4], 1        ; enabled
        add di, 8
        inc cl
        jmp .madt_cpu
.madt_ioapic:
        ; IOAPIC (type 1, 12 bytes), GSI base 0
        mov byte [es:di + 0], 1
        mov byte [es:di + 1], 12
        mov al, [fs:EB_IOAPIC_ID]
        mov [es:di + 2], al
        mov byte [es:di + 3], 0
        mov dword [es:di + 4], IOAPIC_BASE
        mov dword [es:di + 8], 0
        add di, 12
        ; interrupt source overrides (type 2, 10 bytes)
        mov ax, 0                       ; IRQ 0 -> GSI 2, bus default flags
        mov bl, 2
        xor dx, dx
        call madt_override
        cmp byte [fs:EB_PM_PRESENT], 0
        je .madt_pci
        mov ax, ACPI_SCI_IRQ            ; SCI: level, active high
        mov bl, ACPI_SCI_IRQ
        mov dx, MP_FLAGS_LEVEL_HIGH
        call madt_override
.madt_pci:
        mov ax, 10                      ; the PCI interrupts: level, active high
        mov bl, 10
        mov dx, MP_FLAGS_LEVEL_HIGH
        call madt_override
        mov ax, 11
        mov bl, 11
        call madt_override
        ; local APIC NMI (type 4, 6 bytes): LINT1 of all processors
        mov byte [es:di + 0], 4
        mov byte [es:di + 1], 6
        mov byte [es:di + 2], 0xFF
        mov word [es:di + 3], 0
        mov byte [es:di + 5], 1
        add di, 6
        mov cx, di
        sub cx, EB_ACPI_MADT
        mov di, EB_ACPI_MADT
        call acpi_finish
        ; ---- RSDT: the FADT and the MADT
        mov di, EB_ACPI_RSDT
        mov eax, 'RSDT'
        mov cl, 1
        call acpi_header
        mov dword [es:di + 36], EBDA_LINEAR + EB_ACPI_FADT
        mov dword [es:di + 40], EBDA_LINEAR + EB_ACPI_MADT
        mov cx, 44
        call acpi_finish
        popad
        ret

; madt_override: ES:DI = where; AL = ISA IRQ, BL = GSI, DX = MPS INTI flags.
madt_override:
        mov byte [es:di + 0], 2
        mov byte [es:di + 1], 10
        mov byte [es:di + 2], 0         ; bus: ISA
        mov [es:di + 3], al             ; source IRQ
        movzx ebx, bl
        mov [es:di + 4], ebx            ; global system interrupt
        mov [es:di + 8], dx             ; flags
        add di, 10
        ret

; tables_init: MP and ACPI tables.  FS = EBDA.
tables_init:
        push es
        push fs
        pop es
        call mp_build
        call acpi_build
        pop es
        ret
