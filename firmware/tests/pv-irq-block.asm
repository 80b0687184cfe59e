; pv-irq-block.asm - test guest: EVENT_BIND_IRQ and BLOCK (docs/hypercalls.md "Device interrupts
; and idling as events"), from real mode.
;
; Run with the PV console, clock and events offered. Checks:
;   * EVENT_BIND_IRQ refuses a line above 23 and ports 1 and 64 (-EINVAL);
;   * BLOCK with upcalls masked (upcall_mask = 1) and IF = 0 clears upcall_mask and sleeps until
;     the TIMER_SET deadline raises event 0; the upcall comes once STI allows it;
;   * BLOCK with an upcall already pending under the mask returns at once, and the upcall follows;
;   * the PIT's IRQ 0, bound to event port 5, raises the port on its rising edge (mode 0, terminal
;     count) and no longer reaches the 8259 (which is set up with IRQ 0 unmasked at vector 0x20).
; The Catch2 test checks that the idling was done by BLOCK: hypercall exits, no HLT exit.
;
; Result through isa-debug-exit (port 0xF4): 0x10 (status 33) when every check passed,
; 0x01 (status 3) otherwise; each failed check prints a FAIL line.

%include "rom.inc"

HC_PORT             equ 0x0B00
HC_TIME_NOW         equ 3
HC_TIMER_SET        equ 4
HC_EVENT_INIT       equ 5
HC_EVENT_RAISE      equ 6
HC_EVENT_BIND_IRQ   equ 7
HC_BLOCK            equ 8

EVENT_PAGE          equ 0x9000
EV_PENDING          equ EVENT_PAGE + 0
EV_UPCALL_PENDING   equ EVENT_PAGE + 16
EV_UPCALL_MASK      equ EVENT_PAGE + 17
UPCALL_VECTOR       equ 0x40
PIC_VECTOR_BASE     equ 0x20
IRQ_PORT            equ 5           ; the event port IRQ 0 is bound to

FAILURES            equ 0x8000      ; byte
UPCALLS             equ 0x8001      ; byte: upcalls taken
PIC_IRQS            equ 0x8002      ; byte: IRQ 0 interrupts through the 8259
SEEN                equ 0x8004      ; dword: the pending bits the upcall handler took (OR)

%macro HYPERCALL 1
        mov eax, %1
        mov dx, HC_PORT
        out dx, eax
%endmacro

%macro EXPECT_EAX 2+
        cmp eax, %1
        je %%ok
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: ", %2
%%ok:
%endmacro

%macro EXPECT_BYTE 3+
        cmp byte [%1], %2
        je %%ok
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: ", %3
%%ok:
%endmacro

        bits 16
