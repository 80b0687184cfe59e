; dsdt.asm - the body of the ACPI DSDT, in AML (ACPI 6.4 chapter 20), written out by hand
; (acpi_build in tables.asm puts the table header in front and copies it to ACPI_DSDT_LINEAR).
; In ASL it reads:
;
;   Name (\_S5, Package (4) { 0, 0, 0, 0 })       // soft-off: SLP_TYP 0 (QEMU's PIIX4 PM)
;   Scope (\_SB) {
;     Device (PCI0) {                              // the i440FX host bridge, bus 0
;       Name (_HID, EisaId ("PNP0A03"))
;       Name (_UID, 0)
;       Name (_CRS, ResourceTemplate () {           // what the bridge passes to bus 0
;         WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100)
;         IO (Decode16, 0x0CF8, 0x0CF8, 1, 8)       // its configuration ports
;         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, 0, 0x0CF7, 0, 0x0CF8)
;         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300)
;         DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
;                      0, 0xA0000, 0xBFFFF, 0, 0x20000)                  // VGA window
;         DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
;                      0, 0xC0000000, 0xFEBFFFFF, 0, 0x3EC00000)         // PCI hole up to the IOAPIC
;       })
;       Name (_PRT, Package (124) {                 // slots 1-31, INTA#-INTD# each
;         Package (4) { 0x0001FFFF, 0, LNKS, 0 },   // 00:01.3 (PM) INTA#: the SCI, IRQ 9, as QEMU
;         Package (4) { 0x0001FFFF, 1, LNKB, 0 }, ...   // slot d pin p -> LNK[(d + p - 1) mod 4]
;       })
;     }
;     Device (LNKA) {                              // PIRQA of the PIIX3, and LNKB-LNKD likewise
;       Name (_HID, EisaId ("PNP0C0F"))
;       Name (_UID, 1)
;       Method (_STA) { Return (0x0B) }            // present, enabled, functioning
;       Name (_PRS, ResourceTemplate () { Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 10 } })
;       Name (_CRS, <the same>)
;       Method (_SRS, 1) { }                       // the routing is fixed: nothing to change
;     }
;     Device (LNKS) { ... { 9 } ... }              // the PIIX4 PM function's SCI (ACPI_SCI_IRQ)
;   }
;
; The _PRT names interrupt link devices, not GSIs, so that an OS takes the polarity from the
; links' _CRS (level, active high, as the MADT's overrides for IRQ 10 and 11 say): a GSI in _PRT
; would be programmed active low. The swizzle and the IRQs are the ones pci.asm programs into
; the PIIX3 (PIRQ (device + pin - 1) mod 4, PCI_PIRQ_IRQS) and the board wires (devices/i440fx).
;
; Encoding notes: every PkgLength that nasm must compute from labels uses the two-byte form
; (bits 7:6 = 01, length bits 3:0, then bits 11:4), good for up to 4095 bytes; the _PRT entries
; have a fixed length and use the one-byte form.

; AML opcodes (20.3)
AML_ZERO        equ 0x00
AML_NAME        equ 0x08
AML_BYTE        equ 0x0A
AML_DWORD       equ 0x0C
AML_SCOPE       equ 0x10
AML_BUFFER      equ 0x11
AML_PACKAGE     equ 0x12
AML_METHOD      equ 0x14
AML_EXT         equ 0x5B        ; followed by AML_DEVICE
AML_DEVICE      equ 0x82
AML_RETURN      equ 0xA4

; EisaId: three letters in 5 bits each, then four hex digits, stored big-endian.
EISA_PNP        equ 0xD041      ; "PNP" as the first two bytes, 0x41 0xD0
%define EISAID_PNP(product) (EISA_PNP | (((product) & 0xFF) << 24) | (((product) >> 8) << 16))

; PKG ... ENDPKG: a two-byte PkgLength covering itself and everything up to ENDPKG.
%macro PKG 0
%push pkg
%$start:
        db 0x40 | ((%$end - %$start) & 0x0F), ((%$end - %$start) >> 4) & 0xFF
%endmacro
%macro ENDPKG 0
%$end:
%pop
%endmacro

; BUFFER ... ENDBUFFER: Buffer (n) { the bytes up to ENDBUFFER }.
%macro BUFFER 0
        db AML_BUFFER
        PKG
        db AML_BYTE, %$bytes_end - %$bytes
%$bytes:
%endmacro
%macro ENDBUFFER 0
%$bytes_end:
        ENDPKG
%endmacro

