; syscall_entry.asm - where the SYSCALL instruction lands (the address is in MSR IA32_LSTAR).
;
; SYSCALL (SDM vol. 2B, "SYSCALL") does very little by itself: RCX = user RIP,
; R11 = user RFLAGS, CS/SS = kernel segments from IA32_STAR, RFLAGS &= ~IA32_FMASK (we mask
; IF, so no interrupt can arrive yet), RIP = IA32_LSTAR. It does NOT switch stacks: RSP is
; still the user's. So the first job is to move to this process's kernel stack, whose top
; the scheduler stored in syscall_kernel_rsp. Only one CPU exists and interrupts are off, so
; one global scratch slot for the user RSP is safe.
;
; Then we save the user registers as a struct syscall_frame (kernel/syscall.h), enable
; interrupts and call syscall_dispatch(frame). SYSRET returns to RCX with RFLAGS = R11.

        bits 64
        section .text
        extern syscall_dispatch
        global syscall_entry
        global syscall_kernel_rsp

syscall_entry:
        mov [rel syscall_user_rsp], rsp
        mov rsp, [rel syscall_kernel_rsp]
        push qword [rel syscall_user_rsp] ; frame.user_rsp
        push r11                        ; frame.user_rflags
        push rcx                        ; frame.user_rip
        push rax                        ; frame.number
        push rdi                        ; frame.arg0
        push rsi                        ; frame.arg1
        push rdx                        ; frame.arg2
        push r10                        ; frame.arg3 (RCX is taken, so the 4th argument uses R10)
        push r8
        push r9
        mov rdi, rsp                    ; 10 pushes from a 16-byte aligned top: still aligned
        sti                             ; system calls may be interrupted (e.g. by the timer)
        call syscall_dispatch           ; result in RAX
        cli                             ; no interrupt while we are back on the user's stack
        pop r9
        pop r8
        pop r10
        pop rdx
        pop rsi
        pop rdi
        add rsp, 8                      ; skip frame.number: RAX holds the result
        pop rcx                         ; user RIP
        pop r11                         ; user RFLAGS (IF=1, so interrupts resume in ring 3)
        pop rsp                         ; user RSP
        o64 sysret                      ; 64-bit SYSRET: CS/SS = user segments from IA32_STAR

; A known trap: on Intel CPUs SYSRET with a non-canonical RCX faults in ring 0 with the user's
; RSP already loaded. RCX here is always the address after the user's own SYSCALL
; instruction (the kernel never changes frame.user_rip), so it is canonical.

; pv_syscall_entry: the same for a deprivileged kernel (ring 1 under hvlab's PV MMU). SYSCALL
; goes to hvlab's ring-0 stub, which bounces here (the address given with set_syscall_entry) at
; ring 1 with the user's RSP, RCX = user RIP, R11 = user RFLAGS and events masked by hvlab (there
; is no FMASK; our first instruction masks them again, docs/hypercalls.md). SYSRET works
; only in ring 0, so we return with IRETQ, from a frame built under the syscall_frame:
;
;   SS, RSP, RFLAGS, CS, RIP    the IRETQ frame (user segments are the same in hvlab's GDT)
;   padding                     keeps the call below 16-byte aligned
;   struct syscall_frame        as above
;
; RCX and R11 come back as SYSRET leaves them (user RIP and RFLAGS), so ring 3 sees no
; difference; the virtual IF is on again before IRETQ (pv_enable_events, kernel/switch.asm).
UPCALL_MASK equ 17                      ; byte offset in the event page (kernel/pv_events.h)
USER_CODE equ 0x28 | 3                  ; kernel/gdt.h SEL_USER_CODE
USER_DATA equ 0x20 | 3                  ; kernel/gdt.h SEL_USER_DATA
        extern pv_shared, pv_enable_events
        global pv_syscall_entry
pv_syscall_entry:
        mov byte [rel pv_shared + UPCALL_MASK], 1 ; virtual CLI: no upcall on the user's stack
        mov [rel syscall_user_rsp], rsp
        mov rsp, [rel syscall_kernel_rsp]
        cld                             ; what FMASK does for SYSCALL in ring 0
        push USER_DATA                  ; IRETQ frame: SS
        push qword [rel syscall_user_rsp] ; RSP
        push r11                        ; RFLAGS
        push USER_CODE                  ; CS
        push rcx                        ; RIP
        push 0                          ; padding
        push qword [rel syscall_user_rsp] ; frame.user_rsp
        push r11                        ; frame.user_rflags
        push rcx                        ; frame.user_rip
        push rax                        ; frame.number
        push rdi                        ; frame.arg0
        push rsi                        ; frame.arg1
        push rdx                        ; frame.arg2
        push r10                        ; frame.arg3
        push r8
        push r9
        call pv_enable_events           ; system calls may be interrupted
        mov rdi, rsp                    ; 16 pushes from a 16-byte aligned top: still aligned
        call syscall_dispatch           ; result in RAX
        pop r9
        pop r8
        pop r10
        pop rdx
        pop rsi
        pop rdi
        add rsp, 8                      ; skip frame.number: RAX holds the result
        pop rcx                         ; user RIP
        pop r11                         ; user RFLAGS
        add rsp, 16                     ; frame.user_rsp, padding
        call pv_enable_events           ; the virtual IF is on in ring 3 (it should be on already)
        iretq                           ; to ring 3 on the user's stack

        section .bss
syscall_kernel_rsp: resq 1
syscall_user_rsp:   resq 1