entry:
        ROM_RM_PROLOGUE
        PRINTLN_RM "hvlab test pv-irq-block: event_bind_irq and block"
        mov byte [FAILURES], 0
        mov byte [UPCALLS], 0
        mov byte [PIC_IRQS], 0
        mov dword [SEEN], 0

        ; The 8259 pair: vectors 0x20-0x2F, only IRQ 0 unmasked (it must never fire once bound).
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, PIC_VECTOR_BASE
        out 0x21, al
        mov al, PIC_VECTOR_BASE + 8
        out 0xA1, al
        mov al, 4
        out 0x21, al
        mov al, 2
        out 0xA1, al
        mov al, 1
        out 0x21, al
        out 0xA1, al
        mov al, 0xFE
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        mov word [PIC_VECTOR_BASE * 4], pic_irq0
        mov word [PIC_VECTOR_BASE * 4 + 2], ROM_SEGMENT

        ; The event channel.
        mov word [UPCALL_VECTOR * 4], upcall
        mov word [UPCALL_VECTOR * 4 + 2], ROM_SEGMENT
        mov di, EVENT_PAGE
        mov cx, 16
        xor ax, ax
        rep stosw
        mov ebx, EVENT_PAGE
        mov ecx, UPCALL_VECTOR
        HYPERCALL HC_EVENT_INIT
        EXPECT_EAX 0, "event_init"

        ; Bad bindings.
        mov ebx, 24
        mov ecx, IRQ_PORT
        HYPERCALL HC_EVENT_BIND_IRQ
        EXPECT_EAX -22, "event_bind_irq line 24 -> -EINVAL"
        mov ebx, 0
        mov ecx, 1
        HYPERCALL HC_EVENT_BIND_IRQ
        EXPECT_EAX -22, "event_bind_irq port 1 (the console's) -> -EINVAL"
        mov ecx, 64
        HYPERCALL HC_EVENT_BIND_IRQ
        EXPECT_EAX -22, "event_bind_irq port 64 -> -EINVAL"

        ; BLOCK with the upcall mask set and IF = 0: it clears the mask and sleeps until the
        ; timer's event is owed; the upcall comes after STI.
        mov byte [EV_UPCALL_MASK], 1
        HYPERCALL HC_TIME_NOW
        add eax, 1000000
        mov ebx, eax
        HYPERCALL HC_TIMER_SET
        HYPERCALL HC_BLOCK
        EXPECT_EAX 0, "block returns 0"
        EXPECT_BYTE EV_UPCALL_MASK, 0, "block clears upcall_mask"
        EXPECT_BYTE UPCALLS, 0, "no upcall while IF = 0"
        EXPECT_BYTE EV_UPCALL_PENDING, 1, "block returned with the timer's upcall pending"
        sti
        nop
        cli
        EXPECT_BYTE UPCALLS, 1, "the timer's upcall after block"
        test byte [SEEN], 1
        jnz .timer_seen
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: the upcall after block found event 0 pending"
.timer_seen:

        ; BLOCK with an upcall already pending under the mask: it returns at once.
        mov byte [EV_UPCALL_MASK], 1
        mov ebx, 3
        HYPERCALL HC_EVENT_RAISE
        EXPECT_BYTE EV_UPCALL_PENDING, 1, "event 3 pending under the mask"
        HYPERCALL HC_BLOCK
        EXPECT_EAX 0, "block with an upcall pending"
        sti
        nop
        cli
        EXPECT_BYTE UPCALLS, 2, "the held-back upcall after block"

        ; IRQ 0 bound to port 5: the PIT's terminal count in mode 0 is a rising edge.
        mov ebx, 0
        mov ecx, IRQ_PORT
        HYPERCALL HC_EVENT_BIND_IRQ
        EXPECT_EAX 0, "event_bind_irq line 0 -> port 5"
        test eax, eax
        jnz .irq_done                   ; not bound: no event would ever come
        mov al, 0x30                    ; channel 0, lobyte/hibyte, mode 0
        out 0x43, al
        mov al, 0xE8                    ; 1000 counts: about 838 us
        out 0x40, al
        mov al, 0x03
        out 0x40, al
.wait_irq:
        HYPERCALL HC_BLOCK              ; IF = 0: returns when the upcall is owed
        sti
        nop
        cli
        test byte [SEEN], 1 << IRQ_PORT
        jz .wait_irq
        EXPECT_BYTE PIC_IRQS, 0, "a bound line does not reach the 8259"
.irq_done:

        cmp byte [FAILURES], 0
        jne .failed
        PRINTLN_RM "pv-irq-block: all checks passed"
        mov al, 0x10
        jmp .exit
.failed:
        PRINTLN_RM "pv-irq-block: FAILED"
        mov al, 0x01
.exit:
        out DEBUG_EXIT_PORT, al
        cli
        hlt

; The upcall: counts, acknowledges, takes every pending bit into SEEN.
upcall:
        push eax
        inc byte [UPCALLS]
        mov byte [EV_UPCALL_PENDING], 0
        xor eax, eax
        xchg eax, [EV_PENDING]
        or [SEEN], eax
        pop eax
        iret

pic_irq0:
        push ax
        inc byte [PIC_IRQS]
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
