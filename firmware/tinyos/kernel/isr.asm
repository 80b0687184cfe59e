; isr.asm - the first instructions of every interrupt and exception.
;
; The CPU pushes SS, RSP, RFLAGS, CS, RIP (and for some exceptions an error code) and jumps to
; the gate's address (SDM vol. 3, section 6.14.2). Each stub below makes the stack look the
; same for every vector: it pushes a dummy error code when the CPU did not, then the vector
; number, and jumps to isr_common, which saves all general-purpose registers and calls
;   void trap_dispatch(struct trap_frame *frame)         (kernel/trap.c)
; struct trap_frame in kernel/trap.h mirrors exactly what ends up on the stack.

        bits 64
        section .text
        extern trap_dispatch

%macro STUB_NO_ERROR 1
isr_%1:
        push 0                          ; dummy error code
        push %1                         ; vector
        jmp isr_common
%endmacro

%macro STUB_WITH_ERROR 1
isr_%1:
        push %1                         ; the CPU already pushed the error code
        jmp isr_common
%endmacro

; Exceptions 8, 10-14, 17, 21, 29, 30 push an error code (SDM vol. 3, table 6-1).
%assign v 0
%rep 49                                 ; VECTOR_COUNT (kernel/idt.h): 0-47 + the PV upcall
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
        STUB_WITH_ERROR v
  %else
        STUB_NO_ERROR v
  %endif
  %assign v v + 1
%endrep

isr_common:
        push rax
        push rbx
        push rcx
        push rdx
        push rsi
        push rdi
        push rbp
        push r8
        push r9
        push r10
        push r11
        push r12
        push r13
        push r14
        push r15
        mov rdi, rsp                    ; argument: the frame we just built
        cld                             ; the ABI wants DF = 0 on function entry
        call trap_dispatch              ; RSP is 16-byte aligned here (CPU aligned it + 22 pushes)
        global trap_return
trap_return:
        pop r15
        pop r14
        pop r13
        pop r12
        pop r11
        pop r10
        pop r9
        pop r8
        pop rbp
        pop rdi
        pop rsi
        pop rdx
        pop rcx
        pop rbx
        pop rax
        add rsp, 16                     ; drop vector and error code
        iretq                           ; back to the interrupted code (maybe ring 3)

        section .rodata
        global isr_stub_table
isr_stub_table:
%assign v 0
%rep 49                                 ; VECTOR_COUNT (kernel/idt.h): 0-47 + the PV upcall
        dq isr_ %+ v
  %assign v v + 1
%endrep
