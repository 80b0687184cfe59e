; hypercalls.asm - test guest: hvlab's hypercall ABI (docs/hypercalls.md), from real mode.
;
; Run with the PV console, clock and events offered (VmConfig::paravirt / --pv all). Checks:
; the CPUID signature and feature leaf; CONSOLE_WRITE from ROM; the errors for a buffer outside
; RAM, an unknown call and a bad upcall vector; TIME_NOW moving forward; EVENT_INIT, then a
; TIMER_SET 1 ms ahead and HLT until the upcall (vector 0x40) arrives with event 0 pending; a
; masked port that stays pending without an upcall; upcalls held back by the upcall mask (the
; virtual IF); EVENT_RAISE on an unmasked port upcalling at once.
;
; Result through isa-debug-exit (port 0xF4): 0x10 (status 33) when every check passed,
; 0x01 (status 3) otherwise; each failed check prints a FAIL line.

%include "rom.inc"

HC_PORT             equ 0x0B00
HC_CONSOLE_WRITE    equ 1
HC_TIME_NOW         equ 3
HC_TIMER_SET        equ 4
HC_EVENT_INIT       equ 5
HC_EVENT_RAISE      equ 6

EVENT_PAGE          equ 0x9000      ; the shared event page (guest-physical)
EV_PENDING          equ EVENT_PAGE + 0
EV_MASK             equ EVENT_PAGE + 8
EV_UPCALL_PENDING   equ EVENT_PAGE + 16
EV_UPCALL_MASK      equ EVENT_PAGE + 17
UPCALL_VECTOR       equ 0x40

FAILURES            equ 0x8000      ; byte: failed checks
UPCALLS             equ 0x8001      ; byte: upcalls taken
TIMER_SEEN          equ 0x8002      ; byte: the handler found event 0 pending
TIME0               equ 0x8004      ; dword: a TIME_NOW result

; HYPERCALL n: EAX = n, DX = the hypercall port, OUT; the result is in EAX.
%macro HYPERCALL 1
        mov eax, %1
        mov dx, HC_PORT
        out dx, eax
%endmacro

; EXPECT_EAX value, "what": counts and reports a failure unless EAX == value.
%macro EXPECT_EAX 2+
        cmp eax, %1
        je %%ok
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: ", %2
%%ok:
%endmacro

; EXPECT_BYTE address, value, "what"
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
        PRINTLN_RM "hvlab test hypercalls: the PV console, clock, timer and event channel"
        mov byte [FAILURES], 0
        mov byte [UPCALLS], 0
        mov byte [TIMER_SEEN], 0

        ; Detection.
        mov eax, 0x40000000
        cpuid
        cmp ebx, 'hvla'
        jne .no_signature
        cmp ecx, 'bhvl'
        jne .no_signature
        cmp edx, 'abhv'
        je .signature_ok
.no_signature:
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: CPUID 0x40000000 signature"
.signature_ok:
        mov eax, 0x40000001
        cpuid
        EXPECT_EAX 1, "ABI version 1"
        mov eax, ebx
        and eax, 7
        EXPECT_EAX 7, "features console, clock, events"
        mov eax, ecx
        EXPECT_EAX HC_PORT, "hypercall port"

        ; CONSOLE_WRITE from the ROM (guest-physical address, length).
        mov ebx, FLAT(hello)
        mov ecx, hello_end - hello
        HYPERCALL HC_CONSOLE_WRITE
        EXPECT_EAX hello_end - hello, "console_write returns the length"

        ; Bad input: a buffer that is not memory, an unknown call, a vector below 32.
        mov ebx, 0xE0000000
        mov ecx, 16
        HYPERCALL HC_CONSOLE_WRITE
        EXPECT_EAX -14, "console_write outside memory -> -EFAULT"
        HYPERCALL 99
        EXPECT_EAX -38, "unknown call -> -ENOSYS"
        mov ebx, EVENT_PAGE
        mov ecx, 5
        HYPERCALL HC_EVENT_INIT
        EXPECT_EAX -22, "event_init with vector 5 -> -EINVAL"

        ; The clock moves forward.
        HYPERCALL HC_TIME_NOW
        mov [TIME0], eax
        HYPERCALL HC_TIME_NOW
        cmp eax, [TIME0]
        ja .clock_ok
        inc byte [FAILURES]
        PRINTLN_RM "FAIL: time_now does not move forward"
.clock_ok:

        ; The event channel: IVT entry for the upcall, a clean page, EVENT_INIT.
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
        test eax, eax
        jnz .events_done                ; no event channel: nothing would ever upcall

        ; A one-shot timer 1 ms ahead, then wait for its upcall.
        HYPERCALL HC_TIME_NOW
        add eax, 1000000
        mov ebx, eax
        HYPERCALL HC_TIMER_SET
        EXPECT_EAX 0, "timer_set"
        sti
.wait_timer:
        hlt
        cmp byte [UPCALLS], 0
        je .wait_timer
        cli
        EXPECT_BYTE UPCALLS, 1, "one upcall for the timer"
        EXPECT_BYTE TIMER_SEEN, 1, "the handler found event 0 (the timer) pending"

        ; A masked port stays pending and upcalls nothing.
        sti
        mov byte [EV_MASK], 1 << 1
        mov ebx, 1
        HYPERCALL HC_EVENT_RAISE
        EXPECT_EAX 0, "event_raise"
        nop
        EXPECT_BYTE UPCALLS, 1, "no upcall for a masked port"
        EXPECT_BYTE EV_PENDING, 1 << 1, "the masked port is pending"
        EXPECT_BYTE EV_UPCALL_PENDING, 0, "no upcall pending for a masked port"
        mov byte [EV_PENDING], 0

        ; The upcall mask (virtual IF): the event is flagged, the upcall waits.
        mov byte [EV_UPCALL_MASK], 1
        mov ebx, 3
        HYPERCALL HC_EVENT_RAISE
        nop
        EXPECT_BYTE UPCALLS, 1, "no upcall while the upcall mask is set"
        EXPECT_BYTE EV_UPCALL_PENDING, 1, "upcall pending under the upcall mask"
        mov byte [EV_UPCALL_MASK], 0
        mov byte [EV_UPCALL_PENDING], 0
        mov byte [EV_PENDING], 0

        ; An unmasked port upcalls right after the hypercall returns.
        mov ebx, 2
        HYPERCALL HC_EVENT_RAISE
        nop
        cli
        EXPECT_BYTE UPCALLS, 2, "an upcall for event 2"
.events_done:

        cmp byte [FAILURES], 0
        jne .failed
        PRINTLN_RM "hypercalls: all checks passed"
        mov al, 0x10
        jmp .exit
.failed:
        PRINTLN_RM "hypercalls: FAILED"
        mov al, 0x01
.exit:
        out DEBUG_EXIT_PORT, al
        cli
        hlt

; The upcall handler: counts, acknowledges (upcall_pending = 0) and clears the pending ports.
upcall:
        inc byte [UPCALLS]
        mov byte [EV_UPCALL_PENDING], 0
        test byte [EV_PENDING], 1
        jz .done
        and byte [EV_PENDING], 0xFE
        mov byte [TIMER_SEEN], 1
.done:
        iret

hello:  db "hypercall console: hello from the guest", 13, 10
hello_end:

        ROM_ROUTINES_RM
        ROM_RESET_VECTOR entry