; Resource descriptors (6.4)
; WORD_SPACE type, type flags, min, max, length: a Word Address Space descriptor, producer,
; MinFixed, MaxFixed, PosDecode (general flags 0x0C), granularity and translation 0.
%macro WORD_SPACE 5
        db 0x88, 13, 0, %1, 0x0C, %2
        dw 0, %3, %4, 0, %5
%endmacro
; DWORD_MEMORY type flags, min, max: a DWord memory range, producer, MinFixed, MaxFixed.
%macro DWORD_MEMORY 3
        db 0x87, 23, 0, 0, 0x0C, %1
        dd 0, %2, %3, 0, (%3) - (%2) + 1
%endmacro
; LINK_IRQ irq: one level-triggered, active-high, shared interrupt (Extended Interrupt
; descriptor: consumer, level, high, shared = flags 0x09), then the end tag.
%macro LINK_IRQ 1
        db 0x89, 6, 0, 0x09, 1
        dd %1
        db 0x79, 0
%endmacro

; LINK letter, uid, irq: the interrupt link device LNK<letter>.
%macro LINK 3
        db AML_EXT, AML_DEVICE
        PKG
        db "LNK", %1
        db AML_NAME, "_HID", AML_DWORD
        dd EISAID_PNP(0x0C0F)
        db AML_NAME, "_UID", AML_BYTE, %2
        db AML_METHOD
        PKG
        db "_STA", 0, AML_RETURN, AML_BYTE, 0x0B
        ENDPKG
        db AML_NAME, "_PRS"
        BUFFER
        LINK_IRQ %3
        ENDBUFFER
        db AML_NAME, "_CRS"
        BUFFER
        LINK_IRQ %3
        ENDBUFFER
        db AML_METHOD
        PKG
        db "_SRS", 1                    ; one argument, no body
        ENDPKG
        ENDPKG
%endmacro

%define PIRQ_IRQ(n) ((PCI_PIRQ_IRQS >> (8 * (n))) & 0xFF)

dsdt_aml:
        db AML_NAME, "_S5_", AML_PACKAGE, 6, 4, AML_ZERO, AML_ZERO, AML_ZERO, AML_ZERO
        db AML_SCOPE
        PKG
        db "\_SB_"
        ; ---- Device (PCI0)
        db AML_EXT, AML_DEVICE
        PKG
        db "PCI0"
        db AML_NAME, "_HID", AML_DWORD
        dd EISAID_PNP(0x0A03)
        db AML_NAME, "_UID", AML_ZERO
        db AML_NAME, "_CRS"
        BUFFER
        WORD_SPACE 2, 0, 0, 0xFF, 0x100                 ; bus numbers 0-255
        db 0x47, 1                                      ; IO, 16-bit decode:
        dw 0x0CF8, 0x0CF8                               ;   the configuration ports
        db 1, 8
        WORD_SPACE 1, 3, 0, 0x0CF7, 0x0CF8              ; I/O below them
        WORD_SPACE 1, 3, 0x0D00, 0xFFFF, 0xF300         ; and above them
        DWORD_MEMORY 3, 0xA0000, 0xBFFFF                ; VGA window, cacheable
        DWORD_MEMORY 1, 0xC0000000, IOAPIC_BASE - 1     ; PCI memory (BARs from PCI_MEM_START)
        db 0x79, 0                                      ; end tag
        ENDBUFFER
        db AML_NAME, "_PRT", AML_PACKAGE
        PKG
        db 31 * 4                                       ; NumElements
%assign prt_slot 1
%rep 31
%assign prt_pin 0
%rep 4
        db AML_PACKAGE, 14, 4                           ; Package (4), 14 bytes after the opcode
        db AML_DWORD
        dd (prt_slot << 16) | 0xFFFF                    ;   the slot, any function
        db AML_BYTE, prt_pin                            ;   0 = INTA# .. 3 = INTD#
%if prt_slot == 1 && prt_pin == 0
        db "LNKS"                                       ;   00:01.3, the PM function: the SCI
%else
        db "LNK", 'A' + (prt_slot + prt_pin - 1) % 4    ;   the PIRQ it reaches
%endif
        db AML_ZERO                                     ;   source index
%assign prt_pin prt_pin + 1
%endrep
%assign prt_slot prt_slot + 1
%endrep
        ENDPKG
        ENDPKG
        ; ---- the four PIRQ links
        LINK 'A', 1, PIRQ_IRQ(0)
        LINK 'B', 2, PIRQ_IRQ(1)
        LINK 'C', 3, PIRQ_IRQ(2)
        LINK 'D', 4, PIRQ_IRQ(3)
        LINK 'S', 5, ACPI_SCI_IRQ
        ENDPKG
dsdt_aml_end:
