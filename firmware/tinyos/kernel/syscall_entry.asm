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

        section .bss
syscall_kernel_rsp: resq 1
syscall_user_rsp:   resq 1
