; switch.asm - switching between kernel stacks, and a new process's first step into ring 3.

        bits 64
        section .text
        extern cpu_pv, pv_shared

; void context_switch(uint64_t *save_rsp, uint64_t load_rsp)
;
; Called by schedule() (process -> scheduler) and by the scheduler (scheduler -> process).
; The System V ABI lets a called function clobber RAX, RCX, RDX, RSI, RDI, R8-R11, so only
; RBX, RBP, R12-R15 (and RFLAGS, for the interrupt flag) have to survive the switch: we push
; them on the old stack, swap stacks, and pop the new stack's set. The RET then continues
; wherever the new stack's owner called context_switch -- or, for a new process, in
; process_first_entry (kernel/process.c built that stack).
; Every switch happens with interrupts disabled. Deprivileged, POPFQ cannot change IF (ring 1
; > IOPL 0: the CPU ignores that bit), and needs not: the virtual IF, the event page's
; upcall_mask, stays set across the switch just as IF stays clear here.
        global context_switch
context_switch:
        pushfq
        push rbp
        push rbx
        push r12
        push r13
        push r14
        push r15
        mov [rdi], rsp
        mov rsp, rsi
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbx
        pop rbp
        popfq
        ret

; process_first_entry: a new process's first instructions, in ring 0 on its kernel stack.
; R12 = user RIP, R13 = user RSP, R14 and R15 = arguments for user_start (user/crt0.asm).
;
; IRETQ pops RIP, CS, RFLAGS, RSP, SS (SDM vol. 3, section 6.14.3); because the new CS has
; RPL 3, the CPU switches to ring 3. RFLAGS = 0x202: IF set (interrupts on), bit 1 always 1.
; Deprivileged (ring 1, hvlab's PV MMU) the same IRETQ works, the selectors are the same in
; hvlab's GDT, and the IF it restores is the real one, always 1; the virtual IF is turned on
; just before.
USER_CODE equ 0x28 | 3                  ; kernel/gdt.h SEL_USER_CODE
USER_DATA equ 0x20 | 3                  ; kernel/gdt.h SEL_USER_DATA
        global process_first_entry
process_first_entry:
        push USER_DATA                  ; SS
        push r13                        ; RSP
        push 0x202                      ; RFLAGS
        push USER_CODE                  ; CS
        push r12                        ; RIP
        mov rdi, r14
        mov rsi, r15
        xor eax, eax                    ; do not leak kernel values to user space
        xor ebx, ebx
        xor ecx, ecx
        xor edx, edx
        xor ebp, ebp
        xor r8d, r8d
        xor r9d, r9d
        xor r10d, r10d
        xor r11d, r11d
        xor r12d, r12d
        xor r13d, r13d
        xor r14d, r14d
        xor r15d, r15d
        cmp byte [rel cpu_pv], 0
        je .to_ring3
        call pv_enable_events           ; deprivileged: ring 3 runs with the virtual IF on
.to_ring3:
        iretq

; pv_enable_events: the virtual STI of a deprivileged kernel (kernel/pv_cpu.c, in assembly for
; the paths that have no registers to spare): clear the event page's upcall_mask, then take an
; upcall that became pending while it was set. Changes no register but RFLAGS.
UPCALL_PENDING equ 16                   ; byte offsets in the event page (kernel/pv_events.h)
UPCALL_MASK equ 17
VECTOR_PV_UPCALL equ 48                 ; kernel/idt.h
        global pv_enable_events
pv_enable_events:
        mov byte [rel pv_shared + UPCALL_MASK], 0
        cmp byte [rel pv_shared + UPCALL_PENDING], 0
        je .done
        int VECTOR_PV_UPCALL
.done:
        ret
