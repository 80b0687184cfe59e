; ioapic-timer.asm - test guest: the PIT's IRQ 0 through the IOAPIC, as an
; SMP-era OS routes it.
;
; Every PC chipset (and hvlab's MP and ACPI tables, "ISA IRQ 0 -> GSI 2") wires
; the 8254's output to IOAPIC pin 2, not pin 0.  This image checks that path:
; it masks both 8259s, enables the local APIC, programs IOAPIC pin 2 with
; vector 0x30 (edge, fixed, to APIC 0), starts PIT channel 0 at 100 Hz and
; waits with STI; HLT for three timer interrupts.  Each one is acknowledged
; with an EOI to the local APIC.
;
; Result through isa-debug-exit (port 0xF4):
;   0x10 three ticks arrived on vector 0x30   -> exit status 33
;   0x11 an unexpected vector arrived         -> exit status 35
; If the interrupt never comes (IRQ 0 routed elsewhere), the guest halts
; forever: run it with a timeout.
;
; 32-bit protected mode with flat segments and no paging, so the APIC
; registers at 0xFEE00000 and 0xFEC00000 are reachable directly.

%include "rom.inc"
%include "longmode.inc"

IDT_ADDR        equ 0x8000      ; 64 interrupt gates (vectors 0x00-0x3F) in RAM
IDT_VECTORS     equ 0x40
TIMER_VECTOR    equ 0x30
TICKS_WANTED    equ 3
TICKS_ADDR      equ 0x8400      ; dword: timer interrupts seen so far

LAPIC_BASE      equ 0xFEE00000
LAPIC_EOI       equ LAPIC_BASE + 0xB0
LAPIC_SVR       equ LAPIC_BASE + 0xF0
IOAPIC_BASE     equ 0xFEC00000
IOAPIC_SELECT   equ IOAPIC_BASE + 0x00  ; IOREGSEL: which register IOWIN shows
IOAPIC_WINDOW   equ IOAPIC_BASE + 0x10  ; IOWIN
IOAPIC_REDIR    equ 0x10                ; redirection entry n: registers 0x10+2n, 0x11+2n

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test ioapic-timer: PIT IRQ 0 through IOAPIC pin 2 to the local APIC"
        o32 lgdt [cs:gdt_descriptor]
        mov eax, cr0
        or eax, CR0_PE
        mov cr0, eax
        jmp dword SEL_CODE32:FLAT(pm_entry)

        bits 32
pm_entry:
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK_TOP

        ; The IDT: every vector goes to `unexpected`, the timer's to `tick`.
        mov edi, IDT_ADDR
        mov ecx, IDT_VECTORS
.fill:
        mov eax, FLAT(unexpected)
        call set_gate
        add edi, 8
        dec ecx
        jnz .fill
        mov edi, IDT_ADDR + TIMER_VECTOR * 8
        mov eax, FLAT(tick)
        call set_gate
        lidt [FLAT(idt_descriptor)]
        mov dword [TICKS_ADDR], 0

        ; Both 8259s initialised (vectors 0x20 / 0x28) and fully masked: the
        ; timer may only arrive through the IOAPIC.
        mov al, 0x11            ; ICW1: edge, cascade, ICW4 follows
        out 0x20, al
        out 0xA0, al
        mov al, 0x20            ; ICW2: vector bases
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 0x04            ; ICW3: slave on IR2 / slave ID 2
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01            ; ICW4: 8086 mode
        out 0x21, al
        out 0xA1, al
        mov al, 0xFF            ; OCW1: mask everything
        out 0x21, al
        out 0xA1, al

        ; Local APIC: software-enabled, spurious vector 0x3F.
        mov dword [LAPIC_SVR], 0x100 | 0x3F

        ; IOAPIC pin 2: vector 0x30, fixed delivery, physical destination APIC 0,
        ; edge-triggered, active high, unmasked.
        mov dword [IOAPIC_SELECT], IOAPIC_REDIR + 2 * 2 + 1
        mov dword [IOAPIC_WINDOW], 0            ; destination APIC ID 0 (bits 63:56)
        mov dword [IOAPIC_SELECT], IOAPIC_REDIR + 2 * 2
        mov dword [IOAPIC_WINDOW], TIMER_VECTOR

        ; PIT channel 0: mode 2 (rate generator), 11932 counts = 100 Hz.
        mov al, 0x34
        out 0x43, al
        mov al, 11932 & 0xFF
        out 0x40, al
        mov al, 11932 >> 8
        out 0x40, al

.wait:
        sti
        hlt
        cli
        cmp dword [TICKS_ADDR], TICKS_WANTED
        jb .wait
        PRINTLN_PM "ioapic-timer: 3 timer interrupts on vector 0x30 via IOAPIC pin 2: PASS"
        mov dx, DEBUG_EXIT_PORT
        mov al, 0x10
        out dx, al
        hlt

; set_gate: EDI = gate address, EAX = handler (linear); a 32-bit interrupt gate.
set_gate:
        push eax
        mov word [edi], ax                      ; offset 15:0
        mov word [edi + 2], SEL_CODE32          ; selector
        mov word [edi + 4], 0x8E00              ; present, DPL 0, 32-bit interrupt gate
        shr eax, 16
        mov word [edi + 6], ax                  ; offset 31:16
        pop eax
        ret

tick:
        inc dword [TICKS_ADDR]
        mov dword [LAPIC_EOI], 0
        iretd

unexpected:
        PRINTLN_PM "ioapic-timer: an unexpected interrupt or exception arrived: FAIL"
        mov dx, DEBUG_EXIT_PORT
        mov al, 0x11
        out dx, al
        cli
        hlt

idt_descriptor:
        dw IDT_VECTORS * 8 - 1
        dd IDT_ADDR

        ROM_ROUTINES_RM
        ROM_ROUTINES_PM
        HVLAB_GDT
        ROM_RESET_VECTOR entry
